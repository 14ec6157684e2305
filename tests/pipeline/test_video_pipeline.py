"""S3 upload -> TwelveLabs (current surface: assets, indexed assets, analyze tasks) -> DynamoDB/S3 -> SNS, on the
real template, ASL and handlers, with the emulator in current (strict) mode.

Every test follows uploads to what a user of the pipeline sees: the job item, the results in S3, the SNS messages,
and what was created in TwelveLabs (never two assets or indexed assets for one object).
"""

from __future__ import annotations

import json
from pathlib import Path

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
    assert item["tl_asset_id"] and item["tl_indexed_asset_id"] and item["tl_index_id"]
    assert item["tl_task_id"] == item["tl_video_id"] == item["tl_indexed_asset_id"]
    assert item["title"] and item["topics"] and item["hashtags"]
    for name in ("embeddings", "gist", "summary", "chapters", "highlights", "analysis-safety"):
        assert item["results"][name].startswith("s3://"), name
    embeddings = json.loads(pipeline.read_result(item["results"]["embeddings"]))
    segments = embeddings["video_embedding"]["segments"]
    assert segments and all(len(s["float"]) == 512 for s in segments)  # Marengo 3.0
    assert {s["embedding_option"] for s in segments} == {"visual", "audio"}  # what the index produces
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
