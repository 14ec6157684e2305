"""`start_indexing`, `await_indexing` and the token resolution shared with `webhook` and `reconcile`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from video_pipeline.clients import Runtime
from video_pipeline.job_keys import execution_name
from video_pipeline.media_urls import presigned_get_url
from video_pipeline.models.payloads import (
    AwaitIndexingInput,
    IndexingOutcome,
    StartIndexingInput,
    StartIndexingOutput,
)
from video_pipeline.settings import AwaitIndexingSettings, CallbacksTableSetting, StartIndexingSettings
from video_pipeline.store import TERMINAL_STATUSES

logger = Logger(child=True)

# SendTaskSuccess answers these when the execution no longer waits for the token: nothing left to resume.
STALE_TOKEN_ERRORS = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}
TERMINAL_TASK_STATUSES = {"ready", "failed"}


def start_indexing(request: StartIndexingInput, runtime: Runtime[StartIndexingSettings]) -> StartIndexingOutput:
    """Create the TwelveLabs indexing task once, however often Step Functions retries this state."""
    jobs = runtime.store.require_jobs()
    job = jobs.require(request.job_key)
    if job.tl_task_id:
        # Our own record says the task exists: never POST again.
        return StartIndexingOutput(task_id=job.tl_task_id, video_id=job.tl_video_id)
    url = presigned_get_url(
        runtime.s3, request.bucket, request.key, request.version_id, runtime.settings.presign_video_seconds
    )
    created = runtime.twelvelabs.create_task(
        request.index_id,
        video_url=url,
        user_metadata={"job_key": request.job_key, "s3_uri": job.s3_uri},
        # The run number makes a re-run (after FAILED/DELETED) a new task instead of finding the old one.
        idempotency_key=execution_name(request.job_key, job.run),
    )
    fields: dict[str, Any] = {"tl_task_id": created.id, "tl_index_id": request.index_id}
    if created.video_id:
        fields["tl_video_id"] = created.video_id
    jobs.update(
        request.job_key,
        set_fields=fields,
        status="INDEXING",
        stage="indexing_started_at",
        unless_status_in=TERMINAL_STATUSES,
    )
    logger.info(
        "indexing task created",
        extra={"job_key": request.job_key, "task_id": created.id, "recovered": getattr(created, "recovered", False)},
    )
    return StartIndexingOutput(task_id=created.id, video_id=created.video_id)


def await_indexing(request: AwaitIndexingInput, runtime: Runtime[AwaitIndexingSettings]) -> dict[str, Any]:
    """Park the task token under the TwelveLabs task id; resolve at once if the task already finished."""
    callbacks = runtime.store.require_callbacks()
    callbacks.put_token(request.task_id, request.task_token, request.job_key)
    task = runtime.twelvelabs.get_task(request.task_id)
    resolved = False
    if task.status in TERMINAL_TASK_STATUSES:
        # The webhook may have come before the token was stored: do not wait for the reconciler.
        resolved = resolve_task(request.task_id, runtime, task=task)
    return {"task_id": request.task_id, "status": task.status, "resolved": resolved}


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


def resolve_task(task_id: str, runtime: Runtime[CallbacksTableSetting], *, task: Any | None = None) -> bool:
    """Hand a finished task to the waiting execution. True when this call resumed it.

    The token is consumed with a conditional delete, so of two racing callers (webhook, reconcile,
    await_indexing) exactly one calls SendTaskSuccess. If that call fails transiently the token is put back.
    """
    callbacks = runtime.store.require_callbacks()
    if callbacks.get_token(task_id) is None:
        return False  # not ours, already resumed, or the token is not stored yet (await_indexing will check)
    if task is None:
        task = runtime.twelvelabs.get_task(task_id)
    if task.status not in TERMINAL_TASK_STATUSES:
        return False
    token_item = callbacks.consume_token(task_id)
    if token_item is None:
        return False
    # From here until SendTaskSuccess succeeds this caller alone holds the token: any failure puts it back, so a
    # webhook retry or the reconciler can resume the execution (otherwise it would wait for its timeout).
    try:
        outcome = outcome_of(task)
        runtime.sfn.send_task_success(taskToken=token_item["task_token"], output=outcome.model_dump_json())
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in STALE_TOKEN_ERRORS:
            logger.warning(
                "the execution no longer waits for this token; dropped it",
                extra={"task_id": task_id, "job_key": token_item.get("job_key"), "sfn_error": code},
            )
            return False
        put_token_back(callbacks, token_item)
        raise
    except BaseException:
        put_token_back(callbacks, token_item)
        raise
    logger.info(
        "indexing resolved", extra={"task_id": task_id, "job_key": token_item.get("job_key"), "status": outcome.status}
    )
    if outcome.status == "ready" and runtime.store.jobs is not None:
        # After the resume: the execution is already running on, so a failure here loses nothing (the item's
        # later transitions do not depend on ANALYZING); it is logged, never raised.
        try:
            runtime.store.jobs.update(
                str(token_item["job_key"]),
                set_fields={"tl_video_id": outcome.video_id} if outcome.video_id else {},
                status="ANALYZING",
                stage="indexed_at",
                only_if_status_in=("RECEIVED", "INDEXING"),
            )
        except Exception:
            logger.exception(
                "could not mark the job ANALYZING (the execution was resumed)",
                extra={"task_id": task_id, "job_key": token_item.get("job_key")},
            )
    return True


def put_token_back(callbacks: Any, token_item: dict[str, Any]) -> None:
    """Restore a consumed token after a failed resume; a failure to restore is logged (the caller re-raises its own
    error, which is the one that matters)."""
    try:
        callbacks.restore_token(token_item)
    except Exception:
        logger.exception(
            "could not put the task token back: the execution will wait for its timeout",
            extra={"task_id": token_item.get("task_id"), "job_key": token_item.get("job_key")},
        )
