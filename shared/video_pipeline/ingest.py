"""`ingest`: one S3 Object Created event -> screening -> claim -> StartExecution (video) or /embed (image, audio)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pydantic import ValidationError

from video_pipeline.clients import Runtime
from video_pipeline.errors import InvalidEventError, MediaLeaseHeldError
from video_pipeline.job_keys import execution_name, job_key_for
from video_pipeline.media_urls import presigned_get_url
from video_pipeline.models.base import utc_now_iso
from video_pipeline.models.events import S3ObjectRef, parse_s3_message_body
from video_pipeline.models.jobs import JobItem
from video_pipeline.models.notifications import EventType
from video_pipeline.models.payloads import ExecutionInput
from video_pipeline.notifier import announce_once
from video_pipeline.results import record_results
from video_pipeline.screening import Screening, is_ignored, is_outside_suffixes, screen_object
from video_pipeline.settings import IngestSettings
from video_pipeline.store import ACTIVE_STATUSES

logger = Logger(child=True)

EMBED_V2_MODEL = "marengo3.0"
# HeadObject has no body: a missing key or version is a bare status code.
# The conditional lease on an image/audio item for its one /embed call: only one delivery of the event pays for it.
# Three times the function's timeout, so a killed holder blocks a redelivery for a bounded time only.
MEDIA_LEASE_SECONDS = 180
_MISSING_CODES = {"404", "NoSuchKey", "NotFound", "NoSuchVersion", "403", "AccessDenied", "Forbidden"}

Outcome = Literal["ignored", "rejected", "started", "duplicate", "embedded", "embedding_failed", "superseded"]


@dataclass(frozen=True)
class IngestResult:
    job_key: str | None
    outcome: Outcome
    detail: str = ""


def process_message_body(body: str, runtime: Runtime[IngestSettings]) -> list[IngestResult]:
    """One SQS message (EventBridge event or S3 notification). Raises InvalidEventError for a poison message."""
    try:
        event = parse_s3_message_body(body)
    except (ValueError, ValidationError) as exc:
        raise InvalidEventError(f"not an S3 Object Created event: {exc}") from exc
    if event.action == "test":
        return []
    if event.action != "created":
        raise InvalidEventError(f"ingest got an object {event.action} event; it belongs to object_removed")
    keys_as_sent = literal_keys(body, len(event.objects))
    results: list[IngestResult] = []
    for obj, literal in zip(event.objects, keys_as_sent, strict=True):
        located = locate_object(obj, literal, runtime)
        results.append(located if isinstance(located, IngestResult) else process_object(located, runtime))
    return results


def literal_keys(body: str, count: int) -> list[str | None]:
    """The keys exactly as the event carries them (before any URL-decoding), in the order of its objects."""
    payload = json.loads(body)
    raw: list[Any]
    if "Records" in payload:
        raw = [((record.get("s3") or {}).get("object") or {}).get("key") for record in payload["Records"]]
    else:
        raw = [((payload.get("detail") or {}).get("object") or {}).get("key")]
    if len(raw) != count:
        return [None] * count
    return [key if isinstance(key, str) and key else None for key in raw]


def locate_object(
    obj: S3ObjectRef, literal_key: str | None, runtime: Runtime[IngestSettings]
) -> S3ObjectRef | IngestResult:
    """The object under whichever form of its key exists: S3 documents URL-encoded keys for bucket notifications,
    but not for EventBridge, so the literal key is tried first, then the decoded one (`obj.key`). Costs one
    HeadObject per form only when the two differ (a key with `+`, `%` or an encoded character). An object found
    under neither is recorded (REJECTED `object_not_found`, announced and counted like every rejection), never
    dropped silently. With an etag in the event, a form holding other content (`a+b` and `a b` both exist) does
    not count as found."""
    candidates = [key for key in dict.fromkeys((literal_key, obj.key)) if key]
    if len(candidates) < 2:
        return obj  # nothing to choose between: screening reads it (and ignores an object deleted since)
    tried: list[str] = []
    for key in candidates:
        candidate = obj.model_copy(update={"key": key})
        etag = _current_etag(candidate, runtime)
        if etag is not None and (obj.etag is None or etag == obj.etag):
            return candidate
        tried.append(key)
    job_key = job_key_for(obj)
    message = (
        f"s3://{obj.bucket}: no object under the event's key, neither as given nor URL-decoded "
        f"(tried {', '.join(repr(k) for k in tried)}{', version ' + obj.version_id if obj.version_id else ''})"
    )
    logger.warning("object not found under any form of its key", extra={"job_key": job_key, "tried": tried})
    return _reject(obj, job_key, Screening("reject", code="object_not_found", message=message), runtime)


def _current_etag(obj: S3ObjectRef, runtime: Runtime[IngestSettings]) -> str | None:
    """The etag of the object (version) under `obj.key`; None when there is none."""
    params: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key}
    if obj.version_id:
        params["VersionId"] = obj.version_id
    try:
        head = runtime.s3.head_object(**params)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status in (400, 403, 404) or exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
            # 403 is S3's answer for a missing key without s3:ListBucket; 400 for a malformed version id.
            return None
        raise  # throttling / 5xx: the record is retried
    return str(head.get("ETag", "")).strip('"')


def video_models(runtime: Runtime[IngestSettings]) -> list[str]:
    # Pegasus (analyses) is stricter than Marengo (1 h vs 2 h): screen against what will run.
    marengo, pegasus = (
        ("marengo3.0", "pegasus1.5")
        if runtime.settings.twelvelabs_surface == "current"
        else (
            "marengo2.7",
            "pegasus1.2",
        )
    )
    return [marengo, pegasus] if runtime.settings.analyses else [marengo]


def process_object(obj: S3ObjectRef, runtime: Runtime[IngestSettings]) -> IngestResult:
    settings = runtime.settings
    if is_ignored(obj.key, settings.ignore_prefixes):
        logger.info("ignored: our own output prefix", extra={"s3_uri": obj.s3_uri})
        return IngestResult(None, "ignored", "ignored prefix")
    if is_outside_suffixes(obj.key, settings.key_suffixes):
        logger.info("ignored: outside the configured key suffixes", extra={"s3_uri": obj.s3_uri})
        return IngestResult(None, "ignored", "suffix not configured")
    job_key = job_key_for(obj)
    screening = screen_object(obj, runtime.s3, video_models=video_models(runtime))
    logger.info(
        "screened",
        extra={"job_key": job_key, "s3_uri": obj.s3_uri, "decision": screening.decision, "code": screening.code},
    )
    if screening.decision == "ignore":
        return IngestResult(job_key, "ignored", screening.message or "")
    current_version = current_version_of(obj, runtime)
    if obj.version_id and obj.version_id != "null" and current_version != obj.version_id:
        # Overwritten or deleted since this event: only a key's current version is processed (its own event comes).
        return _record_superseded(obj, job_key, screening, current_version, runtime)
    supersede_older_versions(obj, job_key, runtime)
    if screening.decision == "reject":
        return _reject(obj, job_key, screening, runtime)
    if screening.kind == "video":
        return _start_video(obj, job_key, screening, runtime)
    return _embed_media(obj, job_key, screening, runtime)


def _new_job(
    obj: S3ObjectRef, job_key: str, screening: Screening, runtime: Runtime[IngestSettings], **fields: object
) -> JobItem:
    now = utc_now_iso()
    values: dict[str, object] = {
        "job_key": job_key,
        "kind": screening.kind or "video",
        "bucket": obj.bucket,
        "key": obj.key,
        "version_id": obj.version_id,
        "etag": obj.etag,
        "size": obj.size,
        "s3_uri": obj.s3_uri,
        "sequencer": obj.sequencer,
        "media_format": screening.media_format,
        "tl_index_id": runtime.settings.twelvelabs_index_id,
        "status": "RECEIVED",
        "stages": {"received_at": now},
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    return JobItem.model_validate(values)


def head_current(bucket: str, key: str, runtime: Runtime[Any]) -> dict[str, Any] | None:
    """HeadObject of the key's current object; None when it holds nothing (404, also for a delete marker). Only a
    404 means gone: with s3:ListBucket granted, a 403 is a permission fault, raised (the record or the sweep is
    retried) rather than taken as a delete that would retire live jobs."""
    try:
        return dict(runtime.s3.head_object(Bucket=bucket, Key=key))
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404 or exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def version_of(head: dict[str, Any]) -> str | None:
    """A HeadObject answer's version id; None for an unversioned object ("null")."""
    version = head.get("VersionId")
    return str(version) if version and version != "null" else None


def current_version_of(obj: S3ObjectRef, runtime: Runtime[Any]) -> str | None:
    """The version id of the key's current object (None: no object, a delete marker, or an unversioned one)."""
    head = head_current(obj.bucket, obj.key, runtime)
    return version_of(head) if head is not None else None


def supersede_older_versions(obj: S3ObjectRef, job_key: str, runtime: Runtime[IngestSettings]) -> list[str]:
    """Retire every other live job of this key: their object version is no longer the key's current one. A job from
    a newer upload (a later S3 sequencer) is never touched, whatever order the events arrive in."""
    from video_pipeline.removal import sequencer_after
    from video_pipeline.retirement import retire

    retired: list[str] = []
    for other in runtime.store.require_jobs().find_by_source(obj.s3_uri):
        if other.job_key == job_key or other.status in ("REJECTED", "DELETED", "SUPERSEDED"):
            continue
        if other.sequencer and obj.sequencer:
            if not sequencer_after(obj.sequencer, other.sequencer):
                continue
        elif other.version_id == obj.version_id and other.etag == obj.etag:
            continue
        reason = f"superseded by version {obj.version_id or obj.etag} of {obj.s3_uri}"
        retire(other, "SUPERSEDED", reason, runtime)
        retired.append(other.job_key)
    if retired:
        logger.info("older versions superseded", extra={"job_key": job_key, "superseded": retired})
    return retired


def _record_superseded(
    obj: S3ObjectRef,
    job_key: str,
    screening: Screening,
    current_version: str | None,
    runtime: Runtime[IngestSettings],
) -> IngestResult:
    """The event's version is no longer the key's current object: recorded SUPERSEDED (nothing was spent), and
    announced once, so the version's fate is visible."""
    jobs = runtime.store.require_jobs()
    now = utc_now_iso()
    reason = (
        f"version {obj.version_id} of {obj.s3_uri} is no longer current "
        f"({'now version ' + current_version if current_version else 'the key was deleted'}) when its event came"
    )
    claim = jobs.claim(
        _new_job(
            obj,
            job_key,
            screening,
            runtime,
            status="SUPERSEDED",
            stages={"received_at": now, "superseded_at": now},
            retired_as="SUPERSEDED",
            retire_reason=reason,
        )
    )
    if not claim.claimed:
        return IngestResult(job_key, "duplicate", claim.job.status)  # the job exists: a newer upload retires it
    announce_once(runtime.notifier, jobs, "video.superseded", claim.job)
    logger.info("superseded before it started", extra={"job_key": job_key, "reason": reason})
    return IngestResult(job_key, "superseded", reason)


def _reject(obj: S3ObjectRef, job_key: str, screening: Screening, runtime: Runtime[IngestSettings]) -> IngestResult:
    jobs = runtime.store.require_jobs()
    now = utc_now_iso()
    job = _new_job(
        obj,
        job_key,
        screening,
        runtime,
        status="REJECTED",
        stages={"received_at": now, "rejected_at": now},
        error_code=screening.code,
        error_message=screening.message,
    )
    claim = jobs.claim(job)
    current = claim.job
    rerun_by_this_event = (
        current.status == "RECEIVED"
        and not current.execution_arn
        and (claim.claimed or (obj.sequencer is not None and current.sequencer == obj.sequencer))
    )
    if rerun_by_this_event:
        # A re-upload of a FAILED/DELETED job: the claim re-ran it (RECEIVED, run + 1) and ignored the REJECTED item
        # built above (or this is a redelivery after a crash right after that claim). Record this run's rejection.
        rejected = jobs.update(
            job_key,
            run=current.run,
            status="REJECTED",
            stage="rejected_at",
            set_fields={"error_code": screening.code, "error_message": screening.message},
            only_if_status_in=("RECEIVED",),
        )
        current = rejected or jobs.require(job_key)
    if current.status == "REJECTED":
        event_type: EventType = "embedding.failed" if current.kind in ("image", "audio") else "video.rejected"
        announce_once(runtime.notifier, jobs, event_type, current)
    return IngestResult(
        job_key, "rejected" if claim.claimed or rerun_by_this_event else "duplicate", screening.code or ""
    )


def _start_video(
    obj: S3ObjectRef, job_key: str, screening: Screening, runtime: Runtime[IngestSettings]
) -> IngestResult:
    settings = runtime.settings
    jobs = runtime.store.require_jobs()
    claim = jobs.claim(_new_job(obj, job_key, screening, runtime))
    job = claim.job
    if not claim.claimed and (job.status != "RECEIVED" or job.execution_arn):
        # Redelivered event or identical re-upload: the job exists and its execution was started.
        return IngestResult(job_key, "duplicate", job.status)
    # Claimed now, or a RECEIVED item whose StartExecution never happened (a crash or throttle last time).
    name = execution_name(job_key, job.run)
    execution_input = ExecutionInput(
        job_key=job_key,
        run=job.run,
        bucket=job.bucket,
        key=job.key,
        version_id=job.version_id,
        etag=job.etag,
        size=job.size,
        index_id=job.tl_index_id or settings.twelvelabs_index_id,
        analyses=settings.analyses,
        embedding=settings.embedding_options,
        surface=settings.twelvelabs_surface,
    )
    execution_arn = start_job_execution(runtime.sfn, settings.state_machine_arn, name, execution_input)
    started = record_execution(job, execution_arn, runtime)
    if started is None:
        return IngestResult(job_key, "superseded", execution_arn)
    from video_pipeline.retirement import retire

    if obj.version_id and obj.version_id != "null":
        # Again now that the execution exists: a newer version's ingest may have looked for this job before the
        # claim could be seen (the by-source index is eventually consistent). The sweeper is the last resort.
        current = current_version_of(obj, runtime)
        if current != obj.version_id:
            reason = f"{obj.s3_uri}: version {obj.version_id} is no longer current ({current or 'deleted'})"
            retire(started, "SUPERSEDED" if current else "DELETED", reason, runtime)
            return IngestResult(job_key, "superseded", reason)
    logger.info("execution started", extra={"job_key": job_key, "execution_arn": execution_arn})
    return IngestResult(job_key, "started", execution_arn)


def record_execution(job: JobItem, execution_arn: str, runtime: Runtime[Any]) -> JobItem | None:
    """Record the execution just started for `job`'s run, while that run is active. Retired meanwhile (a newer
    version's ingest, or a delete, got there first) or re-run (an unversioned key): the execution is stopped, it
    must not go on, and None is returned."""
    from video_pipeline.retirement import stop_execution

    started = runtime.store.require_jobs().update(
        job.job_key, run=job.run, set_fields={"execution_arn": execution_arn}, only_if_status_in=ACTIVE_STATUSES
    )
    if started is None:
        stop_execution(job.model_copy(update={"execution_arn": execution_arn}), "run retired at its start", runtime)
    return started


def start_job_execution(sfn: Any, state_machine_arn: str, name: str, execution_input: ExecutionInput) -> str:
    """Start `video-pipeline` under `name` once: an execution already started under it counts as started."""
    try:
        response = sfn.start_execution(
            stateMachineArn=state_machine_arn,
            name=name,
            input=execution_input.model_dump_json(),  # every key present (null too): the ASL reads them by path
        )
        return str(response["executionArn"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
        return _execution_arn(state_machine_arn, name)


def _execution_arn(state_machine_arn: str, name: str) -> str:
    # arn:aws:states:<region>:<account>:stateMachine:<sm> -> arn:aws:states:<region>:<account>:execution:<sm>:<name>
    prefix, _, machine = state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{name}"


def _embed_media(
    obj: S3ObjectRef, job_key: str, screening: Screening, runtime: Runtime[IngestSettings]
) -> IngestResult:
    """Images and audio: one synchronous /embed call, vectors to S3, item COMPLETED (or FAILED with the code)."""
    jobs = runtime.store.require_jobs()
    claim = jobs.claim(_new_job(obj, job_key, screening, runtime))
    job = claim.job
    if not claim.claimed and job.status != "RECEIVED":
        return IngestResult(job_key, "duplicate", job.status)
    if "embeddings" in job.results:
        uri = job.results["embeddings"]  # stored by a delivery killed before it completed the item: not bought again
    else:
        lease = jobs.take_lease(job.job_key, job.run, MEDIA_LEASE_SECONDS)
        if lease is None:
            # Another delivery holds the /embed call: raised so SQS redelivers this one after the visibility
            # timeout (never dropped): by then the holder completed the item, or its lease expired.
            raise MediaLeaseHeldError(f"job {job_key}: another delivery is embedding this object")
        job = lease
        embedded = _embed_and_store(job, runtime)
        if isinstance(embedded, IngestResult):
            return embedded
        uri = embedded
    done = jobs.update(
        job_key,
        run=job.run,
        status="COMPLETED",
        stage="completed_at",
        results={"embeddings": uri},
        remove_fields=("lease_until",),
        only_if_status_in=("RECEIVED",),
    )
    current = done or jobs.require(job_key)
    if current.status == "COMPLETED" and current.run == job.run:
        announce_once(runtime.notifier, jobs, "embedding.completed", current)
    return IngestResult(job_key, "embedded", uri)


def _embed_and_store(job: JobItem, runtime: Runtime[IngestSettings]) -> str | IngestResult:
    """The /embed call under the lease: the vectors' S3 URI, or the recorded failure."""
    from twelvelabs_client.errors import TwelveLabsError

    jobs = runtime.store.require_jobs()
    job_key = job.job_key
    url = presigned_get_url(runtime.s3, job.bucket, job.key, job.version_id, runtime.settings.presign_media_seconds)
    try:
        payload = _media_embedding(job.kind, url, runtime)
    except TwelveLabsError as exc:
        if exc.retryable:
            jobs.release_lease(job_key, job.run)  # the redelivery may call at once
            raise  # rate limit / 5xx / timeout: SQS redelivers, the RECEIVED item resumes here
        return _fail_media(job, exc.code, exc.message, runtime)
    block = payload.get(f"{job.kind}_embedding") or {}
    if block.get("error_message") and not block.get("segments"):
        return _fail_media(job, "embedding_failed", str(block["error_message"])[:2000], runtime)
    uri = runtime.results.put_json(job_key, "embeddings", {"job_key": job_key, "source": job.s3_uri, **payload})
    # The pointer first (still RECEIVED): a delivery after a kill here completes the item without a second call. A
    # run retired meanwhile records nothing, and the document is deleted again.
    if not record_results(runtime, job_key, job.run, {"embeddings": uri}):
        return IngestResult(job_key, "superseded", "retired while it was embedded")
    return uri


def _fail_media(job: JobItem, code: str, message: str, runtime: Runtime[IngestSettings]) -> IngestResult:
    """An image/audio file TwelveLabs refused: FAILED with its code for this run, `embedding.failed` once."""
    jobs = runtime.store.require_jobs()
    failed = jobs.update(
        job.job_key,
        run=job.run,
        status="FAILED",
        stage="failed_at",
        set_fields={"error_code": code, "error_message": message},
        only_if_status_in=("RECEIVED",),
    )
    current = failed or jobs.require(job.job_key)
    if current.status == "FAILED" and current.run == job.run:
        announce_once(runtime.notifier, jobs, "embedding.failed", current)
    return IngestResult(job.job_key, "embedding_failed", code)


def _media_embedding(kind: str, url: str, runtime: Runtime[IngestSettings]) -> dict[str, Any]:
    """The embedding document of an image or audio file: classic /embed, or current /embed-v2 (sync) converted to
    the same shape (`<kind>_embedding.segments[]` with `float`, offsets, option, scope), so consumers read one."""
    client = runtime.twelvelabs
    if runtime.settings.twelvelabs_surface == "classic":
        response = client.create_embedding(image_url=url) if kind == "image" else client.create_embedding(audio_url=url)
        return response.model_dump(mode="json", by_alias=True, exclude_none=True)
    source = {"media_source": {"url": url}}
    answer = client.embed_v2(kind, image=source) if kind == "image" else client.embed_v2(kind, audio=source)
    segments = []
    for item in answer.data:
        segment: dict[str, Any] = {
            "float": item.embedding,
            "start_offset_sec": item.start_sec,
            "end_offset_sec": item.end_sec,
            "embedding_option": item.embedding_option,
            "embedding_scope": item.embedding_scope,
        }
        segments.append({k: v for k, v in segment.items() if v is not None})
    return {"model_name": EMBED_V2_MODEL, f"{kind}_embedding": {"segments": segments}}


def describe(results: list[IngestResult]) -> str:
    return json.dumps([r.__dict__ for r in results])
