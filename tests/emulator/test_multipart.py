"""Multipart upload sessions: presigned chunk URLs served by the emulator, ETag proofs, reporting, completion."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from helpers import wait_status

from tests.emulator.conftest import client_for
from twelvelabs_emulator import Emulator

CHUNK = 20_000


@pytest.fixture()
def emu(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator(surface="current", multipart_chunk_size=CHUNK, multipart_initial_urls=2)


def _put(url: str, data: bytes) -> httpx.Response:
    return httpx.put(url, content=data, headers={"Content-Type": "application/octet-stream"})


def _proof(index: int, response: httpx.Response, size: int) -> dict[str, object]:
    return {
        "chunk_index": index,
        "proof": response.headers["ETag"].strip('"'),
        "proof_type": "etag",
        "chunk_size": size,
    }


def test_full_session(emu: Emulator, samples: Path) -> None:
    video = samples / "videos" / "ocean-waves.mp4"
    data = video.read_bytes()
    with client_for(emu) as api:
        r = api.post(
            "/assets/multipart-uploads",
            json={"filename": video.name, "type": "video", "total_size": len(data), "user_metadata": {"k": "v"}},
        )
        assert r.status_code == 201, r.text
        session = r.json()
        assert set(session) == {
            "upload_id",
            "asset_id",
            "upload_urls",
            "upload_headers",
            "chunk_size",
            "total_chunks",
            "expires_at",
        }
        total = math.ceil(len(data) / CHUNK)
        assert session["chunk_size"] == CHUNK and session["total_chunks"] == total and total > 3
        assert [u["chunk_index"] for u in session["upload_urls"]] == [1, 2]  # the first set does not cover all
        assert session["upload_headers"] == {"Content-Type": "application/octet-stream"}
        asset = api.get(f"/assets/{session['asset_id']}").json()
        assert asset["status"] == "processing" and asset["method"] == "multipart"
        upload = f"/assets/multipart-uploads/{session['upload_id']}"
        assert [u["upload_id"] for u in api.get("/assets/multipart-uploads").json()["data"]] == [session["upload_id"]]

        urls = {u["chunk_index"]: u["url"] for u in session["upload_urls"]}
        more = api.post(f"{upload}/presigned-urls", json={"start": 3, "count": total - 2})
        assert more.status_code == 200 and more.json()["start_index"] == 3 and more.json()["count"] == total - 2
        urls |= {u["chunk_index"]: u["url"] for u in more.json()["upload_urls"]}
        proofs = []
        for index in reversed(range(1, total + 1)):  # any order
            part = data[(index - 1) * CHUNK : index * CHUNK]
            answer = _put(urls[index], part)
            assert answer.status_code == 200, answer.text
            proofs.append(_proof(index, answer, len(part)))
        # a presigned URL is single-use; the chunk URLs need no API key
        assert _put(urls[1], data[:CHUNK]).status_code == 403

        first = api.post(upload, json={"completed_chunks": proofs[:2]}).json()
        assert first == {
            "asset_id": session["asset_id"],
            "processed_chunks": 2,
            "duplicate_chunks": 0,
            "total_completed": 2,
        }
        status = api.get(upload, params={"page_limit": 50}).json()
        assert status["status"] == "active" and status["chunks_completed"] == 2
        assert status["chunks_pending"] == total - 2 and status["total_size"] == len(data)
        done = {c["index"] for c in status["uploaded_chunks"] if c["status"] == "completed"}
        assert done == {total, total - 1}
        last = api.post(upload, json={"completed_chunks": proofs}).json()  # duplicates are ignored
        assert last["processed_chunks"] == total - 2 and last["duplicate_chunks"] == 2
        assert last["total_completed"] == total and last["url"]
        assert httpx.get(last["url"]).content == data  # the reassembled file
        final = api.get(upload).json()
        assert final["status"] == "completed" and final["uploaded_size"] == len(data)
        assert api.get("/assets/multipart-uploads").json()["data"] == []  # no longer open
        ready = wait_status(api, f"/assets/{session['asset_id']}")
        assert ready["status"] == "ready" and ready["size"] == len(data) and ready["duration"] == 8.0
        assert ready["user_metadata"] == {"k": "v"} and "hls" not in ready  # enable_hls defaults to false here


def test_rejections(emu: Emulator, samples: Path) -> None:
    data = (samples / "videos" / "forest-walk.mp4").read_bytes()
    with client_for(emu) as api:
        for body, field in [
            ({"filename": "a.mp4", "type": "document", "total_size": 5}, "type"),
            ({"filename": "", "type": "video", "total_size": 5}, "filename"),
            ({"filename": "a.png", "type": "image", "total_size": 33 * 1024 * 1024}, "total_size"),
            ({"filename": "a.mp4", "type": "video", "total_size": 0}, "total_size"),
        ]:
            r = api.post("/assets/multipart-uploads", json=body)
            assert r.status_code == 400 and field in r.json()["message"], (body, r.text)
        session = api.post(
            "/assets/multipart-uploads", json={"filename": "f.mp4", "type": "video", "total_size": len(data)}
        ).json()
        upload = f"/assets/multipart-uploads/{session['upload_id']}"
        url = session["upload_urls"][0]["url"]
        assert _put(url, data[: CHUNK - 1]).status_code == 400  # wrong size: the URL stays usable
        good = _put(url, data[:CHUNK])
        assert good.status_code == 200
        report = _proof(1, good, CHUNK)
        for change, field in [
            ({"proof": "0" * 32}, "proof"),
            ({"chunk_size": 5}, "chunk_size"),
            ({"chunk_index": 99}, "chunk_index"),
            ({"proof_type": "md5"}, "proof_type"),
        ]:
            r = api.post(upload, json={"completed_chunks": [report | change]})
            assert r.status_code == 400 and field in r.json()["message"], (change, r.text)
        r = api.post(upload, json={"completed_chunks": [_proof(2, good, CHUNK)]})
        assert r.status_code == 400 and "no bytes" in r.json()["message"]  # chunk 2 was never uploaded
        assert api.post(upload, json={"completed_chunks": []}).status_code == 400
        r = api.post(f"{upload}/presigned-urls", json={"start": 2, "count": 99})
        assert r.status_code == 400
        r = api.post(f"{upload}/presigned-urls", json={"start": 3, "count": 10})
        assert r.status_code == 400 and "last chunk" in r.json()["message"]
        assert api.get(f"/assets/multipart-uploads/{'0' * 24}").status_code == 404
        assert _put(f"{emu.root_url}/_uploads/nope", b"x").status_code == 403


def test_sdk_upload_file_wrapper(emu: Emulator, samples: Path, tmp_path: Path) -> None:
    """SDK 1.3.6's own multipart helper (split, fetch more URLs, PUT, report) against the emulator."""
    from helpers import sdk136

    sdk = sdk136()
    client = sdk.TwelveLabs(api_key="test-key", base_url=emu.base_url)
    video = samples / "videos" / "city-traffic.mov"
    result = client.multipart_upload.upload_file(str(video), file_type="video", batch_size=3)
    assert result.asset_id
    with client_for(emu) as api:
        asset = wait_status(api, f"/assets/{result.asset_id}")
    assert asset["status"] == "ready" and asset["size"] == video.stat().st_size
