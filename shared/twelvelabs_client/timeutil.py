"""RFC 3339 timestamps <-> epoch seconds (the API's created_at values)."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: str | None) -> float | None:
    """Epoch seconds of an RFC 3339 string, None when absent or unparseable (tolerant by design)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def format_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
