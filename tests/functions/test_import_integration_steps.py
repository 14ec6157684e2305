"""The `integration` source (classic surface) through the import functions, against the classic emulator's
cloud-to-cloud import of an integration on the media bucket (moto server): the state machine's steps are played by
the test (prepare -> the import's item, then its follow loop -> finish), the video-pipeline executions it starts are
read back from Step Functions (their routing after indexing is tested on the ASL in test_import_units)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.functions.conftest import REGION, Stack


@pytest.fixture
def imports(stack: Stack, tl_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """An imports table, the import functions' settings, and an integration on `library/` of the media bucket."""
    from video_pipeline.clients import reset_runtimes

    table = f"imports-{uuid.uuid4().hex[:8]}"
    boto3.client("dynamodb", region_name=REGION, endpoint_url=stack.endpoint).create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("run_id", "sk")],
        KeySchema=[{"AttributeName": "run_id", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    integration = f"int-{uuid.uuid4().hex[:8]}"
    prefix = f"library-{integration}/"
    for name, value in {
        "IMPORTS_TABLE": table,
        "MEDIA_BUCKET": stack.media_bucket,
        "IMPORT_MAX_CONCURRENCY": "2",
        "IMPORT_REQUEST_PREFIX": "imports/",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(tl_emulator.config.integrations, integration, f"s3://{stack.media_bucket}/{prefix}")
    reset_runtimes()
    yield {"table": table, "integration": integration, "prefix": prefix}
    reset_runtimes()


def _run(
    handler: Callable[[str], ModuleType], context: Any, stack: Stack, run_id: str, request: dict[str, Any]
) -> dict[str, Any]:
    """Prepare; unless refused, the import's item and its follow loop (bounded), as the state machine runs them."""
    prepared = handler("import_prepare").lambda_handler({"run_id": run_id, "request": request}, context)
    if prepared["rejected"]:
        return prepared
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=stack.endpoint)
    manifest = s3.get_object(Bucket=prepared["manifest_bucket"], Key=prepared["manifest_key"])["Body"].read()
    [entry] = json.loads(manifest)
    item = handler("import_item").lambda_handler({"run_id": run_id, "object": entry}, context)
    deadline = time.monotonic() + 60
    while item["follow"]:
        assert time.monotonic() < deadline, f"the import of {run_id} is still pending: {item}"
        time.sleep(0.2)  # the emulator's tasks take 0.2 s; the state machine's Wait uses item["wait_seconds"]
        follow = {"job_key": item["job_key"], "polls": item["polls"], "wait_seconds": item["wait_seconds"]}
        item = handler("import_item").lambda_handler({"run_id": run_id, "object": entry, "follow": follow}, context)
    return prepared


def _finish(handler: Callable[[str], ModuleType], context: Any, run_id: str) -> dict[str, Any]:
    return dict(handler("import_finish").lambda_handler({"run_id": run_id}, context))


def _executions(stack: Stack) -> dict[str, dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    found = {}
    for execution in sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        found[execution["name"]] = json.loads(described["input"])
    return found


def test_an_integration_import_enters_ready_videos_after_indexing_once(
    stack: Stack,
    imports: dict[str, str],
    handler: Callable[[str], ModuleType],
    context: Any,
    samples: Path,
) -> None:
    s3, prefix = boto3.client("s3", region_name=REGION, endpoint_url=stack.endpoint), imports["prefix"]
    # Sorted by name, as the import reads them: the first task made fails indexing (fault), the short one is refused.
    s3.upload_file(str(samples / "videos" / "forest-walk.mp4"), stack.media_bucket, prefix + "a-fails.mp4")
    s3.upload_file(str(samples / "videos" / "ocean-waves.mp4"), stack.media_bucket, prefix + "b-good.mp4")
    s3.upload_file(str(samples / "bad" / "short-2s.mp4"), stack.media_bucket, prefix + "c-short.mp4")
    stack.emulator.faults(fail_next_tasks=1)
    integration = imports["integration"]
    run_id = f"integration-{uuid.uuid4().hex[:8]}"
    request = {"source": "integration", "integration_id": integration, "requested_by": "command"}
    assert not _run(handler, context, stack, run_id, request)["rejected"]

    # A second import of the same integration while the first runs is refused, naming the run (never lost: it has
    # its REJECTED record and import.rejected).
    busy = f"integration-{uuid.uuid4().hex[:8]}"
    assert _run(handler, context, stack, busy, request)["rejected"]
    from video_pipeline.imports.store import ImportsStore

    store = ImportsStore(
        boto3.resource("dynamodb", region_name=REGION, endpoint_url=stack.endpoint).Table(imports["table"])
    )
    refused = store.get_run(busy)
    assert refused is not None and refused.status == "REJECTED"
    assert f"integration {integration} is busy" in str(refused.error_message) and run_id in str(refused.error_message)

    run = _finish(handler, context, run_id)
    assert run["status"] == "COMPLETED"
    assert run["counts"] == {"new": 1, "rejected": 1, "skipped": 0, "failed": 1, "total": 3}
    reasons = {f["key"]: (f["outcome"], f["reason"]) for f in run["failures"]}
    assert reasons[f"{stack.media_bucket}/{prefix}c-short.mp4"][0] == "rejected"
    assert "duration" in reasons[f"{stack.media_bucket}/{prefix}c-short.mp4"][1]
    assert reasons[f"{stack.media_bucket}/{prefix}a-fails.mp4"][0] == "failed"
    assert reasons[f"{stack.media_bucket}/{prefix}a-fails.mp4"][1].startswith("indexing_failed")
    logs = s3.get_object(Bucket=stack.results_bucket, Key=f"imports/{run_id}/integration-logs.json")["Body"].read()
    assert json.loads(logs) and json.loads(logs)[-1]["video_status"]["ready"] >= 1

    # The ready video entered video-pipeline after indexing (no second indexing task): one execution.
    [(name, execution_input)] = list(_executions(stack).items())
    assert execution_input["entry"] == "indexed" and execution_input["surface"] == "classic"
    assert execution_input["key"] == prefix + "b-good.mp4" and execution_input["indexed"]["status"] == "ready"
    job = stack.job(execution_input["job_key"])
    assert job is not None and job["tl_video_id"] == execution_input["indexed"]["video_id"] == job["tl_task_id"]
    assert not stack.emulator.posts("/tasks")  # the pipeline created no indexing task of its own

    # The integration is free again; an incremental re-run imports nothing twice.
    again = f"integration-{uuid.uuid4().hex[:8]}"
    assert not _run(handler, context, stack, again, {**request, "incremental_import": True})["rejected"]
    rerun = _finish(handler, context, again)
    assert rerun["status"] == "COMPLETED" and rerun["counts"]["new"] == 0
    assert list(_executions(stack)) == [name]
