"""Retries on idempotent calls: backoff with jitter, rate-limit headers, the deadline."""

from __future__ import annotations

import email.utils

import httpx
import pytest
from twelvelabs_client.errors import (
    APIConnectionError,
    APITimeoutError,
    DeadlineExceededError,
    InvalidParameterError,
    RateLimitedError,
    ServerError,
)
from twelvelabs_client.http import parse_retry_after

from tests.client.helpers import FakeClock, json_response

TASK = {"_id": "t1", "status": "ready"}


def sequence(*answers):
    """Handler answering from a list: httpx.Response, or an exception instance to raise."""
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


def test_429_storm_honours_ratelimit_reset(make_client, clock: FakeClock) -> None:
    # Headers are computed when each request arrives: the reset is "now + delta" at that moment.
    hints = [{"X-RateLimit-Reset": 7}, {"x-ratelimit-reset": 3}, {"Retry-After": "2"}]  # mixed case on purpose

    def handler(request: httpx.Request) -> httpx.Response:
        if not hints:
            return json_response(200, TASK)
        hint = hints.pop(0)
        headers = {k: (str(int(clock.now + v)) if isinstance(v, int) else v) for k, v in hint.items()}
        return httpx.Response(429, headers=headers)

    client, recorder = make_client(handler, backoff_base=0.1, backoff_max=1.0)
    assert client.get_task("t1").id == "t1"
    assert len(recorder.requests) == 4
    # Server hints win over the (smaller) jittered backoff.
    assert clock.sleeps == pytest.approx([7.0, 3.0, 2.0])


def test_backoff_is_capped_exponential_with_full_jitter(make_client, clock: FakeClock) -> None:
    client, _recorder = make_client(
        sequence(*[json_response(503)] * 5, json_response(200, TASK)), max_retries=5, backoff_base=0.5, backoff_max=3.0
    )
    client.get_task("t1")
    # rand() == 1.0 in tests: the jitter's upper bound, base * 2**n capped at backoff_max.
    assert clock.sleeps == pytest.approx([0.5, 1.0, 2.0, 3.0, 3.0])


def test_jitter_uses_the_random_source(clock: FakeClock) -> None:
    from twelvelabs_client import ClientSettings, TwelveLabsClient

    values = iter([0.0, 0.5])
    recorder_calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        recorder_calls.append(request)
        return json_response(500) if len(recorder_calls) < 3 else json_response(200, TASK)

    client = TwelveLabsClient(
        api_key="k",
        settings=ClientSettings(base_url="http://x/v1.3", backoff_base=1.0),
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        wall_clock=clock.time,
        rand=lambda: next(values),
    )
    client.get_task("t1")
    assert clock.sleeps == pytest.approx([0.0, 1.0])


def test_retries_exhausted_raises_last_error(make_client, clock: FakeClock) -> None:
    client, recorder = make_client(sequence(json_response(500, {"code": "internal", "message": "boom"})), max_retries=2)
    with pytest.raises(ServerError) as info:
        client.list_tasks()
    assert len(recorder.requests) == 3 and len(clock.sleeps) == 2
    assert info.value.code == "internal"


def test_retry_after_longer_than_allowed_raises_with_hint(make_client, clock: FakeClock) -> None:
    client, recorder = make_client(sequence(httpx.Response(429, headers={"Retry-After": "120"})), max_retry_wait=30)
    with pytest.raises(RateLimitedError) as info:
        client.list_tasks()
    assert info.value.retry_after == 120 and clock.sleeps == [] and len(recorder.requests) == 1


def test_4xx_is_not_retried(make_client, clock: FakeClock) -> None:
    client, recorder = make_client(sequence(json_response(400, {"code": "parameter_invalid", "message": "m"})))
    with pytest.raises(InvalidParameterError):
        client.list_tasks()
    assert len(recorder.requests) == 1 and clock.sleeps == []


@pytest.mark.parametrize(
    "exc,cls",
    [
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.ConnectTimeout("slow"), APITimeoutError),
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), APIConnectionError),
        (httpx.ReadError("reset"), APIConnectionError),
    ],
)
def test_transport_errors_retried_on_get(make_client, clock: FakeClock, exc: Exception, cls: type) -> None:
    client, recorder = make_client(sequence(exc, json_response(200, TASK)))
    assert client.get_task("t1").id == "t1"
    assert len(recorder.requests) == 2
    client2, _ = make_client(sequence(exc), max_retries=1)
    with pytest.raises(cls) as info:
        client2.get_task("t1")
    assert info.value.status_code is None and str(info.value).startswith(f"{info.value.code}: GET /tasks/t1")


def test_read_only_posts_are_retried(make_client, clock: FakeClock) -> None:
    page = {"data": [], "page_info": {"limit_per_page": 10}}
    client, recorder = make_client(sequence(json_response(500), httpx.ReadTimeout("t"), json_response(200, page)))
    client.search("i", search_options=["visual"], query_text="goal")
    assert len(recorder.calls("POST", "/search")) == 3
    client, recorder = make_client(sequence(json_response(503), json_response(200, {"id": "g", "title": "T"})))
    assert client.gist("v", ["title"]).title == "T"


def test_deadline_hit_mid_retry_never_sleeps_past_it(make_client, clock: FakeClock) -> None:
    deadline = clock.now + 2.5
    client, recorder = make_client(sequence(json_response(503)), max_retries=10, backoff_base=1.0, backoff_max=8.0)
    client.with_deadline(lambda: deadline - clock.now)
    with pytest.raises(DeadlineExceededError) as info:
        client.get_task("t1")
    # sleeps 1 (t=1), 2 would end at t=3 > 2.5: stop instead of sleeping.
    assert clock.sleeps == [1.0] and len(recorder.requests) == 2
    assert clock.now <= deadline
    assert isinstance(info.value, APITimeoutError) and not info.value.retryable
    assert info.value.code == "deadline_exceeded" and "server_error" in info.value.message
    assert isinstance(info.value.__cause__, ServerError)


def test_deadline_already_passed_sends_nothing(make_client, clock: FakeClock) -> None:
    client, recorder = make_client(sequence(json_response(200, TASK)))
    with pytest.raises(DeadlineExceededError):
        client.with_deadline(lambda: -1.0).get_task("t1")
    assert recorder.requests == []
    assert client.with_deadline(None).get_task("t1").id == "t1"


def test_deadline_caps_the_per_attempt_timeouts(make_client, clock: FakeClock) -> None:
    client, recorder = make_client(sequence(json_response(200, TASK)), read_timeout=30, connect_timeout=5)
    client.with_deadline(lambda: 1.5).get_task("t1")
    timeout = recorder.requests[0].extensions["timeout"]
    assert timeout["read"] == pytest.approx(1.5) and timeout["connect"] == pytest.approx(1.5)


def test_rate_limit_hint_beyond_deadline_stops_at_once(make_client, clock: FakeClock) -> None:
    client, _recorder = make_client(sequence(httpx.Response(429, headers={"retry-after": "10"})))
    client.with_deadline(lambda: 5.0)
    with pytest.raises(DeadlineExceededError):
        client.list_indexes()
    assert clock.sleeps == []


def test_parse_retry_after_forms() -> None:
    now = 1_700_000_000.0

    def h(**kw: str) -> httpx.Headers:
        return httpx.Headers({k.replace("_", "-"): v for k, v in kw.items()})

    assert parse_retry_after(h(retry_after="3"), now) == 3
    assert parse_retry_after(h(retry_after_ms="1500"), now) == 1.5
    date = email.utils.formatdate(now + 12, usegmt=True)
    assert parse_retry_after(h(retry_after=date), now) == pytest.approx(12)
    assert parse_retry_after(h(x_ratelimit_reset=str(int(now + 9))), now) == 9
    assert parse_retry_after(h(x_ratelimit_reset="4"), now) == 4  # a delta, not an epoch
    assert parse_retry_after(h(x_ratelimit_reset=str(int(now - 5))), now) == 0
    assert parse_retry_after(h(retry_after="soon"), now) is None
    assert parse_retry_after(h(), now) is None


def test_ratelimit_reset_on_a_5xx_is_not_a_wait_hint(make_client, clock: FakeClock) -> None:
    # X-Ratelimit-* ride on every response; on a 500 the reset (up to a minute away) must not stall us.
    headers = {"X-Ratelimit-Reset": str(int(clock.now + 55)), "X-Ratelimit-Remaining": "90"}
    client, _recorder = make_client(sequence(json_response(500, None, headers), json_response(200, TASK)))
    client.get_task("t1")
    assert clock.sleeps == [0.5]


def test_retry_after_on_503_is_honoured(make_client, clock: FakeClock) -> None:
    client, _ = make_client(sequence(json_response(503, None, {"Retry-After": "4"}), json_response(200, TASK)))
    client.get_task("t1")
    assert clock.sleeps == [4.0]
