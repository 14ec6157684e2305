"""Run-level helpers every import step shares: validating a request, rejecting one, announcing a run once."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import ValidationError

from video_pipeline.errors import PipelineError
from video_pipeline.imports.models import ImportEventType, ImportNotification, ImportRequest, ImportRun, RequestRef
from video_pipeline.imports.store import ImportsStore


class InvalidImportRequestError(PipelineError):
    """An import request that cannot be run (shape, values, or a source this deployment does not offer)."""

    code = "invalid_import_request"


def request_run_id(bucket: str, key: str, etag: str | None) -> str:
    """The run id (= execution name) of a request file: the same file delivered twice is one run."""
    digest = hashlib.sha256(f"{bucket}\n{key}\n{etag or ''}".encode()).hexdigest()[:40]
    return f"import-{digest}"


def validate_request(raw: Any, media_bucket: str) -> ImportRequest:
    """`raw` as an ImportRequest for this deployment; InvalidImportRequestError saying what and why otherwise."""
    if not isinstance(raw, dict):
        raise InvalidImportRequestError(f"the request must be a JSON object, got {type(raw).__name__}")
    try:
        request = ImportRequest.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<request>'}: {err['msg']}"
            for err in exc.errors(include_input=False)
        )
        raise InvalidImportRequestError(problems) from exc
    if request.bucket not in (None, media_bucket):
        raise InvalidImportRequestError(
            f"bucket: {request.bucket!r} is not the media bucket {media_bucket!r} (the pipeline's functions may only "
            "read media there; copy the objects in, or import them from their prefix)"
        )
    return request.model_copy(update={"bucket": media_bucket})


def request_ref(raw: Any) -> RequestRef:
    """What a (possibly invalid) request names, for the record of its rejection."""
    if not isinstance(raw, dict):
        return RequestRef()
    source = raw.get("source") if raw.get("source") in ("s3", "integration", "connection") else None
    bucket = raw.get("bucket") if isinstance(raw.get("bucket"), str) else None
    prefix = raw.get("prefix") if isinstance(raw.get("prefix"), str) else None
    return RequestRef(
        source=source, bucket=bucket, prefix=prefix, s3_uri=f"s3://{bucket}/{prefix or ''}" if bucket else None
    )


def publish(sns: Any, topic_arn: str, notification: ImportNotification) -> str:
    attributes = {
        "event_type": {"DataType": "String", "StringValue": notification.event_type},
        "status": {"DataType": "String", "StringValue": notification.status},
    }
    if notification.source:
        attributes["source"] = {"DataType": "String", "StringValue": notification.source}
    answer = sns.publish(TopicArn=topic_arn, Message=notification.model_dump_json(), MessageAttributes=attributes)
    return str(answer["MessageId"])


def announce_once(sns: Any, topic_arn: str, store: ImportsStore, event_type: ImportEventType, run: ImportRun) -> bool:
    """Publish `event_type` for the run unless already done. Published first, recorded after: a crash in between
    repeats the message (at-least-once), never loses it."""
    if event_type in run.notified:
        return False
    publish(sns, topic_arn, ImportNotification.for_run(event_type, run))
    store.mark_notified(run.run_id, event_type)
    return True


def reject(
    sns: Any,
    topic_arn: str,
    store: ImportsStore,
    *,
    run_id: str,
    raw: Any,
    reason: str,
    requested_by: str | None,
    execution_arn: str | None = None,
) -> ImportRun:
    """Record the refused request as a REJECTED run and announce `import.rejected` (once)."""
    run = ImportRun(
        run_id=run_id,
        status="REJECTED",
        request=request_ref(raw),
        requested_by=requested_by,
        execution_arn=execution_arn,
        error_code=InvalidImportRequestError.code,
        error_message=reason[:2000],
    )
    _, stored = store.create_run(run)
    if stored.status == "REJECTED":
        announce_once(sns, topic_arn, store, "import.rejected", stored)
    return stored


def cause_message(cause: str | None) -> str:
    """The message inside a Step Functions `Cause` (a Lambda error payload is JSON with `errorMessage`)."""
    if not cause:
        return ""
    try:
        payload = json.loads(cause)
    except json.JSONDecodeError:
        return cause[:2000]
    if isinstance(payload, dict) and payload.get("errorMessage"):
        return str(payload["errorMessage"])[:2000]
    return cause[:2000]
