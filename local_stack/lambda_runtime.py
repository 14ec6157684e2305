"""Runs moto Lambda functions' real handlers in warm worker processes, as Lambda reuses execution environments.

Why subprocesses and not threads in the moto process: in server mode a handler's own AWS calls come back into
the same moto process, and running handlers in-process deadlocks on nested invocations (moto holds locks while a
handler runs, and the handler's calls need them). A process per execution environment also gives each function
its own environment variables and modules (no leaks between functions), and lets us enforce Timeout by killing it.

The pool:
* A worker (`lambda_bootstrap.py`) is one execution environment, keyed by function + code + configuration
  (handler, environment, memory, timeout): a changed function never reuses an old environment. Its first
  invocation is a cold start (the handler module is imported once per worker); later ones are warm and see the
  module state (cached clients, secrets) that production relies on.
* Concurrency is capped per function and in total. An invocation beyond a cap waits its turn (what Lambda
  throttling plus SQS / Step Functions retries amount to), bounded by `queue_timeout`; its Timeout starts only
  when it runs. Idle workers are reused most-recently-used first; beyond `max_workers` the least recently used
  idle worker is retired.
* Per invocation: request id, trace id (`_X_AMZN_TRACE_ID`) and deadline (`context.get_remaining_time_in_millis`).
  At the deadline the worker is killed (Sandbox.Timedout) and replaced by a cold one on the next invocation; a
  worker that dies gives Runtime.ExitError. Memory is reported (Max Memory Used), not enforced.
* Logs: `<logs_dir>/<log name>.log`, one INIT_START (cold only) / START / ... / END / REPORT block per invocation;
  REPORT carries `Init Duration` on cold starts only, as on AWS.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
# Lambda gives the init phase 10 s; init beyond that eats into the function's Timeout.
INIT_GRACE_SECONDS = 10.0
# Two cores run moto (one GIL-bound process), the emulator and the handlers: a few handlers at a time keep
# every invocation far from its Timeout; more only queue inside moto.
DEFAULT_PER_FUNCTION_CONCURRENCY = 3
DEFAULT_TOTAL_CONCURRENCY = 6
# Cold starts are CPU-bound (imports, client set-up, first calls): one at a time, while warm invocations and
# moto use the other core, beats several thrashing two cores (make demo: ~20 s vs ~30 s per video).
DEFAULT_CONCURRENT_INITS = 1


@dataclass(frozen=True)
class RuntimeSettings:
    """What every invocation needs from the host: where moto is, where the layer and logs are, the caps."""

    endpoint_url: str
    region: str
    layer_dirs: tuple[Path, ...]
    work_dir: Path  # extracted code + per-worker files
    logs_dir: Path
    python: str = sys.executable
    echo_errors: bool = True
    per_function_concurrency: int = DEFAULT_PER_FUNCTION_CONCURRENCY
    total_concurrency: int = DEFAULT_TOTAL_CONCURRENCY
    max_workers: int = 32  # live worker processes, busy + idle
    concurrent_inits: int = DEFAULT_CONCURRENT_INITS  # cold starts at once
    queue_timeout: float = 900.0  # longest wait for a concurrency slot (Lambda's longest Timeout)

    def __post_init__(self) -> None:
        if min(self.per_function_concurrency, self.total_concurrency, self.concurrent_inits) < 1:
            raise ValueError("Lambda concurrency caps and concurrent_inits must be at least 1")
        if self.max_workers < self.total_concurrency:
            raise ValueError(
                f"max_workers ({self.max_workers}) must be >= total_concurrency ({self.total_concurrency})"
            )


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

    def environment_key(self) -> str:
        """Execution environments are reused only for the same function, code and configuration."""
        config = json.dumps(
            [self.function_name, self.handler, sorted(self.environment.items()), self.timeout, self.memory_size]
        )
        return hashlib.sha256(hashlib.sha256(self.code_bytes).digest() + config.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class InvocationResult:
    payload: Any
    errored: bool
    logs: str
    duration_ms: float
    request_id: str = ""
    cold: bool = False
    init_ms: float | None = None
    worker_pid: int | None = None


@dataclass(frozen=True)
class RuntimeStats:
    """A snapshot of the pool, for tests and diagnostics."""

    active: dict[str, int]  # running invocations per function
    waiting: int  # invocations waiting for a concurrency slot
    total_active: int
    max_active: dict[str, int]  # highest concurrency seen per function
    max_total_active: int
    waited: int  # invocations that had to wait for a slot
    initializing: int  # cold starts in progress
    init_waits: int  # invocations that waited for a cold-start turn (and maybe got a warm worker instead)
    cold_starts: int
    invocations: int
    workers: int  # live worker processes
    idle_workers: int


class _WorkerGone(Exception):
    """The worker closed its response pipe (it exited or was killed)."""


class _Deadline(Exception):
    """No answer from the worker before the deadline."""


@dataclass
class _Worker:
    key: str
    function_name: str
    proc: subprocess.Popen[bytes]
    requests: Any  # binary file: request pipe (write end)
    responses: int  # fd: response pipe (read end)
    directory: Path
    out_path: Path
    log_offset: int = 0
    last_used: float = 0.0
    invocations: int = 0
    _buffer: bytes = b""
    _closed: bool = False
    _close_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.requests.write(json.dumps(message).encode("utf-8") + b"\n")
            self.requests.flush()
        except (BrokenPipeError, ValueError) as exc:  # ValueError: the pipe was closed by kill()
            raise _WorkerGone() from exc

    def receive(self, deadline: float) -> dict[str, Any]:
        """One message from the worker, waiting until `deadline` (monotonic)."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Deadline()
            try:
                readable, _, _ = select.select([self.responses], [], [], remaining)
            except (OSError, ValueError) as exc:  # fd closed by kill() from another thread
                raise _WorkerGone() from exc
            if not readable:
                continue
            try:
                chunk = os.read(self.responses, 1 << 16)
            except OSError as exc:
                raise _WorkerGone() from exc
            if not chunk:
                raise _WorkerGone()
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        return message

    def new_output(self) -> str:
        """What the worker printed since the last call."""
        try:
            with self.out_path.open("rb") as fh:
                fh.seek(self.log_offset)
                data = fh.read()
        except FileNotFoundError:
            return ""
        self.log_offset += len(data)
        return data.decode("utf-8", errors="replace")

    def max_memory_mb(self) -> int | None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return math.ceil(int(line.split()[1]) / 1024)
        except (OSError, ValueError):
            return None
        return None

    def stop_process(self) -> None:
        """Kill the worker and whatever it started (its own session); its files stay readable."""
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(self.proc.pid, signal.SIGKILL)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def kill(self) -> None:
        """Stop the worker and free its pipes and files (only by the thread that owns the worker)."""
        self.stop_process()
        self.close()

    def retire(self) -> None:
        """An idle worker leaves: EOF on its request pipe ends it; killed if it does not go."""
        with contextlib.suppress(OSError):  # broken pipe: it is gone already
            self.requests.close()
        with contextlib.suppress(subprocess.TimeoutExpired):  # killed just below
            self.proc.wait(timeout=5)
        self.kill()

    def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return  # never close an fd number twice: it may belong to someone else by now
            self._closed = True
        with contextlib.suppress(OSError):  # broken pipe on the final flush: the worker is gone
            self.requests.close()
        os.close(self.responses)
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class _Ticket:
    function_name: str
    granted: bool = False


@dataclass
class _Pool:
    """Concurrency slots and workers; every field is guarded by `LambdaRuntime._cond`."""

    active: Counter[str] = field(default_factory=Counter)
    max_active: Counter[str] = field(default_factory=Counter)
    total_active: int = 0
    max_total_active: int = 0
    waiting: list[_Ticket] = field(default_factory=list)
    waited: int = 0
    initializing: int = 0  # cold starts in progress
    init_waits: int = 0  # invocations that waited for a cold-start turn
    cold_starts: int = 0
    invocations: int = 0
    idle: dict[str, list[_Worker]] = field(default_factory=dict)  # key -> idle workers, most recent last
    busy: set[int] = field(default_factory=set)  # id() of workers running an invocation
    workers: dict[int, _Worker] = field(default_factory=dict)  # id() -> every live worker


class LambdaRuntime:
    """Invokes FunctionSpecs on warm workers; thread-safe; `kill_all()` stops every worker (shutdown)."""

    def __init__(self, settings: RuntimeSettings) -> None:
        self.settings = settings
        self._cond = threading.Condition()
        self._pool = _Pool()
        self._code_lock = threading.Lock()
        self._log_locks: dict[str, threading.Lock] = {}
        self._closed = False
        settings.work_dir.mkdir(parents=True, exist_ok=True)
        settings.logs_dir.mkdir(parents=True, exist_ok=True)

    # -- observation ------------------------------------------------------------------------
    def stats(self) -> RuntimeStats:
        with self._cond:
            return self._stats_locked()

    def _stats_locked(self) -> RuntimeStats:
        p = self._pool
        return RuntimeStats(
            active={k: v for k, v in p.active.items() if v},
            waiting=len(p.waiting),
            total_active=p.total_active,
            max_active=dict(p.max_active),
            max_total_active=p.max_total_active,
            waited=p.waited,
            initializing=p.initializing,
            init_waits=p.init_waits,
            cold_starts=p.cold_starts,
            invocations=p.invocations,
            workers=len(p.workers),
            idle_workers=sum(len(v) for v in p.idle.values()),
        )

    def wait_until(self, predicate: Callable[[RuntimeStats], bool], timeout: float) -> RuntimeStats:
        """Block until `predicate(stats)` holds (re-checked on every pool change); AssertionError after `timeout`."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self._stats_locked()), timeout):
                raise AssertionError(f"runtime state not reached within {timeout} s: {self._stats_locked()}")
            return self._stats_locked()

    # -- code -------------------------------------------------------------------------------
    def _code_dir(self, code_bytes: bytes) -> Path:
        digest = hashlib.sha256(code_bytes).hexdigest()[:24]
        target = self.settings.work_dir / "code" / digest
        with self._code_lock:
            if not target.exists():
                tmp = target.with_name(target.name + f".{uuid.uuid4().hex}")
                with zipfile.ZipFile(io.BytesIO(code_bytes)) as zf:
                    zf.extractall(tmp)
                tmp.rename(target)
        return target

    # -- environment ------------------------------------------------------------------------
    def _environment(self, fn: FunctionSpec, code_dir: Path, tmp_dir: Path) -> dict[str, str]:
        """The execution environment's variables (fixed for the worker's life, as on Lambda)."""
        s = self.settings
        env: dict[str, str] = {
            # Kept from the host so the interpreter and its native libraries work.
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "HOME": str(s.work_dir),
            "TMPDIR": str(tmp_dir),  # /tmp is per execution environment and survives warm invocations
        }
        env.update({k: str(v) for k, v in fn.environment.items()})
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
                "PYTHONPATH": os.pathsep.join([str(code_dir), *(str(d) for d in s.layer_dirs)]),
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        return env

    # -- slots ------------------------------------------------------------------------------
    def _grant_locked(self) -> None:
        """Hand free slots to waiters in arrival order; a waiter whose function is at its cap does not block
        other functions' waiters."""
        p, s = self._pool, self.settings
        for ticket in list(p.waiting):
            if p.total_active >= s.total_concurrency:
                break
            if p.active[ticket.function_name] < s.per_function_concurrency:
                ticket.granted = True
                p.waiting.remove(ticket)
                p.active[ticket.function_name] += 1
                p.total_active += 1
                p.max_active[ticket.function_name] = max(
                    p.max_active[ticket.function_name], p.active[ticket.function_name]
                )
                p.max_total_active = max(p.max_total_active, p.total_active)
        self._cond.notify_all()

    def _acquire(self, function_name: str) -> bool:
        with self._cond:
            if self._closed:
                return False
            ticket = _Ticket(function_name)
            self._pool.waiting.append(ticket)
            self._grant_locked()
            if not ticket.granted:
                self._pool.waited += 1
                self._cond.notify_all()
            self._cond.wait_for(lambda: ticket.granted or self._closed, self.settings.queue_timeout)
            if not ticket.granted:
                self._pool.waiting.remove(ticket)
                self._cond.notify_all()
                return False
            return True

    def _release(self, function_name: str) -> None:
        with self._cond:
            self._pool.active[function_name] -= 1
            self._pool.total_active -= 1
            self._grant_locked()

    # -- workers ----------------------------------------------------------------------------
    def _take_idle(self, fn: FunctionSpec, key: str) -> _Worker | None:
        """A warm worker for `key` (most recently used first), or None: the caller may start a cold one.

        Cold starts are the expensive part on two cores (imports, clients, the secret): at most
        `concurrent_inits` run at once, and an invocation waiting for that turn takes a worker of its function
        that becomes idle first. Also retires idle workers of older versions of `fn`."""
        stale: list[_Worker] = []
        worker: _Worker | None = None
        give_up = time.monotonic() + self.settings.queue_timeout
        with self._cond:
            p = self._pool
            for other_key, workers in list(p.idle.items()):
                if other_key != key and workers and workers[0].function_name == fn.function_name:
                    stale.extend(p.idle.pop(other_key))
            waited = False
            while True:
                candidates = p.idle.get(key, [])
                while candidates and worker is None:
                    candidate = candidates.pop()
                    if candidate.proc.poll() is None:
                        worker = candidate
                    else:
                        stale.append(candidate)
                if worker is not None:
                    p.busy.add(id(worker))
                    break
                remaining = give_up - time.monotonic()
                if self._closed or p.initializing < self.settings.concurrent_inits or remaining <= 0:
                    p.initializing += 1  # released by _init_done()
                    break
                if not waited:
                    waited = True
                    p.init_waits += 1
                self._cond.wait(remaining)
            for w in stale:
                p.workers.pop(id(w), None)
            self._cond.notify_all()
        for w in stale:
            w.retire()
        return worker

    def _init_done(self) -> None:
        with self._cond:
            self._pool.initializing -= 1
            self._cond.notify_all()

    def _make_room_for_one(self) -> None:
        """Keep live workers within max_workers by retiring the least recently used idle one."""
        victim: _Worker | None = None
        with self._cond:
            p = self._pool
            if len(p.workers) < self.settings.max_workers:
                return
            idle = [w for workers in p.idle.values() for w in workers]
            if idle:
                victim = min(idle, key=lambda w: w.last_used)
                p.idle[victim.key].remove(victim)
                p.workers.pop(id(victim), None)
                self._cond.notify_all()
        if victim is not None:
            victim.retire()

    def _spawn(self, fn: FunctionSpec, key: str) -> _Worker:
        self._make_room_for_one()
        code_dir = self._code_dir(fn.code_bytes)
        directory = self.settings.work_dir / "workers" / f"{fn.log_name}-{uuid.uuid4().hex[:12]}"
        (directory / "tmp").mkdir(parents=True)
        out_path = directory / "output.log"
        req_read, req_write = os.pipe()
        resp_read, resp_write = os.pipe()
        try:
            with out_path.open("wb") as out:
                proc = subprocess.Popen(
                    [self.settings.python, "-P", str(BOOTSTRAP), str(req_read), str(resp_write)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=self._environment(fn, code_dir, directory / "tmp"),
                    cwd=code_dir,  # Lambda's working directory is the code root (/var/task)
                    start_new_session=True,  # so a kill takes whatever the handler started with it
                    pass_fds=(req_read, resp_write),
                )
        except BaseException:
            for fd in (req_read, req_write, resp_read, resp_write):
                os.close(fd)
            raise
        os.close(req_read)
        os.close(resp_write)
        worker = _Worker(
            key=key,
            function_name=fn.function_name,
            proc=proc,
            requests=os.fdopen(req_write, "wb"),
            responses=resp_read,
            directory=directory,
            out_path=out_path,
        )
        with self._cond:
            self._pool.workers[id(worker)] = worker
            self._pool.busy.add(id(worker))
            self._pool.cold_starts += 1
            closed = self._closed
            self._cond.notify_all()
        if closed:  # kill_all() ran while we were starting it: the caller sees it gone
            worker.stop_process()
        return worker

    def _park(self, worker: _Worker) -> None:
        """Back to the idle pool, ready for the next invocation of the same function version."""
        worker.last_used = time.monotonic()
        with self._cond:
            self._pool.busy.discard(id(worker))
            if not self._closed and id(worker) in self._pool.workers:
                self._pool.idle.setdefault(worker.key, []).append(worker)
                self._cond.notify_all()
                return
        worker.kill()

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._cond:
            self._pool.busy.discard(id(worker))
            self._pool.workers.pop(id(worker), None)
            self._cond.notify_all()

    # -- invocation -------------------------------------------------------------------------
    def invoke(self, fn: FunctionSpec, event: Any) -> InvocationResult:
        if self._closed:
            raise RuntimeError("the Lambda runtime is shut down")
        request_id = str(uuid.uuid4())
        event_text = event if isinstance(event, str) else json.dumps(event)
        if not self._acquire(fn.function_name):
            return self._throttled(fn, request_id)
        try:
            with self._cond:
                self._pool.invocations += 1
            result = self._run(fn, request_id, event_text)
        finally:
            self._release(fn.function_name)
        return result

    def _throttled(self, fn: FunctionSpec, request_id: str) -> InvocationResult:
        payload = {
            "errorMessage": f"Rate Exceeded. (no concurrency slot for {fn.function_name} within "
            f"{self.settings.queue_timeout:.0f} s, or the runtime is shutting down)",
            "errorType": "TooManyRequestsException",
        }
        self._write_log(fn, request_id, "", "", payload, True, 0.0, None, None)
        return InvocationResult(payload=payload, errored=True, logs="", duration_ms=0.0, request_id=request_id)

    def _run(self, fn: FunctionSpec, request_id: str, event_text: str) -> InvocationResult:
        key = fn.environment_key()
        worker = self._take_idle(fn, key)
        cold = worker is None
        init_ms: float | None = None
        init_logs = ""
        timeout = float(fn.timeout)
        budget = timeout
        if worker is None:
            try:
                worker = self._spawn(fn, key)
                started = time.monotonic()
                try:
                    ready = worker.receive(started + INIT_GRACE_SECONDS + timeout)
                except (_Deadline, _WorkerGone) as exc:
                    return self._failed(fn, worker, request_id, "", started, cold, None, isinstance(exc, _Deadline))
            finally:
                self._init_done()
            init_ms = (time.monotonic() - started) * 1000
            init_logs = worker.new_output()
            if ready["type"] == "init_error":
                self._discard(worker)
                return self._finish(
                    fn, worker, request_id, init_logs, "", ready["payload"], True, started, True, init_ms
                )
            # Init beyond Lambda's 10 s comes out of the function's Timeout.
            budget = timeout - max(0.0, init_ms / 1000 - INIT_GRACE_SECONDS)
        started = time.monotonic()
        worker.invocations += 1
        try:
            worker.send(
                {
                    "request_id": request_id,
                    "event": event_text,
                    "deadline_ms": time.time() * 1000 + budget * 1000,
                    "trace_id": f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};"
                    f"Parent={secrets.token_hex(8)};Sampled=0",
                    "invoked_function_arn": fn.function_arn,
                }
            )
            message = worker.receive(started + budget)
        except (_Deadline, _WorkerGone) as exc:
            return self._failed(fn, worker, request_id, init_logs, started, cold, init_ms, isinstance(exc, _Deadline))
        memory = worker.max_memory_mb()
        logs = worker.new_output()
        self._park(worker)
        return self._finish(
            fn,
            worker,
            request_id,
            init_logs,
            logs,
            message["payload"],
            not message["ok"],
            started,
            cold,
            init_ms,
            memory,
        )

    def _failed(
        self,
        fn: FunctionSpec,
        worker: _Worker,
        request_id: str,
        init_logs: str,
        started: float,
        cold: bool,
        init_ms: float | None,
        timed_out: bool,
    ) -> InvocationResult:
        """The worker timed out or died: kill it (a fresh one serves the next invocation) and say so as AWS does."""
        memory = worker.max_memory_mb()
        worker.stop_process()
        logs = worker.new_output()
        if timed_out:
            payload = self._timeout_payload(request_id, float(fn.timeout))
            logs += ("\n" if logs and not logs.endswith("\n") else "") + f"{payload['errorMessage']}\n"
        else:
            payload = self._exit_payload(worker, request_id)
        self._discard(worker)
        return self._finish(fn, worker, request_id, init_logs, logs, payload, True, started, cold, init_ms, memory)

    @staticmethod
    def _timeout_payload(request_id: str, timeout: float) -> dict[str, Any]:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return {
            "errorMessage": f"{stamp} {request_id} Task timed out after {timeout:.2f} seconds",
            "errorType": "Sandbox.Timedout",
        }

    @staticmethod
    def _exit_payload(worker: _Worker, request_id: str) -> dict[str, Any]:
        code = worker.proc.poll()
        how = f"signal: {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit status {code}"
        return {
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {how}",
            "errorType": "Runtime.ExitError",
        }

    def _finish(
        self,
        fn: FunctionSpec,
        worker: _Worker,
        request_id: str,
        init_logs: str,
        logs: str,
        payload: Any,
        errored: bool,
        started: float,
        cold: bool,
        init_ms: float | None,
        memory_mb: int | None = None,
    ) -> InvocationResult:
        duration_ms = (time.monotonic() - started) * 1000
        init = (init_ms, worker.pid) if cold else None
        self._write_log(fn, request_id, init_logs, logs, payload, errored, duration_ms, init, memory_mb)
        return InvocationResult(
            payload=payload,
            errored=errored,
            logs=init_logs + logs,
            duration_ms=duration_ms,
            request_id=request_id,
            cold=cold,
            init_ms=init_ms,
            worker_pid=worker.pid,
        )

    def _write_log(
        self,
        fn: FunctionSpec,
        request_id: str,
        init_logs: str,
        logs: str,
        payload: Any,
        errored: bool,
        duration_ms: float,
        init: tuple[float | None, int] | None,
        memory_mb: int | None,
    ) -> None:
        path = self.settings.logs_dir / f"{fn.log_name}.log"
        lines: list[str] = []
        if init is not None:
            lines.append(f"INIT_START Runtime Version: python:3.12 (local worker pid {init[1]})\n")
            lines.append(init_logs)
            if init_logs and not init_logs.endswith("\n"):
                lines.append("\n")
        lines += [f"START RequestId: {request_id} Version: $LATEST Function: {fn.function_name}\n", logs]
        if logs and not logs.endswith("\n"):
            lines.append("\n")
        if errored:
            lines.append(f"ERROR {json.dumps(payload)}\n")
        lines.append(f"END RequestId: {request_id}\n")
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {math.ceil(duration_ms)} ms\tMemory Size: {fn.memory_size} MB"
        )
        if memory_mb is not None:
            report += f"\tMax Memory Used: {memory_mb} MB"
        if init is not None and init[0] is not None:
            report += f"\tInit Duration: {init[0]:.2f} ms"
        lines.append(report + "\n")
        with self._cond:
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
        """Stop every worker, busy or idle (shutdown); waiting invocations give up."""
        with self._cond:
            self._closed = True
            idle = [w for workers in self._pool.idle.values() for w in workers]
            busy = [w for w in self._pool.workers.values() if id(w) in self._pool.busy]
            self._pool.idle.clear()
            for w in idle:
                self._pool.workers.pop(id(w), None)
            self._cond.notify_all()
        for worker in idle:
            worker.kill()
        for worker in busy:
            # Their invocation threads see the worker gone, answer Runtime.ExitError and free the pipes.
            worker.stop_process()
