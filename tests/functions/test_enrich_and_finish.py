"""Embeddings, analyses, finalize, record_failure: results in S3, pointers on the item, one SNS message each."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.functions.conftest import ANALYSES, SfnSpy, Stack, ingest_video, load_event, start_indexing_payload


def _read(stack: Stack, uri: str) -> Any:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return json.loads(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def _indexed_job(stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy) -> tuple[dict, dict]:
    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4")
    started = handler("start_indexing").lambda_handler(start_indexing_payload(stack, job), context)
    stack.wait_task(started["task_id"])
    handler("await_indexing").lambda_handler(
        {"task_token": "t", "job_key": job["job_key"], "run": 1, "task_id": started["task_id"]}, context
    )
    [resumed] = sfn_spy.successes
    return job, resumed["output"]


def _embeddings(stack: Stack, handler: Any, context: Any, job: dict[str, Any]) -> dict[str, Any]:
    payload = {
        "job_key": job["job_key"],
        "run": int(job.get("run", 1)),
        "bucket": job["bucket"],
        "key": job["key"],
        "version_id": None,
        "embedding": {"clip_length": 6, "scopes": ["clip", "video"]},
    }
    poll = handler("start_embeddings").lambda_handler(payload, context)
    assert handler("start_embeddings").lambda_handler(payload, context)["task_id"] == poll["task_id"]  # retry
    # The first poll state comes from start_embeddings' own EMBED_POLL_* settings (the template gives them).
    assert (poll["wait_seconds"], poll["max_polls"]) == (
        int(stack.env["EMBED_POLL_FIRST_SECONDS"]),
        int(stack.env["EMBED_POLL_MAX_ATTEMPTS"]),
    )
    waits = [poll["wait_seconds"]]
    while poll["status"] != "ready":
        assert poll["polls"] < poll["max_polls"], "bounded"
        time.sleep(0.2)  # the state machine's Wait (SecondsPath) in real life
        poll = handler("check_embeddings").lambda_handler(
            {
                "job_key": job["job_key"],
                "task_id": poll["task_id"],
                "polls": poll["polls"],
                "wait_seconds": poll["wait_seconds"],
            },
            context,
        )
        waits.append(poll["wait_seconds"])
    assert waits == sorted(waits) and max(waits) <= 8  # growing, capped by EMBED_POLL_MAX_SECONDS
    return dict(
        handler("store_embeddings").lambda_handler(
            {"job_key": job["job_key"], "run": 1, "task_id": poll["task_id"]}, context
        )
    )


def test_a_video_goes_all_the_way_to_completed(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    job, indexed = _indexed_job(stack, handler, context, samples, sfn_spy)
    stored = _embeddings(stack, handler, context, job)
    assert stored["name"] == "embeddings"
    vectors = _read(stack, stored["uri"])
    segments = vectors["video_embedding"]["segments"]
    assert {s["embedding_scope"] for s in segments} == {"clip", "video"} and len(segments[0]["float"]) == 1024
    assert len(stack.emulator.posts("/embed/tasks")) == 1

    pointers = [
        handler("run_analysis").lambda_handler(
            {
                "job_key": job["job_key"],
                "run": 1,
                "video_id": indexed["video_id"],
                "index_id": stack.index_id,
                "analysis": spec,
            },
            context,
        )
        for spec in ANALYSES
    ]
    assert [p["name"] for p in pointers] == ["gist", "summary", "analysis-safety"]
    assert all(p["uri"].endswith(f"/results/{job['job_key']}/{p['name']}.json") for p in pointers)
    assert _read(stack, pointers[1]["uri"])["result"]["summary"]

    final = handler("finalize").lambda_handler({"job_key": job["job_key"], "run": 1, "execution_arn": "arn:x"}, context)
    assert final["status"] == "COMPLETED"
    item = stack.job(job["job_key"])
    assert item["status"] == "COMPLETED" and "completed_at" in item["stages"]
    assert set(item["results"]) == {"embeddings", "gist", "summary", "analysis-safety"}
    assert item["title"] and isinstance(item["topics"], list) and isinstance(item["hashtags"], list)
    [message] = stack.notifications()
    assert message["event_type"] == "video.completed" and message["status"] == "COMPLETED"
    assert message["results"] == item["results"] and message["title"] == item["title"]
    assert message["twelvelabs"]["video_id"] == indexed["video_id"]
    assert message["_attributes"] == {
        "event_type": "video.completed",
        "status": "COMPLETED",
        "index_id": stack.index_id,
    }
    # A retried Finalize state: same answer, no second message.
    handler("finalize").lambda_handler({"job_key": job["job_key"], "run": 1}, context)
    assert stack.notifications() == []


def test_giant_gist_is_bounded_on_the_item(
    stack: Stack, handler: Any, context: Any, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twelvelabs_client.models.generate import GistResult
    from video_pipeline.clients import get_clients

    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4")
    giant = GistResult.model_validate(
        {"id": "g", "title": "T" * 500_000, "topics": ["x" * 10_000] * 5_000, "hashtags": ["#y" * 1000] * 5_000}
    )
    monkeypatch.setattr(get_clients().twelvelabs, "gist", lambda video_id, types: giant)
    pointer = handler("run_analysis").lambda_handler(
        {"job_key": job["job_key"], "run": 1, "video_id": "v", "analysis": {"name": "gist", "kind": "gist"}}, context
    )
    assert len(_read(stack, pointer["uri"])["result"]["title"]) == 500_000  # the full result is in S3
    item = stack.job(job["job_key"])
    assert len(item["title"]) <= 500 and len(item["topics"]) <= 25 and len(item["hashtags"]) <= 25
    assert len(json.dumps(item, default=str)) < 20_000


def test_failed_embedding_task_raises_with_its_code(
    stack: Stack, handler: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twelvelabs_client.models.embed import EmbeddingTaskStatus
    from video_pipeline.clients import get_clients

    failed = EmbeddingTaskStatus.model_validate(
        {"_id": "e1", "status": "failed", "error": {"code": "video_file_broken", "message": "unreadable"}}
    )
    monkeypatch.setattr(get_clients().twelvelabs, "get_embedding_task_status", lambda task_id: failed)
    with pytest.raises(Exception) as caught:
        handler("check_embeddings").lambda_handler({"job_key": "k", "task_id": "e1", "polls": 0}, context)
    assert type(caught.value).__name__ == "EmbeddingTaskFailedError"
    assert str(caught.value).startswith("video_file_broken: unreadable")


def _catch_state(job: dict[str, Any], error_type: str, message: str) -> dict[str, Any]:
    cause = json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": []})
    return {
        "job_key": job["job_key"],
        "execution_arn": job["execution_arn"],
        "state": {"job_key": job["job_key"], "error": {"Error": error_type, "Cause": cause}},
    }


def test_record_failure_from_a_catch_records_the_twelvelabs_code_once(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4")
    event = _catch_state(
        job, "InvalidParameterError", "video_file_broken: The video file is broken. (HTTP 400, request r1)"
    )
    result = handler("record_failure").lambda_handler(event, context)
    assert result["error_code"] == "video_file_broken" and result["announced"] is True
    item = stack.job(job["job_key"])
    assert item["status"] == "FAILED" and item["error_message"].startswith("The video file is broken")
    # The EventBridge status-change event for the same execution: no overwrite, no second message.
    status_event = load_event("record_failure_execution_status")
    status_event["detail"].update(
        name=job["job_key"],
        executionArn=job["execution_arn"],
        status="FAILED",
        error="VideoPipelineFailed",
        cause="see the item",
    )
    assert handler("record_failure").lambda_handler(status_event, context)["announced"] is False
    [message] = stack.notifications()
    assert message["event_type"] == "video.failed" and message["error"]["code"] == "video_file_broken"
    assert stack.job(job["job_key"])["error_code"] == "video_file_broken"


def test_record_failure_for_a_task_that_failed_in_twelvelabs(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4")
    state = {
        "job_key": job["job_key"],
        "indexed": {
            "task_id": "t1",
            "video_id": None,
            "status": "failed",
            "error_code": "video_duration_too_short",
            "error_message": "The video is too short.",
        },
    }
    handler("record_failure").lambda_handler({"job_key": job["job_key"], "state": state}, context)
    item = stack.job(job["job_key"])
    assert item["status"] == "FAILED" and item["error_code"] == "video_duration_too_short"


def test_execution_timed_out_is_recorded_but_never_overwrites_completed(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4")
    status_event = load_event("record_failure_execution_status")  # TIMED_OUT, States.Timeout
    status_event["detail"].update(name=job["job_key"], executionArn=job["execution_arn"])
    handler("record_failure").lambda_handler(status_event, context)
    assert stack.job(job["job_key"])["error_code"] == "timeout"

    other = ingest_video(stack, handler, context, samples / "videos" / "forest-walk.mp4", key="videos/other.mp4")
    handler("finalize").lambda_handler({"job_key": other["job_key"], "run": 1}, context)
    late = _catch_state(other, "ServerError", "internal_error: boom")
    assert handler("record_failure").lambda_handler(late, context)["status"] == "COMPLETED"
    assert stack.job(other["job_key"])["status"] == "COMPLETED"
    assert [m["event_type"] for m in stack.notifications()] == ["video.failed", "video.completed"]


def test_state_machine_input_errors_are_clear(stack: Stack, handler: Any, context: Any) -> None:
    with pytest.raises(Exception) as caught:
        handler("start_indexing").lambda_handler({"job_key": "k"}, context)
    assert type(caught.value).__name__ == "InvalidEventError"
    # bucket/key are optional since asset-source jobs (connection imports); the missing required field is named.
    assert "index_id" in str(caught.value)
