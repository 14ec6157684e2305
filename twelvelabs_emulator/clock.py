"""Ids and timestamps in the API's wire formats."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def new_id() -> str:
    """A 24-hex-char id, the Mongo ObjectId look the API uses for every resource."""
    return secrets.token_hex(12)


def notification_id() -> str:
    """Webhook notification ids: `whe_` + 32 hex chars (documented example prefix)."""
    return "whe_" + secrets.token_hex(16)


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc3339(value: datetime) -> str:
    """RFC 3339 with milliseconds and a `Z`, as the API prints timestamps."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp or a bare date; naive values are taken as UTC. Raises ValueError."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
