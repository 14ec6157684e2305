"""`record_failure`: FAILED with a machine code and a message, `video.failed` once.

Inputs: the state machine's failure path (the whole small state: `$.error` from a Catch, or `$.indexed` from a
failed indexing task) or EventBridge `Step Functions Execution Status Change` (FAILED / TIMED_OUT / ABORTED).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ValidationError

from video_pipeline.clients import Runtime
from video_pipeline.handler import parse_event
from video_pipeline.job_keys import job_key_from_execution_name
from video_pipeline.models.events import ExecutionStatusChangeEvent
from video_pipeline.models.payloads import CaughtError, IndexingOutcome, RecordFailureInput
from video_pipeline.notifier import announce_once
from video_pipeline.settings import RecordFailureSettings
from video_pipeline.store import TERMINAL_STATUSES

logger = Logger(child=True)

MAX_MESSAGE_CHARS = 2000
_CODE_PREFIX = re.compile(r"^([a-z][a-z0-9_]{2,63}): (.*)$", re.DOTALL)
# Step Functions' own error names -> our codes.
_STATES_CODES = {
    "States.Timeout": "timeout",
    "States.TaskFailed": "task_failed",
    "States.Runtime": "state_machine_runtime_error",
    "States.HeartbeatTimeout": "timeout",
}


class FailureRecord(BaseModel):
    job_key: str
    status: str
    error_code: str | None
    error_message: str | None
    announced: bool


def _snake(name: str) -> str:
    name = name.split(".")[-1]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() or "error"


def describe_caught(error: CaughtError) -> tuple[str, str]:
    """(code, message) from `{"Error", "Cause"}`; the Cause of a Lambda error is its error payload JSON."""
    message = error.cause or error.error
    try:
        payload = json.loads(error.cause) if error.cause else None
    except json.JSONDecodeError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("errorMessage"), str):
        message = payload["errorMessage"]
    # "<code>: <message> (HTTP 400, request ...)" from TwelveLabsError / our PipelineError.
    match = _CODE_PREFIX.match(message)
    if match:
        return match.group(1), match.group(2)
    if error.error in _STATES_CODES:
        return _STATES_CODES[error.error], message
    return _snake(error.error), message


def describe_state(state: dict[str, Any]) -> tuple[str, str]:
    if isinstance(state.get("error"), dict):
        try:
            return describe_caught(CaughtError.model_validate(state["error"]))
        except ValidationError:
            pass  # not a Catch output after all: fall through to the other shapes
    if isinstance(state.get("indexed"), dict):
        outcome = IndexingOutcome.model_validate(state["indexed"])
        return (
            outcome.error_code or "indexing_failed",
            outcome.error_message or f"indexing task {outcome.task_id} ended {outcome.status}",
        )
    return "pipeline_failed", "the video pipeline failed without an error description"


def record_failure_from_state(request: RecordFailureInput, runtime: Runtime[RecordFailureSettings]) -> FailureRecord:
    code, message = describe_state(request.state)
    return _record(request.job_key, code, message, runtime, execution_arn=request.execution_arn)


def record_failure_from_execution_event(
    event: ExecutionStatusChangeEvent, runtime: Runtime[RecordFailureSettings]
) -> FailureRecord:
    detail = event.detail
    job_key = job_key_from_execution_name(detail.name)
    if detail.error:
        code, message = describe_caught(CaughtError(Error=detail.error, Cause=detail.cause))
    else:
        code = f"execution_{detail.status.lower()}"
        message = f"the video-pipeline execution ended {detail.status}"
    return _record(job_key, code, message, runtime, execution_arn=detail.execution_arn, from_event=True)


def _record(
    job_key: str,
    code: str,
    message: str,
    runtime: Runtime[RecordFailureSettings],
    *,
    execution_arn: str | None,
    from_event: bool = False,
) -> FailureRecord:
    jobs = runtime.store.require_jobs()
    current = jobs.require(job_key)
    if from_event and current.execution_arn and execution_arn and current.execution_arn != execution_arn:
        # An older run's execution ended: it must not fail the job's current run.
        logger.info("status event of an older run ignored", extra={"job_key": job_key})
        return FailureRecord(
            job_key=job_key,
            status=current.status,
            error_code=current.error_code,
            error_message=current.error_message,
            announced=False,
        )
    job = jobs.update(
        job_key,
        status="FAILED",
        stage="failed_at",
        set_fields={"error_code": code[:64], "error_message": message[:MAX_MESSAGE_CHARS]},
        unless_status_in=TERMINAL_STATUSES,
    )
    if job is None:
        job = jobs.require(job_key)  # already terminal: COMPLETED/DELETED stay, FAILED keeps its first cause
    announced = False
    if job.status == "FAILED":
        announced = announce_once(runtime.notifier, jobs, "video.failed", job)
    logger.info("failure recorded", extra={"job_key": job_key, "status": job.status, "error_code": job.error_code})
    return FailureRecord(
        job_key=job_key,
        status=job.status,
        error_code=job.error_code,
        error_message=job.error_message,
        announced=announced,
    )


def record_failure(event: dict[str, Any], runtime: Runtime[RecordFailureSettings]) -> FailureRecord:
    """Either event `record_failure` receives: an EventBridge execution status change, or the Catch path's state."""
    if "detail-type" in event:
        return record_failure_from_execution_event(parse_event(ExecutionStatusChangeEvent, event), runtime)
    return record_failure_from_state(parse_event(RecordFailureInput, event), runtime)
