"""Runs a moto Lambda function's real handler in a fresh Python subprocess, one per invocation.

Why a subprocess: in server mode a handler's own AWS calls come back into the same moto process;
running handlers in-process deadlocks on nested invocations (see docs in /work/shared). A fresh
interpreter also gives each invocation its own environment and modules, and lets us enforce Timeout.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
# Lambda gives the init phase 10 s on top of the function timeout.
INIT_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class RuntimeSettings:
    """What every invocation needs from the host: where moto is, where the layer and logs are."""

    endpoint_url: str
    region: str
    layer_dirs: tuple[Path, ...]
    work_dir: Path  # extracted code + per-invocation scratch
    logs_dir: Path
    python: str = sys.executable
    echo_errors: bool = True


@dataclass(frozen=True)
class FunctionSpec:
    """The parts of moto's LambdaFunction the runtime needs (kept explicit so tests can build one)."""

    function_name: str
    function_arn: str
    handler: str
    code_bytes: bytes
    environment: dict[str, str]
    timeout: float
    memory_size: int
    log_name: str


@dataclass(frozen=True)
class InvocationResult:
    payload: Any
    errored: bool
    logs: str
    duration_ms: float


class SubprocessRuntime:
    """Invokes FunctionSpecs; thread-safe; `kill_all()` stops invocations still running."""

    def __init__(self, settings: RuntimeSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._log_locks: dict[str, threading.Lock] = {}
        self._running: set[subprocess.Popen[bytes]] = set()
        self._closed = False
        settings.work_dir.mkdir(parents=True, exist_ok=True)
        settings.logs_dir.mkdir(parents=True, exist_ok=True)

    # -- code -------------------------------------------------------------------------------
    def _code_dir(self, code_bytes: bytes) -> Path:
        digest = hashlib.sha256(code_bytes).hexdigest()[:24]
        target = self.settings.work_dir / "code" / digest
        with self._lock:
            if not target.exists():
                tmp = target.with_name(target.name + f".{uuid.uuid4().hex}")
                with zipfile.ZipFile(io.BytesIO(code_bytes)) as zf:
                    zf.extractall(tmp)
                tmp.rename(target)
        return target

    # -- environment ------------------------------------------------------------------------
    def _environment(self, fn: FunctionSpec, code_dir: Path, request_id: str) -> dict[str, str]:
        s = self.settings
        env: dict[str, str] = {
            # Kept from the host so the interpreter and its native libraries work.
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "HOME": str(s.work_dir),
        }
        env.update({k: str(v) for k, v in fn.environment.items()})
        trace_id = f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"
        env.update(
            {
                "AWS_ENDPOINT_URL": s.endpoint_url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_REGION": s.region,
                "AWS_DEFAULT_REGION": s.region,
                "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
                "LAMBDA_TASK_ROOT": str(code_dir),
                "LAMBDA_RUNTIME_DIR": str(Path(s.python).parent),
                "_HANDLER": fn.handler,
                "_X_AMZN_TRACE_ID": trace_id,
                "PYTHONPATH": os.pathsep.join([str(code_dir), *(str(d) for d in s.layer_dirs)]),
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "_LOCAL_INVOKED_FUNCTION_ARN": fn.function_arn,
                "_LOCAL_REQUEST_ID": request_id,
            }
        )
        return env

    # -- invocation -------------------------------------------------------------------------
    def invoke(self, fn: FunctionSpec, event: Any) -> InvocationResult:
        if self._closed:
            raise RuntimeError("the Lambda runtime is shut down")
        code_dir = self._code_dir(fn.code_bytes)
        request_id = str(uuid.uuid4())
        env = self._environment(fn, code_dir, request_id)
        event_text = event if isinstance(event, str) else json.dumps(event)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(dir=self.settings.work_dir, prefix="inv-") as scratch:
            result_file = os.path.join(scratch, "result.json")
            proc = subprocess.Popen(
                [self.settings.python, "-P", str(BOOTSTRAP), result_file, str(float(fn.timeout))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=code_dir,  # Lambda's working directory is the code root (/var/task)
                start_new_session=True,
            )
            with self._lock:
                self._running.add(proc)
            hard_limit = float(fn.timeout) + INIT_GRACE_SECONDS
            try:
                output, _ = proc.communicate(event_text.encode("utf-8"), timeout=hard_limit)
                killed = False
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate(timeout=10)
                killed = True
            finally:
                with self._lock:
                    self._running.discard(proc)
            duration_ms = (time.monotonic() - started) * 1000
            logs = output.decode("utf-8", errors="replace")
            if os.path.exists(result_file):
                with open(result_file, encoding="utf-8") as fh:
                    outcome = json.load(fh)
                payload, errored = outcome["payload"], not outcome["ok"]
            elif killed:
                payload, errored = (
                    {
                        "errorMessage": f"{request_id} Task timed out after {float(fn.timeout):.2f} seconds (init included)",
                        "errorType": "Sandbox.Timedout",
                    },
                    True,
                )
            else:
                # No result and not our kill: the interpreter died (signal, OOM, os._exit in handler).
                payload, errored = (
                    {
                        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with code {proc.returncode}",
                        "errorType": "Runtime.ExitError",
                    },
                    True,
                )
        self._write_log(fn, request_id, logs, payload, errored, duration_ms)
        return InvocationResult(payload=payload, errored=errored, logs=logs, duration_ms=duration_ms)

    def _write_log(
        self, fn: FunctionSpec, request_id: str, logs: str, payload: Any, errored: bool, duration_ms: float
    ) -> None:
        path = self.settings.logs_dir / f"{fn.log_name}.log"
        lines = [f"START RequestId: {request_id} Version: $LATEST Function: {fn.function_name}\n", logs]
        if logs and not logs.endswith("\n"):
            lines.append("\n")
        if errored:
            lines.append(f"ERROR {json.dumps(payload)}\n")
        lines.append(f"END RequestId: {request_id}\n")
        lines.append(f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tMemory Size: {fn.memory_size} MB\n")
        with self._lock:
            lock = self._log_locks.setdefault(fn.log_name, threading.Lock())
        with lock, path.open("a", encoding="utf-8") as fh:
            fh.write("".join(lines))
        if errored and self.settings.echo_errors:
            err = payload if isinstance(payload, dict) else {}
            print(
                f"[local_stack] Lambda {fn.log_name} ({fn.function_name}) failed: "
                f"{err.get('errorType')}: {err.get('errorMessage')} -> see {path}",
                file=sys.stderr,
                flush=True,
            )

    def kill_all(self) -> None:
        """Stop every invocation still running (shutdown)."""
        self._closed = True
        with self._lock:
            running = list(self._running)
        for proc in running:
            if proc.poll() is None:
                proc.kill()
