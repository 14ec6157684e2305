"""Child side of the subprocess Lambda runtime: runs ONE invocation of a handler, then exits.

Started by `lambda_runtime.SubprocessRuntime` as `python -P lambda_bootstrap.py RESULT_FILE TIMEOUT_S`
with the event on stdin and the function's environment (PYTHONPATH = code dir + shared/, like
/var/task + /opt/python). It must import nothing from this repo: the handler sees a clean sys.path.

The result file receives `{"ok": true, "payload": ...}` or AWS's unhandled-error payload
`{"ok": false, "payload": {"errorMessage", "errorType", "stackTrace"}}`.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
from typing import Any


class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and powertools use."""

    def __init__(self, deadline_ms: float) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ["_LOCAL_INVOKED_FUNCTION_ARN"]
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = os.environ["_LOCAL_REQUEST_ID"]
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _write(result_file: str, ok: bool, payload: Any) -> None:
    tmp = result_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"ok": ok, "payload": payload}, fh, default=str)
    os.replace(tmp, result_file)


def _watchdog(result_file: str, timeout_s: float, request_id: str) -> None:
    """Lambda stops the sandbox at the deadline: report it like AWS does, then die hard."""
    time.sleep(timeout_s)
    sys.stdout.flush()
    message = f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {request_id} Task timed out after {timeout_s:.2f} seconds"
    print(message, file=sys.stderr, flush=True)
    _write(result_file, False, {"errorMessage": message, "errorType": "Sandbox.Timedout"})
    os._exit(124)


def main() -> int:
    result_file, timeout_s = sys.argv[1], float(sys.argv[2])
    # The Lambda internals variables are not part of the function's environment on AWS.
    invoked_arn = os.environ.get("_LOCAL_INVOKED_FUNCTION_ARN", "")
    request_id = os.environ.get("_LOCAL_REQUEST_ID", "")
    event = json.loads(sys.stdin.read() or "null")
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    try:
        # Init phase (imports, module-level code): failures are reported as Runtime.ImportModuleError.
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as exc:  # noqa: BLE001 - reported to the caller as AWS does
        traceback.print_exc()
        _write(
            result_file,
            False,
            {
                "errorMessage": f"Unable to import module '{module_name}': {exc}",
                "errorType": "Runtime.ImportModuleError",
                "stackTrace": traceback.format_tb(exc.__traceback__),
            },
        )
        return 0
    deadline_ms = time.time() * 1000 + timeout_s * 1000
    context = LambdaContext(deadline_ms)
    os.environ.pop("_LOCAL_INVOKED_FUNCTION_ARN", None)
    os.environ.pop("_LOCAL_REQUEST_ID", None)
    context.invoked_function_arn = invoked_arn
    context.aws_request_id = request_id
    threading.Thread(target=_watchdog, args=(result_file, timeout_s, request_id), daemon=True).start()
    try:
        result = handler(event, context)
    except Exception as exc:  # noqa: BLE001 - the unhandled-error payload is the contract
        tb = traceback.format_exception(exc)
        sys.stderr.write("".join(tb))
        sys.stdout.flush()
        sys.stderr.flush()
        _write(
            result_file,
            False,
            {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "requestId": request_id,
                # Drop this bootstrap's own frame: AWS shows the handler's frames only.
                "stackTrace": traceback.format_tb(exc.__traceback__.tb_next if exc.__traceback__ else None),
            },
        )
        return 0
    sys.stdout.flush()
    sys.stderr.flush()
    _write(result_file, True, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
