"""Idempotency-Key values derived from the caller's key, stable across retries and re-runs.

The header value is a hash of (caller key, operation, target): the same job retrying the same
operation sends the same value, another operation of that job a different one. INFERRED server
semantics (§8 of the 2026 reference: UNCONFIRMED): same key + same body replays the first answer.
"""

from __future__ import annotations

import hashlib
import re

_CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def derive_idempotency_key(caller_key: str | None, operation: str, *parts: str | None) -> str | None:
    """`tlc-<40 hex>` for a caller key, None without one (the transport then uses a random key per call)."""
    if caller_key is None:
        return None
    text = "\x1f".join([caller_key, operation, *(p or "" for p in parts)])
    return "tlc-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def custom_id_for(caller_key: str) -> str:
    """A documented `custom_id` (1-64 of [A-Za-z0-9_-]) standing for the caller's key.

    Used as-is when already valid, else `k-` + 40 hex of its hash (deterministic, so a re-run finds it).
    """
    if _CUSTOM_ID.match(caller_key):
        return caller_key
    return "k-" + hashlib.sha256(caller_key.encode("utf-8")).hexdigest()[:40]
