"""`run_analysis`: one configured analysis, result to S3. classic: /gist, /summarize, /analyze on the video.
current: `start_analysis` creates an /analyze/tasks task on the asset (one structured task for gist / summary /
chapters / highlights, one per custom prompt); `run_analysis` stores it in the same documents as classic."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from video_pipeline.clients import Runtime
from video_pipeline.errors import AnalysisFailedError
from video_pipeline.indexing import park_result, record_created, require_active_run
from video_pipeline.job_keys import execution_name
from video_pipeline.models.payloads import (
    AnalysisSpec,
    AnalysisTaskSpec,
    ResultPointer,
    RunAnalysisInput,
    StartAnalysisInput,
)
from video_pipeline.results import record_results
from video_pipeline.settings import RunAnalysisSettings, StartAnalysisSettings

logger = Logger(child=True)

# Small fields copied onto the item; bounded so a giant gist can never approach DynamoDB's 400 KB.
MAX_TITLE_CHARS = 500
MAX_LIST_ITEMS = 25
MAX_LIST_ITEM_CHARS = 100


def _bounded_list(values: Any) -> list[str]:
    if not isinstance(values, list):
        return []
    return [str(v)[:MAX_LIST_ITEM_CHARS] for v in values[:MAX_LIST_ITEMS] if v is not None]


def run_analysis(request: RunAnalysisInput, runtime: Runtime[RunAnalysisSettings]) -> ResultPointer:
    """classic: run one analysis synchronously and store it. current: store a finished analyze task."""
    if request.task is not None:
        return store_analysis_task(request, runtime)
    spec = request.analysis
    assert spec is not None and request.video_id is not None  # RunAnalysisInput guarantees the classic pair
    jobs = runtime.store.require_jobs()
    job = require_active_run(jobs, request.job_key, request.run)
    if spec.result_name in job.results:
        # A retried state (or a killed attempt) already stored this run's result: Pegasus is not called again.
        return ResultPointer(name=spec.result_name, uri=job.results[spec.result_name])
    client = runtime.twelvelabs
    result: BaseModel
    if spec.kind == "gist":
        result = client.gist(request.video_id, spec.types or ["title", "topic", "hashtag"])
    elif spec.kind in ("summary", "chapter", "highlight"):
        result = client.summarize(
            request.video_id, spec.kind, prompt=spec.prompt, temperature=spec.temperature, max_tokens=spec.max_tokens
        )
    else:
        assert spec.prompt is not None  # AnalysisSpec guarantees it for kind "analyze"
        result = client.analyze(request.video_id, spec.prompt, temperature=spec.temperature, max_tokens=spec.max_tokens)
    payload = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    uri = runtime.results.put_json(
        request.job_key,
        spec.result_name,
        {
            "job_key": request.job_key,
            "video_id": request.video_id,
            "analysis": spec.model_dump(exclude_none=True),
            "result": payload,
        },
    )
    fields: dict[str, Any] = {}
    if spec.kind == "gist":
        if payload.get("title"):
            fields["title"] = str(payload["title"])[:MAX_TITLE_CHARS]
        if payload.get("topics") is not None:
            fields["topics"] = _bounded_list(payload.get("topics"))
        if payload.get("hashtags") is not None:
            fields["hashtags"] = _bounded_list(payload.get("hashtags"))
    record_results(runtime, request.job_key, request.run, {spec.result_name: uri}, fields)
    logger.info("analysis stored", extra={"job_key": request.job_key, "analysis": spec.name, "uri": uri})
    return ResultPointer(name=spec.result_name, uri=uri)


# ---------------------------------------------------------------- current surface: /analyze/tasks

ANALYSIS_MODEL = "pegasus1.5"
_TEXT_LIST = {"type": "array", "items": {"type": "string"}}


def _segments(label: str, text: str) -> dict[str, Any]:
    # start_time/end_time: the names the API fills with the segment's times (seconds).
    return {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "start_time": {"type": "number", "description": f"start of the {label}, in seconds"},
                "end_time": {"type": "number", "description": f"end of the {label}, in seconds"},
                label: {"type": "string", "description": f"the {label}'s {text}"},
                "summary": {"type": "string", "description": f"what happens in this {label}"},
            },
            "required": ["start_time", "end_time", label, "summary"],
        },
    }


def structured_schema(outputs: list[AnalysisSpec]) -> dict[str, Any]:
    """The one JSON schema answering every gist/summary/chapter/highlight analysis configured (no keyword the API
    refuses: no minLength/maxLength/additionalProperties/uniqueItems/maxItems)."""
    properties: dict[str, Any] = {}
    for spec in outputs:
        if spec.kind == "gist":
            types = spec.types or ["title", "topic", "hashtag"]
            if "title" in types:
                properties["title"] = {"type": "string", "description": "a short title for the video"}
            if "topic" in types:
                properties["topics"] = {**_TEXT_LIST, "description": "the video's topics"}
            if "hashtag" in types:
                properties["hashtags"] = {**_TEXT_LIST, "description": "hashtags for the video"}
        elif spec.kind == "summary":
            properties["summary"] = {"type": "string", "description": "a summary of the whole video"}
        elif spec.kind == "chapter":
            properties["chapters"] = _segments("title", "title")
        elif spec.kind == "highlight":
            properties["highlights"] = _segments("highlight", "short description")
    return {"type": "object", "properties": properties, "required": list(properties)}


def structured_prompt(outputs: list[AnalysisSpec]) -> str:
    asks = []
    for spec in outputs:
        if spec.kind == "gist":
            asks.append("a title, its topics and hashtags")
        elif spec.kind == "summary":
            asks.append(f"a summary{f' ({spec.prompt})' if spec.prompt else ''}")
        elif spec.kind == "chapter":
            asks.append(f"its chapters with their start and end times{f' ({spec.prompt})' if spec.prompt else ''}")
        elif spec.kind == "highlight":
            asks.append(f"its highlights with their start and end times{f' ({spec.prompt})' if spec.prompt else ''}")
    return "Describe this video as JSON: " + "; ".join(asks) + "."


class _Segment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    start_time: float = Field(ge=0)
    end_time: float = Field(ge=0)
    summary: str


class _Chapter(_Segment):
    title: str


class _Highlight(_Segment):
    highlight: str


class StructuredAnswer(BaseModel):
    """The structured task's JSON, checked before anything is written (a bad answer is a recorded failure)."""

    model_config = ConfigDict(extra="ignore")
    title: str | None = None
    topics: list[str] | None = None
    hashtags: list[str] | None = None
    summary: str | None = None
    chapters: list[_Chapter] | None = None
    highlights: list[_Highlight] | None = None


def task_request(task: AnalysisTaskSpec) -> dict[str, Any]:
    """The /analyze/tasks parameters of one Map item (besides the video)."""
    if task.kind == "structured":
        temperatures = [o.temperature for o in task.outputs if o.temperature is not None]
        return {
            "prompt": structured_prompt(task.outputs),
            "response_format": {"type": "json_schema", "json_schema": structured_schema(task.outputs)},
            "temperature": temperatures[0] if temperatures else None,
        }
    spec = task.analysis
    assert spec is not None and spec.prompt is not None  # AnalysisTaskSpec guarantees both for kind analyze
    return {"prompt": spec.prompt, "temperature": spec.temperature, "max_tokens": spec.max_tokens}


def start_analysis(request: StartAnalysisInput, runtime: Runtime[StartAnalysisSettings]) -> dict[str, Any]:
    """Create the analyze task once (custom_id + Idempotency-Key from the job, run and task name), park the token
    under its id for the analyze.task.* webhook, and resolve at once if it already finished."""
    from twelvelabs_client.models.analyze import VideoAsset

    jobs = runtime.store.require_jobs()
    job = require_active_run(jobs, request.job_key, request.run)
    task_id = job.tl_analyze_tasks.get(request.task.name)
    if task_id is None:
        created = runtime.twelvelabs.create_analyze_task(
            video=VideoAsset(asset_id=request.asset_id),
            model_name=ANALYSIS_MODEL,
            idempotency_key=f"{execution_name(request.job_key, request.run)}-{request.task.name}",
            **task_request(request.task),
        )
        task_id = created.task_id
        # Recorded at once: a retried state reuses it, and a purge of a retired run cancels it.
        record_created(
            jobs, request.job_key, request.run, {}, runtime, set_in={"tl_analyze_tasks": {request.task.name: task_id}}
        )
        logger.info(
            "analyze task created",
            extra={"job_key": request.job_key, "analysis": request.task.name, "task_id": task_id},
        )
    runtime.store.require_callbacks().put_token(
        task_id, request.task_token, request.job_key, kind="analyze_task", run=request.run
    )
    return park_result(task_id, runtime, kind="analyze_task")


def _failed(task: AnalysisTaskSpec, code: str, reason: str) -> AnalysisFailedError:
    return AnalysisFailedError(f"analysis {task.name!r}: {reason}", code=code)


def store_analysis_task(request: RunAnalysisInput, runtime: Runtime[RunAnalysisSettings]) -> ResultPointer:
    """A finished analyze task -> the S3 documents classic writes (gist, summary, chapters, highlights,
    analysis-<name>), the gist fields on the item. Failed, canceled, truncated (finish_reason=length) or an answer
    that is not the schema's JSON raise AnalysisFailedError with the reason: never a half-parsed result."""
    task, outcome = request.task, request.outcome
    assert task is not None and outcome is not None  # RunAnalysisInput guarantees the pair
    # No stored-result check here: storing a finished task's answer again costs nothing and writes the same
    # documents (the billed call, creating the task, is start_analysis's, which reuses a recorded task).
    if outcome.status != "ready":
        raise _failed(
            task,
            outcome.error_code or f"analysis_{outcome.status}",
            outcome.error_message or f"the analyze task {outcome.task_id} ended {outcome.status}",
        )
    answer = runtime.twelvelabs.get_analyze_task(outcome.task_id)
    result = answer.result
    if result is None or result.data is None:
        raise _failed(task, "analysis_empty", f"the analyze task {outcome.task_id} is ready without a result")
    if result.finish_reason == "length":
        warning = f" ({answer.error.message})" if answer.error and answer.error.message else ""
        raise _failed(task, "analysis_truncated", f"the answer was cut at max_tokens (finish_reason=length){warning}")
    usage = result.usage.model_dump(mode="json", exclude_none=True) if result.usage else None
    base = {"id": result.generation_id or outcome.task_id, **({"usage": usage} if usage else {})}
    if task.kind == "analyze":
        spec = task.analysis
        assert spec is not None
        payload = {**base, "data": result.data, "finish_reason": result.finish_reason}
        require_active_run(runtime.store.require_jobs(), request.job_key, request.run)
        uri = _put(runtime, request, spec, {k: v for k, v in payload.items() if v is not None})
        record_results(runtime, request.job_key, request.run, {spec.result_name: uri})
        return ResultPointer(name=spec.result_name, uri=uri)
    try:
        parsed = StructuredAnswer.model_validate_json(result.data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors(include_input=False)
        )
        raise _failed(task, "analysis_invalid_json", f"the answer does not match the JSON schema: {problems}") from exc
    missing = [name for name in structured_schema(task.outputs)["required"] if getattr(parsed, name) is None]
    if missing:
        raise _failed(task, "analysis_invalid_json", f"the answer lacks the required field(s) {missing}")
    require_active_run(runtime.store.require_jobs(), request.job_key, request.run)  # nothing written for a retired run
    uris: dict[str, str] = {}
    fields: dict[str, Any] = {}
    for spec in task.outputs:
        payload = {**base, **_classic_shape(spec, parsed)}
        uris[spec.result_name] = _put(runtime, request, spec, payload)
        if spec.kind == "gist":
            fields.update(_gist_fields(payload))
    record_results(runtime, request.job_key, request.run, uris, fields)
    logger.info("structured analysis stored", extra={"job_key": request.job_key, "results": sorted(uris)})
    return ResultPointer(name=task.name, uri=next(iter(uris.values())))


def _classic_shape(spec: AnalysisSpec, parsed: StructuredAnswer) -> dict[str, Any]:
    """One part of the structured answer in the shape classic's /gist or /summarize gives (same keys)."""
    if spec.kind == "gist":
        gist = {"title": parsed.title, "topics": parsed.topics, "hashtags": parsed.hashtags}
        return {k: v for k, v in gist.items() if v is not None}
    if spec.kind == "summary":
        return {"summarize_type": "summary", "summary": parsed.summary}
    if spec.kind == "chapter":
        chapters = [
            {
                "chapter_number": number,
                "start_sec": c.start_time,
                "end_sec": c.end_time,
                "start": int(c.start_time),  # classic's legacy whole-second fields: consumers may read them
                "end": int(c.end_time),
                "chapter_title": c.title,
                "chapter_summary": c.summary,
            }
            for number, c in enumerate(parsed.chapters or [])
        ]
        return {"summarize_type": "chapter", "chapters": chapters}
    highlights = [
        {
            "start_sec": h.start_time,
            "end_sec": h.end_time,
            "start": int(h.start_time),
            "end": int(h.end_time),
            "highlight": h.highlight,
            "highlight_summary": h.summary,
        }
        for h in parsed.highlights or []
    ]
    return {"summarize_type": "highlight", "highlights": highlights}


def _gist_fields(payload: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if payload.get("title"):
        fields["title"] = str(payload["title"])[:MAX_TITLE_CHARS]
    if payload.get("topics") is not None:
        fields["topics"] = _bounded_list(payload.get("topics"))
    if payload.get("hashtags") is not None:
        fields["hashtags"] = _bounded_list(payload.get("hashtags"))
    return fields


def _put(
    runtime: Runtime[RunAnalysisSettings], request: RunAnalysisInput, spec: AnalysisSpec, payload: dict[str, Any]
) -> str:
    return runtime.results.put_json(
        request.job_key,
        spec.result_name,
        {
            "job_key": request.job_key,
            "video_id": request.video_id,
            "analysis": spec.model_dump(exclude_none=True),
            "result": payload,
        },
    )
