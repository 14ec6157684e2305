"""Fixed one-minute windows per API key, reported in `X-Ratelimit-*` headers on every response."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60
# Reported when no limit is configured: large, so no client throttles itself against the emulator.
UNLIMITED_REPORTED = 1_000_000


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    used: int
    reset_epoch: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def headers(self) -> dict[str, str]:
        return {
            "X-Ratelimit-Limit": str(self.limit),
            "X-Ratelimit-Remaining": str(self.remaining),
            "X-Ratelimit-Used": str(self.used),
            "X-Ratelimit-Reset": str(self.reset_epoch),
        }

    def retry_after(self, now: float | None = None) -> int:
        return max(1, math.ceil(self.reset_epoch - (time.time() if now is None else now)))


class RateLimiter:
    def __init__(self, per_minute: int | None, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock  # epoch seconds; tests replace it to control the windows
        self._lock = threading.Lock()
        self._per_minute = per_minute
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window start, used)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()

    def hit(self, key: str) -> RateDecision:
        """Count one request; over the limit it is refused (and not counted)."""
        now = self.clock()
        window = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        limit = self._per_minute or UNLIMITED_REPORTED
        with self._lock:
            start, used = self._windows.get(key, (window, 0))
            if start != window:
                used = 0
            if used >= limit:
                return RateDecision(False, limit, used, window + WINDOW_SECONDS)
            used += 1
            self._windows[key] = (window, used)
            return RateDecision(True, limit, used, window + WINDOW_SECONDS)

    def peek(self, key: str) -> RateDecision:
        now = self.clock()
        window = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        limit = self._per_minute or UNLIMITED_REPORTED
        with self._lock:
            start, used = self._windows.get(key, (window, 0))
            return RateDecision(True, limit, used if start == window else 0, window + WINDOW_SECONDS)
