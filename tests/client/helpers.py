"""Helpers for transport-level tests: a recording httpx.MockTransport handler and a fake clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

BASE = "http://api.test/v1.3"
Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeClock:
    """Monotonic + wall clock that only moves when the client sleeps."""

    now: float = 1_700_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.now


class Recorder:
    """A MockTransport that records requests and answers from a handler."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.bodies.append(request.read())
        return self.handler(request)

    def calls(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.url.path == "/v1.3" + path)
        ]


def json_response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    hdrs = {"content-type": "application/json", **(headers or {})}
    return httpx.Response(status, content=content, headers=hdrs)


def multipart_fields(request: httpx.Request) -> dict[str, list[Any]]:
    """Parse a multipart request: {name: [text value or (filename, bytes)]}."""
    from email.parser import BytesParser
    from email.policy import HTTP

    body = request.read()
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    out: dict[str, list[Any]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        out.setdefault(name, []).append((filename, payload) if filename else payload.decode())
    return out
