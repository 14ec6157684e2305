"""Failure path: from the state machine's Catch (the small state) or EventBridge execution status events."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from video_pipeline.clients import get_runtime
from video_pipeline.failures import record_failure_from_execution_event, record_failure_from_state
from video_pipeline.handler_support import parse_event
from video_pipeline.models import ExecutionStatusChangeEvent, RecordFailureInput

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="TwelveLabsPipeline")

REQUIRED_ENV = ("JOBS_TABLE", "NOTIFICATIONS_TOPIC_ARN")
get_runtime(*REQUIRED_ENV)  # cold start: a missing/invalid setting fails here, naming the variable


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime = get_runtime(*REQUIRED_ENV)
    if "detail-type" in event:
        record = record_failure_from_execution_event(parse_event(ExecutionStatusChangeEvent, event), runtime)
    else:
        record = record_failure_from_state(parse_event(RecordFailureInput, event), runtime)
    if record.announced:
        metrics.add_metric(name="VideosFailed", unit=MetricUnit.Count, value=1)
    return record.model_dump(mode="json")
