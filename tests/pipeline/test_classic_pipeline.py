"""The classic surface (TwelveLabsSurface=classic, classic emulator): a smoke set on the real template, ASL and
handlers. The full failure matrix runs on the current surface (test_video_pipeline.py); these keep the classic flow
(POST /tasks, embed task polling, /gist, /summarize, /analyze on the video) working for accounts still on it.

Every test follows uploads to what a user of the pipeline sees: the job item, the results in S3, the SNS
messages, and how many TwelveLabs tasks were created (never two for one object).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.pipeline.conftest import PROCESSING_SECONDS, Pipeline

pytestmark = pytest.mark.pipeline


def _events(classic_pipeline: Pipeline, job_key: str) -> list[str]:
    return [m["event_type"] for m in classic_pipeline.messages(job_key)]


def test_a_video_is_indexed_embedded_analysed_stored_and_announced(classic_pipeline: Pipeline, samples: Path) -> None:
    key = classic_pipeline.upload(samples / "videos/ocean-waves.mp4", classic_pipeline.unique_key("ocean-waves.mp4"))
    item = classic_pipeline.wait_for(key)

    assert item["status"] == "COMPLETED", item
    assert item["kind"] == "video"
    assert item["tl_task_id"] and item["tl_video_id"] and item["tl_index_id"]
    assert item["title"] and item["topics"]
    for name in ("embeddings", "gist", "summary", "chapters", "highlights"):
        assert item["results"][name].startswith("s3://"), name
    embeddings = json.loads(classic_pipeline.read_result(item["results"]["embeddings"]))
    segments = embeddings["video_embedding"]["segments"]
    assert segments and all(len(s["float"]) == 1024 for s in segments)
    chapters = json.loads(classic_pipeline.read_result(item["results"]["chapters"]))
    assert chapters["result"]["chapters"]
    assert all(0 <= c["start_sec"] < c["end_sec"] <= 8.5 for c in chapters["result"]["chapters"])
    assert "analysis-safety" in item["results"]  # kind analyze: its result is named analysis-<name>

    messages = classic_pipeline.messages(item["job_key"])
    assert [m["event_type"] for m in messages] == ["video.completed"]
    body = messages[0]
    assert body["status"] == "COMPLETED" and body["twelvelabs"]["video_id"] == item["tl_video_id"]
    assert body["results"]["embeddings"] == item["results"]["embeddings"]
    assert "float" not in json.dumps(body), "SNS carries pointers, never payloads"
    assert len(classic_pipeline.tasks_for(item["job_key"])) == 1


def test_the_same_object_uploaded_twice_ends_as_one_video(classic_pipeline: Pipeline, samples: Path) -> None:
    key = classic_pipeline.unique_key("city-traffic.mov")
    classic_pipeline.upload(samples / "videos/city-traffic.mov", key)
    classic_pipeline.upload(samples / "videos/city-traffic.mov", key)
    jobs = classic_pipeline.wait_for_versions(key, 2, timeout=180)

    latest = jobs.pop(str(classic_pipeline.current_version(key)))
    [older] = jobs.values()
    assert latest["status"] == "COMPLETED", latest
    assert older["status"] == "SUPERSEDED", older
    assert len(classic_pipeline.tasks_for(latest["job_key"])) == 1
    # Its video (if it got one, maybe from a task created after it was retired) was deleted.
    assert classic_pipeline.tasks_for(older["job_key"]) == [], older
    assert _events(classic_pipeline, latest["job_key"]) == ["video.completed"]
    assert _events(classic_pipeline, older["job_key"]) == ["video.superseded"]


def test_a_lost_webhook_costs_minutes_not_the_video(classic_pipeline: Pipeline, samples: Path) -> None:
    classic_pipeline.faults(drop_next_webhooks=1)
    key = classic_pipeline.upload(samples / "videos/city-traffic.mov", classic_pipeline.unique_key("lost-webhook.mov"))
    item = classic_pipeline.wait_for(key, timeout=120)

    assert item["status"] == "COMPLETED", item
    assert any(w.get("dropped") for w in classic_pipeline.webhooks())
    assert "reconcile" in classic_pipeline.stack.function_log("reconcile").lower()


def test_a_500_after_the_task_was_created_creates_no_duplicate(classic_pipeline: Pipeline, samples: Path) -> None:
    classic_pipeline.faults(error_after_create_next=1, path_prefix="/v1.3/tasks")
    key = classic_pipeline.upload(samples / "videos/ocean-waves.mp4", classic_pipeline.unique_key("ambiguous.mp4"))
    item = classic_pipeline.wait_for(key, timeout=120)
    assert item["status"] == "COMPLETED", item
    assert len(classic_pipeline.tasks_for(item["job_key"])) == 1


def test_a_task_that_fails_in_twelvelabs_fails_the_job(classic_pipeline: Pipeline, samples: Path) -> None:
    classic_pipeline.faults(fail_next_tasks=1)
    key = classic_pipeline.upload(samples / "videos/forest-walk.mp4", classic_pipeline.unique_key("broken.mp4"))
    item = classic_pipeline.wait_for(key)

    # The v1.3 task object documents no failure reason: the job says so with its own code.
    assert item["status"] == "FAILED"
    assert item["error_code"] == "indexing_failed" and "without a reason" in item["error_message"]
    messages = classic_pipeline.messages(item["job_key"])
    assert [m["event_type"] for m in messages] == ["video.failed"]
    assert messages[0]["error"]["code"] == "indexing_failed"


def test_results_larger_than_an_item_go_to_s3(classic_pipeline: Pipeline, samples: Path, tmp_path: Path) -> None:
    from scripts.make_samples import make_video

    # 60 s in 2 s clips: ~60 segments of 1024 floats, well over DynamoDB's 400 KB item limit.
    long_video = make_video(tmp_path / "long.mp4", 480, 360, 60, (200, 30, 30), (20, 20, 20))
    key = classic_pipeline.upload(long_video, classic_pipeline.unique_key("long.mp4"))
    item = classic_pipeline.wait_for(key, timeout=120)

    assert item["status"] == "COMPLETED", item
    embeddings = classic_pipeline.read_result(item["results"]["embeddings"])
    assert len(embeddings) > 400 * 1024
    assert len(json.dumps(item, default=str)) < 20 * 1024


@pytest.mark.parametrize("sample", ["media/still.jpg", "media/tone.wav"])
def test_images_and_audio_get_a_marengo_embedding(classic_pipeline: Pipeline, samples: Path, sample: str) -> None:
    key = classic_pipeline.upload(samples / sample, classic_pipeline.unique_key(Path(sample).name, prefix="media"))
    item = classic_pipeline.wait_for(key)

    assert item["status"] == "COMPLETED", item
    assert item["kind"] == ("image" if sample.endswith(("jpg", "png")) else "audio")
    stored = classic_pipeline.read_result(item["results"]["embeddings"])
    kind = item["kind"]
    segments = json.loads(stored)[f"{kind}_embedding"]["segments"]
    assert segments and all(len(s["float"]) == 1024 for s in segments), stored[:300]
    assert _events(classic_pipeline, item["job_key"]) == ["embedding.completed"]


def test_removing_the_object_removes_the_twelvelabs_video(classic_pipeline: Pipeline, samples: Path) -> None:
    key = classic_pipeline.upload(samples / "videos/forest-walk.mp4", classic_pipeline.unique_key("to-delete.mp4"))
    item = classic_pipeline.wait_for(key)
    assert item["status"] == "COMPLETED"

    classic_pipeline.stack.client("s3").delete_object(Bucket=classic_pipeline.bucket, Key=key)
    item = classic_pipeline.wait_for(key, statuses={"DELETED"})

    headers = {"x-api-key": classic_pipeline.stack.twelvelabs.api_key}  # type: ignore[union-attr]
    video = httpx.get(
        f"{classic_pipeline.stack.emulator_base_url}/indexes/{item['tl_index_id']}/videos/{item['tl_video_id']}",
        headers=headers,
        timeout=10,
    )
    assert video.status_code == 404
    assert _events(classic_pipeline, item["job_key"]) == ["video.completed", "video.deleted"]


def test_a_delete_while_the_task_indexes_purges_the_video_once_it_exists(
    classic_pipeline: Pipeline, samples: Path
) -> None:
    # A classic task cannot be deleted while it indexes, and its video exists only once it is ready: the job waits
    # PURGING (no retry loop), and the task's index.task.ready webhook (or the sweeper) deletes the video and the
    # task, then DELETED with one video.deleted.
    key = classic_pipeline.unique_key("deleted-while-indexing.mov")
    classic_pipeline.set_processing_seconds(12)
    try:
        classic_pipeline.upload(samples / "videos/city-traffic.mov", key)
        indexing = classic_pipeline.wait_for(key, statuses={"INDEXING"}, timeout=60)
        classic_pipeline.stack.client("s3").delete_object(Bucket=classic_pipeline.bucket, Key=key)
        purging = classic_pipeline.wait_for(key, statuses={"PURGING", "DELETED"}, timeout=60)
    finally:
        classic_pipeline.set_processing_seconds(PROCESSING_SECONDS)
    item = classic_pipeline.wait_for(key, statuses={"DELETED"}, timeout=180)

    assert purging["status"] == "PURGING", purging  # the task was still indexing when the delete came
    assert item["tl_purged"] is True and item["retired_as"] == "DELETED"
    assert item["tl_task_id"] == indexing["tl_task_id"]
    assert classic_pipeline.tasks_for(item["job_key"]) == []  # no video of this job left in the index
    assert _events(classic_pipeline, item["job_key"]) == ["video.deleted"]
    # The stopped execution analysed nothing: no Pegasus call, no result.
    assert item["results"] == {}
