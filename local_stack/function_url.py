"""Serves Lambda Function URLs on 127.0.0.1 (moto registers them but does not serve them).

Each request becomes a Function URL event (payload format 2.0) and a synchronous Invoke through
moto; the function's `statusCode`/`headers`/`body` become the HTTP response. The first URL
registered is served on the listener opened at start, so its address is known before the deploy
(the TwelveLabs emulator's webhook points at it). Later URLs get listeners of their own.

The same first listener also receives custom-resource responses (`PUT /__local_stack__/cfn-response/<id>`),
standing in for CloudFormation's presigned S3 ResponseURL.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
from botocore.config import Config

CFN_RESPONSE_PREFIX = "/__local_stack__/cfn-response/"
log = logging.getLogger("local_stack.function_url")
# The client hung up (e.g. the TwelveLabs emulator gave up on a slow webhook): nothing left to answer.
_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/javascript",
)


def build_event(
    method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str, url_id: str
) -> dict[str, Any]:
    """The Function URL request event, payload format version 2.0."""
    parts = urlsplit(target)
    lower = {k.lower(): v for k, v in headers.items()}
    content_type = lower.get("content-type", "")
    is_text = content_type.startswith(_TEXT_TYPES) or not body
    if is_text:
        try:
            body_text: str | None = body.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False
    if not is_text:
        body_text = base64.b64encode(body).decode("ascii")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": lower,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": url_id,
            "domainName": lower.get("host", ""),
            "domainPrefix": url_id,
            "http": {
                "method": method,
                "path": parts.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lower.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if query:
        event["queryStringParameters"] = query
    if "cookie" in lower:
        event["cookies"] = [c.strip() for c in lower["cookie"].split(";") if c.strip()]
    if body:
        event["body"] = body_text
    return event


def to_http_response(payload: Any) -> tuple[int, dict[str, str], bytes]:
    """Function result -> HTTP response, as Function URLs interpret it."""
    if isinstance(payload, dict) and "statusCode" in payload:
        headers = {str(k): str(v) for k, v in (payload.get("headers") or {}).items()}
        body = payload.get("body") or ""
        raw = base64.b64decode(body) if payload.get("isBase64Encoded") else str(body).encode("utf-8")
        return int(payload["statusCode"]), headers, raw
    # Anything else is returned as a JSON body with status 200.
    return 200, {"content-type": "application/json"}, json.dumps(payload).encode("utf-8")


class FunctionUrlGateway:
    def __init__(self, moto_url: str, region: str, host: str = "127.0.0.1") -> None:
        self.moto_url = moto_url
        self.region = region
        self.host = host
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []
        self._routes: dict[int, str] = {}  # port -> function name
        self._lock = threading.Lock()
        self._cfn_waiting: dict[str, dict[str, Any] | None] = {}
        self._lambda: Any = None
        self.client_gone = 0  # requests whose client hung up before the response

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> FunctionUrlGateway:
        self._open_listener()
        return self

    @property
    def primary_url(self) -> str:
        return self._url(self._servers[0])

    def _url(self, server: ThreadingHTTPServer) -> str:
        return f"http://{self.host}:{server.server_address[1]}/"

    def _open_listener(self) -> ThreadingHTTPServer:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: function logs are where to look

            def _handle(self) -> None:
                started = time.monotonic()
                try:
                    length = int(self.headers.get("content-length") or 0)
                    body = self.rfile.read(length) if length else b""
                    status, headers, raw = gateway.handle(
                        self.server.server_address[1],
                        self.command,
                        self.path,
                        dict(self.headers.items()),
                        body,
                        self.client_address[0],
                    )
                    self.send_response(status)
                    for k, v in headers.items():
                        if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                            self.send_header(k, v)
                    self.send_header("content-length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except _CLIENT_GONE as exc:
                    self.close_connection = True
                    gateway.client_gone += 1
                    log.warning(
                        "function URL %s %s: the client went away after %.1f s, before the response (%s)",
                        self.command,
                        self.path.split("?")[0],
                        time.monotonic() - started,
                        type(exc).__name__,
                    )

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

        server = ThreadingHTTPServer((self.host, 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="function-url", daemon=True)
        thread.start()
        with self._lock:
            self._servers.append(server)
            self._threads.append(thread)
        return server

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    # -- routes -----------------------------------------------------------------------------
    def register(self, function_name: str) -> str:
        """Serve `function_name` and return its Function URL."""
        with self._lock:
            for port, name in self._routes.items():
                if name == function_name:
                    return f"http://{self.host}:{port}/"
            free = [s for s in self._servers if s.server_address[1] not in self._routes]
        server = free[0] if free else self._open_listener()
        with self._lock:
            self._routes[server.server_address[1]] = function_name
        return self._url(server)

    def expect_cfn_response(self, request_id: str) -> str:
        with self._lock:
            self._cfn_waiting[request_id] = None
        return f"{self.primary_url.rstrip('/')}{CFN_RESPONSE_PREFIX}{request_id}"

    def pop_cfn_response(self, request_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._cfn_waiting.pop(request_id, None)

    # -- requests ---------------------------------------------------------------------------
    def handle(
        self, port: int, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        if target.startswith(CFN_RESPONSE_PREFIX):
            request_id = target[len(CFN_RESPONSE_PREFIX) :].split("?")[0]
            with self._lock:
                if request_id not in self._cfn_waiting:
                    return 404, {}, b"unknown custom resource request"
                self._cfn_waiting[request_id] = json.loads(body or b"{}")
            return 200, {}, b""
        with self._lock:
            function_name = self._routes.get(port)
        if function_name is None:
            return 404, {"content-type": "application/json"}, b'{"Message":"no function URL on this address"}'
        event = build_event(method, target, headers, body, source_ip, url_id=f"local{port}")
        client = self._lambda_client()
        response = client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode("utf-8"))
        payload_text = response["Payload"].read().decode("utf-8")
        if response.get("FunctionError"):
            return 502, {"content-type": "application/json"}, b'{"Message":"Internal Server Error"}'
        return to_http_response(json.loads(payload_text) if payload_text else None)

    def _lambda_client(self) -> Any:
        with self._lock:
            if self._lambda is None:
                self._lambda = boto3.client(
                    "lambda",
                    endpoint_url=self.moto_url,
                    region_name=self.region,
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",
                    config=Config(read_timeout=910, retries={"max_attempts": 0}),
                )
            return self._lambda
