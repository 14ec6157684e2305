"""Exception types, one per meaning, and the mapping from an HTTP answer to them.

`str(exc)` starts with "<code>: <message>" because other parts of the system (the pipeline's
failure records) parse it back out.
"""

from __future__ import annotations

import json
from typing import Any

# Headers that may carry a request id; the first one present wins (case-insensitive lookup).
REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-requestid", "x-amz-request-id", "request-id", "x-correlation-id")


class TwelveLabsError(Exception):
    """Base of every error the client raises.

    `ambiguous` is True when the request may have taken effect on the server although we got no
    answer (5xx after sending, read timeout, dropped connection).
    """

    default_code = "error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        body: Any = None,
        ambiguous: bool = False,
        details: Any = None,
    ) -> None:
        self.code = code or self.default_code
        # `details` of the wrapped error shape ({"error": {code, message, details}}), when sent.
        self.details = details
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.body = body
        self.ambiguous = ambiguous
        super().__init__(str(self))

    def __str__(self) -> str:
        details = []
        if self.status_code is not None:
            details.append(f"HTTP {self.status_code}")
        if self.request_id:
            details.append(f"request {self.request_id}")
        suffix = f" ({', '.join(details)})" if details else ""
        return f"{self.code}: {self.message}{suffix}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class AuthenticationError(TwelveLabsError):
    """401 / api_key_invalid: the key is wrong or expired."""

    default_code = "api_key_invalid"


class PermissionDeniedError(AuthenticationError):
    """403: the key is valid but not allowed to do this (plan, region)."""

    default_code = "api_not_allowed"


class NotFoundError(TwelveLabsError):
    """404 or resource_not_exist (the API uses 400 for some unknown ids)."""

    default_code = "resource_not_exist"


class InvalidParameterError(TwelveLabsError):
    """Other 4xx: parameter_invalid, parameter_not_provided, video_* requirement codes, ..."""

    default_code = "parameter_invalid"


class PageTokenExpiredError(InvalidParameterError):
    """search_page_token_expired: start the search again."""

    default_code = "search_page_token_expired"


class ConflictError(TwelveLabsError):
    """409, index_name_already_exists, task_cannot_be_deleted."""

    default_code = "conflict"


class IdempotencyKeyInUseError(ConflictError):
    """409 idempotency_key_in_use: an earlier attempt with the same Idempotency-Key is still running.

    The one 409 that is retried: once that attempt finishes, a retry is answered with its replayed result.
    """

    default_code = "idempotency_key_in_use"
    retryable = True


class RateLimitedError(TwelveLabsError):
    """429. `retry_after` is the server's hint in seconds when it gave one; `rate_limit` the parsed
    X-Ratelimit-* / x-ratelimit-request-* headers (None when the answer carried none)."""

    default_code = "too_many_requests"
    retryable = True

    def __init__(
        self, message: str, *, retry_after: float | None = None, rate_limit: Any = None, **kwargs: Any
    ) -> None:
        self.retry_after = retry_after
        self.rate_limit = rate_limit
        super().__init__(message, **kwargs)


class ServerError(TwelveLabsError):
    """5xx."""

    default_code = "server_error"
    retryable = True


class APITimeoutError(TwelveLabsError):
    """Connect/read/write/pool timeout (or HTTP 408)."""

    default_code = "timeout"
    retryable = True


class APIConnectionError(TwelveLabsError):
    """Connection refused, reset or dropped."""

    default_code = "connection_error"
    retryable = True


class DeadlineExceededError(APITimeoutError):
    """Our own deadline (e.g. the Lambda's remaining time) ran out; never retried."""

    default_code = "deadline_exceeded"
    retryable = False


class ResponseValidationError(TwelveLabsError):
    """The API answered 2xx with a body we cannot parse."""

    default_code = "invalid_response"


class WaitTimeoutError(TwelveLabsError):
    """A bounded wait (asset ready, indexed asset ready, task done) ran out before a terminal status."""

    default_code = "wait_timeout"


class ProcessingFailedError(TwelveLabsError):
    """A waited-for resource ended `failed` (or `canceled`); `.resource` is the last object fetched."""

    default_code = "processing_failed"

    def __init__(self, message: str, *, resource: Any = None, **kwargs: Any) -> None:
        self.resource = resource
        super().__init__(message, **kwargs)


_CODE_TO_CLASS: dict[str, type[TwelveLabsError]] = {
    "api_key_invalid": AuthenticationError,
    "unauthorized": AuthenticationError,
    "api_not_allowed": PermissionDeniedError,
    "api_allowed_for_paid_plan": PermissionDeniedError,
    "region_not_allowed": PermissionDeniedError,
    "resource_not_exist": NotFoundError,
    "resource_not_exists": NotFoundError,  # tolerate the spelling seen in some clients
    "index_name_already_exists": ConflictError,
    "task_cannot_be_deleted": ConflictError,
    "idempotency_key_in_use": IdempotencyKeyInUseError,
    "too_many_requests": RateLimitedError,
    "search_page_token_expired": PageTokenExpiredError,
    "request_canceled_or_timed_out": APITimeoutError,
    # Wrapped-shape codes of the newer endpoints ([OAS-Feb] examples, upper case).
    "rate_limit_exceeded": RateLimitedError,
    "validation_error": InvalidParameterError,
    "not_found": NotFoundError,
    "internal_server_error": ServerError,
    "redirect_uri_already_registered": ConflictError,
}


def _default_code(status: int) -> str:
    if status == 401:
        return "api_key_invalid"
    if status == 403:
        return "api_not_allowed"
    if status == 404:
        return "resource_not_exist"
    if status == 408:
        return "request_canceled_or_timed_out"
    if status == 409:
        return "conflict"
    if status == 429:
        return "too_many_requests"
    if status >= 500:
        return "server_error"
    return f"http_{status}"


def _class_for_status(status: int) -> type[TwelveLabsError]:
    if status == 401:
        return AuthenticationError
    if status == 403:
        return PermissionDeniedError
    if status == 404:
        return NotFoundError
    if status == 408:
        return APITimeoutError
    if status == 409:
        return ConflictError
    if status == 429:
        return RateLimitedError
    if status >= 500:
        return ServerError
    return InvalidParameterError


def parse_error_body(content: bytes) -> tuple[str | None, str | None, Any]:
    """Extract (code, message, parsed body) from an error body of any shape, or Nones."""
    text = content.decode("utf-8", errors="replace").strip()
    if not text:
        return None, None, None
    try:
        body = json.loads(text)
    except ValueError:
        # Non-JSON (an HTML page from a gateway, plain text): keep a bounded excerpt as the message.
        return None, text[:300], text
    if not isinstance(body, dict):
        return None, text[:300], body
    wrapped = body.get("error")
    inner: dict[str, Any] = wrapped if isinstance(wrapped, dict) else body  # newer wrapped form
    code = inner.get("code", inner.get("error_code"))  # SDK 1.0.2 typed an int error_code
    message = inner.get("message")
    if message is None and isinstance(body.get("error"), str):
        message = body["error"]  # {"error": "text"}: seen on gateways
    return (str(code) if code is not None else None), (str(message) if message is not None else None), body


def _details(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("details")
    return None


def error_from_response(
    status: int, headers: Any, content: bytes, *, retry_after: float | None = None, rate_limit: Any = None
) -> TwelveLabsError:
    """Map a non-2xx answer to the exception for its meaning (code first, then HTTP status)."""
    code, message, body = parse_error_body(content)
    code = code or _default_code(status)
    # Upper-case wrapped codes (RATE_LIMIT_EXCEEDED) map like their lower-case spelling; the code keeps its case.
    cls = _CODE_TO_CLASS.get(code) or _CODE_TO_CLASS.get(code.lower())
    if cls is None:
        cls = _class_for_status(status)
    if status >= 500 and cls is not ServerError:
        cls = ServerError  # a 5xx is a server failure whatever code it carries
    elif status in (408, 409, 429) and not issubclass(cls, _class_for_status(status)):
        cls = _class_for_status(status)  # the status decides retrying: 409 permanent, 408/429 retried
    message = message or f"HTTP {status} with {'an empty' if not content.strip() else 'an unparseable'} body"
    request_id = request_id_from(headers)
    kwargs: dict[str, Any] = {
        "code": code,
        "status_code": status,
        "request_id": request_id,
        "body": body,
        "details": _details(body),
    }
    if cls is RateLimitedError:
        return RateLimitedError(message, retry_after=retry_after, rate_limit=rate_limit, **kwargs)
    return cls(message, **kwargs)


def request_id_from(headers: Any) -> str | None:
    """The request id from the first known header present (httpx headers are case-insensitive)."""
    if headers is None:
        return None
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return str(value)
    return None
