"""`record_failure`: FAILED with a machine code and a message, `video.failed` once.

Inputs: the state machine's failure path (the whole small state: `$.error` from a Catch, or `$.indexed` from a
failed indexing task) or EventBridge `Step Functions Execution Status Change` (FAILED / TIMED_OUT / ABORTED).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ValidationError

from video_pipeline.clients import Runtime
from video_pipeline.errors import InvalidEventError
from video_pipeline.handler import parse_event
from video_pipeline.job_keys import job_key_from_execution_name
from video_pipeline.models.events import ExecutionStatusChangeEvent
from video_pipeline.models.jobs import JobItem
from video_pipeline.models.notifications import EventType
from video_pipeline.models.payloads import CaughtError, IndexingOutcome, RecordFailureInput
from video_pipeline.notifier import announce_once
from video_pipeline.settings import RecordFailureSettings
from video_pipeline.store import ACTIVE_STATUSES

logger = Logger(child=True)

MAX_MESSAGE_CHARS = 2000
_RUN_SUFFIX = re.compile(r"-r([0-9]+)$")
_CODE_PREFIX = re.compile(r"^([a-z][a-z0-9_]{2,63}): (.*)$", re.DOTALL)
# Step Functions' own error names -> our codes.
_STATES_CODES = {
    "States.Timeout": "timeout",
    "States.TaskFailed": "task_failed",
    "States.Runtime": "state_machine_runtime_error",
    "States.HeartbeatTimeout": "timeout",
}


class RecordFailureFunctionSettings(RecordFailureSettings):
    """record_failure's settings: the queue an event that can never succeed is parked in at once (the function's
    on-failure destination, ExecutionEventsDLQ); unset outside the stack (the event then fails like any error)."""

    failure_dead_letter_queue_url: str | None = None


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


def run_of_execution_name(name: str) -> int:
    """The run number an execution name carries (`<job_key>` = run 1, `<job_key>-r<run>`); see
    `job_keys.execution_name`. Raises InvalidEventError for a name this pipeline did not make."""
    job_key_from_execution_name(name)  # validates the job key part
    match = _RUN_SUFFIX.search(name)
    if match is None:
        if "-" in name:
            raise InvalidEventError(f"execution name {name!r} has a malformed run suffix")
        return 1
    return int(match.group(1))


def record_failure_from_state(request: RecordFailureInput, runtime: Runtime[RecordFailureSettings]) -> FailureRecord:
    code, message = describe_state(request.state)
    run: int | None = request.state.get("run") if isinstance(request.state.get("run"), int) else None
    if run is None and request.execution_arn:
        try:
            run = run_of_execution_name(request.execution_arn.rsplit(":", 1)[-1])
        except InvalidEventError:
            # The Catch path names its own job; an unusual ARN must not lose the failure: recorded unfenced.
            logger.warning("execution ARN without a run number", extra={"job_key": request.job_key})
    return _record(request.job_key, code, message, runtime, run=run)


def record_failure_from_execution_event(
    event: ExecutionStatusChangeEvent, runtime: Runtime[RecordFailureSettings]
) -> FailureRecord:
    detail = event.detail
    job_key = job_key_from_execution_name(detail.name)
    run = run_of_execution_name(detail.name)
    if detail.error:
        code, message = describe_caught(CaughtError(Error=detail.error, Cause=detail.cause))
    else:
        code = f"execution_{detail.status.lower()}"
        message = f"the video-pipeline execution ended {detail.status}"
    return _record(job_key, code, message, runtime, run=run)


def record_execution_end(
    job: JobItem, status: str, error: str | None, cause: str | None, runtime: Runtime[RecordFailureSettings]
) -> FailureRecord:
    """An execution of `job`'s run ended without the job reaching a terminal state (its status event was lost or
    parked): the same record as for the status event."""
    if error:
        code, message = describe_caught(CaughtError(Error=error, Cause=cause))
    else:
        code = f"execution_{status.lower()}"
        message = f"the video-pipeline execution ended {status}"
    return _record(job.job_key, code, message, runtime, run=job.run)


def fail_job(job: JobItem, code: str, message: str, runtime: Runtime[RecordFailureSettings]) -> FailureRecord:
    """FAILED with `code` for this run of the job, announced once (`embedding.failed` for images and audio)."""
    return _record(job.job_key, code, message, runtime, run=job.run)


def _record(
    job_key: str,
    code: str,
    message: str,
    runtime: Runtime[RecordFailureSettings],
    *,
    run: int | None,
) -> FailureRecord:
    """FAILED + video.failed, for the run that failed only: the run number comes from the execution (its input, or
    its name; the execution ARN on the item is empty while a re-run starts, so it cannot tell an older run's event
    apart). Without either (an unusual ARN on the Catch path) the item's current run is failed."""
    jobs = runtime.store.require_jobs()
    current = jobs.require(job_key)
    if run is not None and current.run != run:
        logger.info(
            "failure of another run ignored", extra={"job_key": job_key, "event_run": run, "item_run": current.run}
        )
        return _unchanged(current)
    run = current.run if run is None else run
    job = jobs.update(
        job_key,
        run=run,
        status="FAILED",
        stage="failed_at",
        set_fields={"error_code": code[:64], "error_message": message[:MAX_MESSAGE_CHARS]},
        only_if_status_in=ACTIVE_STATUSES,
    )
    if job is None:
        # Already ended (COMPLETED stays, FAILED keeps its first cause, a retired run is purged and announced as
        # such), or a re-run claimed the item between the read and the write.
        job = jobs.require(job_key)
        if job.run != run:
            return _unchanged(job)
    announced = False
    if job.status == "FAILED":
        event_type: EventType = "embedding.failed" if job.kind in ("image", "audio") else "video.failed"
        announced = announce_once(runtime.notifier, jobs, event_type, job)
    logger.info("failure recorded", extra={"job_key": job_key, "status": job.status, "error_code": job.error_code})
    return FailureRecord(
        job_key=job_key,
        status=job.status,
        error_code=job.error_code,
        error_message=job.error_message,
        announced=announced,
    )


def _unchanged(job: JobItem) -> FailureRecord:
    return FailureRecord(
        job_key=job.job_key,
        status=job.status,
        error_code=job.error_code,
        error_message=job.error_message,
        announced=False,
    )


def record_failure(event: dict[str, Any], runtime: Runtime[RecordFailureSettings]) -> FailureRecord:
    """Either event `record_failure` receives: an EventBridge execution status change, or the Catch path's state."""
    if "detail-type" in event:
        return record_failure_from_execution_event(parse_event(ExecutionStatusChangeEvent, event), runtime)
    return record_failure_from_state(parse_event(RecordFailureInput, event), runtime)


# ---------------------------------------------------------------- poison input: straight to the dead-letter queue

_dead_letter_queues: dict[str, str] = {}


@functools.cache
def _sqs() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("sqs", config=Config(retries={"mode": "standard", "max_attempts": 5}))


def dead_letter_queue_of(source_queue_arn: str) -> str | None:
    """The URL of the dead-letter queue the source queue's redrive policy names (cached per container); None when it
    has none. Read from the queue itself, so the function needs no setting that could drift from the template."""
    if source_queue_arn in _dead_letter_queues:
        return _dead_letter_queues[source_queue_arn]
    sqs = _sqs()
    _, _, _, _, account, name = source_queue_arn.split(":", 5)
    source_url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=source_url, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
    if "RedrivePolicy" not in attributes:
        return None
    target = str(json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"])
    _, _, _, _, dlq_account, dlq_name = target.split(":", 5)
    url = str(sqs.get_queue_url(QueueName=dlq_name, QueueOwnerAWSAccountId=dlq_account)["QueueUrl"])
    _dead_letter_queues[source_queue_arn] = url
    return url


def dead_letter(queue_url: str, body: str, reason: str, *, source: str) -> None:
    """Park an input that can never succeed in `queue_url` with its reason (message attribute `reason`; the alarm on
    the queue tells an operator), instead of letting it be retried until the queue's own redrive. Logged as an
    error carrying the reason."""
    _sqs().send_message(
        QueueUrl=queue_url,
        MessageBody=body,
        MessageAttributes={
            "reason": {"DataType": "String", "StringValue": reason[:1024] or "invalid input"},
            "source": {"DataType": "String", "StringValue": source},
        },
    )
    logger.error("poison input dead-lettered", extra={"reason": reason, "source": source, "queue_url": queue_url})
