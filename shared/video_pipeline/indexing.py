"""`start_indexing`, `await_indexing` and the token resolution shared with `webhook` and `reconcile`."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from video_pipeline.clients import Runtime
from video_pipeline.errors import InvalidEventError, RunSupersededError
from video_pipeline.job_keys import execution_name
from video_pipeline.media_urls import presigned_get_url
from video_pipeline.models.jobs import JobItem, JobStatus
from video_pipeline.models.payloads import (
    AwaitIndexingInput,
    IndexingOutcome,
    StartIndexingInput,
    StartIndexingOutput,
)
from video_pipeline.settings import AwaitIndexingSettings, CallbacksTableSetting, StartIndexingSettings
from video_pipeline.store import ACTIVE_STATUSES, JobsStore

logger = Logger(child=True)

# SendTaskSuccess answers these when the execution no longer waits for the token: nothing left to resume.
STALE_TOKEN_ERRORS = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}
# Terminal for every kind of token (an indexing task or indexed asset is never "canceled").
TERMINAL_TASK_STATUSES = {"ready", "failed", "canceled"}
# The asset wait inside start_indexing (current): growing from the first wait up to the cap; the invocation
# deadline bounds it first (the state's retries resume it).
ASSET_FIRST_WAIT_SECONDS = 1.0
ASSET_MAX_WAIT_SECONDS = 10.0
ASSET_WAIT_SECONDS = 3600.0


def start_indexing(request: StartIndexingInput, runtime: Runtime[StartIndexingSettings]) -> StartIndexingOutput:
    """Create the TwelveLabs indexing work once, however often Step Functions retries this state."""
    if request.surface == "current":
        return _start_indexing_current(request, runtime)
    jobs = runtime.store.require_jobs()
    job = require_active_run(jobs, request.job_key, request.run)
    if job.tl_task_id:
        # Our own record says the task exists: never POST again.
        return StartIndexingOutput(task_id=job.tl_task_id, video_id=job.tl_video_id)
    if not (request.bucket and request.key):
        raise InvalidEventError(f"job {request.job_key}: classic indexing needs the S3 object (bucket and key)")
    url = presigned_get_url(
        runtime.s3, request.bucket, request.key, request.version_id, runtime.settings.presign_video_seconds
    )
    created = runtime.twelvelabs.create_task(
        request.index_id,
        video_url=url,
        user_metadata={"job_key": request.job_key, "s3_uri": job.s3_uri},
        # The run number makes a re-run (after FAILED/DELETED) a new task instead of finding the old one.
        idempotency_key=execution_name(request.job_key, request.run),
    )
    fields: dict[str, Any] = {"tl_task_id": created.id, "tl_index_id": request.index_id}
    if created.video_id:
        fields["tl_video_id"] = created.video_id
    record_created(jobs, request.job_key, request.run, fields, runtime, status="INDEXING", stage="indexing_started_at")
    logger.info(
        "indexing task created",
        extra={"job_key": request.job_key, "task_id": created.id, "recovered": getattr(created, "recovered", False)},
    )
    return StartIndexingOutput(task_id=created.id, video_id=created.video_id)


def _start_indexing_current(
    request: StartIndexingInput, runtime: Runtime[StartIndexingSettings]
) -> StartIndexingOutput:
    """current: POST /assets (by URL), wait for the asset, POST indexed-assets. Each id is recorded on the item
    as soon as it exists, so a retried state resumes where it stopped and never POSTs twice (the client's
    Idempotency-Key and found-before-create cover an answer lost in between)."""
    jobs = runtime.store.require_jobs()
    job = require_active_run(jobs, request.job_key, request.run)
    if job.tl_indexed_asset_id:
        return StartIndexingOutput(
            task_id=job.tl_indexed_asset_id, video_id=job.tl_indexed_asset_id, asset_id=job.tl_asset_id
        )
    client = runtime.twelvelabs
    key = execution_name(request.job_key, request.run)
    # A job whose source is a TwelveLabs asset (connections import) has its asset from the claim: no upload.
    asset_id = job.tl_asset_id
    if not asset_id:
        if not (request.bucket and request.key):
            raise InvalidEventError(f"job {request.job_key}: no asset and no S3 object to upload (bucket and key)")
        url = presigned_get_url(
            runtime.s3, request.bucket, request.key, request.version_id, runtime.settings.presign_video_seconds
        )
        asset = client.create_asset(
            url=url,
            filename=PurePosixPath(request.key).name or "video",
            user_metadata={"job_key": request.job_key},
            idempotency_key=key,
        )
        asset_id = asset.id
        record_created(
            jobs,
            request.job_key,
            request.run,
            {"tl_asset_id": asset_id, "tl_index_id": request.index_id},
            runtime,
            status="INDEXING",
            stage="indexing_started_at",
        )
        logger.info("asset created", extra={"job_key": request.job_key, "asset_id": asset_id})
    # Growing waits on the asset's own status, bounded by this invocation's deadline (DeadlineExceededError is
    # retried by the state machine, which resumes here with the recorded asset id). A failed asset raises
    # ProcessingFailedError with its reason (-> Catch -> FAILED).
    client.wait_for_asset(
        asset_id,
        timeout=ASSET_WAIT_SECONDS,
        initial_interval=ASSET_FIRST_WAIT_SECONDS,
        max_interval=ASSET_MAX_WAIT_SECONDS,
    )
    # Again after the wait (it can last the whole invocation): a run retired meanwhile starts no billed indexing.
    require_active_run(jobs, request.job_key, request.run)
    created = client.create_indexed_asset(
        request.index_id, asset_id, user_metadata={"job_key": request.job_key}, idempotency_key=key
    )
    record_created(
        jobs,
        request.job_key,
        request.run,
        {"tl_indexed_asset_id": created.id, "tl_task_id": created.id, "tl_video_id": created.id},
        runtime,
    )
    logger.info(
        "indexed asset created",
        extra={"job_key": request.job_key, "indexed_asset_id": created.id, "recovered": created.recovered},
    )
    return StartIndexingOutput(task_id=created.id, video_id=created.id, asset_id=asset_id)


def require_active_run(jobs: JobsStore, job_key: str, run: int) -> JobItem:
    """The job, if `run` is still its active run; RunSupersededError (nothing spent) otherwise."""
    return ensure_active_run(jobs.require(job_key), run)


def ensure_active_run(job: JobItem, run: int) -> JobItem:
    """`job`, if `run` is still its active run; RunSupersededError (nothing spent, nothing written) otherwise."""
    if job.run != run or job.status not in ACTIVE_STATUSES:
        raise RunSupersededError(
            f"job {job.job_key}: run {run} is not active (the item is run {job.run}, {job.status})"
        )
    return job


def record_created(
    jobs: JobsStore,
    job_key: str,
    run: int,
    fields: dict[str, Any],
    runtime: Runtime[Any],
    *,
    status: JobStatus | None = None,
    stage: str | None = None,
    set_in: dict[str, dict[str, Any]] | None = None,
) -> JobItem:
    """Record the ids of what a step just created in TwelveLabs, for this run while it is active. If the run was
    retired meanwhile, the ids go on the retired item and are purged at once, and the step stops
    (RunSupersededError): nothing it created is left behind."""
    recorded = jobs.update(
        job_key,
        run=run,
        set_fields=fields,
        status=status,
        stage=stage,
        set_in=set_in,
        only_if_status_in=ACTIVE_STATUSES,
    )
    if recorded is None:
        from video_pipeline.retirement import record_late_resource

        record_late_resource(job_key, run, fields, runtime, set_in=set_in)
        created = sorted(fields) + sorted(set_in or {})
        raise RunSupersededError(f"job {job_key}: run {run} was retired while it created {created}")
    return recorded


def await_indexing(request: AwaitIndexingInput, runtime: Runtime[AwaitIndexingSettings]) -> dict[str, Any]:
    """Park the task token under the TwelveLabs id; resolve at once if the work already finished."""
    callbacks = runtime.store.require_callbacks()
    callbacks.put_token(
        request.task_id,
        request.task_token,
        request.job_key,
        kind=request.kind,
        index_id=request.index_id,
        run=request.run,
    )
    return park_result(request.task_id, runtime, kind=request.kind, index_id=request.index_id)


def park_result(
    task_id: str, runtime: Runtime[CallbacksTableSetting], *, kind: str, index_id: str | None = None
) -> dict[str, Any]:
    """After a token was stored: read the resource once, and resolve now if it is already terminal (the webhook
    may have come before the token was stored: do not wait for the reconciler)."""
    outcome = fetch_outcome({"task_id": task_id, "kind": kind, "index_id": index_id}, runtime)
    resolved = False
    if outcome.status in TERMINAL_TASK_STATUSES:
        resolved = resolve_task(task_id, runtime, outcome=outcome)
    return {"task_id": task_id, "status": outcome.status, "resolved": resolved}


def fetch_outcome(token_item: dict[str, Any], runtime: Runtime[CallbacksTableSetting]) -> IndexingOutcome:
    """The current state of what a token waits for, read the way its `kind` says."""
    task_id = str(token_item["task_id"])
    kind = str(token_item.get("kind") or "index_task")
    client = runtime.twelvelabs
    if kind == "indexed_asset":
        indexed = client.get_indexed_asset(str(token_item["index_id"]), task_id)
        status = indexed.status or "pending"
        failed = status == "failed"
        return IndexingOutcome(
            task_id=task_id,
            video_id=task_id,
            status=status,
            # The indexed asset documents no failure reason: say so with our own code.
            error_code="indexing_failed" if failed else None,
            error_message=f"TwelveLabs reported indexed asset {task_id} as failed without a reason" if failed else None,
        )
    if kind == "analyze_task":
        task = client.get_analyze_task(task_id)
        status = task.status or "queued"
        code = message = None
        if status in ("failed", "canceled"):
            code = (task.error.code if task.error else None) or f"analysis_{status}"
            message = (task.error.message if task.error else None) or f"TwelveLabs analyze task {task_id} {status}"
        return IndexingOutcome(task_id=task_id, status=status, error_code=code, error_message=message)
    return outcome_of(client.get_task(task_id))


def task_error(task: Any) -> tuple[str | None, str | None]:
    """(code, message) of a failed task. The v1.3 task object documents no error field; the emulator (and maybe
    the API) sends `error: {code, message}`; tolerate `error_code`/`error_message` too."""
    extra = getattr(task, "model_extra", None) or {}
    error = extra.get("error")
    if isinstance(error, dict):
        return (
            str(error.get("code")) if error.get("code") else None,
            str(error.get("message")) if error.get("message") else None,
        )
    if isinstance(error, str):
        return None, error
    code = extra.get("error_code")
    message = extra.get("error_message") or extra.get("failure_reason")
    return (str(code) if code else None, str(message) if message else None)


def outcome_of(task: Any) -> IndexingOutcome:
    code: str | None = None
    message: str | None = None
    if task.status == "failed":
        code, message = task_error(task)
        code = code or "indexing_failed"
        message = message or "TwelveLabs reported the indexing task as failed without a reason"
    return IndexingOutcome(
        task_id=task.id, video_id=task.video_id, status=task.status, error_code=code, error_message=message
    )


def resolve_task(
    task_id: str,
    runtime: Runtime[CallbacksTableSetting],
    *,
    task: Any | None = None,
    outcome: IndexingOutcome | None = None,
) -> bool:
    """Hand finished work (indexing task, indexed asset, analyze task) to the waiting execution. True when this call
    resumed it. `task` (a classic task object) or `outcome` skip reading it again.

    Resume first, consume after: the token stays stored until SendTaskSuccess has succeeded, so an invocation
    killed at any instruction leaves it for a webhook retry or the reconciler (no except block has to run). Two
    racing resolvers may both send: Step Functions accepts the first and answers the second with a stale-token
    error, which deletes the token. The token is consumed only if it is still the one that was sent (a retried
    await_* may have parked a newer one).
    """
    callbacks = runtime.store.require_callbacks()
    stored = callbacks.get_token(task_id)
    if stored is None:
        return False  # not ours, already resumed, or the token is not stored yet (await_indexing will check)
    if outcome is None:
        outcome = outcome_of(task) if task is not None else fetch_outcome(stored, runtime)
    if outcome.status not in TERMINAL_TASK_STATUSES:
        return False
    task_token = str(stored["task_token"])
    try:
        runtime.sfn.send_task_success(taskToken=task_token, output=outcome.model_dump_json())
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code not in STALE_TOKEN_ERRORS:
            raise  # transient: the token is still stored, the caller's retry (or reconcile) resumes
        # The wait is over (resumed by another resolver, timed out, or the execution ended): the token goes.
        callbacks.delete_token(task_id, task_token)
        logger.warning(
            "the execution no longer waits for this token; dropped it",
            extra={"task_id": task_id, "job_key": stored.get("job_key"), "sfn_error": code},
        )
        if outcome.status in TERMINAL_TASK_STATUSES and runtime.store.jobs is not None:
            # The execution was stopped because its run was retired: the work it waited for has ended, so what
            # TwelveLabs made for it can go now.
            from video_pipeline.retirement import finish_purge_of

            finish_purge_of(str(stored["job_key"]), runtime)
        return False
    callbacks.consume_token(task_id, task_token)
    kind = str(stored.get("kind") or "index_task")
    logger.info(
        "token resolved",
        extra={"task_id": task_id, "job_key": stored.get("job_key"), "status": outcome.status, "kind": kind},
    )
    if outcome.status == "ready" and kind != "analyze_task" and runtime.store.jobs is not None and "run" in stored:
        # After the resume: the execution is already running on, so a failure here loses nothing (the item's
        # later transitions do not depend on ANALYZING); it is logged, never raised.
        try:
            runtime.store.jobs.update(
                str(stored["job_key"]),
                run=int(stored["run"]),
                set_fields={"tl_video_id": outcome.video_id} if outcome.video_id else {},
                status="ANALYZING",
                stage="indexed_at",
                only_if_status_in=("RECEIVED", "INDEXING"),
            )
        except Exception:
            logger.exception(
                "could not mark the job ANALYZING (the execution was resumed)",
                extra={"task_id": task_id, "job_key": stored.get("job_key")},
            )
    return True


def put_token_back(callbacks: Any, token_item: dict[str, Any]) -> None:
    """Restore a consumed token whose resolution failed, unless a newer token is stored by now (never overwritten).
    A failure to restore is logged (the caller re-raises its own error, which is the one that matters)."""
    try:
        restored = callbacks.restore_token(token_item)
    except Exception:
        logger.exception(
            "could not put the task token back: the execution will wait for its timeout",
            extra={"task_id": token_item.get("task_id"), "job_key": token_item.get("job_key")},
        )
        return
    if not restored:
        logger.info(
            "a newer token is stored: the consumed one was not put back",
            extra={"task_id": token_item.get("task_id"), "job_key": token_item.get("job_key")},
        )
