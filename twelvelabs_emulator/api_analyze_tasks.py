"""Async analysis (/analyze/tasks) of the current surface; every error here is the wrapped shape."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any, Literal

from werkzeug.wrappers import Response

from twelvelabs_emulator import analyze
from twelvelabs_emulator.analyze_tasks import AnalyzeTaskRecord, StoredImage, not_found, task_json
from twelvelabs_emulator.clock import utcnow
from twelvelabs_emulator.errors import ApiError, invalid, not_provided
from twelvelabs_emulator.httpkit import EmulatorRequest, json_response, paginate, query_choice
from twelvelabs_emulator.services import Services

CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TASK_MAX_SECONDS = 4 * 3600.0  # a video up to 4 h when the analysed window is at most 2 h
WINDOW_MAX_SECONDS = 2 * 3600.0
GENERAL_TOKENS = (512, 98_304, 4096)
SEGMENT_TOKENS = (2048, 98_304, 32_768)
FIELD_TYPES = ("string", "boolean", "number", "integer", "array", "timestamp", "time_array")
RESERVED_FIELD_NAMES = ("start_time", "end_time", "metadata")
MIN_SEGMENT_SECONDS = 2.0


class CreateTaskIn(analyze.AnalyzeIn):
    custom_id: str | None = None
    analysis_mode: Literal["general", "time_based_metadata"] = "general"
    max_tokens: int | str | None = None
    min_segment_duration: float | None = None
    max_segment_duration: float | None = None


def wrapped(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Re-raise every ApiError of the handler in the wrapped `{"error": {...}}` shape."""

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Response:
        try:
            return handler(*args, **kwargs)
        except ApiError as error:
            if error.shape == "wrapped":
                raise
            raise ApiError(
                error.status, error.code, error.message, error.headers, shape="wrapped", details=error.details
            ) from error

    return run


def _max_tokens(body: CreateTaskIn) -> int | Literal["unlimited"]:
    low, high, default = SEGMENT_TOKENS if body.analysis_mode == "time_based_metadata" else GENERAL_TOKENS
    value = body.max_tokens
    if value is None:
        return default
    if value == "unlimited":
        if body.analysis_mode != "time_based_metadata" or body.model_name != "pegasus1.6":
            raise invalid(
                "max_tokens", '"unlimited" needs analysis_mode time_based_metadata and model_name pegasus1.6.'
            )
        return "unlimited"
    if isinstance(value, (str, bool)) or not low <= value <= high:
        raise invalid(
            "max_tokens",
            f"it must be an integer between {low} and {high}"
            + (' or "unlimited"' if body.analysis_mode == "time_based_metadata" else "")
            + ".",
        )
    return value


def _check_field(raw: object, path: str, nested: bool = False) -> None:
    if not isinstance(raw, dict):
        raise invalid(path, "it must be an object.")
    name, kind = raw.get("name"), raw.get("type")
    if not isinstance(name, str) or not name:
        raise not_provided(f"{path}.name")
    if name in RESERVED_FIELD_NAMES:
        raise invalid(f"{path}.name", f"{name} is reserved ({', '.join(RESERVED_FIELD_NAMES)}).")
    allowed = FIELD_TYPES if not nested else tuple(t for t in FIELD_TYPES if t != "time_array")
    if kind not in allowed:
        raise invalid(f"{path}.type", f"{kind!r} is not one of {', '.join(allowed)}.")
    if not isinstance(raw.get("description"), str) or not raw["description"]:
        raise not_provided(f"{path}.description")
    fmt = raw.get("format")
    if fmt is not None and (kind != "timestamp" or fmt not in analyze.TIMESTAMP_FORMATS):
        raise invalid(f"{path}.format", "format applies to timestamp fields only: seconds, hh:mm:ss, hh:mm:ss.fff.")
    enum = raw.get("enum")
    if enum is not None and (
        not isinstance(enum, list) or len(enum) > 100 or not all(isinstance(e, str) for e in enum)
    ):
        raise invalid(f"{path}.enum", "it must be a list of at most 100 strings.")
    items = raw.get("items")
    if kind in ("array", "time_array") and not isinstance(items, dict):
        raise not_provided(f"{path}.items")
    if kind == "time_array":
        assert isinstance(items, dict)
        sub = items.get("fields")
        if items.get("type") != "object" or not isinstance(sub, list) or not sub:
            raise invalid(f"{path}.items", 'time_array needs items {"type": "object", "fields": [...]}.')
        for n, item in enumerate(sub):
            _check_field(item, f"{path}.items.fields[{n}]", nested=True)


def _check_segment_definitions(body: CreateTaskIn) -> None:
    rf = body.response_format
    if rf is None or rf.type != "segment_definitions":
        raise invalid(
            "response_format", "analysis_mode time_based_metadata needs response_format.type segment_definitions."
        )
    if body.prompt is not None or body.prompt_v2 is not None:
        raise invalid("prompt", "prompt and prompt_v2 are not allowed with analysis_mode time_based_metadata.")
    definitions = rf.segment_definitions
    if not definitions or len(definitions) > 20:
        raise invalid("response_format.segment_definitions", "give 1 to 20 segment definitions.")
    seen: set[str] = set()
    has_ranges = False
    for n, definition in enumerate(definitions):
        path = f"response_format.segment_definitions[{n}]"
        ident = definition.get("id")
        if not isinstance(ident, str) or not ident:
            raise not_provided(f"{path}.id")
        if ident in seen:
            raise invalid(f"{path}.id", f"{ident!r} is used twice.")
        seen.add(ident)
        if not isinstance(definition.get("description"), str) or not definition["description"].strip():
            raise not_provided(f"{path}.description")
        for m, field in enumerate(definition.get("fields") or []):
            _check_field(field, f"{path}.fields[{m}]")
        sources = definition.get("media_sources") or []
        if len(sources) > 4:
            raise invalid(f"{path}.media_sources", "at most 4 media sources.")
        ranges = definition.get("time_ranges") or []
        previous_end = -math.inf
        for m, rng in enumerate(sorted(ranges, key=lambda r: r.get("start_time", 0) if isinstance(r, dict) else 0)):
            if not isinstance(rng, dict) or not all(
                isinstance(rng.get(k), (int, float)) for k in ("start_time", "end_time")
            ):
                raise invalid(f"{path}.time_ranges[{m}]", "it needs numeric start_time and end_time.")
            if rng["end_time"] - rng["start_time"] < MIN_SEGMENT_SECONDS:
                raise invalid(f"{path}.time_ranges[{m}]", f"a range must be at least {MIN_SEGMENT_SECONDS:.0f} s long.")
            if rng["start_time"] < previous_end:
                raise invalid(f"{path}.time_ranges", "ranges must not overlap.")
            previous_end = rng["end_time"]
            has_ranges = True
    if has_ranges:
        if body.start_time is not None or body.end_time is not None:
            raise invalid("start_time", "time_ranges cannot be combined with start_time/end_time.")
        if body.min_segment_duration is not None or body.max_segment_duration is not None:
            raise invalid("min_segment_duration", "time_ranges cannot be combined with min/max_segment_duration.")
        if body.max_tokens == "unlimited":
            raise invalid("max_tokens", '"unlimited" cannot be combined with time_ranges.')
    lo, hi = body.min_segment_duration, body.max_segment_duration
    for name, value in (("min_segment_duration", lo), ("max_segment_duration", hi)):
        if value is not None and value < MIN_SEGMENT_SECONDS:
            raise invalid(name, f"it must be at least {MIN_SEGMENT_SECONDS:.0f} s.")
    if lo is not None and hi is not None and hi < lo:
        raise invalid("max_segment_duration", "it must be at least min_segment_duration.")


def _request_params(
    body: CreateTaskIn, data: dict[str, Any], max_tokens: int | str, inputs: analyze.Inputs
) -> dict[str, object]:
    params: dict[str, object] = {"analysis_mode": body.analysis_mode}
    if body.prompt is not None:
        params["prompt"] = body.prompt
    if body.prompt_v2 is not None:
        pv2: dict[str, object] = {"input_text": body.prompt_v2.input_text}
        if inputs.prompt_images:
            pv2["media_sources"] = [i.source for i in inputs.prompt_images]
        params["prompt_v2"] = pv2
    if inputs.images:
        params["image"] = [i.source for i in inputs.images]
    if body.response_format is not None:
        params["response_format"] = data["response_format"]
    params |= {"temperature": body.temperature, "max_tokens": max_tokens}
    for name in ("min_segment_duration", "max_segment_duration", "start_time", "end_time"):
        if getattr(body, name) is not None:
            params[name] = getattr(body, name)
    return params


@wrapped
def create_task(s: Services, request: EmulatorRequest) -> Response:
    data = analyze.read_json_object(request)
    analyze.check_removed(data)
    body: CreateTaskIn = analyze.validate(CreateTaskIn, data)
    if body.custom_id is not None and not CUSTOM_ID.match(body.custom_id):
        raise invalid("custom_id", "it must be 1 to 64 characters of letters, digits, hyphens and underscores.")
    segmenting = body.analysis_mode == "time_based_metadata"
    if segmenting:
        _check_segment_definitions(body)
        if body.image is not None:
            raise invalid("image", "image input is not supported with analysis_mode time_based_metadata.")
    else:
        if body.response_format is not None and body.response_format.type == "segment_definitions":
            raise invalid("response_format.type", "segment_definitions needs analysis_mode time_based_metadata.")
        for name in ("min_segment_duration", "max_segment_duration"):
            if getattr(body, name) is not None:
                raise invalid(name, "it applies to analysis_mode time_based_metadata only.")
    analyze.check_prompt_shape(body, require_prompt=not segmenting)
    max_tokens = _max_tokens(body)
    if body.response_format is not None and body.response_format.type == "json_schema":
        if body.response_format.json_schema is None:
            raise invalid("response_format.json_schema", "it is required when type is json_schema.")
        analyze.check_json_schema(body.response_format.json_schema)
    if (
        body.start_time is not None
        and body.end_time is not None
        and body.end_time - body.start_time > WINDOW_MAX_SECONDS
    ):
        raise invalid("end_time", "the analysed window may be at most 2 hours.")
    clip_seconds = analyze.ANALYZE_CLIP_SECONDS
    if segmenting:
        clip_seconds = min(
            max(clip_seconds, body.min_segment_duration or 0.0), body.max_segment_duration or clip_seconds
        )
    video = (
        analyze.analyse_video(s, body.video, body.start_time, body.end_time, TASK_MAX_SECONDS, clip_seconds)
        if body.video
        else None
    )
    if video is not None and video.window[1] - video.window[0] > WINDOW_MAX_SECONDS:
        raise invalid("video", "videos over 2 hours need a start_time/end_time window of at most 2 hours.")
    inputs = analyze.resolve_inputs(s, body.model_copy(update={"video": None}), TASK_MAX_SECONDS)
    inputs.video = video
    source = None
    if video is not None:
        source = dict(video.source) | {"system_metadata": {"duration": video.info.duration}}
    record = AnalyzeTaskRecord(
        id="",
        seq=0,
        custom_id=body.custom_id,
        status="queued",
        created_at=utcnow(),
        model_name=body.model_name,
        analysis_mode=body.analysis_mode,
        video_source=source,
        request_params=_request_params(body, data, max_tokens, inputs),
        prompt=inputs.prompt,
        info=video.info if video else None,
        clips=video.clips if video else [],
        content_hash=video.content_hash if video else "",
        images=[StoredImage(name=i.name, tokens=i.tokens) for i in inputs.images],
        prompt_images=[StoredImage(name=i.name, tokens=i.tokens) for i in inputs.prompt_images],
        response_format=data.get("response_format"),
        max_tokens=max_tokens,
        input_tokens=analyze.input_tokens(inputs),
    )
    task = s.analyze_tasks.create(record)
    return json_response({"task_id": task.id, "status": task.status}, 202)


def _deliveries(s: Services, task_id: str) -> list[dict[str, object]] | None:
    if not s.rt.webhooks.configured():
        return None
    out: list[dict[str, object]] = []
    for d in s.rt.webhooks.deliveries_for(task_id):
        info: dict[str, object] = {"url": d.url, "delivered": d.delivered, "attempts": d.attempts}
        if not d.delivered and d.last_error is not None:
            info["last_error"] = d.last_error
        elif not d.delivered and d.last_status is not None:
            info["last_error"] = f"HTTP {d.last_status}"
        out.append(info)
    return out


@wrapped
def list_tasks(s: Services, request: EmulatorRequest) -> Response:
    args = request.args
    status = args.get("status") or None
    if status is not None:
        query_choice(args, "status", "", ("queued", "pending", "processing", "ready", "failed", "canceled"))
    mode = args.get("analysis_mode") or None
    if mode is not None:
        query_choice(args, "analysis_mode", "", ("general", "time_based_metadata"))
    video_url, asset_id = args.get("video_url") or None, args.get("asset_id") or None
    tasks = [
        t
        for t in s.analyze_tasks.all()
        if (status is None or t.status == status)
        and (mode is None or t.analysis_mode == mode)
        and (video_url is None or (t.video_source or {}).get("url") == video_url)
        and (asset_id is None or (t.video_source or {}).get("asset_id") == asset_id)
    ]
    tasks.sort(key=lambda t: (t.created_at, t.seq), reverse=True)
    page, info = paginate(tasks, args)
    return json_response({"data": [task_json(t, _deliveries(s, t.id), listing=True) for t in page], "page_info": info})


@wrapped
def retrieve_task(s: Services, request: EmulatorRequest, task_id: str) -> Response:
    task = s.analyze_tasks.get(task_id)
    if task is None:
        raise not_found(task_id)
    return json_response(task_json(task, _deliveries(s, task_id), listing=False))


@wrapped
def cancel_task(s: Services, request: EmulatorRequest, task_id: str) -> Response:
    task = s.analyze_tasks.cancel(task_id)
    return json_response({"task_id": task.id, "status": "canceled"})


@wrapped
def delete_task(s: Services, request: EmulatorRequest, task_id: str) -> Response:
    s.analyze_tasks.delete(task_id)
    return Response(status=204)


# (path under /v1.3, methods, handler(services, request, **path_args)); served in the current surface only.
ROUTES: list[tuple[str, list[str], Callable[..., Response]]] = [
    ("/analyze/tasks", ["GET"], list_tasks),
    ("/analyze/tasks", ["POST"], create_task),
    ("/analyze/tasks/<task_id>", ["GET"], retrieve_task),
    ("/analyze/tasks/<task_id>", ["DELETE"], delete_task),
    ("/analyze/tasks/<task_id>/cancel", ["POST"], cancel_task),
]
