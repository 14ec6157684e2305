"""Fixtures of the client tests: a fake clock and a client factory over httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from twelvelabs_client import ClientSettings, TwelveLabsClient

from tests.client.helpers import BASE, FakeClock, Handler, Recorder


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Callable[..., tuple[TwelveLabsClient, Recorder]]]:
    """make_client(handler, **settings) -> (client, recorder); sleeps go to the fake clock, jitter = 1.0."""
    made: list[TwelveLabsClient] = []

    def factory(handler: Handler, **settings: Any) -> tuple[TwelveLabsClient, Recorder]:
        recorder = Recorder(handler)
        client = TwelveLabsClient(
            api_key="test-key",
            settings=ClientSettings(base_url=BASE, **settings),
            transport=httpx.MockTransport(recorder),
            sleep=clock.sleep,
            clock=clock.time,
            wall_clock=clock.time,
            rand=lambda: 1.0,
        )
        made.append(client)
        return client, recorder

    yield factory
    for client in made:
        client.close()


# --- the emulator over real loopback HTTP ---------------------------------------------------------


class _Sink:
    """Loopback HTTP servers for the emulator tests: one serves the sample files (URL uploads),
    one receives webhooks (raw body + TL-Signature kept for verification)."""

    def __init__(self, directory: Path) -> None:
        import functools
        import threading
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        self.webhooks: list[tuple[dict[str, str], bytes]] = []
        sink = self

        class Files(SimpleHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        class Hooks(SimpleHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                sink.webhooks.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.files = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Files, directory=str(directory)))
        self.hooks = ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
        for server in (self.files, self.hooks):
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.files_url = f"http://127.0.0.1:{self.files.server_address[1]}"
        self.hooks_url = f"http://127.0.0.1:{self.hooks.server_address[1]}/hook"

    def close(self) -> None:
        for server in (self.files, self.hooks):
            server.shutdown()
            server.server_close()


@dataclass
class EmulatorEnv:
    emulator: Any
    sink: _Sink
    samples: Path
    webhook_secret: str
    integration_id: str

    @property
    def base_url(self) -> str:
        return str(self.emulator.base_url)

    @property
    def admin_url(self) -> str:
        return str(self.emulator.admin_url)

    def client(self, *, transport: httpx.BaseTransport | None = None, **settings: Any) -> TwelveLabsClient:
        """A client of this emulator; `transport` wraps the real loopback transport (e.g. to drop answers)."""
        kwargs = {k: settings.pop(k) for k in ("sleep", "clock", "wall_clock", "rand") if k in settings}
        return TwelveLabsClient(
            api_key="k",
            settings=ClientSettings(base_url=self.base_url, **settings),
            http_client=httpx.Client(transport=transport),
            **kwargs,
        )

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, self.admin_url + path, timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def tl_emulator(samples: Path) -> Iterator[EmulatorEnv]:
    """A private emulator (fast processing, a webhook sink, a local import integration)."""
    from twelvelabs_emulator import Emulator, EmulatorConfig

    sink = _Sink(samples)
    secret = "whsec_client_tests"
    config = EmulatorConfig(
        api_key="k",
        port=0,
        processing_seconds=0.2,
        surface="classic",
        webhook_url=sink.hooks_url,
        webhook_secret=secret,
        integrations={"integ-local": str(samples / "videos")},
    )
    emulator = Emulator(config).start()
    try:
        yield EmulatorEnv(emulator, sink, samples, secret, "integ-local")
    finally:
        emulator.stop()
        sink.close()


DRIVE_ACCOUNT = "drive-user-1"


@pytest.fixture(scope="module")
def tl_current(samples: Path) -> Iterator[EmulatorEnv]:
    """A private strict emulator speaking the current surface (SDK 1.3.6): small multipart chunks so the
    samples span several chunks, a fake Google Drive account for /connections, a webhook sink."""
    from twelvelabs_emulator import Emulator, EmulatorConfig

    sink = _Sink(samples)
    secret = "whsec_client_current"
    drive = {
        "external_id": DRIVE_ACCOUNT,
        "display_name": "tester@example.com",
        "files": {
            "drive-ocean": {"path": str(samples / "videos" / "ocean-waves.mp4")},
            "drive-bad": {"reject": "unsupported_media_type"},
        },
    }
    config = EmulatorConfig(
        api_key="k",
        port=0,
        processing_seconds=0.2,
        surface="current",
        webhook_url=sink.hooks_url,
        webhook_secret=secret,
        multipart_chunk_size=16 * 1024,
        multipart_initial_urls=2,
        drive_accounts=[drive],
    )
    emulator = Emulator(config).start()
    try:
        yield EmulatorEnv(emulator, sink, samples, secret, "")
    finally:
        emulator.stop()
        sink.close()


class DropAnswers(httpx.BaseTransport):
    """Loopback transport that forwards requests but loses the answer of the next `n` matching POSTs
    after the server handled them (an ambiguous failure). `strip_key` also removes the
    Idempotency-Key header, as if the server ignored it: then only the client's lookup can help."""

    def __init__(self, path_suffix: str, n: int = 1, *, strip_key: bool = False) -> None:
        self.inner = httpx.HTTPTransport()
        self.path_suffix, self.left, self.strip_key = path_suffix, n, strip_key
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        matches = request.method == "POST" and request.url.path.endswith(self.path_suffix)
        if matches:
            self.posts += 1
            if self.strip_key and "idempotency-key" in request.headers:
                del request.headers["idempotency-key"]
        response = self.inner.handle_request(request)
        if matches and self.left > 0:
            self.left -= 1
            response.read()
            response.close()
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return response

    def close(self) -> None:
        self.inner.close()
