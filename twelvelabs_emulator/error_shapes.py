"""Which error body shape a path answers in (§1, §9): rate-limit 429s differ per endpoint family."""

from __future__ import annotations

from twelvelabs_emulator.errors import ErrorShape

API_PREFIX = "/v1.3"


def rate_limit_shape(path: str, surface: str) -> ErrorShape:
    """Current surface: empty body on /analyze and /search (documented "The response body is empty"),
    wrapped on /embed-v2* and /analyze/tasks*; flat elsewhere and on the classic surface."""
    if surface != "current" or not path.startswith(API_PREFIX + "/"):
        return "flat"
    rest = path[len(API_PREFIX) :].rstrip("/")
    if rest == "/analyze" or rest == "/search" or rest.startswith("/search/"):
        return "empty"
    if rest.startswith(("/embed-v2", "/analyze/tasks", "/analyze/batches")):
        return "wrapped"
    return "flat"
