"""Imports on the real template: a backfill of objects that were in the bucket before the pipeline watched it, and a
malformed request file. Each run is followed to what a user sees: the run record, the report in S3, the job items and
the SNS messages (import.* once per run, video.* once per object)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from video_pipeline.imports.runs import request_run_id

from tests.pipeline.conftest import Pipeline
from tests.pipeline.import_helpers import (
    existing_library,
    import_executions,
    import_messages,
    jobs_under,
    run_command,
    run_record,
    start_import,
    wait_for_execution,
    wait_for_import_message,
    wait_for_log,
)

pytestmark = pytest.mark.pipeline

VIDEOS = ("videos/ocean-waves.mp4", "videos/forest-walk.mp4", "videos/city-traffic.mov")
IMAGES = ("media/still.jpg", "media/still.png")


def _counts(message: dict[str, object]) -> dict[str, object]:
    counts = message["counts"]
    assert isinstance(counts, dict)
    return counts


def test_twelvelabs_429s_slow_an_import_down_and_do_not_fail_it(pipeline: Pipeline, samples: Path) -> None:
    """An image is embedded by the import itself: 6 answers 429 outlast the client's own retries (4), so the state
    machine's RateLimitedError retry (growing wait) takes over; the object still ends `new` and embedded."""
    prefix = f"library/{uuid.uuid4().hex[:8]}/"
    key = f"{prefix}still.jpg"
    with existing_library(pipeline):
        pipeline.upload(samples / "media/still.jpg", key)
    httpx.delete(f"{pipeline.stack.emulator_admin_url}/requests", timeout=10).raise_for_status()
    pipeline.faults(rate_limit_next=6, path_prefix="/v1.3/embed")
    run_id = f"backfill-{uuid.uuid4().hex[:8]}"
    start_import(pipeline, run_id, {"source": "s3", "prefix": prefix})

    assert wait_for_execution(pipeline, run_id)["status"] == "SUCCEEDED"
    message = wait_for_import_message(pipeline, run_id)
    assert message["event_type"] == "import.completed"
    assert _counts(message) == {"new": 1, "rejected": 0, "skipped": 0, "failed": 0, "total": 1}
    seen = httpx.get(f"{pipeline.stack.emulator_admin_url}/requests", timeout=10).json()
    embeds = [r["status"] for r in seen if str(r["path"]).startswith("/v1.3/embed")]
    assert embeds.count(429) == 6 and embeds[-1] == 200, embeds
    item = pipeline.wait_for(key)
    assert item["status"] == "COMPLETED" and item["kind"] == "image"
    assert [m["event_type"] for m in pipeline.messages(item["job_key"])] == ["embedding.completed"]


def test_a_backfill_imports_each_object_once_and_announces_the_run(
    pipeline: Pipeline, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 objects already in the bucket: 5 processed by an earlier import, 2 not media, 23 new (3 videos that run the
    video pipeline to the end, 20 images embedded by the import itself: the test leaves nothing running behind)."""
    prefix = f"library/{uuid.uuid4().hex[:8]}/"
    with existing_library(pipeline):
        done = [
            pipeline.upload(samples / IMAGES[i % 2], f"{prefix}done/still-{i}{IMAGES[i % 2][-4:]}") for i in range(5)
        ]
        videos = [pipeline.upload(samples / v, f"{prefix}new/{Path(v).name}") for v in VIDEOS]
        for i in range(19):
            pipeline.upload(samples / IMAGES[i % 2], f"{prefix}new/still-{i}{IMAGES[i % 2][-4:]}")
        pipeline.upload(samples / IMAGES[0], f"{prefix}new/été 2026/a still + more.jpg")  # listed keys are raw
        pipeline.upload(samples / "bad/empty.mp4", f"{prefix}bad/empty.mp4")
        pipeline.upload(samples / "bad/not-a-video.mp4", f"{prefix}bad/not-a-video.mp4")
    assert jobs_under(pipeline, prefix) == []

    # 5 processed before the backfill, by a request file dropped under imports/ (the event-driven start path).
    request_key = f"imports/{uuid.uuid4().hex[:8]}.json"
    pipeline.put_bytes(json.dumps({"source": "s3", "prefix": f"{prefix}done/"}).encode(), request_key)
    etag = pipeline.stack.client("s3").head_object(Bucket=pipeline.bucket, Key=request_key)["ETag"].strip('"')
    first_run = request_run_id(pipeline.bucket, request_key, etag)
    first = wait_for_import_message(pipeline, first_run)
    assert first["event_type"] == "import.completed", first["error"]
    assert first["requested_by"] == f"s3://{pipeline.bucket}/{request_key}"
    assert _counts(first) == {"new": 5, "rejected": 0, "skipped": 0, "failed": 0, "total": 5}

    # The backfill of the whole prefix, by the README's command (it waits for the end and prints the run record).
    run_id = f"backfill-{uuid.uuid4().hex[:8]}"
    code, printed = run_command(pipeline, monkeypatch, "start", "--prefix", prefix, "--run-id", run_id, "--wait")
    assert code == 0 and printed["execution_status"] == "SUCCEEDED" and printed["status"] == "COMPLETED", printed
    assert printed["requested_by"] == "command"
    message = wait_for_import_message(pipeline, run_id)
    assert message["event_type"] == "import.completed" and message["status"] == "COMPLETED"
    assert _counts(message) == {"new": 23, "rejected": 2, "skipped": 5, "failed": 0, "total": 30}
    assert printed["counts"] == _counts(message)
    assert message["source"] == "s3" and message["request"]["prefix"] == prefix
    assert [m["event_type"] for m in import_messages(pipeline, run_id)] == ["import.completed"]

    record = run_record(pipeline, run_id)
    assert record is not None and record["status"] == "COMPLETED"
    assert {f["key"]: f["outcome"] for f in record["failures"]} == {
        f"{prefix}bad/empty.mp4": "rejected",
        f"{prefix}bad/not-a-video.mp4": "rejected",
    }
    assert {f["reason"] for f in record["failures"]} == {"empty_object", "not_a_video"}
    report = json.loads(pipeline.read_result(message["report"]))
    assert report["counts"] == _counts(message)
    outcomes = {o["key"]: o["outcome"] for o in report["objects"]}
    assert len(outcomes) == 30 and {k for k, o in outcomes.items() if o == "skipped"} == set(done)

    jobs = jobs_under(pipeline, prefix)
    assert len(jobs) == 30  # one job per object
    # Pacing: a Map slot is released once its video made its first TwelveLabs call, so none is still RECEIVED.
    assert [j["key"] for j in jobs if j["status"] == "RECEIVED"] == []
    assert sorted(j["key"] for j in jobs if j["status"] == "REJECTED") == sorted(
        f"{prefix}bad/{name}" for name in ("empty.mp4", "not-a-video.mp4")
    )
    # Each object is announced as an upload would be, once: the videos go through the video pipeline to the end.
    for key in videos:
        item = pipeline.wait_for(key)
        assert item["status"] == "COMPLETED", item
        assert [m["event_type"] for m in pipeline.messages(item["job_key"])] == ["video.completed"]
    still = next(j for j in jobs if j["key"] == f"{prefix}new/still-0.jpg")
    assert still["status"] == "COMPLETED"
    assert [m["event_type"] for m in pipeline.messages(still["job_key"])] == ["embedding.completed"]
    rejected_key = next(j["job_key"] for j in jobs if j["key"].endswith("empty.mp4"))
    assert [m["event_type"] for m in pipeline.messages(rejected_key)] == ["video.rejected"]
    jobs_before_rerun = jobs_under(pipeline, prefix)  # every job settled: the videos completed, the rest too

    # Re-running the backfill adds nothing: no job, no TwelveLabs task or asset, no video.* / embedding.* message.
    ours = {j["job_key"] for j in jobs}
    before = len(pipeline.received)
    again = f"backfill-{uuid.uuid4().hex[:8]}"
    start_import(pipeline, again, {"source": "s3", "prefix": prefix})
    assert wait_for_execution(pipeline, again)["status"] == "SUCCEEDED"
    rerun = wait_for_import_message(pipeline, again)
    assert _counts(rerun) == {"new": 0, "rejected": 0, "skipped": 30, "failed": 0, "total": 30}
    assert _twelvelabs_ids(jobs_under(pipeline, prefix)) == _twelvelabs_ids(jobs_before_rerun)
    for job_key in ours:
        pipeline.settled(job_key)
    news = [m["event_type"] for m in pipeline.received[before:] if m.get("job_key") in ours or m.get("run_id") == again]
    assert news == ["import.completed"]


def _twelvelabs_ids(jobs: list[dict[str, object]]) -> list[tuple[object, ...]]:
    fields = ("job_key", "run", "status", "tl_task_id", "tl_asset_id", "tl_indexed_asset_id", "tl_video_id")
    return sorted(tuple(str(j.get(f)) for f in fields) for j in jobs)


def test_a_malformed_request_file_is_refused_with_its_reason_and_starts_nothing(pipeline: Pipeline) -> None:
    key = f"imports/{uuid.uuid4().hex[:8]}.json"
    pipeline.put_bytes(json.dumps({"source": "s3", "prefix": 7, "colour": "red"}).encode(), key)
    etag = pipeline.stack.client("s3").head_object(Bucket=pipeline.bucket, Key=key)["ETag"].strip('"')
    run_id = request_run_id(pipeline.bucket, key, etag)

    message = wait_for_import_message(pipeline, run_id)
    assert message["event_type"] == "import.rejected" and message["status"] == "REJECTED"
    assert message["error"]["code"] == "invalid_import_request"
    assert "prefix" in message["error"]["message"] and "colour" in message["error"]["message"]
    record = run_record(pipeline, run_id)
    assert record is not None and record["status"] == "REJECTED"
    assert record["error_message"] == message["error"]["message"]
    assert run_id not in import_executions(pipeline)
    # The request file is not media: the upload path ignored it (no job, no video.rejected).
    pipeline.settled("0" * 40)
    assert pipeline.items_for(key) == []
    assert [m["event_type"] for m in import_messages(pipeline, run_id)] == ["import.rejected"]


def test_a_command_for_a_source_not_offered_is_refused_once(pipeline: Pipeline) -> None:
    run_id = f"integration-{uuid.uuid4().hex[:8]}"
    start_import(pipeline, run_id, {"source": "integration", "integration_id": "665f0a2c9b1e4d0012a3f7c9"})
    ended = wait_for_execution(pipeline, run_id)
    assert ended["status"] == "FAILED"  # the execution says so too (Fail state ImportRequestRejected)
    message = wait_for_import_message(pipeline, run_id)
    assert message["event_type"] == "import.rejected" and message["requested_by"] == "command"
    # the cloud-to-cloud import exists on the classic surface only; this stack runs the current one
    assert "classic TwelveLabs surface only" in message["error"]["message"]
    record = run_record(pipeline, run_id)
    assert record is not None and record["status"] == "REJECTED" and record["execution_arn"] == ended["executionArn"]
    # The failed execution's status event reaches import_finish too (the rule for runs no Catch recorded): it finds the
    # run already closed and announces nothing more.
    wait_for_log(pipeline, "import_finish", run_id)
    assert [m["event_type"] for m in import_messages(pipeline, run_id)] == ["import.rejected"]
    assert run_record(pipeline, run_id)["status"] == "REJECTED"  # type: ignore[index]


def test_a_backfill_of_an_empty_prefix_completes_with_nothing_to_do(pipeline: Pipeline) -> None:
    run_id = f"backfill-{uuid.uuid4().hex[:8]}"
    start_import(pipeline, run_id, {"source": "s3", "prefix": f"nothing-here-{uuid.uuid4().hex[:8]}/"})
    assert wait_for_execution(pipeline, run_id)["status"] == "SUCCEEDED"
    message = wait_for_import_message(pipeline, run_id)
    assert message["event_type"] == "import.completed"
    assert _counts(message) == {"new": 0, "rejected": 0, "skipped": 0, "failed": 0, "total": 0}
    assert json.loads(pipeline.read_result(message["report"]))["objects"] == []
