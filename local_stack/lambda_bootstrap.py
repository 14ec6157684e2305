"""Child side of the warm Lambda runtime: one execution environment, reused across invocations.

Started by `lambda_runtime.LambdaRuntime` as `python -P lambda_bootstrap.py REQUEST_FD RESPONSE_FD` with the
function's environment (PYTHONPATH = code dir + layer dirs, like /var/task + /opt/python) and stdout/stderr on the
worker's log file. It must import nothing from this repo: the handler sees a clean sys.path.

Protocol (one JSON object per line on each pipe):
* init: the handler module is imported once, at start (the cold start); then
  `{"type": "ready", "init_ms": ...}` or `{"type": "init_error", "payload": {AWS Runtime.ImportModuleError}}`
  (and the worker exits: Lambda retries init in a fresh environment).
* invoke: request `{"request_id", "event", "deadline_ms", "trace_id", "invoked_function_arn"}` ->
  `{"type": "result", "ok": bool, "payload": ...}`; `ok: false` carries AWS's unhandled-error payload
  `{"errorMessage", "errorType", "stackTrace"}`. EOF on the request pipe (the host is gone) ends the worker.
Timeouts are the host's business: it kills the whole worker at the deadline, as Lambda stops the sandbox.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any, BinaryIO


class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and powertools use."""

    def __init__(self, request_id: str, invoked_function_arn: str, deadline_ms: float) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _send(channel: BinaryIO, message: dict[str, Any]) -> None:
    # Everything the handler printed belongs to this invocation's log: flush it before answering.
    sys.stdout.flush()
    sys.stderr.flush()
    channel.write(json.dumps(message).encode("utf-8") + b"\n")
    channel.flush()


def _error_payload(exc: BaseException, request_id: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"errorMessage": str(exc), "errorType": type(exc).__name__}
    if request_id is not None:
        payload["requestId"] = request_id
    # Drop this bootstrap's own frame: AWS shows the handler's frames only.
    payload["stackTrace"] = traceback.format_tb(exc.__traceback__.tb_next if exc.__traceback__ else None)
    return payload


def _invoke(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    request_id = request["request_id"]
    # The Python runtime sets the trace header per invocation (the rest of the environment is the sandbox's).
    os.environ["_X_AMZN_TRACE_ID"] = request["trace_id"]
    context = LambdaContext(request_id, request["invoked_function_arn"], float(request["deadline_ms"]))
    try:
        event = json.loads(request["event"] or "null")
    except ValueError as exc:
        payload = {"errorMessage": f"Unable to unmarshal input: {exc}", "errorType": "Runtime.UnmarshalError"}
        return {"type": "result", "ok": False, "payload": payload | {"requestId": request_id, "stackTrace": []}}
    try:
        result = handler(event, context)
    except Exception as exc:
        sys.stderr.write("".join(traceback.format_exception(exc)))
        return {"type": "result", "ok": False, "payload": _error_payload(exc, request_id)}
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:  # AWS refuses what it cannot serialise
        payload = {"errorMessage": f"Unable to marshal response: {exc}", "errorType": "Runtime.MarshalError"}
        return {"type": "result", "ok": False, "payload": payload | {"requestId": request_id, "stackTrace": []}}
    return {"type": "result", "ok": True, "payload": result}


def main() -> int:
    requests = os.fdopen(int(sys.argv[1]), "rb")
    responses = os.fdopen(int(sys.argv[2]), "wb")
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    started = time.monotonic()
    try:
        # Init phase (imports, module-level code): failures are reported as Runtime.ImportModuleError.
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as exc:
        traceback.print_exc()
        payload = {
            "errorMessage": f"Unable to import module '{module_name}': {exc}",
            "errorType": "Runtime.ImportModuleError",
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }
        _send(responses, {"type": "init_error", "payload": payload})
        return 0
    _send(responses, {"type": "ready", "init_ms": (time.monotonic() - started) * 1000})
    for line in requests:
        _send(responses, _invoke(handler, json.loads(line)))
    return 0  # the host closed the request pipe: this environment is retired


if __name__ == "__main__":
    raise SystemExit(main())
