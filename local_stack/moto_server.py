"""Parent side of the moto server process (`local_stack.moto_host`): start it, read its URLs, stop it.

moto runs in a process of its own, never in the caller's: the patches and moto's global backends
then cannot leak into other code (e.g. tests using `mock_aws` in the same pytest process).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from pydantic import BaseModel

REPO_ROOT = Path(__file__).resolve().parents[1]
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class ServerInfo(BaseModel):
    moto_url: str
    gateway_url: str
    pid: int


class MotoServerProcess:
    """Starts/stops the moto server process; `info` has its URLs once started."""

    def __init__(
        self,
        state_dir: Path,
        region: str,
        layer_dirs: list[Path],
        echo_errors: bool = True,
        output: IO[str] | None = None,
        start_timeout: float = 60.0,
        concurrency: tuple[int, int, int] | None = None,  # (per function, total, cold starts at once)
    ) -> None:
        self.state_dir = state_dir
        self.region = region
        self.layer_dirs = layer_dirs
        self.echo_errors = echo_errors
        self.output = output
        self.start_timeout = start_timeout
        self.concurrency = concurrency
        self.proc: subprocess.Popen[str] | None = None
        self.info: ServerInfo | None = None

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    def start(self) -> ServerInfo:
        env = dict(os.environ)
        env.update(FAKE_CREDENTIALS)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.pop("AWS_ENDPOINT_URL", None)
        cmd = [
            sys.executable,
            "-m",
            "local_stack.moto_host",
            "--region",
            self.region,
            "--work-dir",
            str(self.state_dir / "work"),
            "--logs-dir",
            str(self.logs_dir),
        ]
        for d in self.layer_dirs:
            cmd += ["--layer-dir", str(d)]
        if not self.echo_errors:
            cmd.append("--quiet")
        if self.concurrency is not None:
            per_function, total, inits = self.concurrency
            cmd += ["--concurrency-per-function", str(per_function), "--concurrency-total", str(total)]
            cmd += ["--concurrent-inits", str(inits)]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.output if self.output is not None else None,
            text=True,
            env=env,
            cwd=str(REPO_ROOT),
        )
        line = self._read_ready_line()
        self.info = ServerInfo.model_validate_json(line)
        return self.info

    def _read_ready_line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(self.start_timeout)
        if not result or not result[0].strip():
            code = self.proc.poll()
            self.stop()
            raise RuntimeError(
                f"the moto server process did not start within {self.start_timeout:.0f} s (exit code {code}); "
                "its errors are printed above"
            )
        return result[0]

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(OSError):  # already closed: the process is going anyway
            proc.stdin.close()  # type: ignore[union-attr]
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
        if proc.stdout is not None:
            proc.stdout.close()
