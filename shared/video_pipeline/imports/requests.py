"""A request file dropped under the request prefix of the media bucket -> a validated import run, or import.rejected.

The run id is derived from the file (bucket, key, etag), and is the execution's name: a redelivered event starts
nothing twice, and an edited file (new etag) is a new run.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pydantic import ValidationError

from video_pipeline.clients import Runtime
from video_pipeline.errors import InvalidEventError
from video_pipeline.imports.backfill import imports_store
from video_pipeline.imports.runs import InvalidImportRequestError, reject, request_run_id, validate_request
from video_pipeline.imports.settings import ImportRequestSettings
from video_pipeline.models.base import Strict
from video_pipeline.models.events import S3ObjectRef, parse_s3_message_body

logger = Logger(child=True)


class RequestFileOutcome(Strict):
    run_id: str
    outcome: Literal["started", "rejected", "ignored"]
    detail: str = ""


def handle_request_event(event: dict[str, Any], runtime: Runtime[ImportRequestSettings]) -> list[RequestFileOutcome]:
    """One EventBridge `Object Created` event of a request file. InvalidEventError for any other event."""
    try:
        parsed = parse_s3_message_body(json.dumps(event))
    except (ValueError, ValidationError) as exc:
        raise InvalidEventError(f"not an S3 Object Created event: {exc}") from exc
    if parsed.action != "created":
        raise InvalidEventError(f"import_request got an object {parsed.action} event")
    return [handle_request_file(obj, runtime) for obj in parsed.objects]


def _read(obj: S3ObjectRef, runtime: Runtime[ImportRequestSettings]) -> bytes:
    """The request file's bytes, exactly the version the event announced (IfMatch: not a later overwrite)."""
    kwargs: dict[str, Any] = {
        "Bucket": obj.bucket,
        "Key": obj.key,
        "Range": f"bytes=0-{runtime.settings.max_request_bytes}",
    }
    if obj.etag:
        kwargs["IfMatch"] = obj.etag
    return bytes(runtime.s3.get_object(**kwargs)["Body"].read())


def handle_request_file(obj: S3ObjectRef, runtime: Runtime[ImportRequestSettings]) -> RequestFileOutcome:
    settings = runtime.settings
    run_id = request_run_id(obj.bucket, obj.key, obj.etag)
    if not obj.key.startswith(settings.import_request_prefix) or obj.bucket != settings.media_bucket:
        return RequestFileOutcome(run_id=run_id, outcome="ignored", detail="not under the request prefix")
    if obj.key.endswith("/"):
        return RequestFileOutcome(run_id=run_id, outcome="ignored", detail="a folder marker, not a request")
    requested_by = obj.s3_uri
    raw: Any = None
    try:
        if obj.size is not None and obj.size > settings.max_request_bytes:
            raise InvalidImportRequestError(
                f"the request file is {obj.size} bytes; a request is at most {settings.max_request_bytes} bytes"
            )
        try:
            data = _read(obj, runtime)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "NoSuchKey", "412"):
                # Overwritten or removed since: the newer file has its own event (or nothing is left to run).
                return RequestFileOutcome(run_id=run_id, outcome="ignored", detail="superseded")
            raise
        if len(data) > settings.max_request_bytes:
            raise InvalidImportRequestError(f"the request file exceeds {settings.max_request_bytes} bytes")
        try:
            raw = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidImportRequestError(f"the request file is not UTF-8 JSON: {exc}") from exc
        request = validate_request(raw, settings.media_bucket)
    except InvalidImportRequestError as exc:
        logger.warning("import request refused", extra={"run_id": run_id, "s3_uri": obj.s3_uri, "reason": exc.message})
        reject(
            runtime.clients.sns,
            settings.notifications_topic_arn,
            imports_store(runtime),
            run_id=run_id,
            raw=raw,
            reason=exc.message,
            requested_by=requested_by,
        )
        return RequestFileOutcome(run_id=run_id, outcome="rejected", detail=exc.message)
    execution_input = request.model_copy(update={"requested_by": requested_by}).model_dump_json()
    try:
        runtime.sfn.start_execution(
            stateMachineArn=settings.import_state_machine_arn, name=run_id, input=execution_input
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
        logger.info("import already started", extra={"run_id": run_id})
    logger.info("import started", extra={"run_id": run_id, "s3_uri": obj.s3_uri})
    return RequestFileOutcome(run_id=run_id, outcome="started")
