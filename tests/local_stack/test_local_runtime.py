"""The warm Lambda runtime on its own: results, AWS error payloads, warm reuse, cold starts, concurrency caps,
Timeout, per-invocation context, logs. No wall-clock assertions: waits are on the pool's own state."""

from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_stack.lambda_runtime import FunctionSpec, InvocationResult, LambdaRuntime, RuntimeSettings

HANDLER = """
import os, sys, time

INVOCATIONS = 0
if os.environ.get("FAIL_AT_IMPORT"):
    raise RuntimeError("module-level code failed")
while os.environ.get("INIT_GATE") and not os.path.exists(os.environ["INIT_GATE"]):
    time.sleep(0.01)  # a slow cold start, until the test opens the gate

class CustomError(Exception):
    pass

def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    action = event.get("action")
    print("invoked with", action)
    if action == "raise":
        raise CustomError("it broke")
    if action == "sleep":
        time.sleep(30)
    if action == "exit":
        sys.stdout.flush()
        os._exit(3)
    if action == "unserialisable":
        return {"value": object()}
    if action == "gate":
        while not os.path.exists(event["gate"]):
            time.sleep(0.01)
    if action == "env":
        try:
            import local_stack  # the runtime must not leak the repo onto the handler's path
            leaked = True
        except ImportError:
            leaked = False
        return {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "MY_VAR", "_X_AMZN_TRACE_ID", "_LOCAL_REQUEST_ID")} | {
                "leaked": leaked, "layer": __import__("layer_mod").VALUE, "cwd": os.getcwd(),
                "name": context.function_name, "memory": context.memory_limit_in_mb,
                "arn": context.invoked_function_arn, "request_id": context.aws_request_id}
    return {"echo": event, "invocations": INVOCATIONS, "pid": os.getpid(),
            "deadline_ms": time.time() * 1000 + context.get_remaining_time_in_millis(),
            "request_id": context.aws_request_id, "trace": os.environ.get("_X_AMZN_TRACE_ID")}
"""

CODE = io.BytesIO()
with zipfile.ZipFile(CODE, "w") as _zf:
    _zf.writestr("app.py", HANDLER)


def make_runtime(base: Path, **caps: Any) -> LambdaRuntime:
    layer = base / "layer"
    layer.mkdir(parents=True, exist_ok=True)
    (layer / "layer_mod.py").write_text("VALUE = 'from layer'\n")
    return LambdaRuntime(
        RuntimeSettings(
            endpoint_url="http://127.0.0.1:1",
            region="eu-west-1",
            layer_dirs=(layer,),
            work_dir=base / "work",
            logs_dir=base / "logs",
            echo_errors=False,
            **caps,
        )
    )


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LambdaRuntime]:
    running = make_runtime(tmp_path_factory.mktemp("runtime"))
    yield running
    running.kill_all()


def spec(timeout: float = 20, name: str = "fn-under-test", **env: str) -> FunctionSpec:
    return FunctionSpec(
        function_name=name,
        function_arn=f"arn:aws:lambda:eu-west-1:123456789012:function:{name}",
        handler="app.handler",
        code_bytes=CODE.getvalue(),
        environment={"MY_VAR": "mine", **env},
        timeout=timeout,
        memory_size=512,
        log_name=name.replace("-", "_"),
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_success_returns_the_handler_result(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(spec(), {"x": 1})
    assert not result.errored
    assert result.payload["echo"] == {"x": 1}
    assert "invoked with None" in result.logs


def test_exception_yields_aws_error_payload_with_class_name(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(spec(), {"action": "raise"})
    assert result.errored
    assert result.payload["errorType"] == "CustomError"
    assert result.payload["errorMessage"] == "it broke"
    assert any("app.py" in frame for frame in result.payload["stackTrace"])
    assert not any("lambda_bootstrap" in frame for frame in result.payload["stackTrace"])


def test_second_invocation_reuses_the_worker_and_its_module_state(runtime: LambdaRuntime) -> None:
    fn = spec(name="warm-fn")
    first = runtime.invoke(fn, {})
    second = runtime.invoke(fn, {})
    assert first.cold and first.init_ms is not None
    assert not second.cold and second.init_ms is None
    assert second.worker_pid == first.worker_pid == first.payload["pid"] == second.payload["pid"]
    assert [first.payload["invocations"], second.payload["invocations"]] == [1, 2]


def test_cold_starts_are_marked_in_the_log(runtime: LambdaRuntime) -> None:
    fn = spec(name="log-marks")
    results = [runtime.invoke(fn, {}) for _ in range(2)]
    log = (runtime.settings.logs_dir / "log_marks.log").read_text()
    reports = [line for line in log.splitlines() if line.startswith("REPORT RequestId:")]
    assert [r.request_id in line for r, line in zip(results, reports, strict=True)] == [True, True]
    assert "Init Duration:" in reports[0] and "Init Duration:" not in reports[1]
    assert log.count("INIT_START") == 1 and log.index("INIT_START") < log.index("START RequestId")
    assert all("Max Memory Used:" in line and "Billed Duration:" in line for line in reports)


def test_a_changed_configuration_gets_a_new_environment(runtime: LambdaRuntime) -> None:
    first = runtime.invoke(spec(name="versioned"), {})
    changed = runtime.invoke(spec(name="versioned", MY_VAR="changed"), {"action": "env"})
    assert first.cold and changed.cold and not changed.errored
    assert changed.payload["MY_VAR"] == "changed"
    # The old version's idle environment is retired, not kept forever.
    assert not alive(first.payload["pid"])


def test_deadline_request_id_and_trace_are_per_invocation(runtime: LambdaRuntime) -> None:
    fn = spec(timeout=20, name="deadlines")
    seen: list[tuple[float, float, InvocationResult]] = []
    for _ in range(2):
        before = time.time() * 1000
        result = runtime.invoke(fn, {})
        seen.append((before, time.time() * 1000, result))
    assert not seen[1][2].cold  # the same (warm) worker served both
    for before, after, result in seen:
        # The deadline is set when the invocation starts: within [start, end] + Timeout (1 ms rounding).
        assert before + 20_000 - 1 <= result.payload["deadline_ms"] <= after + 20_000 + 1
    first, second = seen[0][2].payload, seen[1][2].payload
    assert first["request_id"] == seen[0][2].request_id and second["request_id"] == seen[1][2].request_id
    assert first["request_id"] != second["request_id"] and first["trace"] != second["trace"]


def test_timeout_kills_the_worker_and_the_next_invocation_gets_a_fresh_one(runtime: LambdaRuntime) -> None:
    fn = spec(timeout=1, name="slow")
    warm = runtime.invoke(fn, {})
    result = runtime.invoke(fn, {"action": "sleep"})
    assert result.errored and not result.cold and result.worker_pid == warm.worker_pid
    assert result.payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in result.payload["errorMessage"]
    assert not alive(warm.payload["pid"])  # killed and reaped before invoke() returned
    after = runtime.invoke(fn, {})
    assert not after.errored and after.cold and after.worker_pid != warm.worker_pid
    assert after.payload["invocations"] == 1
    log = (runtime.settings.logs_dir / "slow.log").read_text()
    assert f"{result.request_id} Task timed out after 1.00 seconds" in log


def test_a_worker_that_exits_is_a_runtime_exit_error_and_is_replaced(runtime: LambdaRuntime) -> None:
    fn = spec(name="exits")
    result = runtime.invoke(fn, {"action": "exit"})
    assert result.errored and result.payload["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: exit status 3" in result.payload["errorMessage"]
    again = runtime.invoke(fn, {})
    assert again.cold and not again.errored


def test_import_failure_is_runtime_import_module_error(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(spec(name="broken-init", FAIL_AT_IMPORT="1"), {})
    assert result.errored and result.cold
    assert result.payload["errorType"] == "Runtime.ImportModuleError"
    assert "module-level code failed" in result.payload["errorMessage"]


def test_unserialisable_result_is_a_marshal_error(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(spec(name="marshal"), {"action": "unserialisable"})
    assert result.errored and result.payload["errorType"] == "Runtime.MarshalError"
    assert "Unable to marshal response" in result.payload["errorMessage"]
    assert not runtime.invoke(spec(name="marshal"), {}).cold  # the environment survives a function error


def test_environment_context_and_isolation(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(spec(timeout=7), {"action": "env"})
    p = result.payload
    assert not result.errored, p
    assert p["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1" and p["AWS_REGION"] == "eu-west-1"
    assert p["AWS_LAMBDA_FUNCTION_NAME"] == p["name"] == "fn-under-test"
    assert p["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512" and p["memory"] == 512
    assert p["MY_VAR"] == "mine" and p["layer"] == "from layer"
    assert p["arn"].endswith(":function:fn-under-test") and p["request_id"] == result.request_id
    assert p["_LOCAL_REQUEST_ID"] is None  # runtime internals are not in the function's environment
    assert p["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert p["leaked"] is False
    assert "code" in Path(p["cwd"]).parts


def test_each_invocation_is_logged(runtime: LambdaRuntime) -> None:
    runtime.invoke(spec(), {"action": "raise"})
    log = (runtime.settings.logs_dir / "fn_under_test.log").read_text()
    assert "START RequestId:" in log and "REPORT RequestId:" in log
    assert "CustomError: it broke" in log and 'ERROR {"errorMessage": "it broke"' in log


def run_in_threads(
    runtime: LambdaRuntime, calls: list[tuple[FunctionSpec, dict[str, Any]]]
) -> tuple[list[threading.Thread], list[InvocationResult]]:
    results: list[InvocationResult] = []
    threads = [threading.Thread(target=lambda f=f, e=e: results.append(runtime.invoke(f, e))) for f, e in calls]
    for thread in threads:
        thread.start()
    return threads, results


def test_invocations_beyond_the_caps_wait_their_turn(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, per_function_concurrency=2, total_concurrency=3, max_workers=8)
    gate = tmp_path / "gate"
    busy, other = spec(name="busy"), spec(name="other")
    try:
        calls = [(busy, {"action": "gate", "gate": str(gate)}) for _ in range(4)]
        threads, results = run_in_threads(runtime, calls)
        runtime.wait_until(lambda s: s.active.get("busy") == 2 and s.waiting == 2, timeout=60)
        # Another function is not blocked by busy's cap while the total has room...
        more, more_results = run_in_threads(runtime, [(other, {"action": "gate", "gate": str(gate)})] * 2)
        state = runtime.wait_until(lambda s: s.active.get("other") == 1 and s.waiting == 3, timeout=60)
        # ...but the total cap holds: the second "other" waits although its own cap (2) has room.
        assert state.total_active == 3 and state.active == {"busy": 2, "other": 1}
        gate.write_text("open")
        for thread in threads + more:
            thread.join(timeout=120)
        assert len(results) == 4 and len(more_results) == 2
        assert not any(r.errored for r in results + more_results), [r.payload for r in results + more_results]
        stats = runtime.stats()
        assert stats.max_active["busy"] == 2 and stats.max_active["other"] <= 2 and stats.max_total_active == 3
        assert stats.waited == 3 and stats.waiting == 0 and stats.total_active == 0
        # At most two environments (the cap) served busy's four invocations: the waiters reused them warm.
        pids = {r.worker_pid for r in results}
        assert 1 <= len(pids) <= 2 and sum(r.cold for r in results) == len(pids)
    finally:
        gate.write_text("open")
        runtime.kill_all()


def test_cold_starts_take_turns_and_a_waiter_takes_a_worker_that_becomes_idle(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, per_function_concurrency=2, total_concurrency=4, concurrent_inits=1)
    init_gate, handler_gate = tmp_path / "init-gate", tmp_path / "handler-gate"
    warm_fn, slow_init = spec(name="warm-one"), spec(name="slow-init", INIT_GATE=str(init_gate))
    try:
        first = runtime.invoke(warm_fn, {})
        busy, busy_results = run_in_threads(runtime, [(warm_fn, {"action": "gate", "gate": str(handler_gate)})])
        runtime.wait_until(lambda s: s.active.get("warm-one") == 1 and s.idle_workers == 0, timeout=60)
        # slow-init holds the only cold-start turn...
        init, init_results = run_in_threads(runtime, [(slow_init, {})])
        runtime.wait_until(lambda s: s.initializing == 1, timeout=60)
        # ...so a second warm-one invocation, with no idle worker, waits for the turn or an idle worker.
        second, second_results = run_in_threads(runtime, [(warm_fn, {})])
        runtime.wait_until(lambda s: s.init_waits == 1, timeout=60)
        handler_gate.write_text("open")  # the busy warm-one worker becomes idle first
        for thread in busy + second:
            thread.join(timeout=60)
        assert not second_results[0].cold and second_results[0].worker_pid == first.worker_pid
        assert runtime.stats().initializing == 1  # slow-init still has the turn
        init_gate.write_text("open")
        init[0].join(timeout=60)
        assert init_results[0].cold and not init_results[0].errored
        assert not busy_results[0].errored and runtime.stats().cold_starts == 2
    finally:
        init_gate.write_text("open")
        handler_gate.write_text("open")
        runtime.kill_all()


def test_a_wait_beyond_queue_timeout_is_throttled(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, per_function_concurrency=1, total_concurrency=1, max_workers=2, queue_timeout=0.2)
    gate = tmp_path / "gate"
    try:
        threads, results = run_in_threads(runtime, [(spec(name="one"), {"action": "gate", "gate": str(gate)})])
        runtime.wait_until(lambda s: s.total_active == 1, timeout=60)
        throttled = runtime.invoke(spec(name="one"), {})
        assert throttled.errored and throttled.payload["errorType"] == "TooManyRequestsException"
        gate.write_text("open")
        threads[0].join(timeout=60)
        assert not results[0].errored
    finally:
        gate.write_text("open")
        runtime.kill_all()


def test_kill_all_stops_busy_and_idle_workers(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    idle = runtime.invoke(spec(name="idle"), {})
    threads, results = run_in_threads(runtime, [(spec(name="busy"), {"action": "sleep"})])
    runtime.wait_until(lambda s: s.total_active == 1 and s.workers == 2, timeout=60)
    runtime.kill_all()
    threads[0].join(timeout=60)
    assert results[0].errored and results[0].payload["errorType"] == "Runtime.ExitError"
    assert not alive(idle.payload["pid"])
    assert runtime.stats().workers == 0
