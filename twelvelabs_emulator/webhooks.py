"""Signed webhook delivery (`index.task.*`, `analyze.task.*`) with bounded exponential-backoff retries.

Every retry re-sends the same body, so the event `id` is stable (receivers dedupe on it); only the
`TL-Signature` timestamp is fresh per attempt."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable

import httpx
from pydantic import BaseModel

from twelvelabs_emulator.clock import notification_id, rfc3339, utcnow
from twelvelabs_emulator.faults import Faults
from twelvelabs_emulator.models import IndexRecord, TaskRecord
from twelvelabs_emulator.scheduler import Scheduler


class Delivery(BaseModel):
    id: str
    type: str
    task_id: str
    attempts: int = 0
    delivered: bool = False
    last_status: int | None = None
    last_error: str | None = None
    dropped: bool = False
    url: str


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def task_event_payload(event_type: str, task: TaskRecord, index: IndexRecord | None) -> dict[str, object]:
    """The documented §11.2 payload: `data.id` is the task id, not the video id."""
    models = [{"name": m.model_name, "options": list(m.model_options)} for m in index.models] if index else []
    metadata: dict[str, object] = {"duration": task.media.duration} if task.media else {}
    return {
        "id": notification_id(),
        "created_at": rfc3339(utcnow()),
        "type": event_type,
        "data": {"id": task.id, "status": task.status, "metadata": metadata, "models": models, "tags": []},
    }


class WebhookDispatcher:
    def __init__(
        self,
        scheduler: Scheduler,
        faults: Faults,
        settings: Callable[[], tuple[str | None, str | None]],
        max_attempts: int,
        retry_base_seconds: float,
        timeout_seconds: float,
    ) -> None:
        self._scheduler = scheduler
        self._faults = faults
        self._settings = settings  # () -> (url, secret), read at event time so /_emulator/config applies
        self._max_attempts = max_attempts
        self._retry_base = retry_base_seconds
        self._timeout = timeout_seconds
        self._lock = threading.Lock()
        self._log: list[Delivery] = []
        self._scheduled = 0  # attempts waiting in the scheduler (0 = nothing more will be sent)

    def deliveries(self) -> list[dict[str, object]]:
        with self._lock:
            return [d.model_dump() for d in self._log]

    def clear(self) -> None:
        with self._lock:
            self._log.clear()

    def deliveries_for(self, task_id: str) -> list[Delivery]:
        with self._lock:
            return [d.model_copy() for d in self._log if d.task_id == task_id]

    def scheduled_attempts(self) -> int:
        """Attempts queued but not yet made: lets tests see that retries have stopped without sleeping."""
        with self._lock:
            return self._scheduled

    def configured(self) -> bool:
        return bool(self._settings()[0])

    def notify(self, event_type: str, task: TaskRecord, index: IndexRecord | None) -> None:
        self.send(event_type, task.id, task_event_payload(event_type, task, index))

    def send(self, event_type: str, task_id: str, payload: dict[str, object]) -> None:
        """Deliver `payload` (its `id` is the event id) to the configured URL, if any, with retries."""
        url, secret = self._settings()
        if not url:
            return
        delivery = Delivery(id=str(payload["id"]), type=event_type, task_id=task_id, url=url)
        with self._lock:
            self._log.append(delivery)
        if self._faults.take_drop_webhook():
            with self._lock:
                delivery.dropped = True
            return
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        self._schedule(0, delivery, url, secret, body)

    def _schedule(self, delay: float, delivery: Delivery, url: str, secret: str | None, body: bytes) -> None:
        with self._lock:
            self._scheduled += 1
        self._scheduler.call_later(delay, lambda: self._attempt(delivery, url, secret, body))

    def _attempt(self, delivery: Delivery, url: str, secret: str | None, body: bytes) -> None:
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["TL-Signature"] = signature_header(secret, body, int(time.time()))
        status: int | None = None
        error: str | None = None
        try:
            status = httpx.post(url, content=body, headers=headers, timeout=self._timeout).status_code
        except httpx.HTTPError as exc:  # unreachable / timed out receivers are retried like non-2xx answers
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._scheduled -= 1
            delivery.attempts += 1
            delivery.last_status = status
            delivery.last_error = error
            delivery.delivered = status is not None and 200 <= status < 300
            attempts = delivery.attempts
            retry = not delivery.delivered and attempts < self._max_attempts
            if retry:
                self._scheduled += 1  # counted under the same lock, so the count never dips to 0 in between
        if retry:
            delay = self._retry_base * 2 ** (attempts - 1)
            self._scheduler.call_later(delay, lambda: self._attempt(delivery, url, secret, body))
