"""Fault injection for tests, driven by the admin API (`/_emulator/faults`)."""

from __future__ import annotations

import random
import threading

from pydantic import BaseModel, ConfigDict, Field


class FaultSettings(BaseModel):
    """All fields optional in a POST; they are merged into the current faults."""

    model_config = ConfigDict(extra="forbid")

    server_error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    server_error_status: int = Field(default=500, ge=500, le=599)
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    rate_limit_next: int = Field(default=0, ge=0)
    error_after_create_next: int = Field(default=0, ge=0)
    fail_next_tasks: int = Field(default=0, ge=0)
    drop_next_webhooks: int = Field(default=0, ge=0)
    fail_next_analyze_tasks: int = Field(default=0, ge=0)  # next N /analyze/tasks end `failed`
    path_prefix: str | None = None


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings = FaultSettings()
        self._random = random.Random()

    def snapshot(self) -> FaultSettings:
        with self._lock:
            return self._settings.model_copy()

    def merge(self, changes: dict[str, object]) -> FaultSettings:
        with self._lock:
            merged = self._settings.model_dump() | changes
            self._settings = FaultSettings.model_validate(merged)
            return self._settings.model_copy()

    def clear(self) -> None:
        with self._lock:
            self._settings = FaultSettings()

    def applies(self, path: str) -> bool:
        prefix = self._settings.path_prefix
        return prefix is None or path.startswith(prefix)

    def latency_seconds(self, path: str) -> float:
        with self._lock:
            return self._settings.latency_ms / 1000 if self.applies(path) else 0.0

    def take_server_error(self, path: str) -> int | None:
        with self._lock:
            s = self._settings
            if self.applies(path) and s.server_error_rate > 0 and self._random.random() < s.server_error_rate:
                return s.server_error_status
            return None

    def _take(self, field: str, path: str | None) -> bool:
        with self._lock:
            if path is not None and not self.applies(path):
                return False
            left = getattr(self._settings, field)
            if left <= 0:
                return False
            setattr(self._settings, field, left - 1)
            return True

    def take_rate_limit(self, path: str) -> bool:
        return self._take("rate_limit_next", path)

    def take_error_after_create(self, path: str) -> bool:
        return self._take("error_after_create_next", path)

    def take_fail_task(self) -> bool:
        return self._take("fail_next_tasks", None)

    def take_fail_analyze_task(self) -> bool:
        return self._take("fail_next_analyze_tasks", None)

    def take_drop_webhook(self) -> bool:
        return self._take("drop_next_webhooks", None)
