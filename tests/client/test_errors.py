"""Every error status/code maps to the exception for its meaning, with code, message, status, request id."""

from __future__ import annotations

import httpx
import pytest
from twelvelabs_client.errors import (
    AuthenticationError,
    ConflictError,
    InvalidParameterError,
    NotFoundError,
    PageTokenExpiredError,
    PermissionDeniedError,
    RateLimitedError,
    ResponseValidationError,
    ServerError,
    TwelveLabsError,
)

from tests.client.helpers import json_response

CASES = [
    (
        400,
        {"code": "parameter_invalid", "message": "The index_id parameter is invalid."},
        InvalidParameterError,
        "parameter_invalid",
    ),
    (400, {"code": "parameter_not_provided", "message": "m"}, InvalidParameterError, "parameter_not_provided"),
    (400, {"code": "video_duration_too_short", "message": "m"}, InvalidParameterError, "video_duration_too_short"),
    (
        400,
        {"code": "resource_not_exist", "message": "Resource with id x does not exist"},
        NotFoundError,
        "resource_not_exist",
    ),
    (404, None, NotFoundError, "resource_not_exist"),
    (401, {"code": "api_key_invalid", "message": "bad key"}, AuthenticationError, "api_key_invalid"),
    (403, {"code": "api_allowed_for_paid_plan", "message": "m"}, PermissionDeniedError, "api_allowed_for_paid_plan"),
    (409, {"code": "whatever", "message": "m"}, ConflictError, "whatever"),
    (400, {"code": "index_name_already_exists", "message": "m"}, ConflictError, "index_name_already_exists"),
    (400, {"code": "task_cannot_be_deleted", "message": "m"}, ConflictError, "task_cannot_be_deleted"),
    (400, {"code": "search_page_token_expired", "message": "m"}, PageTokenExpiredError, "search_page_token_expired"),
    (
        400,
        {"error": {"code": "parameter_unknown", "message": "wrapped form"}},
        InvalidParameterError,
        "parameter_unknown",
    ),
    (400, {"error_code": 17, "message": "SDK 1.0.2 form"}, InvalidParameterError, "17"),
    (422, {"unexpected": True}, InvalidParameterError, "http_422"),
]


@pytest.mark.parametrize("status,body,cls,code", CASES)
def test_error_mapping(make_client, status: int, body: object, cls: type, code: str) -> None:
    client, _ = make_client(lambda r: json_response(status, body, {"x-request-id": "req-42"}), max_retries=0)
    with pytest.raises(cls) as info:
        client.get_index("i1")
    error = info.value
    assert isinstance(error, TwelveLabsError)
    assert error.code == code and error.status_code == status and error.request_id == "req-42"
    assert str(error).startswith(f"{code}: ")
    assert str(error).endswith(f"(HTTP {status}, request req-42)")
    assert not error.retryable


def test_empty_429_body_is_too_many_requests(make_client) -> None:
    client, _ = make_client(lambda r: httpx.Response(429), max_retries=0)
    with pytest.raises(RateLimitedError) as info:
        client.list_indexes()
    assert info.value.code == "too_many_requests"
    assert str(info.value).startswith("too_many_requests: HTTP 429 with an empty body")


def test_non_json_5xx_body(make_client) -> None:
    html = b"<html><body>502 Bad Gateway</body></html>"
    client, _ = make_client(
        lambda r: httpx.Response(502, content=html, headers={"content-type": "text/html"}), max_retries=0
    )
    with pytest.raises(ServerError) as info:
        client.get_task("t")
    assert info.value.code == "server_error"
    assert "502 Bad Gateway" in info.value.message and info.value.request_id is None
    assert str(info.value).endswith("(HTTP 502)")


def test_5xx_with_a_4xx_code_is_still_a_server_error(make_client) -> None:
    client, _ = make_client(lambda r: json_response(500, {"code": "resource_not_exist", "message": "m"}), max_retries=0)
    with pytest.raises(ServerError):
        client.get_task("t")


def test_request_id_from_other_header_case_insensitive(make_client) -> None:
    client, _ = make_client(
        lambda r: json_response(400, {"code": "parameter_invalid", "message": "m"}, {"X-Amzn-RequestId": "amz-1"})
    )
    with pytest.raises(InvalidParameterError) as info:
        client.get_task("t")
    assert info.value.request_id == "amz-1"


def test_malformed_json_on_success(make_client) -> None:
    client, _ = make_client(
        lambda r: httpx.Response(200, content=b'{"_id": "x", ', headers={"content-type": "application/json"})
    )
    with pytest.raises(ResponseValidationError) as info:
        client.get_task("t")
    assert info.value.code == "invalid_response" and "GET /v1.3/tasks/t" in info.value.message


def test_api_key_header_and_no_redirects(make_client) -> None:
    client, recorder = make_client(lambda r: json_response(200, {"_id": "t"}))
    client.get_task("t")
    assert recorder.requests[0].headers["x-api-key"] == "test-key"
