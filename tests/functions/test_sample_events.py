"""Every sample event in events/ is accepted by the model its function parses it with (they document the contracts,
and `sam local invoke -e events/<name>.json` must not fail on the event's shape)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SqsModel
from video_pipeline.index_provisioning import CustomResourceEvent
from video_pipeline.models import payloads
from video_pipeline.models.events import ExecutionStatusChangeEvent, FunctionUrlRequest, parse_s3_message_body

EVENTS = Path(__file__).resolve().parents[2] / "events"
MODELS: dict[str, Any] = {
    "await_indexing": payloads.AwaitIndexingInput,
    "check_embeddings": payloads.CheckEmbeddingsInput,
    "finalize": payloads.FinalizeInput,
    "index_provisioner": CustomResourceEvent,
    "reconcile": EventBridgeModel,
    "record_failure": payloads.RecordFailureInput,
    "record_failure_execution_status": ExecutionStatusChangeEvent,
    "run_analysis": payloads.RunAnalysisInput,
    "start_analysis": payloads.StartAnalysisInput,
    "start_embeddings": payloads.StartEmbeddingsInput,
    "start_indexing": payloads.StartIndexingInput,
    "store_embeddings": payloads.StoreEmbeddingsInput,
    "webhook": FunctionUrlRequest,
}
SQS_ACTIONS = {"ingest": "created", "object_removed": "removed"}


def test_every_sample_event_is_covered() -> None:
    assert {p.stem for p in EVENTS.glob("*.json")} == set(MODELS) | set(SQS_ACTIONS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_sample_event_parses(name: str) -> None:
    MODELS[name].model_validate(json.loads((EVENTS / f"{name}.json").read_text()))


@pytest.mark.parametrize("name", sorted(SQS_ACTIONS))
def test_sample_sqs_batch_parses_to_s3_objects(name: str) -> None:
    batch = SqsModel.model_validate(json.loads((EVENTS / f"{name}.json").read_text()))
    for record in batch.Records:
        event = parse_s3_message_body(str(record.body))
        assert event.action == SQS_ACTIONS[name] and event.objects, name
