"""Retiring a run (delete or newer version) at any stage: the execution stops, TwelveLabs is purged, one message;
a purge that has to wait is finished by the sweeper; a resource created after retirement is purged at once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.functions.conftest import SfnSpy, Stack, ingest_video, start_indexing_payload


def _runtime(handler: Any, name: str) -> Any:
    return handler(name).function.runtime()


def test_a_delete_while_a_classic_task_indexes_purges_once_it_ends_without_a_retry_loop(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    from twelvelabs_client.errors import NotFoundError
    from video_pipeline.models.jobs import JobItem
    from video_pipeline.retirement import retire
    from video_pipeline.sweeper import sweep

    stack.emulator.config(processing_seconds=12)  # the task is still indexing when the object goes
    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4", key="videos/gone-early.mp4")
    started = handler("start_indexing").lambda_handler(start_indexing_payload(stack, job), context)
    stack.notifications()

    runtime = _runtime(handler, "object_removed")
    item = JobItem.model_validate(stack.job(job["job_key"]))
    retired = retire(item, "DELETED", "test: the object was deleted", runtime)
    assert retired.status == "PURGING" and retired.retired_as == "DELETED"  # the task cannot be deleted yet
    assert stack.notifications() == []  # announced once the purge is done, not before

    assert stack.wait_task(started["task_id"], timeout=60) == "ready"
    report = sweep(_runtime(handler, "sweeper"), now=time.time() + 120)
    assert report.purged == 1 and report.errors == 0
    final = stack.job(job["job_key"])
    assert final is not None and final["status"] == "DELETED" and final["tl_purged"] is True
    with pytest.raises(NotFoundError):
        stack.tl().get_task(started["task_id"])
    assert stack.tl().get_index(stack.index_id).video_count == 0  # nothing left in the index
    assert [m["event_type"] for m in stack.notifications()] == ["video.deleted"]
    # A second sweep or a redelivered delete changes nothing and says nothing.
    sweep(_runtime(handler, "sweeper"), now=time.time() + 240)
    assert stack.notifications() == []


def test_a_resource_created_after_the_run_was_retired_is_purged_and_the_step_stops(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    from video_pipeline.errors import RunSupersededError
    from video_pipeline.indexing import record_created
    from video_pipeline.models.jobs import JobItem
    from video_pipeline.retirement import retire

    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4", key="videos/late.mp4")
    runtime = _runtime(handler, "object_removed")
    retire(JobItem.model_validate(stack.job(job["job_key"])), "DELETED", "test", runtime)
    assert stack.job(job["job_key"])["status"] == "DELETED"  # nothing existed yet: purged at once

    # A step of the stopped execution had already sent its POST: the task exists, its record write is refused.
    url = stack.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": stack.media_bucket, "Key": "videos/late.mp4"}
    )
    created = stack.tl().create_task(stack.index_id, video_url=url)
    jobs = runtime.store.require_jobs()
    with pytest.raises(RunSupersededError):
        record_created(jobs, job["job_key"], 1, {"tl_task_id": created.id}, runtime)
    item = stack.job(job["job_key"])
    assert item["tl_task_id"] == created.id and item["status"] == "PURGING"  # on the retired item, for the sweeper


def test_a_step_of_a_retired_run_spends_nothing(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    from video_pipeline.models.jobs import JobItem
    from video_pipeline.retirement import retire

    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4", key="videos/stopped.mp4")
    retire(JobItem.model_validate(stack.job(job["job_key"])), "DELETED", "test", _runtime(handler, "object_removed"))
    before = len(stack.emulator.posts("/tasks"))
    with pytest.raises(Exception, match=r"run_superseded"):
        handler("start_indexing").lambda_handler(start_indexing_payload(stack, job), context)
    assert len(stack.emulator.posts("/tasks")) == before


def test_the_sweeper_retires_an_active_job_whose_object_is_gone(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    from video_pipeline.sweeper import sweep

    key = "videos/vanished.mp4"
    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4", key=key)
    stack.client("s3").delete_object(Bucket=stack.media_bucket, Key=key)  # its Deleted event was lost
    stack.notifications()

    assert sweep(_runtime(handler, "sweeper"), now=time.time() + 30).deleted == 0  # not stale yet
    report = sweep(_runtime(handler, "sweeper"), now=time.time() + 3600)
    assert report.deleted == 1
    assert stack.job(job["job_key"])["status"] == "DELETED"
    assert [m["event_type"] for m in stack.notifications()] == ["video.deleted"]


def test_the_sweeper_walks_past_jobs_it_cannot_settle_with_a_cursor(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from video_pipeline.sweeper import sweep

    live = [
        ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4", key=f"videos/live-{i}.mp4")
        for i in range(2)
    ]
    gone = ingest_video(stack, handler, context, samples / "videos" / "forest-walk.mp4", key="videos/gone-later.mp4")
    stack.client("s3").delete_object(Bucket=stack.media_bucket, Key="videos/gone-later.mp4")  # its event was lost
    assert all(j["status"] == "RECEIVED" for j in live)
    monkeypatch.setenv("SWEEP_MAX_JOBS", "1")  # one job per walk and run
    runtime = _runtime(handler, "sweeper")
    assert runtime.settings.sweep_max_jobs == 1

    reports = [sweep(runtime, now=time.time() + 3600) for _ in range(3)]
    # The two live jobs come first (oldest) and stay as they are; the third run reaches the gone one.
    assert [r.deleted for r in reports] == [0, 0, 1]
    assert stack.job(gone["job_key"])["status"] == "DELETED"
    assert all(stack.job(j["job_key"])["status"] == "RECEIVED" for j in live)


def test_the_sweeper_retires_a_recently_completed_job_whose_object_is_gone(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    from video_pipeline.sweeper import sweep

    key = "videos/completed-then-gone.mp4"
    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4", key=key)
    handler("finalize").lambda_handler({"job_key": job["job_key"], "run": 1}, context)
    stack.client("s3").delete_object(Bucket=stack.media_bucket, Key=key)  # its Deleted event never came
    stack.notifications()

    report = sweep(_runtime(handler, "sweeper"), now=time.time() + 60)
    assert report.deleted == 1
    assert stack.job(job["job_key"])["status"] == "DELETED"
    assert [m["event_type"] for m in stack.notifications()] == ["video.deleted"]
