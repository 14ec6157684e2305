"""`webhook` (TwelveLabs notifications, signature verified) and `reconcile` (late webhooks)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pydantic import ValidationError

from video_pipeline.clients import Runtime
from video_pipeline.errors import ConfigurationError
from video_pipeline.indexing import (
    STALE_TOKEN_ERRORS,
    TERMINAL_TASK_STATUSES,
    fetch_outcome,
    put_token_back,
    resolve_task,
)
from video_pipeline.models.events import FunctionUrlRequest, FunctionUrlResponse
from video_pipeline.settings import CallbacksTableSetting, ReconcileSettings, WebhookSettings

logger = Logger(child=True)

INDEXING_EVENTS = {"index.task.ready", "index.task.failed"}  # data.id: the task (classic) / indexed asset (current)
ANALYZE_EVENTS = {"analyze.task.ready", "analyze.task.failed", "analyze.task.canceled"}  # data.id: the analyze task
RESUMING_EVENTS = INDEXING_EVENTS | ANALYZE_EVENTS


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
    if not callbacks.claim_notification(notification.id):
        logger.info("webhook replay ignored", extra={"notification": notification.id})
        return _respond(200, "duplicate")
    try:
        resumed = resolve_task(notification.task_id, runtime)
    except Exception:
        # Forget the notification so TwelveLabs' redelivery is processed; the error propagates (5xx: it retries).
        callbacks.release_notification(notification.id)
        logger.exception(
            "webhook processing failed", extra={"notification": notification.id, "task_id": notification.task_id}
        )
        raise
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


@dataclass
class ReconcileReport:
    checked: int = 0
    resumed: int = 0
    still_running: int = 0
    dropped_stale: int = 0
    errors: int = 0


def reconcile(runtime: Runtime[ReconcileSettings], *, now: float | None = None) -> ReconcileReport:
    """Poll TwelveLabs for tokens waiting longer than RECONCILE_AFTER_SECONDS (bounded per run): indexing tasks,
    indexed assets and analyze tasks, each read the way its token's kind says."""
    from twelvelabs_client.errors import NotFoundError, TwelveLabsError

    settings = runtime.settings
    callbacks = runtime.store.require_callbacks()
    cutoff = int((time.time() if now is None else now) - settings.reconcile_after_seconds)
    report = ReconcileReport()
    for token in callbacks.stale_tokens(cutoff, settings.reconcile_max_tokens):
        task_id = str(token["task_id"])
        report.checked += 1
        try:
            outcome = fetch_outcome(token, runtime)
        except NotFoundError as exc:
            # The task is gone in TwelveLabs: fail the execution with the API's own code.
            taken = callbacks.consume_token(task_id)
            if taken is not None:
                try:
                    _fail_token(runtime, str(taken["task_token"]), exc.code, exc.message)
                except Exception:
                    # Not resolved: the token goes back for the next run; the other tokens are still checked.
                    put_token_back(callbacks, taken)
                    logger.exception("reconcile could not fail the execution", extra={"task_id": task_id})
                    report.errors += 1
                    continue
            report.dropped_stale += 1
            continue
        except TwelveLabsError:
            logger.exception("reconcile could not read the task", extra={"task_id": task_id})
            report.errors += 1
            continue
        if outcome.status not in TERMINAL_TASK_STATUSES:
            report.still_running += 1
            continue
        try:
            if resolve_task(task_id, runtime, outcome=outcome):
                report.resumed += 1
            else:
                report.dropped_stale += 1
        except Exception:
            # resolve_task put the token back; one failing token must not end the run for the others.
            logger.exception("reconcile could not resume the execution", extra={"task_id": task_id})
            report.errors += 1
    logger.info("reconcile done", extra=asdict(report))
    return report


def _fail_token(runtime: Runtime[CallbacksTableSetting], task_token: str, code: str, message: str) -> None:
    try:
        runtime.sfn.send_task_failure(taskToken=task_token, error="IndexingTaskLost", cause=f"{code}: {message}")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in STALE_TOKEN_ERRORS:
            raise
