"""object_removed (TwelveLabs video and task deleted, item DELETED) and the index custom resource."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.functions.conftest import (
    SfnSpy,
    Stack,
    ingest_video,
    load_event,
    s3_event,
    sqs_batch,
    start_indexing_payload,
)


def _removed(stack: Stack, key: str) -> dict[str, Any]:
    stack.client("s3").delete_object(Bucket=stack.media_bucket, Key=key)  # object_removed checks the key is gone
    return sqs_batch(s3_event(stack.media_bucket, key, 0, "", detail_type="Object Deleted"))


def test_removed_object_deletes_the_twelvelabs_video_and_task(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    from twelvelabs_client.errors import NotFoundError

    key = "videos/été 2026/a b.mp4"
    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4", key=key)
    started = handler("start_indexing").lambda_handler(start_indexing_payload(stack, job), context)
    stack.wait_task(started["task_id"])
    handler("await_indexing").lambda_handler(
        {"task_token": "t", "job_key": job["job_key"], "run": 1, "task_id": started["task_id"]}, context
    )
    video_id = stack.job(job["job_key"])["tl_video_id"]
    stack.notifications()

    batch = _removed(stack, key)
    assert handler("object_removed").lambda_handler(batch, context) == {"batchItemFailures": []}
    item = stack.job(job["job_key"])
    assert item["status"] == "DELETED" and "deleted_at" in item["stages"] and item["tl_purged"] is True
    with pytest.raises(NotFoundError):
        stack.tl().get_video(stack.index_id, video_id)
    with pytest.raises(NotFoundError):
        stack.tl().get_task(started["task_id"])
    [message] = stack.notifications()
    assert message["event_type"] == "video.deleted" and message["source"]["key"] == key
    # Redelivery: nothing left to delete, no second message.
    assert handler("object_removed").lambda_handler(batch, context) == {"batchItemFailures": []}
    assert stack.notifications() == []
    # A late finalize for the deleted job never resurrects it.
    handler("finalize").lambda_handler({"job_key": job["job_key"], "run": 1}, context)
    assert stack.job(job["job_key"])["status"] == "DELETED"


def test_removal_of_an_unknown_object_and_a_poison_message(stack: Stack, handler: Any, context: Any) -> None:
    batch = _removed(stack, "videos/never-seen.mp4")
    batch["Records"].append({**batch["Records"][0], "messageId": "poison", "body": "{}"})
    result = handler("object_removed").lambda_handler(batch, context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "poison"}]}
    assert stack.notifications() == []


def test_reupload_after_delete_runs_the_job_again(stack: Stack, handler: Any, context: Any, samples: Path) -> None:
    job = ingest_video(stack, handler, context, samples / "videos" / "forest-walk.mp4", key="videos/again.mp4")
    handler("object_removed").lambda_handler(_removed(stack, "videos/again.mp4"), context)
    again = ingest_video(stack, handler, context, samples / "videos" / "forest-walk.mp4", key="videos/again.mp4")
    assert again["job_key"] == job["job_key"] and again["status"] == "RECEIVED" and again["run"] == 2
    names = sorted(e["name"] for e in stack.executions())
    assert names == sorted([job["job_key"], f"{job['job_key']}-r2"])


class _ResponseCatcher(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_index_provisioner_finds_or_creates_and_never_deletes(stack: Stack, handler: Any, context: Any) -> None:
    server = HTTPServer(("127.0.0.1", 0), _ResponseCatcher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _ResponseCatcher.received = []
    try:
        event = load_event("index_provisioner")
        event["ResponseURL"] = f"http://127.0.0.1:{server.server_port}/response"
        event["ResourceProperties"]["IndexName"] = f"provisioned-{stack.index_id}"
        event["ResourceProperties"]["Surface"] = "classic"  # this emulator speaks the classic surface
        created = handler("index_provisioner").lambda_handler(event, context)
        again = handler("index_provisioner").lambda_handler({**event, "RequestType": "Update"}, context)
        index_id = created["Data"]["IndexId"]
        assert created["Status"] == "SUCCESS" and again["Data"]["IndexId"] == index_id
        assert created["PhysicalResourceId"] == index_id
        index = stack.tl().get_index(index_id)
        assert {m.model_name for m in index.models} == {"marengo2.7", "pegasus1.2"}
        deleted = handler("index_provisioner").lambda_handler(
            {**event, "RequestType": "Delete", "PhysicalResourceId": index_id}, context
        )
        assert deleted["Status"] == "SUCCESS"
        assert stack.tl().get_index(index_id).id == index_id  # still there
        bad = handler("index_provisioner").lambda_handler({**event, "ResourceProperties": {"IndexName": ""}}, context)
        assert bad["Status"] == "FAILED" and "IndexName" in bad["Reason"]
        # The same name on the current surface: the classic index cannot take indexed assets -> a clear failure.
        current = {**event["ResourceProperties"], "Surface": "current"}
        mismatch = handler("index_provisioner").lambda_handler({**event, "ResourceProperties": current}, context)
        assert mismatch["Status"] == "FAILED" and "index_models_mismatch" in mismatch["Reason"], mismatch
        assert "marengo3.0" in mismatch["Reason"]
        assert [r["Status"] for r in _ResponseCatcher.received] == ["SUCCESS", "SUCCESS", "SUCCESS", "FAILED", "FAILED"]

    finally:
        server.shutdown()


def test_the_index_models_follow_the_surface() -> None:
    from video_pipeline.index_provisioning import IndexProperties

    current = IndexProperties.model_validate({"IndexName": "x", "Surface": "current", "MarengoModelOptions": "visual"})
    assert [m.model_dump() for m in current.models()] == [{"model_name": "marengo3.0", "model_options": ["visual"]}]
    classic = IndexProperties.model_validate({"IndexName": "x", "Surface": "classic"})
    assert [m.model_name for m in classic.models()] == ["marengo2.7", "pegasus1.2"]
    assert IndexProperties.model_validate({"IndexName": "x"}).Surface == "classic"  # stacks deployed before it
