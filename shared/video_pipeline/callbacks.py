"""`webhook` (TwelveLabs notifications, signature verified) and `reconcile` (late webhooks)."""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from typing import Any, cast

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pydantic import Field, ValidationError

from video_pipeline.clients import Runtime, remaining_invocation_seconds
from video_pipeline.errors import ConfigurationError
from video_pipeline.failures import fail_job, record_execution_end
from video_pipeline.indexing import (
    STALE_TOKEN_ERRORS,
    TERMINAL_TASK_STATUSES,
    fetch_outcome,
    resolve_task,
)
from video_pipeline.models.events import FunctionUrlRequest, FunctionUrlResponse
from video_pipeline.models.jobs import JobItem, JobStatus
from video_pipeline.settings import (
    CallbacksTableSetting,
    ReconcileSettings,
    RecordFailureSettings,
    WebhookSettings,
)

logger = Logger(child=True)

INDEXING_EVENTS = {"index.task.ready", "index.task.failed"}  # data.id: the task (classic) / indexed asset (current)
ANALYZE_EVENTS = {"analyze.task.ready", "analyze.task.failed", "analyze.task.canceled"}  # data.id: the analyze task
RESUMING_EVENTS = INDEXING_EVENTS | ANALYZE_EVENTS
# In-progress expiry of a webhook dedup marker outside Lambda (no deadline bound), and the margin added to the
# invocation's remaining time inside it.
DEFAULT_IN_PROGRESS_SECONDS = 60
IN_PROGRESS_MARGIN_SECONDS = 5


def _respond(status: int, message: str, **extra: object) -> FunctionUrlResponse:
    return FunctionUrlResponse(statusCode=status, body=json.dumps({"message": message, **extra}))


def handle_webhook(event: dict[str, Any], runtime: Runtime[WebhookSettings]) -> FunctionUrlResponse:
    """Verify, deduplicate, resume. 401 for anything unsigned; 5xx only when TwelveLabs should retry."""
    from twelvelabs_client.webhooks import SIGNATURE_HEADER, InvalidSignatureError, WebhookEvent, verify_signature

    try:
        request = FunctionUrlRequest.model_validate(event)
    except ValidationError:
        logger.warning("not a Function URL request")
        return _respond(400, "not a Function URL request")
    try:
        raw = request.raw_body()
    except ValueError:
        return _respond(400, "body is not valid base64")
    try:
        secret = runtime.secrets.get().webhook_secret
    except ConfigurationError:
        logger.exception("webhook secret unavailable")
        return _respond(500, "webhook receiver is not configured")
    if secret is None:
        logger.error("no webhook_secret in the TwelveLabs secret: every notification is refused")
        return _respond(500, "webhook receiver is not configured")
    try:
        verify_signature(
            raw,
            request.header(SIGNATURE_HEADER),
            secret.get_secret_value(),
            tolerance_seconds=runtime.settings.webhook_tolerance_seconds,
        )
    except InvalidSignatureError as exc:
        # Fail closed; log why (never the secret or the header value).
        logger.warning("webhook refused", extra={"reason": str(exc)})
        return _respond(401, "invalid signature")
    try:
        notification = WebhookEvent.model_validate_json(raw)
    except ValidationError as exc:
        logger.warning("signed webhook body is not a notification", extra={"errors": exc.error_count()})
        return _respond(400, "body is not a TwelveLabs notification")
    if notification.type not in RESUMING_EVENTS or not notification.task_id:
        logger.info(
            "webhook ignored: not an indexing or analysis event",
            extra={"type": notification.type, "notification": notification.id},
        )
        return _respond(200, "ignored", type=notification.type)
    callbacks = runtime.store.require_callbacks()
    claim = callbacks.claim_notification(notification.id, in_progress_seconds=_in_progress_seconds())
    if claim == "done":
        logger.info("webhook replay ignored", extra={"notification": notification.id})
        return _respond(200, "duplicate")
    if claim == "in_progress":
        # Another invocation holds it (or one was killed and its marker has not expired yet): not done, so not a
        # 2xx; TwelveLabs redelivers, and the expired marker lets that delivery through.
        logger.info("webhook delivery already in progress", extra={"notification": notification.id})
        return _respond(409, "in progress", notification=notification.id)
    try:
        resumed = resolve_task(notification.task_id, runtime)
        if not resumed and notification.type in INDEXING_EVENTS:
            from video_pipeline.retirement import finish_purges_waiting_for

            finish_purges_waiting_for(notification.task_id, runtime)
    except Exception:
        # Forget the notification so TwelveLabs' redelivery is processed at once; the error propagates (5xx: it
        # retries). A kill skips this block: the marker then expires (in-progress expiry) and the token is still
        # stored (resolve_task resumes before it consumes), so the redelivery or reconcile resumes.
        callbacks.release_notification(notification.id)
        logger.exception(
            "webhook processing failed", extra={"notification": notification.id, "task_id": notification.task_id}
        )
        raise
    # Only after the work: a delivery seen before this point is processed again.
    callbacks.complete_notification(notification.id)
    logger.info(
        "webhook processed",
        extra={
            "notification": notification.id,
            "task_id": notification.task_id,
            "resumed": resumed,
            "type": notification.type,
        },
    )
    return _respond(200, "resumed" if resumed else "no waiting execution", task_id=notification.task_id)


def _in_progress_seconds() -> int:
    """How long a claimed notification blocks other deliveries: this invocation's remaining time and a margin
    (Powertools Idempotency's rule), so a killed holder never blocks the redelivery for longer."""
    remaining = remaining_invocation_seconds()
    if math.isinf(remaining):
        return DEFAULT_IN_PROGRESS_SECONDS
    return max(1, math.ceil(remaining) + IN_PROGRESS_MARGIN_SECONDS)


class ReconcileFunctionSettings(ReconcileSettings, RecordFailureSettings):
    """reconcile: the token walk, plus the jobs left behind without a token (failed and announced like
    record_failure does, hence its table and topic)."""

    # A non-terminal job untouched for this long, with no token, is checked (longer than an ingest's SQS retries).
    reconcile_orphan_after_seconds: int = Field(default=3600, ge=60)


# Non-terminal states a job can be left in when its token or its status event is lost.
ORPHAN_STATUSES: tuple[JobStatus, ...] = ("RECEIVED", "INDEXING", "ANALYZING")
ENDED_EXECUTION = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@dataclass
class ReconcileReport:
    checked: int = 0
    resumed: int = 0
    still_running: int = 0
    dropped_stale: int = 0
    errors: int = 0
    wrapped: bool = False  # this run reached the newest pending token: the next one starts from the oldest
    timed_out: int = 0  # tokens of unfinished work whose wait is over: deleted
    orphans_failed: int = 0  # non-terminal jobs without a token whose execution had ended (or never started)


def reconcile(runtime: Runtime[ReconcileSettings], *, now: float | None = None) -> ReconcileReport:
    """Poll TwelveLabs for tokens waiting longer than RECONCILE_AFTER_SECONDS: indexing tasks, indexed assets and
    analyze tasks, each read the way its token's kind says.

    Tokens are read oldest first through the sparse `pending-by-age` index, one page of RECONCILE_MAX_TOKENS per
    run, from a persisted cursor: with N pending tokens every one is checked within ceil(N / max) + 1 runs,
    however many stuck tokens there are. The cursor is saved after the page's work (a killed run redoes its page;
    every resolution is idempotent)."""
    from twelvelabs_client.errors import NotFoundError, TwelveLabsError

    settings = runtime.settings
    callbacks = runtime.store.require_callbacks()
    cutoff = int((time.time() if now is None else now) - settings.reconcile_after_seconds)
    report = ReconcileReport()
    cursor = callbacks.load_cursor()
    tokens, next_cursor = callbacks.pending_tokens(cutoff, settings.reconcile_max_tokens, cursor)
    if not tokens and cursor is not None:
        tokens, next_cursor = callbacks.pending_tokens(cutoff, settings.reconcile_max_tokens, None)
    for token in tokens:
        task_id = str(token["task_id"])
        report.checked += 1
        try:
            outcome = fetch_outcome(token, runtime)
        except NotFoundError as exc:
            # The task is gone in TwelveLabs: fail the execution with the API's own code, then drop the token
            # (fail first: a kill in between leaves the token for the next run).
            try:
                _fail_token(runtime, str(token["task_token"]), exc.code, exc.message)
            except Exception:
                logger.exception("reconcile could not fail the execution", extra={"task_id": task_id})
                report.errors += 1
                continue
            callbacks.delete_token(task_id, str(token["task_token"]))
            report.dropped_stale += 1
            continue
        except TwelveLabsError:
            logger.exception("reconcile could not read the task", extra={"task_id": task_id})
            report.errors += 1
            continue
        if outcome.status not in TERMINAL_TASK_STATUSES:
            if _wait_is_over(runtime, token):
                # The await state timed out (or its execution ended): nothing will ever use this token.
                callbacks.delete_token(task_id, str(token["task_token"]))
                report.timed_out += 1
            else:
                report.still_running += 1
            continue
        try:
            if resolve_task(task_id, runtime, outcome=outcome):
                report.resumed += 1
            else:
                report.dropped_stale += 1
        except Exception:
            # The token is still stored (resume first); one failing token must not end the run for the others.
            logger.exception("reconcile could not resume the execution", extra={"task_id": task_id})
            report.errors += 1
    callbacks.save_cursor(next_cursor)
    report.wrapped = next_cursor is None
    if isinstance(settings, ReconcileFunctionSettings):
        _reconcile_orphans(cast("Runtime[ReconcileFunctionSettings]", runtime), now=now, report=report)
    logger.info("reconcile done", extra=asdict(report))
    return report


def _wait_is_over(runtime: Runtime[CallbacksTableSetting], token: dict[str, Any]) -> bool:
    """True when no execution will ever use this token: its job moved on to another run, or ended (a wait that
    timed out fails the job through its Catch), or its execution is no longer running. Read from the job and
    DescribeExecution, not from SendTaskHeartbeat, whose answer for a wait without HeartbeatSeconds AWS does not
    document. A token whose job item is missing is left alone (logged): the TTL takes it."""
    jobs = runtime.store.jobs
    if jobs is None:
        return False
    job = jobs.get(str(token.get("job_key")))
    if job is None:
        logger.warning("a pending token names no job", extra={"task_id": token.get("task_id")})
        return False
    if "run" in token and int(token["run"]) != job.run:
        return True
    if job.status not in ORPHAN_STATUSES:
        return True  # COMPLETED / FAILED / REJECTED / PURGING / DELETED / SUPERSEDED: nothing waits any more
    if not job.execution_arn:
        return False
    try:
        status = runtime.sfn.describe_execution(executionArn=job.execution_arn)["status"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
            return True
        logger.warning("could not check the token's execution", extra={"sfn_error": exc.response.get("Error", {})})
        return False
    return str(status) != "RUNNING"


def _fail_token(runtime: Runtime[CallbacksTableSetting], task_token: str, code: str, message: str) -> None:
    try:
        runtime.sfn.send_task_failure(taskToken=task_token, error="IndexingTaskLost", cause=f"{code}: {message}")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in STALE_TOKEN_ERRORS:
            raise


def _reconcile_orphans(
    runtime: Runtime[ReconcileFunctionSettings], *, now: float | None, report: ReconcileReport
) -> None:
    """Non-terminal jobs no token will ever move: their execution ended (its status event lost or parked) or never
    started (an ingest that gave up). Each is failed with the reason and announced once; a job whose execution
    still runs is left to it (its own timeouts bound it). At most RECONCILE_MAX_TOKENS per state per run."""
    from video_pipeline.models.base import iso_at

    settings = runtime.settings
    jobs = runtime.store.require_jobs()
    callbacks = runtime.store.require_callbacks()
    moment = time.time() if now is None else now
    before = iso_at(moment - settings.reconcile_orphan_after_seconds)
    for status in ORPHAN_STATUSES:
        for job in jobs.not_updated_since(status, before, settings.reconcile_max_tokens):
            waiting = [i for i in (job.tl_task_id, job.tl_indexed_asset_id) if i]
            if any(callbacks.get_token(task_id) is not None for task_id in waiting):
                continue  # the token walk resumes it
            try:
                if _fail_orphan(job, runtime):
                    report.orphans_failed += 1
            except Exception:
                logger.exception("reconcile could not settle a job without a token", extra={"job_key": job.job_key})
                report.errors += 1


def _fail_orphan(job: JobItem, runtime: Runtime[ReconcileFunctionSettings]) -> bool:
    if not job.execution_arn:
        if job.status != "RECEIVED":
            return False
        fail_job(job, "ingest_incomplete", "the object's ingest never finished (its event was dead-lettered)", runtime)
        return True
    try:
        execution = runtime.sfn.describe_execution(executionArn=job.execution_arn)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
            raise
        execution = {"status": "ABORTED", "error": "ExecutionDoesNotExist", "cause": "the execution no longer exists"}
    status = str(execution.get("status"))
    if status not in ENDED_EXECUTION:
        return False
    if status == "SUCCEEDED":
        logger.error("execution succeeded but the job is not terminal", extra={"job_key": job.job_key})
        return False
    record_execution_end(job, status, execution.get("error"), execution.get("cause"), runtime)
    logger.warning("job without a token failed", extra={"job_key": job.job_key, "execution_status": status})
    return True
