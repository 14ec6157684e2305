"""Idempotency-Key on creating POSTs: replay, body conflicts, requests in flight, the 24 h window, faults."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from helpers import MARENGO3

from twelvelabs_emulator import Emulator

INDEX = {"index_name": "idem", "models": MARENGO3}


def _key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def test_replay_and_conflict(capi: httpx.Client) -> None:
    first = capi.post("/indexes", json=INDEX, headers=_key("k-1"))
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = capi.post("/indexes", json={"models": MARENGO3, "index_name": "idem"}, headers=_key("k-1"))  # key order
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and again.headers["Content-Type"] == "application/json"
    assert len(capi.get("/indexes").json()["data"]) == 1  # created once
    other = capi.post("/indexes", json=INDEX | {"index_name": "other"}, headers=_key("k-1"))
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_conflict"
    # errors are replayed too: the same request with the same key gets the same 400
    bad = capi.post("/indexes", json=INDEX, headers=_key("k-2"))
    assert bad.status_code == 400 and bad.json()["code"] == "index_name_already_exists"
    capi.delete(f"/indexes/{first.json()['_id']}")
    assert capi.post("/indexes", json=INDEX, headers=_key("k-2")).json() == bad.json()
    # the scope is the path: the same key elsewhere is a different request
    asset_answer = capi.post("/assets", data={"method": "url"}, files={"_": ("", b"")}, headers=_key("k-1"))
    assert asset_answer.status_code == 400 and asset_answer.json()["code"] == "parameter_not_provided"
    # without a key nothing is remembered
    assert capi.post("/indexes", json=INDEX).status_code == 201
    assert capi.post("/indexes", json=INDEX, headers=_key("")).status_code == 400
    assert capi.post("/indexes", json=INDEX, headers=_key("x" * 256)).status_code == 400


def test_multipart_retry_with_a_new_boundary_is_a_replay(capi: httpx.Client, samples: Path) -> None:
    video = samples / "videos" / "forest-walk.mp4"
    answers = [
        capi.post(
            "/assets",
            data={"method": "direct", "filename": "f.mp4"},
            files={"file": (video.name, video.read_bytes())},
            headers=_key("upload-1"),
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201] and answers[0].json() == answers[1].json()
    assert len(capi.get("/assets").json()["data"]) == 1
    changed = capi.post(
        "/assets",
        data={"method": "direct", "filename": "f.mp4"},
        files={"file": (video.name, video.read_bytes() + b"\0")},
        headers=_key("upload-1"),
    )
    assert changed.status_code == 409


@contextmanager
def blocking_server(payload: bytes) -> Iterator[tuple[str, threading.Event, threading.Event]]:
    """Serves `payload` once `release` is set; `asked` is set when a request arrived."""
    asked, release = threading.Event(), threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.set()
            release.wait(timeout=30)
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/clip.mp4", asked, release
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_same_key_while_the_first_is_in_flight(current: Emulator, samples: Path) -> None:
    video = (samples / "videos" / "forest-walk.mp4").read_bytes()
    form = {"method": "url"}
    results: list[httpx.Response] = []
    with (
        blocking_server(video) as (url, asked, release),
        httpx.Client(base_url=current.base_url, headers={"x-api-key": "test-key"}, timeout=30) as api,
    ):
        first = threading.Thread(
            target=lambda: results.append(
                api.post("/assets", data=form | {"url": url}, files={"_": ("", b"")}, headers=_key("slow"))
            )
        )
        first.start()
        assert asked.wait(timeout=30)  # the first request is downloading now
        busy = api.post("/assets", data=form | {"url": url}, files={"_": ("", b"")}, headers=_key("slow"))
        assert busy.status_code == 409 and busy.json()["code"] == "idempotency_key_in_use"
        release.set()
        first.join(timeout=30)
        assert results and results[0].status_code == 201
        replay = api.post("/assets", data=form | {"url": url}, files={"_": ("", b"")}, headers=_key("slow"))
        assert replay.json() == results[0].json() and replay.headers["Idempotent-Replayed"] == "true"


def test_the_window_is_24_hours(current: Emulator, capi: httpx.Client) -> None:
    now = [1000.0]
    current.runtime.idempotency.clock = lambda: now[0]
    first = capi.post("/indexes", json=INDEX, headers=_key("day"))
    capi.delete(f"/indexes/{first.json()['_id']}")
    now[0] += 24 * 3600 - 1
    assert capi.post("/indexes", json=INDEX, headers=_key("day")).json() == first.json()
    now[0] += 2
    fresh = capi.post("/indexes", json=INDEX, headers=_key("day"))
    assert fresh.status_code == 201 and fresh.json() != first.json()  # forgotten: it ran again


def test_a_retry_after_an_ambiguous_500_gets_the_original_answer(
    current: Emulator, capi: httpx.Client, cadmin: httpx.Client
) -> None:
    cadmin.post("/faults", json={"error_after_create_next": 1})
    lost = capi.post("/indexes", json=INDEX, headers=_key("ambiguous"))
    assert lost.status_code == 500
    retry = capi.post("/indexes", json=INDEX, headers=_key("ambiguous"))
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert [i["_id"] for i in capi.get("/indexes").json()["data"]] == [retry.json()["_id"]]


def test_error_shape_follows_the_endpoint(capi: httpx.Client) -> None:
    """v2-style endpoints answer wrapped errors, also for key conflicts."""
    capi.post("/embed-v2/tasks", json={"a": 1}, headers=_key("v2"))
    r = capi.post("/embed-v2/tasks", json={"a": 2}, headers=_key("v2"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_key_conflict"
