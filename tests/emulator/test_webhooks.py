"""Webhooks: the documented payload, TL-Signature, retries with backoff, drops, runtime config."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import httpx
from helpers import Receiver, create_index, upload, wait_for, wait_task

from tests.emulator.conftest import client_for


def verify(headers: dict[str, str], body: bytes, secret: str) -> None:
    parts = dict(p.split("=", 1) for p in headers["tl-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)


def test_ready_and_failed_events_are_signed(make_emulator, samples: Path) -> None:  # type: ignore[no-untyped-def]
    with Receiver() as receiver:
        emu = make_emulator(webhook_url=receiver.url, webhook_secret="s3cret")
        with client_for(emu) as api:
            index_id = create_index(api)
            ok = wait_task(api, upload(api, index_id, samples / "videos" / "forest-walk.mp4").json()["_id"])
            bad = wait_task(api, upload(api, index_id, samples / "bad" / "tiny-320x240.mp4").json()["_id"])
            wait_for(lambda: len(receiver.received) == 2)
    events = {}
    for headers, body in receiver.received:
        assert headers["content-type"] == "application/json"
        verify(headers, body, "s3cret")
        event = json.loads(body)
        events[event["type"]] = event
    ready, failed = events["index.task.ready"], events["index.task.failed"]
    assert ready["id"].startswith("whe_") and len(ready["id"]) == 36 and int(ready["id"][4:], 16) >= 0
    assert ready["created_at"].endswith("Z")
    assert ready["data"] == {
        "id": ok["_id"],
        "status": "ready",
        "metadata": {"duration": 5.0},
        "models": [
            {"name": "marengo2.7", "options": ["visual", "audio"]},
            {"name": "pegasus1.2", "options": ["visual", "audio"]},
        ],
        "tags": [],
    }
    assert failed["data"]["id"] == bad["_id"] and failed["data"]["status"] == "failed"
    log = httpx.get(f"{emu.admin_url}/webhooks").json()
    assert {(d["type"], d["task_id"], d["attempts"], d["delivered"], d["last_status"], d["dropped"]) for d in log} == {
        ("index.task.ready", ok["_id"], 1, True, 200, False),
        ("index.task.failed", bad["_id"], 1, True, 200, False),
    }


def test_retries_with_backoff_until_2xx(make_emulator, samples: Path) -> None:  # type: ignore[no-untyped-def]
    with Receiver(statuses=[500, 503]) as receiver:
        emu = make_emulator(webhook_url=receiver.url, webhook_secret="k", webhook_retry_base_seconds=0.1)
        with client_for(emu) as api:
            wait_task(api, upload(api, create_index(api), samples / "videos" / "forest-walk.mp4").json()["_id"])
            wait_for(lambda: httpx.get(f"{emu.admin_url}/webhooks").json()[0]["delivered"])
        assert len(receiver.received) == 3
        ids = {json.loads(body)["id"] for _, body in receiver.received}
        assert len(ids) == 1  # the same notification, re-sent
        entry = httpx.get(f"{emu.admin_url}/webhooks").json()[0]
        assert entry["attempts"] == 3 and entry["last_status"] == 200


def test_unreachable_receiver_gives_up_after_bounded_attempts(make_emulator, samples: Path) -> None:  # type: ignore[no-untyped-def]
    emu = make_emulator(
        webhook_url="http://127.0.0.1:9/hook",
        webhook_secret="k",
        webhook_retry_base_seconds=0.02,
        webhook_max_attempts=4,
    )
    with client_for(emu) as api:
        wait_task(api, upload(api, create_index(api), samples / "videos" / "forest-walk.mp4").json()["_id"])
    wait_for(lambda: httpx.get(f"{emu.admin_url}/webhooks").json()[0]["attempts"] == 4)
    # given up: no attempt is queued any more (checked on the dispatcher, not by sleeping)
    wait_for(lambda: emu.runtime.webhooks.scheduled_attempts() == 0)
    entry = httpx.get(f"{emu.admin_url}/webhooks").json()[0]
    assert entry["attempts"] == 4 and not entry["delivered"] and entry["last_status"] is None and entry["last_error"]


def test_drop_next_webhooks_and_runtime_config(emulator, api: httpx.Client, admin: httpx.Client, samples: Path) -> None:  # type: ignore[no-untyped-def]
    index_id = create_index(api)
    wait_task(api, upload(api, index_id, samples / "videos" / "forest-walk.mp4").json()["_id"])
    assert admin.get("/webhooks").json() == []  # no webhook URL configured: nothing sent
    with Receiver() as receiver:
        r = admin.post(
            "/config", json={"webhook_url": receiver.url, "webhook_secret": "new", "processing_seconds": 0.1}
        )
        assert r.status_code == 200 and r.json()["processing_seconds"] == 0.1
        admin.post("/faults", json={"drop_next_webhooks": 1})
        first = wait_task(api, upload(api, index_id, samples / "videos" / "forest-walk.mp4").json()["_id"])
        second = wait_task(api, upload(api, index_id, samples / "videos" / "forest-walk.mp4").json()["_id"])
        wait_for(lambda: len(receiver.received) == 1)
        headers, body = receiver.received[0]
        verify(headers, body, "new")
        assert json.loads(body)["data"]["id"] == second["_id"]
    log = {d["task_id"]: d for d in admin.get("/webhooks").json()}
    assert log[first["_id"]]["dropped"] and log[first["_id"]]["attempts"] == 0
    assert not log[second["_id"]]["dropped"] and log[second["_id"]]["delivered"]
    r = admin.post("/config", json={"processing_seconds": -1})
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid"
