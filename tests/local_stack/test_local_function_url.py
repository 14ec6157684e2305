"""Function URL event (payload format 2.0) and response mapping."""

from __future__ import annotations

import base64

from local_stack.function_url import build_event, to_http_response


def test_event_has_payload_format_2() -> None:
    event = build_event(
        "POST", "/hooks/tl?a=1&b=two", {"Content-Type": "application/json", "TL-Signature": "t=1,v1=x", "Host": "h"},
        b'{"id": 1}', "127.0.0.1", "abc",
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
    assert to_http_response({"statusCode": 200, "body": base64.b64encode(b"\x01").decode(), "isBase64Encoded": True})[2] == b"\x01"
    assert to_http_response({"ok": True}) == (200, {"content-type": "application/json"}, b'{"ok": true}')
