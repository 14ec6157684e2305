"""Function URL event (payload format 2.0), response mapping, and a client that hangs up."""

from __future__ import annotations

import base64
import logging
import socket
import struct
import threading
import time
from typing import Any

import pytest

from local_stack.function_url import FunctionUrlGateway, build_event, to_http_response


def test_event_has_payload_format_2() -> None:
    event = build_event(
        "POST",
        "/hooks/tl?a=1&b=two",
        {"Content-Type": "application/json", "TL-Signature": "t=1,v1=x", "Host": "h"},
        b'{"id": 1}',
        "127.0.0.1",
        "abc",
    )
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/hooks/tl" and event["rawQueryString"] == "a=1&b=two"
    assert event["queryStringParameters"] == {"a": "1", "b": "two"}
    assert event["headers"]["tl-signature"] == "t=1,v1=x" and "TL-Signature" not in event["headers"]
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["http"]["path"] == "/hooks/tl"
    assert event["body"] == '{"id": 1}' and event["isBase64Encoded"] is False


def test_binary_body_is_base64() -> None:
    event = build_event("PUT", "/", {"content-type": "application/octet-stream"}, b"\x00\xff", "127.0.0.1", "abc")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\xff"


def test_response_mapping() -> None:
    assert to_http_response({"statusCode": 401, "headers": {"x": "y"}, "body": "no"}) == (401, {"x": "y"}, b"no")
    assert (
        to_http_response({"statusCode": 200, "body": base64.b64encode(b"\x01").decode(), "isBase64Encoded": True})[2]
        == b"\x01"
    )
    assert to_http_response({"ok": True}) == (200, {"content-type": "application/json"}, b'{"ok": true}')


def test_a_client_that_goes_away_is_one_log_line_not_a_traceback(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    gateway = FunctionUrlGateway("http://127.0.0.1:1", "us-east-1")
    entered, release = threading.Event(), threading.Event()

    def slow_function(*_: Any) -> tuple[int, dict[str, str], bytes]:
        entered.set()
        release.wait(60)
        return 200, {"content-type": "text/plain"}, b"x" * 1_000_000  # more than a socket buffer

    gateway.handle = slow_function  # type: ignore[method-assign]
    gateway.start()
    try:
        port = int(gateway.primary_url.rsplit(":", 1)[1].strip("/"))
        with caplog.at_level(logging.WARNING, logger="local_stack.function_url"):
            client = socket.create_connection(("127.0.0.1", port), timeout=30)
            client.sendall(b"POST /hooks/tl HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
            assert entered.wait(30)
            # Hang up with a reset, as a client that timed out does: the gateway's write then fails.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            release.set()
            deadline = time.monotonic() + 30
            while gateway.client_gone == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
        assert gateway.client_gone == 1
        gone = [r for r in caplog.records if "went away" in r.getMessage()]
        assert len(gone) == 1 and "POST /hooks/tl" in gone[0].getMessage() and gone[0].exc_info is None
        assert "Traceback" not in capsys.readouterr().err
    finally:
        release.set()
        gateway.stop()
