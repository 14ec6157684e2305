"""The subprocess Lambda runtime on its own: results, AWS error payloads, Timeout, environment, logs."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from local_stack.lambda_runtime import FunctionSpec, RuntimeSettings, SubprocessRuntime

HANDLER = '''
import os, sys, time

class CustomError(Exception):
    pass

def handler(event, context):
    action = event.get("action")
    print("invoked with", action)
    if action == "raise":
        raise CustomError("it broke")
    if action == "sleep":
        time.sleep(30)
    if action == "env":
        try:
            import local_stack  # the runtime must not leak the repo onto the handler's path
            leaked = True
        except ImportError:
            leaked = False
        return {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "MY_VAR", "_X_AMZN_TRACE_ID", "_LOCAL_REQUEST_ID")} | {
                "leaked": leaked, "layer": __import__("layer_mod").VALUE, "cwd": os.getcwd(),
                "remaining": context.get_remaining_time_in_millis(), "name": context.function_name,
                "memory": context.memory_limit_in_mb, "arn": context.invoked_function_arn,
                "request_id": context.aws_request_id}
    return {"echo": event}
'''


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> SubprocessRuntime:
    base = tmp_path_factory.mktemp("runtime")
    layer = base / "layer"
    layer.mkdir()
    (layer / "layer_mod.py").write_text("VALUE = 'from layer'\n")
    return SubprocessRuntime(
        RuntimeSettings(
            endpoint_url="http://127.0.0.1:1", region="eu-west-1", layer_dirs=(layer,),
            work_dir=base / "work", logs_dir=base / "logs", echo_errors=False,
        )
    )


def spec(timeout: float = 3) -> FunctionSpec:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", HANDLER)
    return FunctionSpec(
        function_name="fn-under-test", function_arn="arn:aws:lambda:eu-west-1:123456789012:function:fn-under-test",
        handler="app.handler", code_bytes=buf.getvalue(), environment={"MY_VAR": "mine"}, timeout=timeout,
        memory_size=512, log_name="under_test",
    )


def test_success_returns_the_handler_result(runtime: SubprocessRuntime) -> None:
    result = runtime.invoke(spec(), {"x": 1})
    assert not result.errored
    assert result.payload == {"echo": {"x": 1}}
    assert "invoked with None" in result.logs


def test_exception_yields_aws_error_payload_with_class_name(runtime: SubprocessRuntime) -> None:
    result = runtime.invoke(spec(), {"action": "raise"})
    assert result.errored
    assert result.payload["errorType"] == "CustomError"
    assert result.payload["errorMessage"] == "it broke"
    assert any("app.py" in frame for frame in result.payload["stackTrace"])
    assert not any("lambda_bootstrap" in frame for frame in result.payload["stackTrace"])


def test_timeout_kills_and_reports_sandbox_timedout(runtime: SubprocessRuntime) -> None:
    started = time.monotonic()
    result = runtime.invoke(spec(timeout=1), {"action": "sleep"})
    assert time.monotonic() - started < 5
    assert result.errored
    assert result.payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in result.payload["errorMessage"]


def test_environment_context_and_isolation(runtime: SubprocessRuntime) -> None:
    result = runtime.invoke(spec(timeout=7), {"action": "env"})
    p = result.payload
    assert not result.errored, p
    assert p["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1" and p["AWS_REGION"] == "eu-west-1"
    assert p["AWS_LAMBDA_FUNCTION_NAME"] == p["name"] == "fn-under-test"
    assert p["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512" and p["memory"] == 512
    assert p["MY_VAR"] == "mine" and p["layer"] == "from layer"
    assert p["arn"].endswith(":function:fn-under-test") and len(p["request_id"]) == 36
    assert p["_LOCAL_REQUEST_ID"] is None  # runtime internals are not in the function's environment
    assert p["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert 5000 < p["remaining"] <= 7000
    assert p["leaked"] is False
    assert Path(p["cwd"]).name == Path(p["cwd"]).name and "code" in p["cwd"]


def test_each_invocation_is_logged(runtime: SubprocessRuntime) -> None:
    runtime.invoke(spec(), {"action": "raise"})
    log = (runtime.settings.logs_dir / "under_test.log").read_text()
    assert "START RequestId:" in log and "REPORT RequestId:" in log
    assert "CustomError: it broke" in log and 'ERROR {"errorMessage": "it broke"' in log
