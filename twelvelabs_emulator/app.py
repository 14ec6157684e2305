"""The WSGI application: admin routes, then for `/v1.3`: faults, auth, rate limit, routing, response headers."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from twelvelabs_emulator import (
    admin,
    api_analyze_tasks,
    api_assets,
    api_connections,
    api_embed,
    api_embed_v2,
    api_generate,
    api_indexed_assets,
    api_indexes,
    api_multipart,
    api_search,
    api_tasks,
)
from twelvelabs_emulator.config import EmulatorConfig
from twelvelabs_emulator.error_shapes import rate_limit_shape
from twelvelabs_emulator.errors import ApiError, ErrorShape
from twelvelabs_emulator.httpkit import EmulatorRequest, error_response
from twelvelabs_emulator.idempotency import MAX_KEY_LENGTH, Entry, fingerprint, replay
from twelvelabs_emulator.ratelimit import RateDecision
from twelvelabs_emulator.services import Services

log = logging.getLogger(__name__)
API_PREFIX = "/v1.3"
ADMIN_PREFIX = "/_emulator"
API_VERSION = "1.3"
# POSTs that create a resource: the `error_after_create` fault answers 500 after one of them succeeded.
CREATING_PATHS = re.compile(
    re.escape(API_PREFIX) + r"/(tasks|embed/tasks|indexes|assets|assets/multipart-uploads|indexes/[^/]+/indexed-assets"
    r"|analyze/tasks|embed-v2/tasks|connections/[^/]+/imports)"
)
# Endpoints answering errors as `{"error": {...}}` (§1); everything else is flat `{code, message}`.
WRAPPED_ERROR_PREFIXES = (f"{API_PREFIX}/embed-v2", f"{API_PREFIX}/analyze/tasks", f"{API_PREFIX}/analyze/batches")
FINGERPRINT_BODY_LIMIT = 4 * 1024 * 1024


def error_shape(path: str) -> ErrorShape:
    return "wrapped" if path.startswith(WRAPPED_ERROR_PREFIXES) else "flat"


Handler = Callable[..., Response]

API_ROUTES: list[tuple[str, list[str], Handler]] = [
    ("/indexes", ["GET"], api_indexes.list_indexes),
    ("/indexes", ["POST"], api_indexes.create_index),
    ("/indexes/<index_id>", ["GET"], api_indexes.retrieve_index),
    ("/indexes/<index_id>", ["PUT"], api_indexes.update_index),
    ("/indexes/<index_id>", ["DELETE"], api_indexes.delete_index),
    ("/indexes/<index_id>/videos", ["GET"], api_indexes.list_videos),
    ("/indexes/<index_id>/videos/<video_id>", ["GET"], api_indexes.retrieve_video),
    ("/indexes/<index_id>/videos/<video_id>", ["PATCH", "PUT"], api_indexes.update_video),
    ("/indexes/<index_id>/videos/<video_id>", ["DELETE"], api_indexes.delete_video),
    ("/tasks", ["GET"], api_tasks.list_tasks),
    ("/tasks", ["POST"], api_tasks.create_task),
    ("/tasks/<task_id>", ["GET"], api_tasks.retrieve_task),
    ("/tasks/<task_id>", ["DELETE"], api_tasks.delete_task),
    ("/tasks/transfers/import/<integration_id>", ["POST"], api_tasks.start_import),
    ("/tasks/transfers/import/<integration_id>/status", ["GET"], api_tasks.import_status),
    ("/tasks/transfers/import/<integration_id>/logs", ["GET"], api_tasks.import_logs),
    ("/embed", ["POST"], api_embed.create_embedding),
    ("/embed/tasks", ["GET"], api_embed.list_embed_tasks),
    ("/embed/tasks", ["POST"], api_embed.create_embed_task),
    ("/embed/tasks/<task_id>", ["GET"], api_embed.retrieve_embed_task),
    ("/embed/tasks/<task_id>/status", ["GET"], api_embed.embed_task_status),
    ("/search", ["POST"], api_search.create_search),
    ("/search/<page_token>", ["GET"], api_search.search_page),
    ("/gist", ["POST"], api_generate.gist),
    ("/summarize", ["POST"], api_generate.summarize),
    ("/analyze", ["POST"], api_generate.analyze),
    ("/generate", ["POST"], api_generate.generate),
]

# Seed operations the current API no longer serves: they answer like any unknown route.
REMOVED_IN_CURRENT: frozenset[Handler] = frozenset(
    {
        api_generate.gist,
        api_generate.summarize,
        api_generate.generate,
        api_tasks.start_import,
        api_tasks.import_status,
        api_tasks.import_logs,
    }
)

# Operations added after the seed (SDK 1.1.0 .. 1.3.6): served in the current surface only.
CURRENT_ONLY_ROUTES: list[tuple[str, list[str], Handler]] = [
    *api_assets.ROUTES,
    *api_indexed_assets.ROUTES,
    *api_connections.ROUTES,
    *api_analyze_tasks.ROUTES,
    *api_embed_v2.ROUTES,
]


def api_routes(config: EmulatorConfig) -> list[tuple[str, list[str], Handler]]:
    """The route table of the configured surface."""
    if config.surface == "classic":
        return list(API_ROUTES)
    return [route for route in API_ROUTES if route[2] not in REMOVED_IN_CURRENT] + CURRENT_ONLY_ROUTES


ADMIN_ROUTES: list[tuple[str, list[str], Handler]] = [
    ("/health", ["GET"], admin.health),
    ("/faults", ["GET"], admin.get_faults),
    ("/faults", ["POST"], admin.set_faults),
    ("/faults", ["DELETE"], admin.clear_faults),
    ("/webhooks", ["GET"], admin.webhooks),
    ("/webhooks", ["DELETE"], admin.clear_webhooks),
    ("/config", ["POST"], admin.set_config),
    ("/reset", ["POST"], admin.reset),
    ("/requests", ["GET"], admin.requests_log),
    ("/requests", ["DELETE"], admin.clear_requests_log),
    ("/media/<video_id>", ["GET"], admin.media_file),
    ("/assets/<asset_id>/file", ["GET"], admin.asset_file),
    ("/assets/<asset_id>/thumbnail.jpg", ["GET"], admin.asset_thumbnail),
    ("/assets/<asset_id>/hls.m3u8", ["GET"], admin.asset_hls),
    ("/drive-accounts", ["GET"], admin.list_drive_accounts),
    ("/drive-accounts", ["POST"], admin.add_drive_account),
    ("/oauth/authorize", ["GET"], api_connections.oauth_consent),
    ("/connections/<connection_id>/status", ["POST"], admin.set_connection_status),
]


def _build_map(config: EmulatorConfig) -> tuple[Map, dict[str, Handler]]:
    rules: list[Rule] = []
    handlers: dict[str, Handler] = {}
    tables = [(API_PREFIX, api_routes(config)), (ADMIN_PREFIX, ADMIN_ROUTES)]
    if config.surface == "current":
        tables.append((api_multipart.UPLOADS_PREFIX, api_multipart.UPLOAD_ROUTES))
    for prefix, routes in tables:
        for n, (path, methods, handler) in enumerate(routes):
            endpoint = f"{prefix}:{n}"
            rules.append(Rule(prefix + path, methods=methods, endpoint=endpoint))
            handlers[endpoint] = handler
    return Map(rules, strict_slashes=False, merge_slashes=False), handlers


class EmulatorApp:
    def __init__(self, services: Services) -> None:
        self.s = services
        self.url_map, self.handlers = _build_map(services.rt.config)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = EmulatorRequest(environ, self.s.rt.upload_dir)
        try:
            response = self.handle(request)
        finally:
            request.cleanup()
        if request.path.startswith(API_PREFIX):
            self.s.rt.log_request(request.method, request.path, response.status_code)
        return response(environ, start_response)

    def handle(self, request: EmulatorRequest) -> Response:
        if request.path.startswith(API_PREFIX + "/") or request.path == API_PREFIX:
            response, decision = self._api(request)
            if decision is not None:
                response.headers.update(decision.headers())
        else:
            response = self._route(request)
        response.headers["X-Api-Version"] = API_VERSION
        return response

    def _api(self, request: EmulatorRequest) -> tuple[Response, RateDecision | None]:
        rt = self.s.rt
        path = request.path
        delay = rt.faults.latency_seconds(path)
        if delay:
            rt.sleep(delay)
        injected = rt.faults.take_server_error(path)
        if injected is not None:
            return error_response(
                ApiError(injected, "internal_error", "Injected server error (emulator fault).", shape=error_shape(path))
            ), None
        key = request.headers.get("x-api-key", "")
        if rt.faults.take_rate_limit(path):
            limit = rt.limiter.peek(key).limit
            decision = RateDecision(False, limit, limit, int(rt.limiter.clock()) + 1)
            return error_response(
                ApiError(
                    429,
                    "too_many_requests",
                    "Rate limit reached (injected fault); retry after 1 second.",
                    {"Retry-After": "1"},
                    shape=rate_limit_shape(path, rt.config.surface),
                )
            ), decision
        if key != rt.config.api_key:
            return error_response(
                ApiError(401, "api_key_invalid", "The x-api-key header is missing or the API key is invalid.")
            ), None
        decision = rt.limiter.hit(key)
        if not decision.allowed:
            wait = decision.retry_after(rt.limiter.clock())
            return error_response(
                ApiError(
                    429,
                    "too_many_requests",
                    f"You have exceeded the limit of {decision.limit} requests per minute; retry after {wait} seconds.",
                    {"Retry-After": str(wait)},
                    shape=rate_limit_shape(path, rt.config.surface),
                )
            ), decision
        response = self._idempotent_route(request, key) if request.method == "POST" else self._route(request)
        if (
            request.method == "POST"
            and CREATING_PATHS.fullmatch(path.rstrip("/"))
            and 200 <= response.status_code < 300
            and rt.faults.take_error_after_create(path)
        ):
            response = error_response(
                ApiError(
                    500,
                    "internal_error",
                    "Injected server error after the resource was created (emulator fault).",
                    shape=error_shape(path),
                )
            )
        return response, decision

    def _idempotent_route(self, request: EmulatorRequest, api_key: str) -> Response:
        """POSTs with an `Idempotency-Key` header run once per key and body (see idempotency.py)."""
        idem_key = request.headers.get("Idempotency-Key")
        if idem_key is None:
            return self._route(request)
        shape = error_shape(request.path)
        if not idem_key.strip() or len(idem_key) > MAX_KEY_LENGTH:
            return error_response(
                ApiError(
                    400,
                    "parameter_invalid",
                    f"The Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} characters.",
                    shape=shape,
                )
            )
        declared = request.content_length or 0
        multipart = request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded")
        if declared > (self.s.rt.config.max_video_bytes + 1024 * 1024 if multipart else FINGERPRINT_BODY_LIMIT):
            return self._route(request)  # refused by the handler without reading the body anyway
        try:
            digest = fingerprint(request)
        except HTTPException as exc:  # a malformed form: let the handler answer it
            log.debug("no idempotency fingerprint: %s", exc)
            return self._route(request)
        store = self.s.rt.idempotency
        scope = (api_key, request.method, request.path.rstrip("/"), idem_key)
        found = store.begin(scope, digest)
        if isinstance(found, Entry):
            return replay(found)
        if found == "conflict":
            return error_response(
                ApiError(
                    409,
                    "idempotency_key_conflict",
                    "This Idempotency-Key was already used "
                    "with a different request body; use a new key for a new request.",
                    shape=shape,
                )
            )
        if found == "in_flight":
            return error_response(
                ApiError(
                    409,
                    "idempotency_key_in_use",
                    "A request with this Idempotency-Key is still being processed; retry later.",
                    shape=shape,
                )
            )
        try:
            response = self._route(request)
        except BaseException:
            store.release(scope)
            raise
        store.finish(scope, response)
        return response

    def _route(self, request: EmulatorRequest) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            return error_response(ApiError(404, "resource_not_exist", f"No route for {request.method} {request.path}."))
        except MethodNotAllowed:
            return error_response(
                ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}.")
            )
        try:
            return self.handlers[endpoint](self.s, request, **args)
        except ApiError as error:
            return error_response(error)
        except RequestEntityTooLarge:
            return error_response(
                ApiError(
                    400, "parameter_invalid", "A form field is larger than 1 MiB, or the form has more than 1000 parts."
                )
            )
        except HTTPException as exc:  # werkzeug's own rejections of malformed requests
            return error_response(ApiError(exc.code or 400, "parameter_invalid", exc.description or exc.name))
        except Exception:  # a bug in the emulator, never bad input: answer JSON 500 and keep the traceback
            log.exception("unhandled error on %s %s", request.method, request.path)
            return error_response(
                ApiError(
                    500,
                    "internal_error",
                    "The emulator failed on this request (a bug).",
                    shape=error_shape(request.path),
                )
            )
