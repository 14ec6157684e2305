"""`up` / `down`: the local stack in a background process whose pid and URLs are in `<state_dir>/state.json`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from pydantic import BaseModel

from local_stack.config import REPO_ROOT, StackConfig
from local_stack.stack import LocalStack


class UpState(BaseModel):
    pid: int
    moto_url: str
    webhook_url: str
    media_bucket: str | None
    logs_dir: str
    description: str
    outputs: dict[str, str]


def _state_file(state_dir: Path) -> Path:
    return state_dir / "state.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(state_dir: Path) -> UpState | None:
    """The running stack's state, or None (a stale file of a dead process is removed)."""
    path = _state_file(state_dir)
    if not path.exists():
        return None
    state = UpState.model_validate_json(path.read_text(encoding="utf-8"))
    if _alive(state.pid):
        return state
    path.unlink(missing_ok=True)
    return None


def serve(config: StackConfig) -> int:
    """Foreground part of `up` (runs in the background process): start, publish state, wait for SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with LocalStack(config) as stack:
        state = UpState(
            pid=os.getpid(),
            moto_url=stack.moto_url,
            webhook_url=stack.webhook_url,
            media_bucket=stack.outputs.get("MediaBucketName"),
            logs_dir=str(stack.logs_dir),
            description=stack.describe(),
            outputs=stack.outputs,
        )
        tmp = _state_file(config.state_dir).with_suffix(".tmp")
        tmp.write_text(state.model_dump_json(indent=2), encoding="utf-8")
        tmp.replace(_state_file(config.state_dir))
        try:
            stop.wait()
        finally:
            _state_file(config.state_dir).unlink(missing_ok=True)
    return 0


def up(config: StackConfig, timeout: float = 120.0, extra_args: list[str] | None = None) -> int:
    state_dir = config.state_dir
    running = read_state(state_dir)
    if running:
        print(f"the local stack is already up (pid {running.pid})\n{running.description}")
        return 0
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / "up.log"
    # Global options go before the sub-command.
    cmd = [sys.executable, "-m", "local_stack", "--state-dir", str(state_dir), *(extra_args or []), "_serve"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(REPO_ROOT),
            env=env,
            start_new_session=True,  # survives the terminal / make that started it
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(state_dir)
        if state and state.pid == proc.pid:
            print(f"the local stack is up (pid {state.pid}); `make down` stops it\n{state.description}")
            return 0
        if proc.poll() is not None:
            print(f"the local stack failed to start (exit {proc.returncode}); see {log_path}:\n", file=sys.stderr)
            print(log_path.read_text(encoding="utf-8")[-4000:], file=sys.stderr)
            return 1
        time.sleep(0.2)
    proc.terminate()
    print(f"the local stack did not come up within {timeout:.0f} s; see {log_path}", file=sys.stderr)
    return 1


def down(state_dir: Path, timeout: float = 30.0) -> int:
    state = read_state(state_dir)
    if state is None:
        print("the local stack is not running")
        return 0
    os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(state.pid):
            _state_file(state_dir).unlink(missing_ok=True)
            print(f"the local stack (pid {state.pid}) is stopped")
            return 0
        time.sleep(0.2)
    os.kill(state.pid, signal.SIGKILL)
    _state_file(state_dir).unlink(missing_ok=True)
    print(f"the local stack (pid {state.pid}) did not stop within {timeout:.0f} s and was killed", file=sys.stderr)
    return 1
