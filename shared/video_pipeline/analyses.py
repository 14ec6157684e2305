"""`run_analysis`: one configured analysis (gist / summary / chapter / highlight / analyze), result to S3."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from video_pipeline.clients import Runtime
from video_pipeline.models.payloads import ResultPointer, RunAnalysisInput
from video_pipeline.settings import RunAnalysisSettings

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
    spec = request.analysis
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
    runtime.store.require_jobs().update(
        request.job_key, set_fields=fields, results={spec.result_name: uri}, unless_status_in=("DELETED",)
    )
    logger.info("analysis stored", extra={"job_key": request.job_key, "analysis": spec.name, "uri": uri})
    return ResultPointer(name=spec.result_name, uri=uri)
