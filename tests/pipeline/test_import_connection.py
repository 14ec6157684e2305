"""The `connection` source on the real template (current surface): named Google Drive files (the emulator's fake
Drive) -> a connections import -> each ready asset through video-pipeline like an upload; rejected and failed files
recorded with their reason; one import.completed with the counts."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.pipeline.conftest import Pipeline
from tests.pipeline.import_helpers import run_record, start_import, wait_for_execution, wait_for_import_message


def _connect(pipeline: Pipeline, files: dict[str, dict[str, str]]) -> str:
    """A fake Drive account holding `files`, connected through the OAuth consent: the connection id."""
    account = {"external_id": f"drive-{uuid.uuid4().hex[:8]}", "display_name": "ann@example.com", "files": files}
    httpx.post(f"{pipeline.stack.emulator_admin_url}/drive-accounts", json=account, timeout=10).raise_for_status()
    answer = pipeline.api(
        "POST",
        "/connections:authorize",
        json={"provider": "google_drive", "redirect_uri": "https://app.example.com/oauth/done"},
    )
    assert answer.status_code == 200, answer.text
    consent = httpx.get(
        httpx.URL(answer.json()["authorize_url"]).copy_merge_params({"account": account["external_id"]}),
        follow_redirects=False,
        timeout=10,
    )
    assert consent.status_code == 302, consent.text
    return parse_qs(urlsplit(consent.headers["Location"]).query)["connection_id"][0]


def _job(pipeline: Pipeline, job_key: str, timeout: float = 180.0) -> dict[str, Any]:
    """The job item once it ended (bounded wait)."""
    deadline = time.monotonic() + timeout
    while True:
        item = pipeline.table.get_item(Key={"job_key": job_key}, ConsistentRead=True).get("Item") or {}
        if item.get("status") in ("COMPLETED", "FAILED", "REJECTED"):
            return item
        if time.monotonic() > deadline:
            logs = {n: pipeline.stack.function_log(n)[-1500:] for n in ("start_indexing", "record_failure")}
            raise AssertionError(f"job {job_key} still {item.get('status')} after {timeout}s; logs={logs}")
        time.sleep(0.5)


def test_a_connection_import_ends_ready_failed_and_rejected(pipeline: Pipeline, samples: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all " * 64)  # the asset fails: TwelveLabs cannot read it
    connection_id = _connect(
        pipeline,
        {
            "good": {"path": str(samples / "videos" / "ocean-waves.mp4"), "filename": "ocean-waves.mp4"},
            "broken": {"path": str(broken), "filename": "broken.mp4"},
            "secret": {"reject": "source_not_authorized"},
        },
    )
    run_id = f"connection-{uuid.uuid4().hex[:8]}"
    request = {"source": "connection", "connection_id": connection_id, "source_ids": ["good", "broken", "secret"]}
    start_import(pipeline, run_id, request)
    assert wait_for_execution(pipeline, run_id)["status"] == "SUCCEEDED"
    message = wait_for_import_message(pipeline, run_id)
    assert message["event_type"] == "import.completed" and message["source"] == "connection"
    assert message["counts"] == {"new": 1, "rejected": 1, "skipped": 0, "failed": 1, "total": 3}
    report = json.loads(pipeline.read_result(message["report"]))
    outcomes = {o["key"]: o for o in report["objects"]}
    assert {k: o["outcome"] for k, o in outcomes.items()} == {"good": "new", "broken": "failed", "secret": "rejected"}
    assert outcomes["secret"]["detail"].startswith("source_not_authorized")
    assert outcomes["broken"]["detail"].startswith("asset_failed")
    record = run_record(pipeline, run_id)
    assert record is not None and record["status"] == "COMPLETED"
    assert record["request"]["connection_id"] == connection_id and record["request"]["files"] == 3
    assert {f["key"]: f["outcome"] for f in record["failures"]} == {"broken": "failed", "secret": "rejected"}

    # The ready asset went through video-pipeline like an upload, without being uploaded again.
    job_key = outcomes["good"]["job_key"]
    job = _job(pipeline, job_key)
    assert job["status"] == "COMPLETED", job
    assert job["tl_asset_id"] and job["tl_indexed_asset_id"] and "embeddings" in job["results"]
    assert job["s3_uri"] == f"connection://{connection_id}/good"
    assert [a["_id"] for a in pipeline.assets_for(job_key)] == []  # no asset was created by the pipeline itself
    events = [m["event_type"] for m in pipeline.messages(job_key)]
    assert events == ["video.completed"]

    # A re-run of the same files imports nothing twice: TwelveLabs skips them, the job exists.
    again = f"connection-{uuid.uuid4().hex[:8]}"
    start_import(pipeline, again, request)
    message = wait_for_import_message(pipeline, again)
    assert message["event_type"] == "import.completed"
    assert message["counts"] == {"new": 0, "rejected": 1, "skipped": 1, "failed": 1, "total": 3}
    assert _job(pipeline, job_key)["execution_arn"] == job["execution_arn"]
