"""The `integration` source on the real template (classic surface): the emulator's cloud-to-cloud import of an
integration on a prefix of the media bucket; each ready video goes through video-pipeline after indexing (the same
embeddings and analyses as an upload), the rest is recorded with its reason; one import.completed."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pipeline.conftest import PROCESSING_SECONDS, Pipeline
from tests.pipeline.import_helpers import run_record, start_import, wait_for_execution, wait_for_import_message


@pytest.fixture
def integration(classic_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """(integration id, its prefix of the media bucket). The local stack's emulator runs in this process: the
    integration is added to its config, and its S3 reads (boto3, AWS_ENDPOINT_URL) go to the stack's moto."""
    stack = classic_pipeline.stack
    assert stack.emulator_admin_url is not None, "the integration import needs the emulator"
    integration_id = f"int-{uuid.uuid4().hex[:8]}"
    # Under an ignored prefix: a library the upload path never processed (as if it predated the pipeline).
    prefix = f"_internal/library-{integration_id}/"
    for name, value in {
        "AWS_ENDPOINT_URL": stack.moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": stack.config.region,
    }.items():
        monkeypatch.setenv(name, value)
    answer = httpx.post(
        f"{stack.emulator_admin_url}/config",
        json={"integrations": {integration_id: f"s3://{classic_pipeline.bucket}/{prefix}"}},
        timeout=10,
    )
    answer.raise_for_status()
    assert integration_id in answer.json()["integrations"]
    yield integration_id, prefix


def _wait_running(pipeline: Pipeline, run_id: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while (run_record(pipeline, run_id) or {}).get("status") != "RUNNING":
        assert time.monotonic() < deadline, f"run {run_id} not RUNNING after {timeout}s"
        time.sleep(0.2)


def _job(pipeline: Pipeline, job_key: str, timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        item = pipeline.table.get_item(Key={"job_key": job_key}, ConsistentRead=True).get("Item") or {}
        if item.get("status") in ("COMPLETED", "FAILED"):
            return item
        if time.monotonic() > deadline:
            logs = {n: pipeline.stack.function_log(n)[-1500:] for n in ("import_item", "record_failure")}
            raise AssertionError(f"job {job_key} still {item.get('status')} after {timeout}s; logs={logs}")
        time.sleep(0.5)


def test_an_integration_import_enriches_ready_videos_like_uploads(
    classic_pipeline: Pipeline, integration: tuple[str, str], samples: Path
) -> None:
    pipeline = classic_pipeline
    integration_id, prefix = integration
    # The import reads the files sorted by name: the first task fails indexing (fault); the short file is refused.
    s3 = pipeline.stack.client("s3")
    for name, sample in (("a-fails.mp4", "videos/forest-walk.mp4"), ("b-good.mp4", "videos/ocean-waves.mp4")):
        s3.upload_file(str(samples / sample), pipeline.bucket, prefix + name)
    s3.upload_file(str(samples / "bad" / "short-2s.mp4"), pipeline.bucket, prefix + "c-short.mp4")
    pipeline.faults(fail_next_tasks=1)
    run_id = f"integration-{uuid.uuid4().hex[:8]}"
    pipeline.set_processing_seconds(8)  # the import stays pending while a second request comes in
    try:
        start_import(pipeline, run_id, {"source": "integration", "integration_id": integration_id})
        _wait_running(pipeline, run_id)  # Prepare has taken the integration's lock
        busy = f"integration-{uuid.uuid4().hex[:8]}"
        start_import(pipeline, busy, {"source": "integration", "integration_id": integration_id})
        refused = wait_for_import_message(pipeline, busy)
    finally:
        pipeline.set_processing_seconds(PROCESSING_SECONDS)
    # A second import of the same integration while one runs is refused with the reason (and recorded).
    assert refused["event_type"] == "import.rejected"
    assert f"integration {integration_id} is busy" in refused["error"]["message"]
    assert run_id in refused["error"]["message"]
    assert (run_record(pipeline, busy) or {}).get("status") == "REJECTED"
    assert wait_for_execution(pipeline, run_id)["status"] == "SUCCEEDED"
    message = wait_for_import_message(pipeline, run_id)
    assert message["event_type"] == "import.completed" and message["source"] == "integration"
    report = json.loads(pipeline.read_result(message["report"]))
    outcomes = {o["key"].rsplit("/", 1)[-1]: o for o in report["objects"]}
    assert outcomes["c-short.mp4"]["outcome"] == "rejected"
    assert outcomes["a-fails.mp4"]["outcome"] == "failed"
    assert outcomes["a-fails.mp4"]["detail"].startswith("indexing_failed")
    assert outcomes["b-good.mp4"]["outcome"] == "new"
    assert message["counts"] == {"new": 1, "rejected": 1, "skipped": 0, "failed": 1, "total": 3}
    record = run_record(pipeline, run_id)
    assert record is not None and record["request"]["integration_id"] == integration_id
    results_bucket = pipeline.stack.outputs["ResultsBucketName"]
    assert json.loads(pipeline.read_result(f"s3://{results_bucket}/imports/{run_id}/integration-logs.json"))

    # The ready video went through the same embeddings and analyses as an upload, without a second indexing task.
    job_key = outcomes["b-good.mp4"]["job_key"]
    job = _job(pipeline, job_key)
    assert job["status"] == "COMPLETED", job
    assert {"embeddings", "summary"} <= set(job["results"]) and job["title"]
    assert pipeline.tasks_for(job_key) == []  # every indexing task of the index came from the import
    assert [m["event_type"] for m in pipeline.messages(job_key)] == ["video.completed"]

    # An incremental re-run imports nothing twice (the import skips what it has; nothing new enters the pipeline).
    again = f"integration-{uuid.uuid4().hex[:8]}"
    start_import(
        pipeline, again, {"source": "integration", "integration_id": integration_id, "incremental_import": True}
    )
    rerun = wait_for_import_message(pipeline, again)
    assert rerun["event_type"] == "import.completed" and rerun["counts"]["new"] == 0
    assert _job(pipeline, job_key)["execution_arn"] == job["execution_arn"]
