"""Webhook signature verification (`TL-Signature: t=<unix>,v1=<hex>`) and typed parsing.

Fails closed: a missing or malformed header, a wrong secret, or a timestamp outside the window
raises InvalidSignatureError. No httpx import here: the webhook Lambda stays light.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SIGNATURE_HEADER = "TL-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class InvalidSignatureError(Exception):
    """The notification cannot be trusted (or parsed); answer 401/400 and do not act on it."""


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=(), defer_build=True)


class WebhookModel(_Tolerant):
    """data.models[] item; key names are UNVERIFIED in the docs, so both spellings are read."""

    name: str | None = None
    options: list[str] | None = None
    model_name: str | None = None
    model_options: list[str] | None = None


class WebhookData(_Tolerant):
    id: str | None = None  # the TASK id (get the video id from GET /tasks/{id})
    status: str | None = None
    metadata: dict[str, Any] | None = None
    models: list[WebhookModel] | None = None
    tags: list[str] | None = None


class WebhookEvent(_Tolerant):
    id: str = Field(min_length=1)  # notification id: deduplicate on it
    created_at: str | None = None
    type: str = Field(min_length=1)
    data: WebhookData = Field(default_factory=WebhookData)

    @property
    def task_id(self) -> str | None:
        return self.data.id

    @property
    def status(self) -> str | None:
        return self.data.status


class WebhookVideoSource(_Tolerant):
    type: str | None = None  # url | base64_string | asset_id | video_id (kept open)
    url: str | None = None
    asset_id: str | None = None
    video_id: str | None = None
    system_metadata: dict[str, Any] | None = None


class WebhookError(_Tolerant):
    message: str | None = None


class AnalyzeTaskWebhookData(_Tolerant):
    """data of analyze.task.* (SDK 1.3.5+): no result/completed_at/request_params; fetch the task."""

    id: str = Field(min_length=1)  # the analysis TASK id
    custom_id: str | None = None
    created_at: str | None = None
    status: str | None = None  # ready | failed | canceled (kept open)
    video_source: WebhookVideoSource | None = None
    error: WebhookError | None = None  # ready: truncation warning; failed: reason; never on canceled


class AnalyzeTaskWebhookEvent(_Tolerant):
    id: str = Field(min_length=1)  # event id: retries reuse it (dedupe key)
    created_at: str | None = None
    type: str = Field(min_length=1)
    data: AnalyzeTaskWebhookData

    @property
    def task_id(self) -> str:
        return self.data.id

    @property
    def status(self) -> str | None:
        return self.data.status


ANALYZE_TASK_EVENT_TYPES = frozenset({"analyze.task.ready", "analyze.task.failed", "analyze.task.canceled"})
INDEX_TASK_EVENT_TYPES = frozenset({"index.task.ready", "index.task.failed"})
TypedWebhookEvent = WebhookEvent | AnalyzeTaskWebhookEvent


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise InvalidSignatureError("malformed TL-Signature header")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError as exc:
                raise InvalidSignatureError("malformed TL-Signature timestamp") from exc
        elif key == "v1":
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise InvalidSignatureError("TL-Signature header lacks t= or v1=")
    return timestamp, signatures


def sign(raw_body: bytes, secret: str | bytes, timestamp: int) -> str:
    """The header value TwelveLabs would send (tests, the emulator, replay tooling)."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    raw_body: bytes,
    signature_header: str | None,
    secret: str | bytes,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise InvalidSignatureError unless the header signs this exact body with this secret, recently."""
    if not secret:
        raise InvalidSignatureError("no webhook secret configured")
    if not signature_header or not signature_header.strip():
        raise InvalidSignatureError("missing TL-Signature header")
    if not isinstance(raw_body, (bytes, bytearray)):
        raise TypeError("raw_body must be the bytes as received (do not re-serialise the JSON)")
    timestamp, signatures = _parse_header(signature_header)
    current = time.time() if now is None else now
    # Both directions: an old replay and a timestamp from the future are rejected alike.
    if abs(current - timestamp) >= tolerance_seconds:
        raise InvalidSignatureError("TL-Signature timestamp outside the tolerance window")
    expected = sign(bytes(raw_body), secret, timestamp).split("v1=", 1)[1]
    # Bytes, not str: compare_digest raises TypeError on non-ASCII text (an attacker-chosen header).
    if not any(
        hmac.compare_digest(expected.encode(), candidate.encode("utf-8", "replace")) for candidate in signatures
    ):
        raise InvalidSignatureError("TL-Signature does not match")


def parse_webhook(
    raw_body: bytes,
    signature_header: str | None,
    secret: str | bytes,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> WebhookEvent:
    """Verify, then parse into a WebhookEvent (unknown event types and fields are kept)."""
    verify_signature(raw_body, signature_header, secret, tolerance_seconds, now)
    try:
        return WebhookEvent.model_validate(json.loads(raw_body))
    except (ValueError, ValidationError) as exc:
        raise InvalidSignatureError(f"signed body is not a webhook event: {exc}") from exc


def typed_event(event: WebhookEvent) -> TypedWebhookEvent:
    """The typed model of a parsed event: `analyze.task.*` -> AnalyzeTaskWebhookEvent (raises
    InvalidSignatureError when such an event lacks its task id); anything else stays a WebhookEvent
    (index.task.* and event types this client does not know yet)."""
    if event.type in ANALYZE_TASK_EVENT_TYPES or event.type.startswith("analyze.task."):
        try:
            return AnalyzeTaskWebhookEvent.model_validate(event.model_dump(by_alias=True, exclude_unset=True))
        except ValidationError as exc:
            raise InvalidSignatureError(f"signed body is not an {event.type} event: {exc}") from exc
    return event


def parse_webhook_event(
    raw_body: bytes,
    signature_header: str | None,
    secret: str | bytes,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> TypedWebhookEvent:
    """Verify (exactly as parse_webhook), then parse into the typed event for its `type`."""
    return typed_event(parse_webhook(raw_body, signature_header, secret, tolerance_seconds, now))
