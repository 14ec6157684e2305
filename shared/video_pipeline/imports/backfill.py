"""The `s3` source: list -> manifest (prepare), each object -> the upload's ingest path (item), count (finish)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools import Logger

from video_pipeline.clients import Runtime
from video_pipeline.handler import parse_event
from video_pipeline.imports.connections import chunks as connection_chunks
from video_pipeline.imports.connections import follow_chunk, import_chunk, is_chunk
from video_pipeline.imports.integration import follow_import, is_integration, start_import
from video_pipeline.imports.integration import manifest_entry as integration_entry
from video_pipeline.imports.inventory import inventory_objects, open_manifest
from video_pipeline.imports.models import (
    OUTCOMES,
    Counts,
    FinishInput,
    FollowState,
    ImportEventType,
    ImportRun,
    ItemInput,
    ItemOutcome,
    ItemOutput,
    ItemProblem,
    ObjectEntry,
    PrepareInput,
    PrepareOutput,
    RequestRef,
    StepError,
    as_outcome,
)
from video_pipeline.imports.runs import (
    InvalidImportRequestError,
    announce_once,
    cause_message,
    reject,
    validate_request,
)
from video_pipeline.imports.settings import (
    ImportFinishSettings,
    ImportItemSettings,
    ImportPrepareSettings,
    ImportsTableSetting,
)
from video_pipeline.imports.store import ImportsStore, IntegrationLock
from video_pipeline.ingest import IngestResult, current_version_of, process_object
from video_pipeline.models.events import ExecutionStatusChangeEvent, S3ObjectRef

logger = Logger(child=True)

REPORTS_PREFIX = "imports/"


def imports_store(runtime: Runtime[ImportsTableSetting]) -> ImportsStore:
    return ImportsStore(runtime.clients.dynamodb.Table(runtime.settings.imports_table))


def run_prefix(run_id: str) -> str:
    """Where a run's manifest, report and Map results live in the results bucket."""
    return f"{REPORTS_PREFIX}{run_id}/"


# ---------------------------------------------------------------- prepare


def list_objects(
    s3: Any, bucket: str, prefix: str, skip_prefixes: list[str], limit: int | None
) -> Iterator[ObjectEntry]:
    """Every object under `prefix`, folder markers and `skip_prefixes` left out, at most `limit`."""
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = str(item["Key"])
            if key.endswith("/") or any(key.startswith(p) for p in skip_prefixes):
                continue
            yield ObjectEntry(bucket=bucket, key=key, size=int(item.get("Size", 0)), etag=item.get("ETag"))
            count += 1
            if limit is not None and count >= limit:
                return


def write_manifest(s3: Any, bucket: str, key: str, entries: Iterator[ObjectEntry]) -> int:
    """The manifest the Distributed Map reads (ItemReader, JSON array), streamed through a spooled file."""
    count = 0
    with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024, mode="w+b") as out:
        out.write(b"[")
        for entry in entries:
            out.write((b"," if count else b"") + entry.model_dump_json(exclude_none=True).encode() + b"\n")
            count += 1
        out.write(b"]")
        out.seek(0)
        s3.upload_fileobj(out, bucket, key, ExtraArgs={"ContentType": "application/json"})
    return count


def prepare(event: PrepareInput, runtime: Runtime[ImportPrepareSettings]) -> PrepareOutput:
    """Validate the run's request, record the run (once), write its manifest (once: a retry reuses it)."""
    settings, store = runtime.settings, imports_store(runtime)
    raw = event.request
    requested_by = raw.get("requested_by") if isinstance(raw, dict) else None
    try:
        request = validate_request(raw, settings.media_bucket)
        inventory = (
            open_manifest(
                runtime.s3,
                request.inventory_manifest,
                media_bucket=settings.media_bucket,
                allowed_bucket=settings.import_inventory_bucket,
            )
            if request.inventory_manifest
            else None
        )
    except InvalidImportRequestError as exc:
        logger.warning("import request refused", extra={"run_id": event.run_id, "reason": exc.message})
        reject(
            runtime.clients.sns,
            settings.notifications_topic_arn,
            store,
            run_id=event.run_id,
            raw=raw,
            reason=exc.message,
            requested_by=str(requested_by) if requested_by else "command",
            execution_arn=event.execution_arn,
        )
        return PrepareOutput(run_id=event.run_id, rejected=True)
    reason = _refusal(request, event.run_id, settings, store)
    if reason:
        reject(
            runtime.clients.sns,
            settings.notifications_topic_arn,
            store,
            run_id=event.run_id,
            raw=raw,
            reason=reason,
            requested_by=str(requested_by) if requested_by else "command",
            execution_arn=event.execution_arn,
        )
        return PrepareOutput(run_id=event.run_id, rejected=True)
    bucket = request.bucket or settings.media_bucket
    if request.source == "integration":
        ref = RequestRef(source="integration", integration_id=request.integration_id, index_id=request.index_id)
    elif request.source == "connection":
        ref = RequestRef(
            source="connection",
            connection_id=request.connection_id,
            files=len(request.source_ids or []),
            s3_uri=None,
        )
    else:
        ref = RequestRef(
            source=request.source, bucket=bucket, prefix=request.prefix, s3_uri=f"s3://{bucket}/{request.prefix}"
        )
    run = ImportRun(
        run_id=event.run_id,
        status="RUNNING",
        request=ref,
        requested_by=request.requested_by or "command",
        execution_arn=event.execution_arn,
    )
    _, stored = store.create_run(run)
    if stored.status != "RUNNING":
        raise InvalidImportRequestError(f"run {event.run_id} is already {stored.status}; start a new run")
    prefix = run_prefix(event.run_id)
    manifest_key = prefix + "manifest.json"
    total = stored.counts.total
    if not stored.manifest:
        skip = [settings.import_request_prefix]
        if request.source == "integration":
            entries = iter(
                [
                    integration_entry(
                        str(request.integration_id),
                        request.index_id,
                        bool(request.incremental_import),
                        bool(request.retry_failed),
                    )
                ]
            )
        elif request.source == "connection":
            entries = connection_chunks(str(request.connection_id), list(request.source_ids or []))
        elif inventory is not None:
            entries = inventory_objects(runtime.s3, inventory, bucket, request.prefix, skip, request.max_items)
        else:
            entries = list_objects(runtime.s3, bucket, request.prefix, skip, request.max_items)
        total = write_manifest(runtime.s3, settings.results_bucket, manifest_key, entries)
        if request.source == "connection":
            total = len(request.source_ids or [])  # files, not chunks
        elif request.source == "integration":
            total = 0  # the files are known once the import started (finish counts them)
        store.update_run(
            event.run_id,
            {"manifest": f"s3://{settings.results_bucket}/{manifest_key}", "counts": Counts(total=total).model_dump()},
        )
    logger.info("import prepared", extra={"run_id": event.run_id, "objects": total})
    return PrepareOutput(
        run_id=event.run_id,
        rejected=False,
        manifest_bucket=settings.results_bucket,
        manifest_key=manifest_key,
        total=total,
        max_concurrency=settings.import_max_concurrency,
    )


# The lock of a classic import outlives the run's execution (48 h) by an hour: a run that ended without releasing it
# (a crash of finish, an execution deleted) blocks the integration at most that long.
INTEGRATION_LOCK_SECONDS = 49 * 3600


def _refusal(request: Any, run_id: str, settings: ImportPrepareSettings, store: ImportsStore) -> str | None:
    """Why this deployment cannot run a valid request now, or None. An integration import takes the integration's
    lock here (re-entrant for this run): a second import of the same integration is refused, naming the run."""
    if request.source == "connection" and settings.twelvelabs_surface != "current":
        return (
            f"source 'connection' (connections imports) needs the current TwelveLabs surface; this deployment "
            f"uses {settings.twelvelabs_surface!r} (TwelveLabsSurface)"
        )
    if request.source == "integration":
        if settings.twelvelabs_surface != "classic":
            return (
                f"source 'integration' (the cloud-to-cloud import) exists on the classic TwelveLabs surface only; this "
                f"deployment uses {settings.twelvelabs_surface!r} (TwelveLabsSurface)"
            )
        lock = IntegrationLock(store.table, INTEGRATION_LOCK_SECONDS)
        taken, holder = lock.acquire(str(request.integration_id), run_id)
        if not taken:
            return (
                f"integration {request.integration_id} is busy: import run {holder} is running (TwelveLabs runs one "
                "import per integration); send the request again when that run has ended"
            )
    return None


# ---------------------------------------------------------------- one object


def _classify(result: IngestResult, started_at: str, runtime: Runtime[ImportItemSettings]) -> tuple[ItemOutcome, str]:
    if result.outcome in ("started", "embedded"):
        return "new", result.detail
    if result.outcome == "rejected":
        return "rejected", result.detail
    if result.outcome == "embedding_failed":
        return "failed", result.detail
    if result.outcome in ("ignored", "superseded"):
        return "skipped", result.detail or result.outcome
    # "duplicate": the job existed. Created by an earlier attempt of this very item (it claimed, then failed before
    # recording)? Then it is this run's outcome, not a skip.
    job = runtime.store.require_jobs().get(result.job_key) if result.job_key else None
    if job is not None and job.created_at >= started_at:
        if job.status == "REJECTED":
            return "rejected", job.error_code or ""
        if job.status == "FAILED" and job.kind in ("image", "audio"):
            return "failed", job.error_code or ""
        return "new", job.status
    return "skipped", f"already {job.status}" if job is not None else "already processed"


# Pacing waits (see FollowState): 1, 2, 4 ... 30 s, at most FOLLOW_MAX_POLLS polls (~25 min); past that the slot is
# released anyway (the video goes on; its own tasks keep retrying 429s).
FOLLOW_FIRST_SECONDS = 1
FOLLOW_MAX_SECONDS = 30
FOLLOW_MAX_POLLS = 60


def follow_started(state: FollowState, runtime: Runtime[ImportItemSettings]) -> ItemOutput:
    """Is the object's video under way (its job left RECEIVED: the first TwelveLabs call was made, or it ended)?"""
    job = runtime.store.require_jobs().get(state.job_key)
    polls = state.polls + 1
    waiting = job is not None and job.status == "RECEIVED" and polls < FOLLOW_MAX_POLLS
    if job is not None and job.status == "RECEIVED" and not waiting:
        logger.warning("video not started yet; releasing its slot", extra={"job_key": state.job_key, "polls": polls})
    return ItemOutput(
        outcome="new",
        job_key=state.job_key,
        detail=job.status if job is not None else "job not found",
        follow=waiting,
        polls=polls,
        wait_seconds=min(max(state.wait_seconds, FOLLOW_FIRST_SECONDS) * 2, FOLLOW_MAX_SECONDS),
    )


def import_object(event: ItemInput, runtime: Runtime[ImportItemSettings]) -> ItemOutput:
    """Hand one object to the ingest path (screening, job key, claim, start) and record its outcome once."""
    store, obj = imports_store(runtime), event.object
    if is_integration(obj) and event.error is None:
        # source integration: the run's one import (started once, then followed with the same loop)
        if event.follow is not None:
            return follow_import(event.run_id, obj, event.follow, runtime)
        return start_import(event.run_id, obj, runtime)
    if is_chunk(obj) and event.error is None:
        # source connection: a chunk of file ids (posted once, then its assets followed with the same loop)
        if event.follow is not None:
            return follow_chunk(event.run_id, obj, event.follow, runtime)
        return import_chunk(event.run_id, obj, runtime)
    if event.follow is not None:
        return follow_started(event.follow, runtime)
    if event.error is not None and is_chunk(obj):
        reason = f"{event.error.error}: {cause_message(event.error.cause)}".rstrip(": ")
        for source_id in obj.source_ids or []:  # files whose outcome is not known yet (the others keep theirs)
            store.begin_item(event.run_id, obj.bucket, source_id)
            store.record_item(event.run_id, obj.bucket, source_id, "failed", None, reason)
        logger.warning("import chunk failed", extra={"run_id": event.run_id, "chunk": obj.key, "reason": reason})
        return ItemOutput(outcome="failed", detail=reason)
    if event.error is not None:
        reason = f"{event.error.error}: {cause_message(event.error.cause)}".rstrip(": ")
        outcome = store.record_item(event.run_id, obj.bucket, obj.key, "failed", None, reason)
        logger.warning("import object failed", extra={"run_id": event.run_id, "key": obj.key, "reason": reason})
        return ItemOutput(outcome=outcome, detail=reason)
    marker = store.begin_item(event.run_id, obj.bucket, obj.key)
    if marker.get("outcome"):
        return ItemOutput(
            outcome=as_outcome(marker["outcome"]), job_key=marker.get("job_key"), detail=str(marker.get("detail", ""))
        )
    # The key's current version (its job key, and the version TwelveLabs is given), as its upload event named it.
    version_id = current_version_of(S3ObjectRef(bucket=obj.bucket, key=obj.key), runtime)
    ref = S3ObjectRef(bucket=obj.bucket, key=obj.key, size=obj.size, etag=obj.etag, version_id=version_id)
    result = process_object(ref, runtime)
    outcome, detail = _classify(result, str(marker["started_at"]), runtime)
    stored = store.record_item(event.run_id, obj.bucket, obj.key, outcome, result.job_key, detail)
    started = result.outcome == "started" and result.job_key is not None
    return ItemOutput(
        outcome=stored,
        job_key=result.job_key,
        detail=detail,
        follow=started,
        wait_seconds=FOLLOW_FIRST_SECONDS if started else 0,
    )


# ---------------------------------------------------------------- finish


def finish_input(event: dict[str, Any]) -> FinishInput:
    """The state machine's `{"run_id", "error"?}`, or an EventBridge execution status change (an import that timed
    out, was aborted, or failed where no Catch could record it): that run is closed as FAILED."""
    if event.get("detail-type") != "Step Functions Execution Status Change":
        return parse_event(FinishInput, event)
    detail = parse_event(ExecutionStatusChangeEvent, event).detail
    error = StepError.model_validate(
        {"Error": detail.error or f"execution {detail.status}", "Cause": detail.cause or f"the import {detail.status}"}
    )
    return FinishInput(run_id=detail.name, error=error)


def _tally(store: ImportsStore, run_id: str, out: Any) -> tuple[Counts, list[ItemProblem]]:
    """Count the run's object outcomes, writing each as one JSON line of the report's `objects` to `out`."""
    counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
    problems: list[ItemProblem] = []
    first = True
    for item in store.items(run_id):
        if "videos_json" in item:
            continue  # the run's own bookkeeping (an integration import's answer), not an object
        outcome = str(item.get("outcome") or "failed")
        detail = str(item.get("detail") or ("no outcome recorded" if not item.get("outcome") else ""))
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome in ("rejected", "failed"):
            problems.append(ItemProblem(key=str(item["key"]), outcome=as_outcome(outcome), reason=detail))
        line = {"key": item["key"], "outcome": outcome, "job_key": item.get("job_key"), "detail": detail}
        out.write((b"" if first else b",\n") + json.dumps(line, ensure_ascii=False).encode())
        first = False
    return Counts(**counts, total=sum(counts.values())), problems


def finish(event: FinishInput, runtime: Runtime[ImportFinishSettings]) -> ImportRun:
    """Count, write the report, close the run record (COMPLETED, or FAILED with `error`) and announce it once."""
    settings, store = runtime.settings, imports_store(runtime)
    run = store.get_run(event.run_id)
    if run is None:  # the run failed before prepare recorded it
        _, run = store.create_run(ImportRun(run_id=event.run_id, status="RUNNING"))
    if run.status == "RUNNING":
        report_key = run_prefix(event.run_id) + "report.json"
        with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024, mode="w+b") as out:
            out.write(b'{"objects": [\n')
            counts, problems = _tally(store, event.run_id, out)
            status = "FAILED" if event.error is not None else "COMPLETED"
            head = {
                "run_id": event.run_id,
                "status": status,
                "request": run.request.model_dump(),
                "counts": counts.model_dump(),
            }
            out.write(b"\n], " + json.dumps(head, ensure_ascii=False)[1:].encode())
            out.seek(0)
            runtime.s3.upload_fileobj(
                out, settings.results_bucket, report_key, ExtraArgs={"ContentType": "application/json"}
            )
        fields: dict[str, Any] = {
            "status": status,
            "counts": counts.model_dump(),
            "failures": [p.model_dump() for p in problems[: settings.failures_in_record]],
            "failures_truncated": len(problems) > settings.failures_in_record,
            "report": f"s3://{settings.results_bucket}/{report_key}",
        }
        if event.error is not None:
            fields["error_code"] = event.error.error
            fields["error_message"] = cause_message(event.error.cause) or event.error.error
        run = (
            store.update_run(event.run_id, fields, only_if_status_in=("RUNNING",)) or store.get_run(event.run_id) or run
        )
    if run.request.source == "integration" and run.request.integration_id and run.status != "RUNNING":
        # The integration is free for the next import (a no-op if this run never held it, or released it already).
        IntegrationLock(store.table, INTEGRATION_LOCK_SECONDS).release(run.request.integration_id, run.run_id)
    logger.info(
        "import finished", extra={"run_id": run.run_id, "status": run.status, "counts": run.counts.model_dump()}
    )
    if run.status in ("COMPLETED", "FAILED"):
        event_type: ImportEventType = "import.completed" if run.status == "COMPLETED" else "import.failed"
        announce_once(runtime.clients.sns, settings.notifications_topic_arn, store, event_type, run)
    return run
