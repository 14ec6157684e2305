"""The moto server process: moto (werkzeug, threaded) on 127.0.0.1 + our patches + the Function URL gateway.

`python -m local_stack.moto_host --work-dir D --logs-dir L [--layer-dir shared]` prints one JSON line
when ready (`{"moto_url", "gateway_url", "pid"}`) and exits when its stdin closes (the parent is gone)
or on SIGTERM, killing any Lambda subprocess still running.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from local_stack.lambda_runtime import (
    DEFAULT_CONCURRENT_INITS,
    DEFAULT_PER_FUNCTION_CONCURRENCY,
    DEFAULT_TOTAL_CONCURRENCY,
)
from local_stack.moto_server import FAKE_CREDENTIALS


def serve(
    host: str,
    region: str,
    work_dir: Path,
    logs_dir: Path,
    layer_dirs: list[Path],
    echo_errors: bool,
    per_function_concurrency: int = DEFAULT_PER_FUNCTION_CONCURRENCY,
    total_concurrency: int = DEFAULT_TOTAL_CONCURRENCY,
    concurrent_inits: int = DEFAULT_CONCURRENT_INITS,
) -> None:
    os.environ.update(FAKE_CREDENTIALS)
    os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = region
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from local_stack import moto_patches
    from local_stack.function_url import FunctionUrlGateway
    from local_stack.lambda_runtime import LambdaRuntime, RuntimeSettings

    # One line per request would drown the function errors we echo.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Our own warnings (a webhook client that hung up, a failed execution): one prefixed line each.
    ours = logging.StreamHandler(sys.stderr)
    ours.setFormatter(logging.Formatter("[local_stack] %(message)s"))
    local_log = logging.getLogger("local_stack")
    local_log.addHandler(ours)
    local_log.setLevel(logging.INFO)
    local_log.propagate = False
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(host, 0, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_address[1]
    # The SFN interpreter's internal clients call http://localhost:{MOTO_PORT}.
    os.environ["MOTO_PORT"] = str(port)
    moto_url = f"http://{host}:{port}"
    runtime = LambdaRuntime(
        RuntimeSettings(
            endpoint_url=moto_url,
            region=region,
            layer_dirs=tuple(layer_dirs),
            work_dir=work_dir,
            logs_dir=logs_dir,
            echo_errors=echo_errors,
            per_function_concurrency=per_function_concurrency,
            total_concurrency=total_concurrency,
            concurrent_inits=concurrent_inits,
            max_workers=max(32, total_concurrency),
        )
    )
    gateway = FunctionUrlGateway(moto_url, region, host).start()
    moto_patches.install(moto_patches.PatchContext(runtime=runtime, gateway=gateway, moto_url=moto_url))

    stop = threading.Event()

    def shutdown(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)

    def watch_stdin() -> None:
        # The parent holds our stdin: EOF means it is gone, so we go too.
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()
    threading.Thread(target=server.serve_forever, name="moto", daemon=True).start()
    print(json.dumps({"moto_url": moto_url, "gateway_url": gateway.primary_url, "pid": os.getpid()}), flush=True)
    stop.wait()
    runtime.kill_all()
    gateway.stop()
    server.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--logs-dir", type=Path, required=True)
    parser.add_argument("--layer-dir", type=Path, action="append", default=[])
    parser.add_argument("--quiet", action="store_true", help="do not echo Lambda errors on stderr")
    parser.add_argument("--concurrency-per-function", type=int, default=DEFAULT_PER_FUNCTION_CONCURRENCY)
    parser.add_argument("--concurrency-total", type=int, default=DEFAULT_TOTAL_CONCURRENCY)
    parser.add_argument("--concurrent-inits", type=int, default=DEFAULT_CONCURRENT_INITS)
    args = parser.parse_args(argv)
    serve(
        args.host,
        args.region,
        args.work_dir,
        args.logs_dir,
        args.layer_dir,
        not args.quiet,
        args.concurrency_per_function,
        args.concurrency_total,
        args.concurrent_inits,
    )


if __name__ == "__main__":
    main()
