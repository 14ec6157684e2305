"""Run safety on the real template, ASL and handlers (local stack, emulator): poison input is parked at once with
its reason (not after five receives); a key with `+`, a space, `%` and unicode completes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.conftest import Pipeline

pytestmark = pytest.mark.pipeline


def _dead_letter_queue(pipeline: Pipeline) -> str:
    sqs = pipeline.stack.client("sqs")
    source = pipeline.stack.outputs["IngestQueueUrl"]
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    )
    name = str(policy["deadLetterTargetArn"]).rsplit(":", 1)[-1]
    return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


def _wait_for_dead_letter(pipeline: Pipeline, queue_url: str, body: str, timeout: float = 60.0) -> dict[str, Any]:
    sqs = pipeline.stack.client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            AttributeNames=["ApproximateReceiveCount"],
            VisibilityTimeout=0,
        )
        for message in reply.get("Messages", []):
            if message["Body"] == body:
                return dict(message)
    raise AssertionError(f"{body!r} did not reach the DLQ within {timeout}s")


def test_a_poison_ingest_message_is_parked_at_once_with_its_reason(pipeline: Pipeline) -> None:
    body = f"not an S3 event {time.time_ns()}"
    pipeline.stack.client("sqs").send_message(QueueUrl=pipeline.stack.outputs["IngestQueueUrl"], MessageBody=body)
    parked = _wait_for_dead_letter(pipeline, _dead_letter_queue(pipeline), body)
    # Sent by ingest with its reason, not moved by the redrive after five receives (which adds no attribute).
    assert "not an S3 Object Created event" in parked["MessageAttributes"]["reason"]["StringValue"]
    assert "poison input dead-lettered" in pipeline.stack.function_log("ingest")


def test_a_key_with_plus_space_and_unicode_completes(pipeline: Pipeline, samples: Path) -> None:
    key = pipeline.upload(samples / "videos/ocean-waves.mp4", pipeline.unique_key("été a+b 100%.mp4"))
    item = pipeline.wait_for(key)
    assert item["status"] == "COMPLETED" and item["key"] == key
