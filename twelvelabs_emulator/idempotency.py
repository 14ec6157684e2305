"""`Idempotency-Key` on POSTs (conventional semantics; the API documents only the header's existence, §8: INFERRED).

Scope: API key + method + path + the header's value. The first request runs; its status, body and headers are kept
for the TTL (24 h) and replayed to every later request with the same key and the same body (marked
`Idempotent-Replayed: true`). The same key with a different body is a 409 `idempotency_key_conflict`; the same key
while the first request still runs is a 409 `idempotency_key_in_use`. 5xx answers of the handler and streamed
answers are not kept (the key is released, a retry runs again).

The body is compared by meaning: JSON canonicalised, multipart by fields and file contents (a client's retry
uses a new multipart boundary).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.wrappers import Request, Response

MAX_KEY_LENGTH = 255
HASH_CHUNK = 1024 * 1024
# Headers recomputed for every answer, never replayed.
NOT_REPLAYED = {
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-used",
    "x-ratelimit-reset",
    "content-length",
    "date",
    "server",
    "retry-after",
}


@dataclass
class Entry:
    fingerprint: str
    created: float
    done: bool = False
    status: int = 0
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


class IdempotencyStore:
    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self.clock = clock  # monotonic seconds; tests replace it to cross the TTL
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, str, str], Entry] = {}

    def begin(self, scope: tuple[str, str, str, str], fingerprint: str) -> Entry | str | None:
        """None: go ahead (the key is now in flight). An Entry: replay it. "conflict" / "in_flight": refuse."""
        now = self.clock()
        with self._lock:
            for stale in [k for k, e in self._entries.items() if e.done and now - e.created >= self._ttl]:
                del self._entries[stale]
            entry = self._entries.get(scope)
            if entry is None:
                self._entries[scope] = Entry(fingerprint=fingerprint, created=now)
                return None
            if entry.fingerprint != fingerprint:
                return "conflict"
            if not entry.done:
                return "in_flight"
            return entry

    def finish(self, scope: tuple[str, str, str, str], response: Response) -> None:
        """Keep the answer for replay, or release the key when it must not be kept."""
        with self._lock:
            entry = self._entries.get(scope)
            if entry is None:
                return
            if response.is_streamed or response.status_code >= 500:
                del self._entries[scope]
                return
            entry.done, entry.status, entry.body = True, response.status_code, response.get_data()
            entry.headers = [(k, v) for k, v in response.headers.items() if k.lower() not in NOT_REPLAYED]
            entry.created = self.clock()

    def release(self, scope: tuple[str, str, str, str]) -> None:
        with self._lock:
            self._entries.pop(scope, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def replay(entry: Entry) -> Response:
    response = Response(entry.body, status=entry.status)
    response.headers.clear()
    for key, value in entry.headers:
        response.headers.add(key, value)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def fingerprint(request: Request) -> str:
    """A digest of what the request asks for (not of its bytes: multipart boundaries differ between retries)."""
    digest = hashlib.sha256()
    digest.update(request.query_string)
    if request.mimetype == "multipart/form-data" or request.mimetype == "application/x-www-form-urlencoded":
        for name in sorted(request.form):
            for value in request.form.getlist(name):
                digest.update(json.dumps(["field", name, value]).encode())
        for name in sorted(request.files):
            for storage in request.files.getlist(name):
                digest.update(json.dumps(["file", name, storage.filename]).encode())
                stream = storage.stream
                stream.seek(0)
                for block in iter(lambda s=stream: s.read(HASH_CHUNK), b""):
                    digest.update(block)
                stream.seek(0)
        return digest.hexdigest()
    raw = request.get_data(cache=True)
    try:
        digest.update(json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode())
    except (json.JSONDecodeError, UnicodeDecodeError):
        digest.update(raw)
    return digest.hexdigest()
