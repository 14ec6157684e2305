"""Both error body shapes (flat, wrapped) and empty bodies map to one exception family; 409 is
permanent, 408/429/5xx are retried; rate-limit headers are read case-insensitively, absence tolerated."""

from __future__ import annotations

import httpx
import pytest
from twelvelabs_client.errors import (
    APITimeoutError,
    ConflictError,
    InvalidParameterError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TwelveLabsError,
)
from twelvelabs_client.http import RateLimitInfo, parse_rate_limit

from tests.client.helpers import FakeClock, json_response

WRAPPED_429 = {
    "error": {
        "code": "RATE_LIMIT_EXCEEDED",
        "message": "Too many requests. Please try again later.",
        "details": {"retryAfter": "60", "currentLimit": "100 requests per minute"},
    }
}


@pytest.mark.parametrize(
    "body,cls,code,message",
    [
        ({"code": "parameter_invalid", "message": "flat"}, InvalidParameterError, "parameter_invalid", "flat"),
        (
            {"error": {"code": "parameter_invalid", "message": "wrapped"}},
            InvalidParameterError,
            "parameter_invalid",
            "wrapped",
        ),
        (
            {
                "error": {
                    "code": "VALIDATION_ERROR",
                    "message": "Invalid input_type",
                    "details": {"field": "input_type", "value": "x"},
                }
            },
            InvalidParameterError,
            "VALIDATION_ERROR",
            "Invalid input_type",
        ),
        (
            {"error": {"code": "resource_not_exist", "message": "no task"}},
            NotFoundError,
            "resource_not_exist",
            "no task",
        ),
        (None, InvalidParameterError, "http_400", "HTTP 400 with an empty body"),
    ],
)
def test_flat_wrapped_and_empty_400s(make_client, body, cls, code, message) -> None:
    client, _ = make_client(lambda r: json_response(400, body, {"X-Request-Id": "rq-1"}))
    with pytest.raises(cls) as info:
        client.get_embed_v2_task("t1")
    error = info.value
    assert isinstance(error, TwelveLabsError)
    assert (error.code, error.message, error.status_code, error.request_id) == (code, message, 400, "rq-1")
    assert not error.retryable


def test_wrapped_details_are_kept(make_client) -> None:
    client, _ = make_client(lambda r: json_response(429, WRAPPED_429), max_retries=0)
    with pytest.raises(RateLimitedError) as info:
        client.get_analyze_task("t")
    assert info.value.code == "RATE_LIMIT_EXCEEDED" and info.value.details["currentLimit"] == "100 requests per minute"


@pytest.mark.parametrize(
    "status,cls",
    [(429, RateLimitedError), (500, ServerError), (503, ServerError), (504, ServerError), (408, APITimeoutError)],
)
@pytest.mark.parametrize("shape", ["flat", "wrapped", "empty"])
def test_transient_statuses_are_retried_in_every_shape(make_client, clock: FakeClock, status, cls, shape) -> None:
    bodies = {
        "flat": {"code": "x_code", "message": "m"},
        "wrapped": {"error": {"code": "x_code", "message": "m"}},
        "empty": None,
    }
    answers = [json_response(status, bodies[shape]), json_response(200, {"data": [], "page_info": {}})]
    client, recorder = make_client(lambda r: answers.pop(0))
    assert client.list_assets().data == []
    assert len(recorder.requests) == 2 and len(clock.sleeps) == 1
    # and once retries are spent the error is of the same family whatever the shape
    client2, _ = make_client(lambda r: json_response(status, bodies[shape]), max_retries=1)
    with pytest.raises(cls) as info:
        client2.list_assets()
    assert info.value.status_code == status


def test_empty_429_on_search_and_analyze_is_rate_limited(make_client, clock: FakeClock) -> None:
    client, recorder = make_client(lambda r: httpx.Response(429), max_retries=2)
    with pytest.raises(RateLimitedError) as info:
        client.analyze(video={"type": "asset_id", "asset_id": "a1"}, prompt="p")
    assert info.value.code == "too_many_requests" and len(recorder.requests) == 3
    with pytest.raises(RateLimitedError):
        client.search("idx", search_options=["visual"], query_text="q")


@pytest.mark.parametrize(
    "body", [{"code": "asset_in_use", "message": "in use"}, {"error": {"code": "conflict", "message": "running"}}, None]
)
def test_409_is_permanent_not_retried(make_client, clock: FakeClock, body) -> None:
    client, recorder = make_client(lambda r: json_response(409, body))
    with pytest.raises(ConflictError) as info:
        client.delete_asset("a1")
    assert len(recorder.requests) == 1 and clock.sleeps == [] and not info.value.retryable
    # a 409 on a create is not retried either, and not ambiguous
    with pytest.raises(ConflictError) as info:
        client.create_analyze_task(video={"type": "asset_id", "asset_id": "a"}, prompt="p")
    assert not info.value.ambiguous and len(recorder.calls("POST", "/analyze/tasks")) == 1


def test_409_with_a_retryable_looking_code_is_still_a_conflict(make_client) -> None:
    client, recorder = make_client(lambda r: json_response(409, {"code": "too_many_requests", "message": "m"}))
    with pytest.raises(ConflictError):
        client.get_asset("a")
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "headers,expected",
    [
        (
            {
                "X-Ratelimit-Limit": "60",
                "X-Ratelimit-Remaining": "0",
                "X-Ratelimit-Used": "60",
                "X-Ratelimit-Reset": "1700000030",
            },
            RateLimitInfo(60, 0, 60, 1700000030.0),
        ),
        (
            {
                "x-ratelimit-request-limit": "600",
                "x-ratelimit-request-remaining": "12",
                "x-ratelimit-request-reset": "5",
            },
            RateLimitInfo(600, 12, None, 5.0),
        ),
        ({"X-RATELIMIT-REMAINING": "3"}, RateLimitInfo(None, 3, None, None)),
        ({"x-ratelimit-limit": "abc"}, None),
        ({}, None),
    ],
)
def test_rate_limit_headers(headers, expected) -> None:
    assert parse_rate_limit(httpx.Headers(headers)) == expected


def test_rate_limit_headers_exposed_and_request_reset_honoured(make_client, clock: FakeClock) -> None:
    answers = [
        json_response(429, None, {"x-ratelimit-request-remaining": "0", "x-ratelimit-request-reset": "7"}),
        json_response(200, {"data": [], "page_info": {}}, {"X-Ratelimit-Remaining": "59", "X-Ratelimit-Limit": "60"}),
    ]
    client, _ = make_client(lambda r: answers.pop(0))
    assert client.last_rate_limit is None
    client.list_connections()
    assert clock.sleeps == [7.0]  # the reset delta is the wait hint on a 429
    assert client.last_rate_limit == RateLimitInfo(limit=60, remaining=59)


def test_rate_limited_error_carries_the_headers(make_client) -> None:
    client, _ = make_client(
        lambda r: json_response(429, None, {"X-Ratelimit-Limit": "60", "retry-after": "2"}), max_retries=0
    )
    with pytest.raises(RateLimitedError) as info:
        client.list_assets()
    assert info.value.retry_after == 2.0 and info.value.rate_limit == RateLimitInfo(limit=60)
