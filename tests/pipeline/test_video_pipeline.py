"""S3 upload -> TwelveLabs (current surface: assets, indexed assets, analyze tasks) -> DynamoDB/S3 -> SNS, on the
real template, ASL and handlers, with the emulator in current (strict) mode.

Every test follows uploads to what a user of the pipeline sees: the job item, the results in S3, the SNS messages,
and what was created in TwelveLabs (never two assets or indexed assets for one object).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import httpx
import pytest

from tests.pipeline.conftest import PROCESSING_SECONDS, Pipeline

pytestmark = pytest.mark.pipeline


def _events(pipeline: Pipeline, job_key: str) -> list[str]:
    return [m["event_type"] for m in pipeline.messages(job_key)]


def test_a_video_is_indexed_embedded_analysed_stored_and_announced(pipeline: Pipeline, samples: Path) -> None:
    key = pipeline.upload(samples / "videos/ocean-waves.mp4", pipeline.unique_key("ocean-waves.mp4"))
    item = pipeline.wait_for(key)

    assert item["status"] == "COMPLETED", item
    assert item["kind"] == "video"
    assert item["tl_asset_id"] and item["tl_indexed_asset_id"] and item["tl_index_id"]
    assert item["tl_task_id"] == item["tl_video_id"] == item["tl_indexed_asset_id"]
    assert item["title"] and item["topics"] and item["hashtags"]
    for name in ("embeddings", "gist", "summary", "chapters", "highlights", "analysis-safety"):
        assert item["results"][name].startswith("s3://"), name
    embeddings = json.loads(pipeline.read_result(item["results"]["embeddings"]))
    segments = embeddings["video_embedding"]["segments"]
    assert segments and all(len(s["float"]) == 512 for s in segments)  # Marengo 3.0
    assert {s["embedding_option"] for s in segments} == {"visual", "audio"}  # what the index produces
    assert "tl_embedding_task_id" not in item  # the index's clips are the configured ones: no second pass
    chapters = json.loads(pipeline.read_result(item["results"]["chapters"]))
    assert chapters["result"]["chapters"]
    assert all(0 <= c["start_sec"] < c["end_sec"] <= 8.5 for c in chapters["result"]["chapters"])
    gist = json.loads(pipeline.read_result(item["results"]["gist"]))
    assert gist["result"]["title"] == item["title"]

    messages = pipeline.messages(item["job_key"])
    assert [m["event_type"] for m in messages] == ["video.completed"]
    body = messages[0]
    assert body["status"] == "COMPLETED" and body["twelvelabs"]["video_id"] == item["tl_video_id"]
    assert body["results"]["embeddings"] == item["results"]["embeddings"]
    assert "float" not in json.dumps(body), "SNS carries pointers, never payloads"
    # One asset, one indexed asset, one structured analysis task + one per custom prompt; no Marengo embed task.
    assert len(pipeline.assets_for(item["job_key"])) == 1
    assert len(pipeline.indexed_assets_for(item["job_key"])) == 1
    assert len(pipeline.analyze_tasks_for(item["job_key"])) == 2


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
    assert pipeline.assets_for(item["job_key"]) == []


def test_a_key_with_spaces_and_unicode_is_processed(pipeline: Pipeline, samples: Path) -> None:
    key = pipeline.upload(samples / "videos/forest-walk.mp4", pipeline.unique_key("été 2026/a walk in the forest.mp4"))
    item = pipeline.wait_for(key)
    assert item["status"] == "COMPLETED", item
    assert item["key"] == key
    [asset] = pipeline.assets_for(item["job_key"])
    assert asset["filename"] == "a walk in the forest.mp4"


def test_the_same_object_uploaded_twice_ends_as_one_video(pipeline: Pipeline, samples: Path) -> None:
    # Each upload is its own S3 version, so its own job: the newer one supersedes the older, whose video goes.
    key = pipeline.unique_key("city-traffic.mov")
    pipeline.upload(samples / "videos/city-traffic.mov", key)
    pipeline.upload(samples / "videos/city-traffic.mov", key)
    jobs = pipeline.wait_for_versions(key, 2)

    latest = jobs.pop(str(pipeline.current_version(key)))
    [older] = jobs.values()
    assert latest["status"] == "COMPLETED", latest
    assert older["status"] == "SUPERSEDED" and older["retired_as"] == "SUPERSEDED", older
    assert _events(pipeline, latest["job_key"]) == ["video.completed"]
    assert _events(pipeline, older["job_key"]) == ["video.superseded"]
    assert len(pipeline.indexed_assets_for(latest["job_key"])) == 1
    assert pipeline.indexed_assets_for(older["job_key"]) == [] and pipeline.assets_for(older["job_key"]) == []


def _sign(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def test_the_webhook_fails_closed_and_ignores_replays(pipeline: Pipeline, samples: Path) -> None:
    key = pipeline.upload(samples / "videos/ocean-waves.mp4", pipeline.unique_key("webhook.mp4"))
    item = pipeline.wait_for(key)
    assert item["status"] == "COMPLETED"
    body = json.dumps(
        {
            "id": "whe_" + "cd" * 16,
            "created_at": "2026-11-26T10:00:00Z",
            "type": "index.task.ready",
            "data": {"id": item["tl_indexed_asset_id"], "status": "ready", "metadata": {}, "models": [], "tags": []},
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
    good = {"TL-Signature": _sign(secret, body, now)}
    assert httpx.post(url, content=body, headers=good, timeout=30).status_code == 200
    assert httpx.post(url, content=body, headers=good, timeout=30).status_code == 200  # replay: accepted, no effect

    assert pipeline.items_for(key)[0]["status"] == "COMPLETED"
    assert _events(pipeline, item["job_key"]) == ["video.completed"]


def test_lost_index_and_analyze_webhooks_are_recovered_by_reconcile(pipeline: Pipeline, samples: Path) -> None:
    # Every notification of this video is lost: the indexed asset's and both analyze tasks'.
    pipeline.faults(drop_next_webhooks=3)
    key = pipeline.upload(samples / "videos/city-traffic.mov", pipeline.unique_key("lost-webhooks.mov"))
    item = pipeline.wait_for(key, timeout=120)

    assert item["status"] == "COMPLETED", item
    dropped = {w["type"] for w in pipeline.webhooks() if w.get("dropped")}
    assert {"index.task.ready", "analyze.task.ready"} <= dropped, dropped
    assert "token resolved" in pipeline.stack.function_log("reconcile")
    assert _events(pipeline, item["job_key"]) == ["video.completed"]


def test_twelvelabs_rate_limits_are_waited_out(pipeline: Pipeline, samples: Path) -> None:
    pipeline.faults(rate_limit_next=3)
    key = pipeline.upload(samples / "videos/forest-walk.mp4", pipeline.unique_key("rate-limited.mp4"))
    item = pipeline.wait_for(key, timeout=120)
    assert item["status"] == "COMPLETED", item
    assert len(pipeline.assets_for(item["job_key"])) == 1


@pytest.mark.parametrize(("path", "created"), [("/v1.3/assets", "/assets"), ("/v1.3/indexes/", "/indexed-assets")])
def test_an_ambiguous_500_creates_exactly_one_asset_and_one_indexed_asset(
    pipeline: Pipeline, samples: Path, path: str, created: str
) -> None:
    # The resource is created, then the answer is a 500: the retry must find it, not create a second one.
    pipeline.faults(error_after_create_next=1, path_prefix=path)
    key = pipeline.upload(samples / "videos/ocean-waves.mp4", pipeline.unique_key("ambiguous.mp4"))
    item = pipeline.wait_for(key, timeout=120)

    assert item["status"] == "COMPLETED", item
    assert [a["_id"] for a in pipeline.assets_for(item["job_key"])] == [item["tl_asset_id"]]
    assert [i["_id"] for i in pipeline.indexed_assets_for(item["job_key"])] == [item["tl_indexed_asset_id"]]
    ambiguous = [r for r in pipeline.emulator_requests() if r["status"] == 500 and r["method"] == "POST"]
    assert [r["path"] for r in ambiguous if r["path"].startswith(path) and r["path"].endswith(created)], ambiguous


def test_an_indexing_that_fails_in_twelvelabs_fails_the_job(pipeline: Pipeline, samples: Path) -> None:
    pipeline.faults(fail_next_tasks=1)
    key = pipeline.upload(samples / "videos/forest-walk.mp4", pipeline.unique_key("broken.mp4"))
    item = pipeline.wait_for(key)

    assert item["status"] == "FAILED"
    assert item["error_code"] == "indexing_failed" and "without a reason" in item["error_message"]
    messages = pipeline.messages(item["job_key"])
    assert [m["event_type"] for m in messages] == ["video.failed"]
    assert messages[0]["error"]["code"] == "indexing_failed"


def test_an_analyze_task_that_fails_fails_the_job_with_its_reason(pipeline: Pipeline, samples: Path) -> None:
    pipeline.faults(fail_next_analyze_tasks=1)
    key = pipeline.upload(samples / "videos/forest-walk.mp4", pipeline.unique_key("analysis-fails.mp4"))
    item = pipeline.wait_for(key)

    assert item["status"] == "FAILED", item
    [failed] = [t for t in pipeline.analyze_tasks_for(item["job_key"]) if t["status"] == "failed"]
    # The task's own code when it has one (this one carries only a message), always its message.
    assert item["error_code"] == failed["error"].get("code", "analysis_failed"), item
    assert failed["error"]["message"] in item["error_message"]
    assert _events(pipeline, item["job_key"]) == ["video.failed"]


def test_a_canceled_analyze_task_fails_the_job(pipeline: Pipeline, samples: Path) -> None:
    pipeline.set_processing_seconds(30)  # time to cancel the task while it is queued
    try:
        key = pipeline.upload(samples / "videos/forest-walk.mp4", pipeline.unique_key("canceled.mp4"))
        job_key = pipeline.wait_for(key, statuses={"INDEXING"})["job_key"]
        deadline = time.monotonic() + 60
        tasks: list[dict[str, object]] = []
        while not tasks and time.monotonic() < deadline:
            tasks = pipeline.analyze_tasks_for(job_key)
            time.sleep(0.2)
        assert tasks, "no analyze task was created"
        canceled = pipeline.api("POST", f"/analyze/tasks/{tasks[0]['task_id']}/cancel")
        assert canceled.status_code == 200, canceled.text
        item = pipeline.wait_for(key)
    finally:
        pipeline.set_processing_seconds(PROCESSING_SECONDS)

    assert item["status"] == "FAILED", item
    assert item["error_code"] == "user_canceled" and "canceled" in item["error_message"]
    assert _events(pipeline, item["job_key"]) == ["video.failed"]


LONG_PROMPT = " ".join(["Describe every colour, motion, sound and object in this video in exhaustive detail."] * 50)


def test_a_truncated_answer_is_a_recorded_failure_never_a_half_result(pipeline: Pipeline, samples: Path) -> None:
    # An analysis whose answer cannot fit max_tokens (the API cuts it: finish_reason=length), in the execution input
    # ingest would write for a stack configured with it.
    item = pipeline.start_execution(
        samples / "videos/ocean-waves.mp4",
        analyses=[{"name": "verbose", "kind": "analyze", "prompt": LONG_PROMPT, "max_tokens": 512}],
    )
    item = pipeline.wait_for(item["key"])

    assert item["status"] == "FAILED", item
    assert item["error_code"] == "analysis_truncated"
    assert "finish_reason=length" in item["error_message"] and "verbose" in item["error_message"]
    assert "analysis-verbose" not in item.get("results", {})  # nothing half-parsed was written
    assert _events(pipeline, item["job_key"]) == ["video.failed"]


def test_a_segmentation_other_than_the_index_s_takes_one_embed_v2_task(pipeline: Pipeline, samples: Path) -> None:
    # The stack's index produces 6 s clips; an execution configured for 2 s clips (EmbeddingClipLength=2).
    item = pipeline.start_execution(
        samples / "videos/ocean-waves.mp4", analyses=[], embedding={"clip_length": 2, "scopes": ["clip", "video"]}
    )
    item = pipeline.wait_for(item["key"])

    assert item["status"] == "COMPLETED", item
    assert item["tl_embedding_task_id"]
    task = pipeline.api("GET", f"/embed-v2/tasks/{item['tl_embedding_task_id']}").json()
    assert task["status"] == "ready"
    segments = json.loads(pipeline.read_result(item["results"]["embeddings"]))["video_embedding"]["segments"]
    clips = [s for s in segments if s["embedding_scope"] == "clip"]
    assert clips and max(s["end_offset_sec"] - s["start_offset_sec"] for s in clips) == pytest.approx(2, abs=0.01)
    assert {s["embedding_scope"] for s in segments} == {"clip", "video"}
    assert all(len(s["float"]) == 512 for s in segments)


@pytest.mark.parametrize("sample", ["media/still.jpg", "media/still.png", "media/tone.wav", "media/tone.mp3"])
def test_images_and_audio_get_an_embed_v2_embedding(pipeline: Pipeline, samples: Path, sample: str) -> None:
    key = pipeline.upload(samples / sample, pipeline.unique_key(Path(sample).name, prefix="media"))
    item = pipeline.wait_for(key)

    assert item["status"] == "COMPLETED", item
    assert item["kind"] == ("image" if sample.endswith(("jpg", "png")) else "audio")
    stored = json.loads(pipeline.read_result(item["results"]["embeddings"]))
    assert stored["model_name"] == "marengo3.0"
    segments = stored[f"{item['kind']}_embedding"]["segments"]
    assert segments and all(len(s["float"]) == 512 for s in segments), str(stored)[:300]
    assert _events(pipeline, item["job_key"]) == ["embedding.completed"]


def test_removing_the_object_removes_the_indexed_asset_and_the_asset(pipeline: Pipeline, samples: Path) -> None:
    key = pipeline.upload(samples / "videos/forest-walk.mp4", pipeline.unique_key("to-delete.mp4"))
    item = pipeline.wait_for(key)
    assert item["status"] == "COMPLETED"

    pipeline.stack.client("s3").delete_object(Bucket=pipeline.bucket, Key=key)
    item = pipeline.wait_for(key, statuses={"DELETED"})

    index_id = item["tl_index_id"]
    assert pipeline.api("GET", f"/indexes/{index_id}/indexed-assets/{item['tl_indexed_asset_id']}").status_code == 404
    assert pipeline.api("GET", f"/assets/{item['tl_asset_id']}").status_code == 404
    assert _events(pipeline, item["job_key"]) == ["video.completed", "video.deleted"]


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
            "object": {
                "key": key,
                "size": int(item["size"]),
                "etag": item["etag"],
                "version-id": item["version_id"],
                "sequencer": item.get("sequencer"),
            },
            "reason": "PutObject",
        },
    }
    pipeline.stack.client("sqs").send_message(
        QueueUrl=pipeline.stack.outputs["IngestQueueUrl"], MessageBody=json.dumps(redelivered)
    )
    pipeline.settled(item["job_key"])  # the redelivery was consumed (queue empty), nothing is running

    assert [i["status"] for i in pipeline.items_for(key)] == ["COMPLETED"]
    assert len(pipeline.assets_for(item["job_key"])) == 1
    assert _events(pipeline, item["job_key"]) == ["video.completed"]


def _shape(value: object) -> object:
    """The keys of a JSON document, recursively (lists: the union of their items' shapes), without values."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        merged: dict[str, object] = {}
        for entry in value:
            shape = _shape(entry)
            if isinstance(shape, dict):
                merged.update(shape)
        return [merged] if merged else []
    return None


CONSUMER_ITEM_FIELDS = {"job_key", "kind", "status", "title", "topics", "hashtags", "results", "tl_index_id"}
CONSUMER_ITEM_FIELDS |= {"tl_task_id", "tl_video_id", "bucket", "key", "s3_uri", "etag", "size", "stages"}


def test_consumers_see_the_same_keys_on_both_surfaces(
    pipeline: Pipeline, classic_pipeline: Pipeline, samples: Path
) -> None:
    """The same video on both stacks: the same S3 documents with the same keys, the same item fields a consumer
    reads, the same SNS event with the same keys. Only values differ (ids, texts, 512- vs 1024-float vectors)."""
    items = {}
    for stack in (pipeline, classic_pipeline):
        key = stack.upload(samples / "videos/ocean-waves.mp4", stack.unique_key("same-keys.mp4"))
        items[stack.surface] = stack.wait_for(key)
    current, classic = items["current"], items["classic"]
    assert current["status"] == classic["status"] == "COMPLETED", (current, classic)

    assert sorted(current["results"]) == sorted(classic["results"])
    for name in current["results"]:
        documents = [
            json.loads(p.read_result(i["results"][name])) for p, i in ((pipeline, current), (classic_pipeline, classic))
        ]
        ours, theirs = (_shape(d) for d in documents)
        if name == "embeddings":
            # Both carry video_embedding.segments[] with float + offsets + option + scope (what a consumer reads).
            for document in documents:
                segment = document["video_embedding"]["segments"][0]
                assert {"float", "start_offset_sec", "end_offset_sec", "embedding_option"} <= set(segment)
            assert set(documents[0]) - {"created_at"} <= set(documents[1]) | {"created_at"}, (ours, theirs)
            continue
        assert ours == theirs or _without_usage(ours) == _without_usage(theirs), (name, ours, theirs)
    for field in CONSUMER_ITEM_FIELDS:
        assert (field in current) == (field in classic), field
    [current_message] = pipeline.messages(current["job_key"])
    [classic_message] = classic_pipeline.messages(classic["job_key"])
    assert _shape(current_message) == _shape(classic_message)
    assert current_message["event_type"] == classic_message["event_type"] == "video.completed"


def _without_usage(shape: object) -> object:
    # Whether an answer reports token usage is the API's choice per operation; the documents are the same otherwise.
    if isinstance(shape, dict):
        return {k: _without_usage(v) for k, v in shape.items() if k != "usage"}
    return shape
