"""Assets (current surface): direct and URL uploads, processing with PyAV, list filters, delete rules, user metadata."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from helpers import create_current_index, file_server, post_asset, ready_asset, wait_status


def test_direct_upload_processes_to_ready_with_technical_metadata(capi: httpx.Client, samples: Path) -> None:
    r = post_asset(capi, samples / "videos" / "ocean-waves.mp4", user_metadata=json.dumps({"league": "A", "n": 2}))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] == "processing" and created["method"] == "direct"
    assert set(created) == {"_id", "method", "status", "filename", "file_type", "created_at", "user_metadata"}
    asset = wait_status(capi, f"/assets/{created['_id']}")
    assert asset["status"] == "ready"
    assert asset["filename"] == "ocean-waves.mp4" and asset["file_type"] == "video/mp4"
    assert asset["user_metadata"] == {"league": "A", "n": 2}
    size = (samples / "videos" / "ocean-waves.mp4").stat().st_size
    assert asset["size"] == size and asset["duration"] == 8.0
    tech = asset["technical_metadata"]
    assert tech["file_size_bytes"] == size and tech["video_width"] == 640 and tech["video_height"] == 360
    assert tech["video_duration_seconds"] == 8.0 and isinstance(tech["has_audio"], bool)
    # HLS and thumbnail default to true (1.3.5+) and are served by the emulator
    assert asset["hls"]["status"] == "ready" and asset["thumbnail"]["status"] == "ready"
    thumb = httpx.get(asset["thumbnail"]["representative_url"])
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"  # a JPEG
    playlist = httpx.get(asset["hls"]["manifest_url"])
    assert playlist.text.startswith("#EXTM3U") and "#EXT-X-ENDLIST" in playlist.text


def test_audio_and_image_assets(capi: httpx.Client, samples: Path) -> None:
    audio = ready_asset(capi, samples / "media" / "tone.mp3")
    assert (
        audio["duration"]
        and audio["technical_metadata"]["audio_codec"]
        and "video_codec" not in audio["technical_metadata"]
    )
    image = ready_asset(capi, samples / "media" / "still.png", enable_hls="false")
    assert "duration" not in image and "hls" not in image
    assert image["technical_metadata"]["image_width"] > 0
    kinds = {a["_id"] for a in capi.get("/assets", params={"asset_types": "image"}).json()["data"]}
    assert kinds == {image["_id"]}


def test_bad_media_fails_with_an_error(capi: httpx.Client, samples: Path) -> None:
    r = post_asset(capi, samples / "bad" / "not-a-video.mp4")
    asset = wait_status(capi, f"/assets/{r.json()['_id']}")
    assert asset["status"] == "failed" and asset["error"]["message"]
    assert "size" not in asset and "duration" not in asset
    assert asset["hls"] == {"status": "error"}


def test_url_upload_and_errors(capi: httpx.Client, samples: Path) -> None:
    with file_server(samples / "videos") as base:
        r = capi.post("/assets", data={"method": "url", "url": f"{base}/forest-walk.mp4"}, files={"_": ("", b"")})
        assert r.status_code == 201, r.text
        assert r.json()["method"] == "url" and r.json()["filename"] == "forest-walk.mp4"
        assert wait_status(capi, f"/assets/{r.json()['_id']}")["status"] == "ready"
        r = capi.post("/assets", data={"method": "url", "url": f"{base}/missing.mp4"}, files={"_": ("", b"")})
        assert r.status_code == 400 and "url" in r.json()["message"]
    for data, field in [
        ({"method": "url"}, "url"),
        ({"method": "direct"}, "file"),
        ({"method": "ftp"}, "method"),
        ({"method": "direct", "user_metadata": "{nope"}, "user_metadata"),
        ({"method": "direct", "user_metadata": '{"a": {"b": 1}}'}, "user_metadata.a"),
        ({"method": "direct", "user_metadata": '{"big": 9007199254740993}'}, "user_metadata.big"),
        ({"method": "direct", "enable_hls": "maybe"}, "enable_hls"),
    ]:
        r = capi.post("/assets", data=data, files={"_": ("", b"")})
        assert r.status_code == 400 and field in r.json()["message"], (data, r.text)
    r = capi.post("/assets", json={"method": "direct"})
    assert r.status_code == 400 and "multipart" in r.json()["message"]


def test_direct_upload_size_limit(make_emulator, samples: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.emulator.conftest import client_for

    emu = make_emulator(surface="current", max_asset_direct_bytes=10_000)
    with client_for(emu) as api:
        r = post_asset(api, samples / "videos" / "ocean-waves.mp4")
        assert r.status_code == 400 and r.json()["code"] == "video_filesize_too_large"
        assert api.get("/assets").json()["data"] == []


def test_list_filters_and_pagination(capi: httpx.Client, samples: Path) -> None:
    first = ready_asset(capi, samples / "videos" / "ocean-waves.mp4")
    second = ready_asset(capi, samples / "videos" / "forest-walk.mp4")
    third = ready_asset(capi, samples / "media" / "tone.wav")

    def ids(**params: object) -> list[str]:
        r = capi.get("/assets", params=params)
        assert r.status_code == 200, r.text
        return [a["_id"] for a in r.json()["data"]]

    assert ids() == [third["_id"], second["_id"], first["_id"]]  # newest first
    assert ids(asset_ids=[first["_id"], third["_id"]]) == [third["_id"], first["_id"]]
    assert ids(asset_types=["video"]) == [second["_id"], first["_id"]]
    assert ids(filename="OCEAN") == [first["_id"]]  # case-insensitive substring
    page = capi.get("/assets", params={"page": 2, "page_limit": 2}).json()
    assert [a["_id"] for a in page["data"]] == [first["_id"]]
    assert page["page_info"] == {"page": 2, "limit_per_page": 2, "total_page": 2, "total_results": 3}
    for params, field in [
        ({"page_limit": 51}, "page_limit"),
        ({"asset_types": "document"}, "asset_types"),
        ({"page": 0}, "page"),
    ]:
        r = capi.get("/assets", params=params)
        assert r.status_code == 400 and field in r.json()["message"]


def test_delete_rules(capi: httpx.Client, samples: Path) -> None:
    asset = ready_asset(capi, samples / "videos" / "ocean-waves.mp4")
    index_id = create_current_index(capi)
    indexed = capi.post(f"/indexes/{index_id}/indexed-assets", json={"asset_id": asset["_id"]}).json()
    wait_status(capi, f"/indexes/{index_id}/indexed-assets/{indexed['_id']}")
    linked = capi.get(f"/assets/{asset['_id']}/indexed-assets").json()
    assert linked["data"] == [{"_id": indexed["_id"], "index": {"_id": index_id, "name": "idx"}}]
    r = capi.delete(f"/assets/{asset['_id']}")
    assert r.status_code == 409 and r.json()["code"] == "asset_in_use"
    assert capi.delete(f"/assets/{asset['_id']}", params={"force": "true"}).status_code == 204
    assert capi.get(f"/assets/{asset['_id']}").status_code == 404
    # the indexed asset keeps working from its own copy of the reference
    video = capi.get(f"/indexes/{index_id}/videos/{indexed['_id']}").json()
    assert httpx.get(video["hls"]["video_url"]).status_code == 200
    lone = ready_asset(capi, samples / "videos" / "forest-walk.mp4")
    assert capi.delete(f"/assets/{lone['_id']}").status_code == 204
    assert capi.delete(f"/assets/{lone['_id']}").status_code == 404
    assert capi.get(f"/assets/{'0' * 24}/transcription").status_code == 404


def test_user_metadata_semantics(capi: httpx.Client, samples: Path) -> None:
    asset = ready_asset(
        capi,
        samples / "videos" / "forest-walk.mp4",
        user_metadata=json.dumps({"a": "1", "b": 2, "c": True, "tags": ["x", "y"]}),
    )
    path = f"/assets/{asset['_id']}"

    def metadata() -> object:
        return capi.get(path).json().get("user_metadata")

    assert metadata() == {"a": "1", "b": 2, "c": True, "tags": ["x", "y"]}
    # PATCH: value sets, null deletes, "" and [] are ignored, omitted keys stay
    r = capi.patch(
        f"{path}/user-metadata", json={"user_metadata": {"a": "2", "b": None, "c": "", "tags": [], "d": 1.5}}
    )
    assert r.status_code == 204 and r.content == b""
    assert metadata() == {"a": "2", "c": True, "tags": ["x", "y"], "d": 1.5}
    # PUT: omitted keys go, null/""/[] are ignored
    assert capi.put(f"{path}/user-metadata", json={"user_metadata": {"a": "3", "c": None, "e": ""}}).status_code == 204
    assert metadata() == {"a": "3", "c": True}
    assert capi.put(f"{path}/user-metadata", json={"user_metadata": {}}).status_code == 204
    assert metadata() is None  # absent when none is set
    capi.patch(f"{path}/user-metadata", json={"user_metadata": {"k": "v"}})
    assert capi.delete(f"{path}/user-metadata").status_code == 204
    assert metadata() is None
    for body in ({"user_metadata": {"x": {"nested": 1}}}, {"user_metadata": {"x": [1, 2]}}, {}):
        r = capi.patch(f"{path}/user-metadata", json=body)
        assert r.status_code == 400, body
    assert capi.patch(f"/assets/{'0' * 24}/user-metadata", json={"user_metadata": {}}).status_code == 404


def test_ready_asset_media_for_other_modules(current, samples: Path) -> None:  # type: ignore[no-untyped-def]
    """The function analysis/embedding code calls: 404 unknown, 400 not ready, the media once ready."""
    import pytest

    from tests.emulator.conftest import client_for
    from twelvelabs_emulator.assets import ready_asset_media
    from twelvelabs_emulator.errors import ApiError

    with client_for(current) as api:
        created = post_asset(api, samples / "videos" / "ocean-waves.mp4").json()
        current.runtime.scheduler.stop()  # nothing processes any more: the asset stays `processing`
        with pytest.raises(ApiError) as not_ready:
            ready_asset_media(current.services, created["_id"])
        assert not_ready.value.status == 400 and "not ready" in not_ready.value.message
        with pytest.raises(ApiError) as unknown:
            ready_asset_media(current.services, "0" * 24)
        assert unknown.value.status == 404 and unknown.value.code == "resource_not_exist"
        current.services.assets.process(created["_id"])
        found = ready_asset_media(current.services, created["_id"])
        assert found.kind == "video" and found.duration == 8.0 and found.path.exists()
        assert found.filename == "ocean-waves.mp4" and found.asset_id == created["_id"]


def test_assets_survive_a_restart(tmp_path: Path, samples: Path) -> None:
    """With a state dir, assets, their files and unfinished processing come back after a restart."""
    from tests.emulator.conftest import client_for
    from twelvelabs_emulator import Emulator, EmulatorConfig

    config = EmulatorConfig(api_key="test-key", port=0, processing_seconds=0.2, state_dir=tmp_path / "state")
    first = Emulator(config).start()
    try:
        with client_for(first) as api:
            done = ready_asset(api, samples / "videos" / "ocean-waves.mp4", user_metadata='{"k": "v"}')
            first.runtime.scheduler.stop()  # the next asset stays `processing` in the saved state
            pending = post_asset(api, samples / "videos" / "forest-walk.mp4").json()
    finally:
        first.stop()
    second = Emulator(config).start()
    try:
        with client_for(second) as api:
            again = api.get(f"/assets/{done['_id']}").json()
            moved = {"hls", "thumbnail"}  # their URLs name the new port
            assert {k: v for k, v in again.items() if k not in moved} == {
                k: v for k, v in done.items() if k not in moved
            }
            assert httpx.get(again["thumbnail"]["representative_url"]).status_code == 200
            assert wait_status(api, f"/assets/{pending['_id']}")["status"] == "ready"  # processing resumed
    finally:
        second.stop()
