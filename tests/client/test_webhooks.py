"""TL-Signature verification fails closed; events parse tolerantly."""

from __future__ import annotations

import json

import pytest
from twelvelabs_client.webhooks import InvalidSignatureError, WebhookEvent, parse_webhook, sign, verify_signature

SECRET = "whsec_test"
NOW = 1_709_284_000
BODY = json.dumps(
    {
        "id": "whe_3f9a",
        "created_at": "2024-03-01T09:24:11.512Z",
        "type": "index.task.ready",
        "data": {
            "id": "65f0c39f11b2c3d4e5f60716",
            "status": "ready",
            "metadata": {"duration": 155.7},
            "models": [{"name": "marengo2.7", "options": ["visual", "audio"]}],
            "tags": [],
            "new": 1,
        },
        "future_field": True,
    }
).encode()


def test_valid_signature_parses_event() -> None:
    event = parse_webhook(BODY, sign(BODY, SECRET, NOW), SECRET, now=NOW + 10)
    assert isinstance(event, WebhookEvent)
    assert event.id == "whe_3f9a" and event.type == "index.task.ready"
    assert event.task_id == "65f0c39f11b2c3d4e5f60716" and event.status == "ready"
    assert event.data.metadata == {"duration": 155.7}
    assert event.data.models is not None and event.data.models[0].name == "marengo2.7"


def test_known_digest() -> None:
    # Independent computation: HMAC-SHA256(secret, "<t>." + body), lowercase hex.
    import hashlib
    import hmac

    digest = hmac.new(b"k", b"100.{}", hashlib.sha256).hexdigest()
    assert sign(b"{}", "k", 100) == f"t=100,v1={digest}"
    verify_signature(b"{}", f"t=100, v1={digest.upper()}", "k", now=100)  # spaces, upper hex tolerated


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=abc,v1=00",
        "v1=00",
        f"t={NOW}",
        f"t={NOW},v1=",
        f"t={NOW},v1={'0' * 64}",
        f"t={NOW},v1={'é' * 64}",  # non-ASCII: rejected, never a TypeError (a 502 anyone could trigger)
    ],
)
def test_bad_headers_fail_closed(header: str | None) -> None:
    with pytest.raises(InvalidSignatureError):
        verify_signature(BODY, header, SECRET, now=NOW)


def test_wrong_secret_or_tampered_body() -> None:
    header = sign(BODY, SECRET, NOW)
    with pytest.raises(InvalidSignatureError):
        verify_signature(BODY, header, "other", now=NOW)
    with pytest.raises(InvalidSignatureError):
        verify_signature(BODY + b" ", header, SECRET, now=NOW)
    with pytest.raises(InvalidSignatureError):
        verify_signature(BODY, header, "", now=NOW)


@pytest.mark.parametrize("offset,ok", [(299, True), (-299, True), (300, False), (-300, False), (3600, False)])
def test_time_window_both_directions(offset: int, ok: bool) -> None:
    header = sign(BODY, SECRET, NOW)
    if ok:
        verify_signature(BODY, header, SECRET, now=NOW + offset)
    else:
        with pytest.raises(InvalidSignatureError):
            verify_signature(BODY, header, SECRET, now=NOW + offset)


def test_signed_but_not_an_event() -> None:
    body = b'{"hello": "world"}'
    with pytest.raises(InvalidSignatureError, match="not a webhook event"):
        parse_webhook(body, sign(body, SECRET, NOW), SECRET, now=NOW)
    with pytest.raises(InvalidSignatureError):
        parse_webhook(b"[1,", sign(b"[1,", SECRET, NOW), SECRET, now=NOW)


def test_several_v1_signatures_any_may_match() -> None:
    good = sign(BODY, SECRET, NOW).split("v1=")[1]
    verify_signature(BODY, f"t={NOW},v1={'f' * 64},v1={good}", SECRET, now=NOW)


def test_webhooks_module_does_not_import_httpx() -> None:
    import subprocess
    import sys

    code = "import sys, twelvelabs_client.webhooks, twelvelabs_client.requirements; print('httpx' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": "shared"},
        cwd=str(__import__("pathlib").Path(__file__).parents[2]),
    )
    assert out.stdout.strip() == "False"


ANALYZE_READY = json.dumps(
    {
        "id": "whe_3f9a0c5b7d2e4f6a8b1c3d5e7f9a1b2c",
        "created_at": "2026-10-07T02:19:42.101Z",
        "type": "analyze.task.ready",
        "data": {
            "id": "64f8d2c7e4a1b37f8a9c5d12",
            "custom_id": "cam-a-0215",
            "created_at": "2026-10-07T02:15:00Z",
            "status": "ready",
            "video_source": {"type": "asset_id", "asset_id": "6a01", "system_metadata": {"duration": 900.0}},
        },
    }
).encode()


def test_analyze_task_events_are_typed() -> None:
    from twelvelabs_client.webhooks import AnalyzeTaskWebhookEvent, parse_webhook_event

    event = parse_webhook_event(ANALYZE_READY, sign(ANALYZE_READY, SECRET, NOW), SECRET, now=NOW)
    assert isinstance(event, AnalyzeTaskWebhookEvent)
    assert event.task_id == "64f8d2c7e4a1b37f8a9c5d12" and event.status == "ready"
    assert event.data.custom_id == "cam-a-0215" and event.data.video_source is not None
    assert event.data.video_source.asset_id == "6a01" and event.data.error is None
    failed = json.dumps(
        {
            "id": "e2",
            "type": "analyze.task.failed",
            "data": {"id": "t2", "custom_id": None, "status": "failed", "error": {"message": "bad"}},
        }
    ).encode()
    event = parse_webhook_event(failed, sign(failed, SECRET, NOW), SECRET, now=NOW)
    assert (
        isinstance(event, AnalyzeTaskWebhookEvent)
        and event.data.error is not None
        and event.data.error.message == "bad"
    )
    canceled = json.dumps(
        {
            "id": "e3",
            "type": "analyze.task.canceled",
            "data": {"id": "t3", "status": "canceled", "custom_id": None, "new": 1},
        }
    ).encode()
    event = parse_webhook_event(canceled, sign(canceled, SECRET, NOW), SECRET, now=NOW)
    assert isinstance(event, AnalyzeTaskWebhookEvent) and event.status == "canceled"


def test_index_and_unknown_events_stay_generic_and_verification_is_unchanged() -> None:
    from twelvelabs_client.webhooks import AnalyzeTaskWebhookEvent, parse_webhook_event

    event = parse_webhook_event(BODY, sign(BODY, SECRET, NOW), SECRET, now=NOW)
    assert isinstance(event, WebhookEvent) and not isinstance(event, AnalyzeTaskWebhookEvent)
    unknown = json.dumps({"id": "e9", "type": "analyze.batch.completed", "data": {"batch_id": "b"}}).encode()
    # batch events are analyze.* but not analyze.task.*: kept generic
    assert isinstance(parse_webhook_event(unknown, sign(unknown, SECRET, NOW), SECRET, now=NOW), WebhookEvent)
    with pytest.raises(InvalidSignatureError):
        parse_webhook_event(ANALYZE_READY, sign(ANALYZE_READY, "other", NOW), SECRET, now=NOW)
    with pytest.raises(InvalidSignatureError):
        parse_webhook_event(ANALYZE_READY, sign(ANALYZE_READY, SECRET, NOW), SECRET, now=NOW + 301)
    no_task = json.dumps({"id": "e4", "type": "analyze.task.ready", "data": {"status": "ready"}}).encode()
    with pytest.raises(InvalidSignatureError, match=r"analyze\.task\.ready"):
        parse_webhook_event(no_task, sign(no_task, SECRET, NOW), SECRET, now=NOW)
