"""`Emulator`: the programmatic handle (start/stop, URLs) around the werkzeug threaded server."""

from __future__ import annotations

import logging
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from twelvelabs_emulator.app import EmulatorApp
from twelvelabs_emulator.config import EmulatorConfig
from twelvelabs_emulator.runtime import Runtime
from twelvelabs_emulator.services import Services

log = logging.getLogger(__name__)


class QuietRequestHandler(WSGIRequestHandler):
    """Per-request access lines go to the `twelvelabs_emulator` logger at DEBUG, not to stderr."""

    def log(self, type: str, message: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), message % args)


class Emulator:
    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = (config or EmulatorConfig()).model_copy(deep=True)
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        if self.config.state_dir is not None:
            data_dir = Path(self.config.state_dir)
            data_dir.mkdir(parents=True, exist_ok=True)
        else:
            self._tempdir = tempfile.TemporaryDirectory(prefix="twelvelabs-emulator-")
            data_dir = Path(self._tempdir.name)
        self.runtime = Runtime(self.config, data_dir)
        self.services = Services.build(self.runtime)
        self.app = EmulatorApp(self.services)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return int(self._server.server_port)

    @property
    def root_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1.3"

    @property
    def admin_url(self) -> str:
        return f"{self.root_url}/_emulator"

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        self._server = make_server(
            self.config.host, self.config.port, self.app, threaded=True, request_handler=QuietRequestHandler
        )
        self.runtime.public_url = self.root_url
        self.runtime.scheduler.start()
        self.services.indexer.resume()
        self.services.embed_tasks.resume()
        self.services.assets.resume()
        self.services.assets.register_drive_accounts(self.config.drive_accounts)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"tl-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._server = None
            self._thread = None
        self.runtime.scheduler.stop()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
