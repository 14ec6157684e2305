"""Everything a request handler or background job needs, built once per Emulator."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from twelvelabs_emulator.config import EmulatorConfig
from twelvelabs_emulator.faults import Faults
from twelvelabs_emulator.idempotency import IdempotencyStore
from twelvelabs_emulator.ratelimit import RateLimiter
from twelvelabs_emulator.scheduler import Scheduler
from twelvelabs_emulator.store import Store
from twelvelabs_emulator.webhooks import WebhookDispatcher


class Runtime:
    def __init__(self, config: EmulatorConfig, data_dir: Path) -> None:
        self.config = config  # a private copy: /_emulator/config mutates it at runtime
        self.data_dir = data_dir
        self.media_dir = data_dir / "media"
        self.upload_dir = data_dir / "uploads"
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(data_dir / "state.json" if config.state_dir is not None else None)
        self.scheduler = Scheduler()
        self.faults = Faults()
        self.limiter = RateLimiter(config.rate_limit_per_minute)
        self.idempotency = IdempotencyStore(config.idempotency_ttl_seconds)
        self.webhooks = WebhookDispatcher(
            self.scheduler,
            self.faults,
            lambda: (self.config.webhook_url, self.config.webhook_secret),
            max_attempts=config.webhook_max_attempts,
            retry_base_seconds=config.webhook_retry_base_seconds,
            timeout_seconds=config.webhook_timeout_seconds,
        )
        self._log_lock = threading.Lock()
        self.request_log: deque[dict[str, object]] = deque(maxlen=config.request_log_size)
        self.import_lock = threading.Lock()
        self.sleep: Callable[[float], None] = time.sleep  # injected latency waits here (tests record it)
        self.public_url = ""  # http://host:port, set once the socket is bound

    @property
    def step_seconds(self) -> float:
        """The lifecycle has four timed steps (validating, pending, queued, indexing)."""
        return self.config.processing_seconds / 4

    @property
    def asset_seconds(self) -> float:
        """How long an asset stays `processing`."""
        configured = self.config.asset_processing_seconds
        return self.step_seconds if configured is None else configured

    def log_request(self, method: str, path: str, status: int) -> None:
        with self._log_lock:
            self.request_log.append({"method": method, "path": path, "status": status})

    def requests(self) -> list[dict[str, object]]:
        with self._log_lock:
            return list(self.request_log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self.request_log.clear()

    def remove_file(self, path: str | None, owned: bool) -> None:
        if path and owned:
            Path(path).unlink(missing_ok=True)
