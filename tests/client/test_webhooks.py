"""TL-Signature verification fails closed; events parse tolerantly."""

from __future__ import annotations

import json

import pytest

from twelvelabs_client.webhooks import InvalidSignatureError, WebhookEvent, parse_webhook, sign, verify_signature

SECRET = "whsec_test"
NOW = 1_709_284_000
BODY = json.dumps({
    "id": "whe_3f9a", "created_at": "2024-03-01T09:24:11.512Z", "type": "index.task.ready",
    "data": {"id": "65f0c39f11b2c3d4e5f60716", "status": "ready", "metadata": {"duration": 155.7},
             "models": [{"name": "marengo2.7", "options": ["visual", "audio"]}], "tags": [], "new": 1},
    "future_field": True,
}).encode()


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


@pytest.mark.parametrize("header", [
    None, "", "garbage", "t=abc,v1=00", "v1=00", f"t={NOW}", f"t={NOW},v1=",
    f"t={NOW},v1={'0' * 64}",
    f"t={NOW},v1={'é' * 64}",  # non-ASCII: rejected, never a TypeError (a 502 anyone could trigger)
])
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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": "shared"}, cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    assert out.stdout.strip() == "False"
