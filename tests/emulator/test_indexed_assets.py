"""Indexed assets (current surface): 202 + Location, lifecycle, webhooks, the shared id with videos, embeddings."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from helpers import Receiver, create_current_index, ready_asset, wait_for, wait_status

from tests.emulator.conftest import client_for
from twelvelabs_emulator import Emulator

ORDER = ["validating", "pending", "queued", "indexing", "ready"]


def test_lifecycle_webhook_and_video(make_emulator: Callable[..., Emulator], samples: Path) -> None:
    with Receiver() as receiver:
        emu = make_emulator(surface="current", webhook_url=receiver.url, webhook_secret="s")
        with client_for(emu) as api:
            asset = ready_asset(api, samples / "videos" / "ocean-waves.mp4")
            index_id = create_current_index(api)
            r = api.post(
                f"/indexes/{index_id}/indexed-assets",
                json={"asset_id": asset["_id"], "user_metadata": {"league": "A", "round": 3}},
            )
            assert r.status_code == 202, r.text
            created = r.json()
            assert created == {"_id": created["_id"], "asset_id": asset["_id"]}
            path = f"/indexes/{index_id}/indexed-assets/{created['_id']}"
            assert r.headers["Location"] == f"/v1.3{path}"
            seen: list[str] = []
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                status = api.get(path).json()["status"]
                if not seen or seen[-1] != status:
                    seen.append(status)
                if status in ("ready", "failed"):
                    break
                time.sleep(0.01)
            assert seen[-1] == "ready" and seen == sorted(seen, key=ORDER.index), seen
            detail = api.get(path).json()
            assert detail["asset_id"] == asset["_id"] and detail["indexed_at"]
            assert detail["system_metadata"] == {
                "filename": "ocean-waves.mp4",
                "duration": 8.0,
                "fps": 10.0,
                "width": 640,
                "height": 360,
                "size": asset["size"],
            }
            assert detail["user_metadata"] == {"league": "A", "round": 3}
            assert detail["hls"]["status"] == "COMPLETE"
            # the same id is a video of the index, carrying asset_id
            video = api.get(f"/indexes/{index_id}/videos/{created['_id']}").json()
            assert video["asset_id"] == asset["_id"] and video["user_metadata"] == {"league": "A", "round": 3}
            assert [v["_id"] for v in api.get(f"/indexes/{index_id}/videos").json()["data"]] == [created["_id"]]
            assert api.get("/tasks").json()["data"] == []  # not a /tasks task
            assert api.get(f"/tasks/{created['_id']}").status_code == 404
            assert api.get(f"/indexes/{index_id}").json()["video_count"] == 1
            wait_for(lambda: len(receiver.received) == 1)
            event = json.loads(receiver.received[0][1])
            assert event["type"] == "index.task.ready" and event["data"]["id"] == created["_id"]
            assert event["data"]["status"] == "ready"


def test_failed_indexing_and_requirements(make_emulator: Callable[..., Emulator], samples: Path) -> None:
    with Receiver() as receiver:
        emu = make_emulator(surface="current", webhook_url=receiver.url)
        with client_for(emu) as api:
            index_id = create_current_index(api)
            short = ready_asset(api, samples / "bad" / "short-2s.mp4")  # a fine asset, too short to index
            r = api.post(f"/indexes/{index_id}/indexed-assets", json={"asset_id": short["_id"]})
            failed = wait_status(api, f"/indexes/{index_id}/indexed-assets/{r.json()['_id']}")
            assert failed["status"] == "failed" and "indexed_at" not in failed
            wait_for(lambda: len(receiver.received) == 1)
            event = json.loads(receiver.received[0][1])
            assert event["type"] == "index.task.failed" and event["data"]["id"] == r.json()["_id"]
            assert api.get(f"/indexes/{index_id}/videos/{r.json()['_id']}").status_code == 404


def test_create_errors(capi: httpx.Client, current: Emulator, samples: Path) -> None:
    index_id = create_current_index(capi)
    audio = ready_asset(capi, samples / "media" / "tone.wav")
    for body, status, field in [
        ({}, 400, "asset_id"),
        ({"asset_id": "0" * 24}, 404, "0" * 24),
        ({"asset_id": audio["_id"]}, 400, "audio"),
        ({"asset_id": audio["_id"], "user_metadata": {"x": {"y": 1}}}, 400, "user_metadata.x"),
    ]:
        r = capi.post(f"/indexes/{index_id}/indexed-assets", json=body)
        assert r.status_code == status and field in r.json()["message"], (body, r.text)
    r = capi.post(f"/indexes/{'0' * 24}/indexed-assets", json={"asset_id": audio["_id"]})
    assert r.status_code == 404
    # an asset that is still processing cannot be indexed yet
    current.runtime.scheduler.stop()
    with (samples / "videos" / "forest-walk.mp4").open("rb") as fh:
        pending = capi.post("/assets", data={"method": "direct"}, files={"file": ("f.mp4", fh)}).json()
    r = capi.post(f"/indexes/{index_id}/indexed-assets", json={"asset_id": pending["_id"]})
    assert r.status_code == 400 and "not ready" in r.json()["message"]


def test_embeddings_filters_patch_delete(capi: httpx.Client, samples: Path) -> None:
    index_id = create_current_index(capi)
    ocean = ready_asset(capi, samples / "videos" / "ocean-waves.mp4")
    forest = ready_asset(capi, samples / "videos" / "forest-walk.mp4")
    base = f"/indexes/{index_id}/indexed-assets"
    first = capi.post(base, json={"asset_id": ocean["_id"], "user_metadata": {"kind": "sea"}}).json()
    second = capi.post(base, json={"asset_id": forest["_id"], "enable_video_stream": False}).json()
    wait_status(capi, f"{base}/{first['_id']}")
    wait_status(capi, f"{base}/{second['_id']}")

    detail = capi.get(f"{base}/{first['_id']}", params={"embedding_option": ["visual", "audio"]}).json()
    assert detail["embedding"]["model_name"] == "marengo3.0"
    segments = detail["embedding"]["video_embedding"]["segments"]
    assert {s["embedding_option"] for s in segments} == {"visual", "audio"}
    assert {s["embedding_scope"] for s in segments} == {"clip", "video"}
    assert all(len(s["float"]) == 512 for s in segments)
    assert abs(sum(v * v for v in segments[0]["float"]) - 1.0) < 1e-3  # unit vectors
    clips = [s for s in segments if s["embedding_scope"] == "clip" and s["embedding_option"] == "visual"]
    assert clips[0]["start_offset_sec"] == 0 and clips[-1]["end_offset_sec"] == 8.0
    assert "hls" not in capi.get(f"{base}/{second['_id']}").json()  # enable_video_stream=false
    assert capi.get(f"{base}/{first['_id']}", params={"embedding_option": "colour"}).status_code == 400

    def ids(**params: object) -> list[str]:
        r = capi.get(base, params=params)
        assert r.status_code == 200, r.text
        return [a["_id"] for a in r.json()["data"]]

    assert ids() == [second["_id"], first["_id"]]
    assert ids(sort_option="asc") == [first["_id"], second["_id"]]
    assert ids(filename="ocean-waves.mp4") == [first["_id"]]
    assert ids(**{"duration[gte]": 6}) == [first["_id"]]
    assert ids(**{"user_metadata[kind]": "sea"}) == [first["_id"]] == ids(kind="sea")
    assert ids(status="ready") == ids() and ids(status="failed") == []
    assert capi.get(base, params={"status": "uploading"}).status_code == 400
    item = capi.get(base).json()["data"][0]
    assert set(item) == {"_id", "asset_id", "created_at", "updated_at", "indexed_at", "status", "system_metadata"}

    assert capi.patch(f"{base}/{first['_id']}", json={"user_metadata": {"kind": None, "n": 1}}).status_code == 204
    assert capi.get(f"{base}/{first['_id']}").json()["user_metadata"] == {"n": 1}
    assert capi.get(f"/indexes/{index_id}/videos/{first['_id']}").json()["user_metadata"] == {"n": 1}
    assert capi.delete(f"{base}/{first['_id']}").status_code == 204
    assert capi.get(f"{base}/{first['_id']}").status_code == 404
    assert capi.get(f"/indexes/{index_id}/videos/{first['_id']}").status_code == 404
    assert capi.get(f"/assets/{ocean['_id']}").json()["status"] == "ready"  # the asset stays
    assert capi.delete(f"/assets/{ocean['_id']}").status_code == 204  # nothing references it any more


def test_array_of_strings_metadata(capi: httpx.Client, current: Emulator, samples: Path) -> None:
    """user_metadata values may be arrays of strings (1.3.5+) on indexed assets too; "", [] and null are omitted."""
    index_id = create_current_index(capi)
    ocean = ready_asset(capi, samples / "videos" / "ocean-waves.mp4")
    base = f"/indexes/{index_id}/indexed-assets"
    meta = {"tags": ["sea", "blue"], "blank": "", "none": [], "gone": None}
    r = capi.post(base, json={"asset_id": ocean["_id"], "user_metadata": meta})
    assert r.status_code == 202, r.text
    path = f"{base}/{r.json()['_id']}"
    wait_status(capi, path)
    assert capi.get(path).json()["user_metadata"] == {"tags": ["sea", "blue"]}
    assert capi.patch(path, json={"user_metadata": {"tags": ["calm"], "blank": "", "none": []}}).status_code == 204
    assert capi.get(path).json()["user_metadata"] == {"tags": ["calm"]}
    with current.runtime.store.read() as st:  # the stored state stays valid (it is reloaded after a restart)
        type(st).model_validate(st.model_dump())


def test_video_embeddings_take_the_current_option_names(capi: httpx.Client, samples: Path) -> None:
    """SDK 1.3.6 retrieves a video's embeddings with `visual` / `audio` / `transcription` (like an indexed asset):
    the video of an indexed asset answers the same 512-d segments."""
    index_id = create_current_index(capi)
    ocean = ready_asset(capi, samples / "videos" / "ocean-waves.mp4")
    created = capi.post(f"/indexes/{index_id}/indexed-assets", json={"asset_id": ocean["_id"]}).json()
    wait_status(capi, f"/indexes/{index_id}/indexed-assets/{created['_id']}")
    params = {"embedding_option": ["visual", "audio", "transcription"]}
    r = capi.get(f"/indexes/{index_id}/videos/{created['_id']}", params=params)
    assert r.status_code == 200, r.text
    embedding = r.json()["embedding"]
    assert embedding["model_name"] == "marengo3.0"
    assert {s["embedding_option"] for s in embedding["video_embedding"]["segments"]} == {"visual", "audio"}
    assert all(len(s["float"]) == 512 for s in embedding["video_embedding"]["segments"])
    detail = capi.get(f"/indexes/{index_id}/indexed-assets/{created['_id']}", params=params).json()
    assert detail["embedding"] == embedding
    r = capi.get(f"/indexes/{index_id}/videos/{created['_id']}", params={"embedding_option": "colour"})
    assert r.status_code == 400 and "embedding_option" in r.json()["message"]
