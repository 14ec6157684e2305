"""S3 upload -> TwelveLabs -> DynamoDB/S3 -> SNS, on the real template, ASL and handlers.

Every test follows uploads to what a user of the pipeline sees: the job item, the results in S3, the SNS
messages, and how many TwelveLabs tasks were created (never two for one object).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import httpx
import pytest
from tests.pipeline.conftest import Pipeline

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


@pytest.mark.parametrize(
    ("sample", "code"),
    [
        ("bad/empty.mp4", "empty_object"),
        ("bad/not-a-video.mp4", "not_a_video"),
        ("bad/tiny-320x240.mp4", "video_resolution_too_low"),
        ("bad/short-2s.mp4", "video_duration_too_short"),
    ],
)
def test_bad_media_is_rejected_before_any_money_is_spent(
    classic_pipeline: Pipeline, samples: Path, sample: str, code: str
) -> None:
    key = classic_pipeline.upload(samples / sample, classic_pipeline.unique_key(Path(sample).name))
    item = classic_pipeline.wait_for(key)

    assert item["status"] == "REJECTED"
    assert item["error_code"] == code and item["error_message"]
    assert _events(classic_pipeline, item["job_key"]) == ["video.rejected"]
    assert classic_pipeline.tasks_for(item["job_key"]) == []


def test_a_key_with_spaces_and_unicode_is_processed(classic_pipeline: Pipeline, samples: Path) -> None:
    key = classic_pipeline.upload(
        samples / "videos/forest-walk.mp4", classic_pipeline.unique_key("été 2026/a walk in the forest.mp4")
    )
    item = classic_pipeline.wait_for(key)
    assert item["status"] == "COMPLETED", item
    assert item["key"] == key


def test_the_same_object_uploaded_twice_is_processed_once(classic_pipeline: Pipeline, samples: Path) -> None:
    key = classic_pipeline.unique_key("city-traffic.mov")
    classic_pipeline.upload(samples / "videos/city-traffic.mov", key)
    classic_pipeline.upload(samples / "videos/city-traffic.mov", key)
    item = classic_pipeline.wait_for(key)

    assert item["status"] == "COMPLETED", item
    assert len(classic_pipeline.items_for(key)) == 1
    assert len(classic_pipeline.tasks_for(item["job_key"])) == 1
    assert _events(classic_pipeline, item["job_key"]) == ["video.completed"]


def test_the_same_event_delivered_twice_starts_nothing_new(classic_pipeline: Pipeline, samples: Path) -> None:
    key = classic_pipeline.upload(samples / "videos/forest-walk.mp4", classic_pipeline.unique_key("redelivered.mp4"))
    item = classic_pipeline.wait_for(key)
    assert item["status"] == "COMPLETED", item
    redelivered = {
        "version": "0",
        "id": "redelivered-event",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-26T10:00:00Z",
        "region": classic_pipeline.stack.config.region,
        "resources": [f"arn:aws:s3:::{classic_pipeline.bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": classic_pipeline.bucket},
            # Exactly what the first delivery carried (as recorded on the item).
            "object": {"key": key, "size": int(item["size"]), "etag": item["etag"], "sequencer": item.get("sequencer")},
            "reason": "PutObject",
        },
    }
    classic_pipeline.stack.client("sqs").send_message(
        QueueUrl=classic_pipeline.stack.outputs["IngestQueueUrl"], MessageBody=json.dumps(redelivered)
    )
    classic_pipeline.settled(item["job_key"])  # the redelivery was consumed (queue empty), nothing is running

    items = classic_pipeline.items_for(key)
    assert [i["status"] for i in items] == ["COMPLETED"]
    assert len(classic_pipeline.tasks_for(item["job_key"])) == 1
    assert _events(classic_pipeline, item["job_key"]) == ["video.completed"]


def _sign(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def test_the_webhook_fails_closed_and_ignores_replays(classic_pipeline: Pipeline, samples: Path) -> None:
    key = classic_pipeline.upload(samples / "videos/ocean-waves.mp4", classic_pipeline.unique_key("webhook.mp4"))
    item = classic_pipeline.wait_for(key)
    assert item["status"] == "COMPLETED"
    body = json.dumps(
        {
            "id": "whe_" + "ab" * 16,
            "created_at": "2026-11-26T10:00:00Z",
            "type": "index.task.ready",
            "data": {"id": item["tl_task_id"], "status": "ready", "metadata": {}, "models": [], "tags": []},
        }
    ).encode()
    url = classic_pipeline.stack.webhook_url
    secret = classic_pipeline.stack.twelvelabs.webhook_secret  # type: ignore[union-attr]
    now = int(time.time())

    assert httpx.post(url, content=body, timeout=30).status_code == 401  # no signature
    assert (
        httpx.post(url, content=body, headers={"TL-Signature": _sign("wrong", body, now)}, timeout=30).status_code
        == 401
    )
    stale = _sign(secret, body, now - 3600)
    assert httpx.post(url, content=body, headers={"TL-Signature": stale}, timeout=30).status_code == 401
    good = {"TL-Signature": _sign(secret, body, now)}
    assert httpx.post(url, content=body, headers=good, timeout=30).status_code == 200
    assert httpx.post(url, content=body, headers=good, timeout=30).status_code == 200  # replay: accepted, no effect

    assert classic_pipeline.items_for(key)[0]["status"] == "COMPLETED"
    assert _events(classic_pipeline, item["job_key"]) == ["video.completed"]


def test_a_lost_webhook_costs_minutes_not_the_video(classic_pipeline: Pipeline, samples: Path) -> None:
    classic_pipeline.faults(drop_next_webhooks=1)
    key = classic_pipeline.upload(samples / "videos/city-traffic.mov", classic_pipeline.unique_key("lost-webhook.mov"))
    item = classic_pipeline.wait_for(key, timeout=120)

    assert item["status"] == "COMPLETED", item
    assert any(w.get("dropped") for w in classic_pipeline.webhooks())
    assert "reconcile" in classic_pipeline.stack.function_log("reconcile").lower()


def test_twelvelabs_rate_limits_are_waited_out(classic_pipeline: Pipeline, samples: Path) -> None:
    classic_pipeline.faults(rate_limit_next=3)
    key = classic_pipeline.upload(samples / "videos/forest-walk.mp4", classic_pipeline.unique_key("rate-limited.mp4"))
    item = classic_pipeline.wait_for(key, timeout=120)
    assert item["status"] == "COMPLETED", item
    assert len(classic_pipeline.tasks_for(item["job_key"])) == 1


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


@pytest.mark.parametrize("sample", ["media/still.jpg", "media/still.png", "media/tone.wav", "media/tone.mp3"])
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
