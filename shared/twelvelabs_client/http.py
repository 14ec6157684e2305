"""Transport: one shared httpx pool, timeouts, error mapping, retries with backoff and a deadline.

Retry rules (see docs/client.md "Retries and idempotency"):
- idempotent calls (GET/PUT/PATCH/DELETE and the read-only POSTs) retry on 408, 429, 5xx, timeouts
  and connection errors;
- creating calls retry freely only when the server cannot have acted (429, connect errors/timeouts,
  pool timeouts); after an *ambiguous* failure (5xx/408 after sending, read/write timeout, dropped
  connection) they run the caller's `recover` lookup first and return what it finds instead of
  creating a second resource.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from .errors import (
    APIConnectionError,
    APITimeoutError,
    DeadlineExceededError,
    NotFoundError,
    RateLimitedError,
    ResponseValidationError,
    TwelveLabsError,
    error_from_response,
    request_id_from,
)
from .settings import ClientSettings

T = TypeVar("T")
IDEMPOTENCY_HEADER = "Idempotency-Key"
# A 409 idempotency_key_conflict says an earlier request with our key (other body, e.g. a re-signed
# URL) was accepted: look back this far for what it created (the conventional key retention, INFERRED).
IDEMPOTENCY_LOOKBACK_SECONDS = 24 * 3600.0
Params = Mapping[str, Any] | Sequence[tuple[str, Any]] | None

# Exceptions raised before any byte of the request left: the server cannot have acted on them.
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_pool_lock = threading.Lock()
_shared_pools: dict[tuple[Any, ...], httpx.Client] = {}


def shared_http_client(settings: ClientSettings) -> httpx.Client:
    """The process-wide httpx.Client for these settings, reused across warm Lambda invocations.

    Keyed by what shapes the pool (base URL, limits); the API key travels per request so clients
    with different keys share connections safely.
    """
    key = (settings.base_url, settings.max_connections)
    with _pool_lock:
        client = _shared_pools.get(key)
        if client is None or client.is_closed:
            client = _new_http_client(settings)
            _shared_pools[key] = client
        return client


def close_shared_clients() -> None:
    """Close every cached pool (tests, interpreter shutdown)."""
    with _pool_lock:
        for client in _shared_pools.values():
            client.close()
        _shared_pools.clear()


def _new_http_client(settings: ClientSettings, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    return httpx.Client(
        transport=transport,
        timeout=_timeout(settings, None, upload=False),
        limits=httpx.Limits(
            max_connections=settings.max_connections, max_keepalive_connections=settings.max_connections
        ),
        # The API key must never follow a redirect to another host; the API does not redirect.
        follow_redirects=False,
    )


def _timeout(settings: ClientSettings, remaining: float | None, *, upload: bool) -> httpx.Timeout:
    read = settings.upload_read_timeout if upload else settings.read_timeout
    values = [settings.connect_timeout, read, settings.write_timeout, settings.pool_timeout]
    if remaining is not None:
        # Never let one attempt outlive the deadline.
        values = [max(min(v, remaining), 0.001) for v in values]
    return httpx.Timeout(connect=values[0], read=values[1], write=values[2], pool=values[3])


def parse_retry_after(headers: httpx.Headers, now: float, *, use_reset: bool = True) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date), retry-after-ms or X-Ratelimit-Reset.

    httpx headers are case-insensitive. Unparseable values are ignored (absence is the common case).
    """
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(float(value) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return max(float(value), 0.0)
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(value)
                return max(parsed.timestamp() - now, 0.0)
            except (TypeError, ValueError, IndexError, OverflowError):
                pass
    value = (headers.get("x-ratelimit-reset") or headers.get("x-ratelimit-request-reset")) if use_reset else None
    if value:
        try:
            reset = float(value)
        except ValueError:
            return None
        # Documented as a UTC epoch; a small number can only be a delta in seconds.
        return max(reset - now, 0.0) if reset > 1_000_000_000 else max(reset, 0.0)
    return None


@dataclass(frozen=True)
class RateLimitInfo:
    """The rate-limit headers of one answer (all optional; the API may send none of them).

    Read case-insensitively from `X-Ratelimit-{Limit,Remaining,Used,Reset}` (classic, [OAS-Feb]) or the
    per-dimension `x-ratelimit-request-{limit,remaining,reset}` seen in 2026 clients (INFERRED names).
    `reset` is the raw header value (documented as UTC epoch seconds).
    """

    limit: int | None = None
    remaining: int | None = None
    used: int | None = None
    reset: float | None = None


def _header_number(headers: httpx.Headers, *names: str) -> float | None:
    for name in names:
        value = headers.get(name)
        if value:
            try:
                return float(value)
            except ValueError:
                continue  # malformed: tolerated like absence
    return None


def parse_rate_limit(headers: httpx.Headers) -> RateLimitInfo | None:
    """RateLimitInfo of an answer, or None when it carries no rate-limit header at all."""
    values = {
        field: _header_number(headers, f"x-ratelimit-{field}", f"x-ratelimit-request-{field}")
        for field in ("limit", "remaining", "used", "reset")
    }
    if all(v is None for v in values.values()):
        return None

    def as_int(value: float | None) -> int | None:
        return int(value) if value is not None else None

    return RateLimitInfo(
        limit=as_int(values["limit"]),
        remaining=as_int(values["remaining"]),
        used=as_int(values["used"]),
        reset=values["reset"],
    )


class Transport:
    """Sends requests for one client; all sleeping/clock access is injectable for tests."""

    def __init__(
        self,
        settings: ClientSettings,
        api_key: str,
        http_client: httpx.Client,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.http = http_client
        self._headers = {"x-api-key": api_key, "user-agent": settings.user_agent, "accept": "application/json"}
        self.sleep = sleep
        self.clock = clock
        self.wall_clock = wall_clock
        self.rand = rand
        self.deadline: Callable[[], float] | None = None
        # Rate-limit headers of the latest answer that carried any (None until then).
        self.last_rate_limit: RateLimitInfo | None = None

    # --- public entry points -------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        json: Any = None,
        files: Any = None,
        idempotent: bool = True,
        upload: bool = False,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        absolute: bool = False,
    ) -> httpx.Response:
        """Send with retries; `idempotent=False` limits retries to failures the server cannot have seen.

        `absolute=True`: `path` is a full URL outside the API (a presigned chunk URL): sent without
        the API key, only with `headers`.
        """
        result = self._run(
            method,
            path,
            params=params,
            json=json,
            files=files,
            idempotent=idempotent,
            upload=upload,
            recover=None,
            stream=False,
            content=content,
            headers=headers,
            absolute=absolute,
        )
        assert isinstance(result, httpx.Response)
        return result

    def create(
        self,
        method: str,
        path: str,
        *,
        recover: Callable[[float], T | None],
        params: Params = None,
        json: Any = None,
        files: Any = None,
        upload: bool = False,
        resendable: bool = True,
        idempotency_key: str | None = None,
    ) -> httpx.Response | T:
        """Send a resource-creating request; after an ambiguous failure call `recover(since_epoch)`.

        Every attempt carries the same `Idempotency-Key` header (a random one when none is given),
        so a server that honours it replays the first answer instead of creating again.
        Returns the response, or what `recover` found. `resendable=False` (a non-seekable upload)
        stops after the first ambiguous failure that recovery cannot resolve.
        """
        key = idempotency_key or f"tlc-{uuid.uuid4().hex}"
        result: httpx.Response | T = self._run(
            method,
            path,
            params=params,
            json=json,
            files=files,
            idempotent=False,
            upload=upload,
            recover=recover,
            stream=False,
            resendable=resendable,
            headers={IDEMPOTENCY_HEADER: key},
        )
        return result

    @contextmanager
    def stream(self, method: str, path: str, *, json: Any = None, idempotent: bool = True) -> Iterator[httpx.Response]:
        """An open streaming response (2xx checked); retries only happen before it is returned."""
        response = self._run(
            method,
            path,
            params=None,
            json=json,
            files=None,
            idempotent=idempotent,
            upload=False,
            recover=None,
            stream=True,
        )
        assert isinstance(response, httpx.Response)
        try:
            yield response
        finally:
            response.close()

    def remaining(self) -> float | None:
        return None if self.deadline is None else float(self.deadline())

    # --- the loop --------------------------------------------------------------------------------

    def _run(
        self,
        method: str,
        path: str,
        *,
        params: Params,
        json: Any,
        files: Any,
        idempotent: bool,
        upload: bool,
        recover: Callable[[float], Any] | None,
        stream: bool,
        resendable: bool = True,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        absolute: bool = False,
    ) -> Any:
        url = path if absolute else self.settings.base_url + path
        send_headers = dict(headers or {}) if absolute else {**self._headers, **(headers or {})}
        first_attempt_wall = self.wall_clock()
        maybe_created = False  # an earlier attempt of a creating call may have acted on the server
        lost_answer = False  # an earlier attempt was sent but its answer lost (any method)
        attempt = 0
        last_error: TwelveLabsError | None = None
        while True:
            if maybe_created and recover is not None:
                found = recover(first_attempt_wall)
                if found is not None:
                    return found
                if not resendable:
                    assert last_error is not None
                    raise last_error
            remaining = self.remaining()
            if remaining is not None and remaining <= 0:
                raise self._deadline_error(method, path, last_error, maybe_created)
            try:
                response = self._send(
                    method,
                    url,
                    params,
                    json,
                    files,
                    _timeout(self.settings, remaining, upload=upload),
                    stream,
                    content,
                    send_headers,
                )
            except httpx.HTTPError as exc:
                cause: BaseException | None = exc
                error = self._transport_error(exc, method, path)
                sent = not isinstance(exc, _UNSENT)
                if isinstance(error, APITimeoutError) and (rem := self.remaining()) is not None and rem <= 0:
                    raise self._deadline_error(method, path, error, maybe_created or sent) from exc
                retry_after: float | None = None
            else:
                if not absolute:
                    info = parse_rate_limit(response.headers)
                    if info is not None:
                        self.last_rate_limit = info
                if response.is_success:
                    return response
                if method == "DELETE" and lost_answer and response.status_code in (400, 404) and not stream:
                    # A retried DELETE whose earlier attempt was lost: "not found" means it worked.
                    err = error_from_response(response.status_code, response.headers, response.content)
                    if isinstance(err, NotFoundError):
                        return response
                body = response.read()
                response.close()
                # X-Ratelimit-Reset rides on every response; it is a wait hint only on a 429.
                retry_after = parse_retry_after(
                    response.headers, self.wall_clock(), use_reset=response.status_code == 429
                )
                error = error_from_response(
                    response.status_code,
                    response.headers,
                    body,
                    retry_after=retry_after,
                    rate_limit=parse_rate_limit(response.headers),
                )
                cause = None
                if recover is not None and error.code == "idempotency_key_conflict":
                    # Our key was already used with another body: that earlier request created something.
                    found = recover(first_attempt_wall - IDEMPOTENCY_LOOKBACK_SECONDS)
                    if found is not None:
                        return found
                    error.ambiguous = True
                    raise error
                # A 429 is a rejection before work; 5xx/408 may come after the server created something.
                sent = not isinstance(error, RateLimitedError)
            if sent and error.retryable:  # a 4xx is an answer, not a lost one
                lost_answer = True
                if not idempotent:
                    error.ambiguous = True
                    maybe_created = True
            last_error = error
            delay = self._delay(attempt, retry_after) if error.retryable else None
            # Give up on: a final error, spent retries, a server wait longer than we may sleep, or a
            # creating call with no lookup (never re-sent blindly after an ambiguous failure).
            if delay is None or attempt >= self.settings.max_retries or (maybe_created and recover is None):
                if maybe_created and recover is not None:
                    # e.g. index_name_already_exists after a lost 201: the earlier attempt worked.
                    found = recover(first_attempt_wall)
                    if found is not None:
                        return found
                raise error from cause
            remaining = self.remaining()
            if remaining is not None and delay >= remaining:
                # Never sleep past the deadline: stop now.
                raise self._deadline_error(method, path, error, maybe_created)
            self.sleep(delay)
            attempt += 1

    def _send(
        self,
        method: str,
        url: str,
        params: Params,
        json: Any,
        files: Any,
        timeout: httpx.Timeout,
        stream: bool,
        content: bytes | None,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        request = self.http.build_request(
            method,
            url,
            params=params,  # type: ignore[arg-type]
            json=json,
            files=files,
            content=content,
            headers=headers,
            timeout=timeout,
        )
        return self.http.send(request, stream=stream)

    def _delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Capped exponential backoff with full jitter, never shorter than the server's hint."""
        cap = min(self.settings.backoff_max, self.settings.backoff_base * (2.0**attempt))
        jittered = self.rand() * cap
        if retry_after is None:
            return jittered
        if retry_after > self.settings.max_retry_wait:
            return None
        return max(retry_after, jittered)

    def _transport_error(self, exc: httpx.HTTPError, method: str, path: str) -> TwelveLabsError:
        what = f"{method} {path}: {type(exc).__name__}: {exc}".rstrip(": ")
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(what)
        if isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError)):
            error = APIConnectionError(what, code="invalid_request")
            error.retryable = False  # our bug or bad settings; retrying cannot help
            return error
        return APIConnectionError(what)

    def _deadline_error(
        self, method: str, path: str, cause: TwelveLabsError | None, ambiguous: bool
    ) -> DeadlineExceededError:
        detail = f"; last error: {cause}" if cause is not None else ""
        error = DeadlineExceededError(f"deadline reached during {method} {path}{detail}", ambiguous=ambiguous)
        error.__cause__ = cause
        return error


def parse_json(response: httpx.Response) -> Any:
    """The JSON body of a 2xx answer, or ResponseValidationError naming the request."""
    try:
        return response.json()
    except ValueError as exc:
        raise ResponseValidationError(
            f"expected JSON from {response.request.method} {response.request.url.path}, got "
            f"{response.headers.get('content-type', 'no content type')}: {response.text[:200]!r}",
            status_code=response.status_code,
            request_id=request_id_from(response.headers),
        ) from exc


__all__ = [
    "IDEMPOTENCY_HEADER",
    "RateLimitInfo",
    "Transport",
    "close_shared_clients",
    "parse_json",
    "parse_rate_limit",
    "parse_retry_after",
    "shared_http_client",
]
