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


def _events(pipeline: Pipeline, job_key: str) -> list[str]:
    return [m["event_type"] for m in pipeline.messages(job_key)]


def test_a_video_is_indexed_embedded_analysed_stored_and_announced(pipeline: Pipeline, samples: Path) -> None:
    key = pipeline.upload(samples / "videos/ocean-waves.mp4", pipeline.unique_key("ocean-waves.mp4"))
    item = pipeline.wait_for(key)

    assert item["status"] == "COMPLETED", item
    assert item["kind"] == "video"
    assert item["tl_task_id"] and item["tl_video_id"] and item["tl_index_id"]
    assert item["title"] and item["topics"]
    for name in ("embeddings", "gist", "summary", "chapters", "highlights"):
        assert item["results"][name].startswith("s3://"), name
    embeddings = json.loads(pipeline.read_result(item["results"]["embeddings"]))
    segments = embeddings["video_embedding"]["segments"]
    assert segments and all(len(s["float"]) == 1024 for s in segments)
    chapters = json.loads(pipeline.read_result(item["results"]["chapters"]))
    assert chapters["result"]["chapters"]
    assert all(0 <= c["start_sec"] < c["end_sec"] <= 8.5 for c in chapters["result"]["chapters"])
    assert "analysis-safety" in item["results"]  # kind analyze: its result is named analysis-<name>

    messages = pipeline.messages(item["job_key"])
    assert [m["event_type"] for m in messages] == ["video.completed"]
    body = messages[0]
    assert body["status"] == "COMPLETED" and body["twelvelabs"]["video_id"] == item["tl_video_id"]
    assert body["results"]["embeddings"] == item["results"]["embeddings"]
    assert "float" not in json.dumps(body), "SNS carries pointers, never payloads"
    assert len(pipeline.tasks_for(item["job_key"])) == 1


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
    pipeline: Pipeline, samples: Path, sample: str, code: str
) -> None:
    key = pipeline.upload(samples / sample, pipeline.unique_key(Path(sample).name))
    item = pipeline.wait_for(key)

    assert item["status"] == "REJECTED"
    assert item["error_code"] == code and item["error_message"]
    assert _events(pipeline, item["job_key"]) == ["video.rejected"]
    assert pipeline.tasks_for(item["job_key"]) == []


def test_a_key_with_spaces_and_unicode_is_processed(pipeline: Pipeline, samples: Path) -> None:
    key = pipeline.upload(samples / "videos/forest-walk.mp4", pipeline.unique_key("été 2026/a walk in the forest.mp4"))
    item = pipeline.wait_for(key)
    assert item["status"] == "COMPLETED", item
    assert item["key"] == key


def test_the_same_object_uploaded_twice_is_processed_once(pipeline: Pipeline, samples: Path) -> None:
    key = pipeline.unique_key("city-traffic.mov")
    pipeline.upload(samples / "videos/city-traffic.mov", key)
    pipeline.upload(samples / "videos/city-traffic.mov", key)
    item = pipeline.wait_for(key)

    assert item["status"] == "COMPLETED", item
    assert len(pipeline.items_for(key)) == 1
    assert len(pipeline.tasks_for(item["job_key"])) == 1
    assert _events(pipeline, item["job_key"]) == ["video.completed"]


def test_the_same_event_delivered_twice_starts_nothing_new(pipeline: Pipeline, samples: Path) -> None:
    key = pipeline.upload(samples / "videos/forest-walk.mp4", pipeline.unique_key("redelivered.mp4"))
    item = pipeline.wait_for(key)
    assert item["status"] == "COMPLETED", item
    redelivered = {
        "version": "0",
        "id": "redelivered-event",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-26T10:00:00Z",
        "region": pipeline.stack.config.region,
        "resources": [f"arn:aws:s3:::{pipeline.bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": pipeline.bucket},
            # Exactly what the first delivery carried (as recorded on the item).
            "object": {"key": key, "size": int(item["size"]), "etag": item["etag"], "sequencer": item.get("sequencer")},
            "reason": "PutObject",
        },
    }
    pipeline.stack.client("sqs").send_message(
        QueueUrl=pipeline.stack.outputs["IngestQueueUrl"], MessageBody=json.dumps(redelivered)
    )
    pipeline.settled(item["job_key"])  # the redelivery was consumed (queue empty), nothing is running

    items = pipeline.items_for(key)
    assert [i["status"] for i in items] == ["COMPLETED"]
    assert len(pipeline.tasks_for(item["job_key"])) == 1
    assert _events(pipeline, item["job_key"]) == ["video.completed"]


def _sign(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def test_the_webhook_fails_closed_and_ignores_replays(pipeline: Pipeline, samples: Path) -> None:
    key = pipeline.upload(samples / "videos/ocean-waves.mp4", pipeline.unique_key("webhook.mp4"))
    item = pipeline.wait_for(key)
    assert item["status"] == "COMPLETED"
    body = json.dumps(
        {
            "id": "whe_" + "ab" * 16,
            "created_at": "2026-11-26T10:00:00Z",
            "type": "index.task.ready",
            "data": {"id": item["tl_task_id"], "status": "ready", "metadata": {}, "models": [], "tags": []},
        }
    ).encode()
    url = pipeline.stack.webhook_url
    secret = pipeline.stack.twelvelabs.webhook_secret  # type: ignore[union-attr]
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

    assert pipeline.items_for(key)[0]["status"] == "COMPLETED"
    assert _events(pipeline, item["job_key"]) == ["video.completed"]


def test_a_lost_webhook_costs_minutes_not_the_video(pipeline: Pipeline, samples: Path) -> None:
    pipeline.faults(drop_next_webhooks=1)
    key = pipeline.upload(samples / "videos/city-traffic.mov", pipeline.unique_key("lost-webhook.mov"))
    item = pipeline.wait_for(key, timeout=120)

    assert item["status"] == "COMPLETED", item
    assert any(w.get("dropped") for w in pipeline.webhooks())
    assert "reconcile" in pipeline.stack.function_log("reconcile").lower()


def test_twelvelabs_rate_limits_are_waited_out(pipeline: Pipeline, samples: Path) -> None:
    pipeline.faults(rate_limit_next=3)
    key = pipeline.upload(samples / "videos/forest-walk.mp4", pipeline.unique_key("rate-limited.mp4"))
    item = pipeline.wait_for(key, timeout=120)
    assert item["status"] == "COMPLETED", item
    assert len(pipeline.tasks_for(item["job_key"])) == 1


def test_a_500_after_the_task_was_created_creates_no_duplicate(pipeline: Pipeline, samples: Path) -> None:
    pipeline.faults(error_after_create_next=1, path_prefix="/v1.3/tasks")
    key = pipeline.upload(samples / "videos/ocean-waves.mp4", pipeline.unique_key("ambiguous.mp4"))
    item = pipeline.wait_for(key, timeout=120)
    assert item["status"] == "COMPLETED", item
    assert len(pipeline.tasks_for(item["job_key"])) == 1


def test_a_task_that_fails_in_twelvelabs_fails_the_job(pipeline: Pipeline, samples: Path) -> None:
    pipeline.faults(fail_next_tasks=1)
    key = pipeline.upload(samples / "videos/forest-walk.mp4", pipeline.unique_key("broken.mp4"))
    item = pipeline.wait_for(key)

    # The v1.3 task object documents no failure reason: the job says so with its own code.
    assert item["status"] == "FAILED"
    assert item["error_code"] == "indexing_failed" and "without a reason" in item["error_message"]
    messages = pipeline.messages(item["job_key"])
    assert [m["event_type"] for m in messages] == ["video.failed"]
    assert messages[0]["error"]["code"] == "indexing_failed"


def test_results_larger_than_an_item_go_to_s3(pipeline: Pipeline, samples: Path, tmp_path: Path) -> None:
    from scripts.make_samples import make_video

    # 60 s in 2 s clips: ~60 segments of 1024 floats, well over DynamoDB's 400 KB item limit.
    long_video = make_video(tmp_path / "long.mp4", 480, 360, 60, (200, 30, 30), (20, 20, 20))
    key = pipeline.upload(long_video, pipeline.unique_key("long.mp4"))
    item = pipeline.wait_for(key, timeout=120)

    assert item["status"] == "COMPLETED", item
    embeddings = pipeline.read_result(item["results"]["embeddings"])
    assert len(embeddings) > 400 * 1024
    assert len(json.dumps(item, default=str)) < 20 * 1024


@pytest.mark.parametrize("sample", ["media/still.jpg", "media/still.png", "media/tone.wav", "media/tone.mp3"])
def test_images_and_audio_get_a_marengo_embedding(pipeline: Pipeline, samples: Path, sample: str) -> None:
    key = pipeline.upload(samples / sample, pipeline.unique_key(Path(sample).name, prefix="media"))
    item = pipeline.wait_for(key)

    assert item["status"] == "COMPLETED", item
    assert item["kind"] == ("image" if sample.endswith(("jpg", "png")) else "audio")
    stored = pipeline.read_result(item["results"]["embeddings"])
    kind = item["kind"]
    segments = json.loads(stored)[f"{kind}_embedding"]["segments"]
    assert segments and all(len(s["float"]) == 1024 for s in segments), stored[:300]
    assert _events(pipeline, item["job_key"]) == ["embedding.completed"]


def test_removing_the_object_removes_the_twelvelabs_video(pipeline: Pipeline, samples: Path) -> None:
    key = pipeline.upload(samples / "videos/forest-walk.mp4", pipeline.unique_key("to-delete.mp4"))
    item = pipeline.wait_for(key)
    assert item["status"] == "COMPLETED"

    pipeline.stack.client("s3").delete_object(Bucket=pipeline.bucket, Key=key)
    item = pipeline.wait_for(key, statuses={"DELETED"})

    headers = {"x-api-key": pipeline.stack.twelvelabs.api_key}  # type: ignore[union-attr]
    video = httpx.get(
        f"{pipeline.stack.emulator_base_url}/indexes/{item['tl_index_id']}/videos/{item['tl_video_id']}",
        headers=headers,
        timeout=10,
    )
    assert video.status_code == 404
    assert _events(pipeline, item["job_key"]) == ["video.completed", "video.deleted"]
