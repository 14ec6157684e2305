"""Scheduled: resolve indexing tokens whose webhook is late (bounded work per run)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from video_pipeline.callbacks import reconcile
from video_pipeline.clients import get_runtime
from video_pipeline.handler_support import invocation_deadline

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="TwelveLabsPipeline")

REQUIRED_ENV = ("JOBS_TABLE", "CALLBACKS_TABLE")
get_runtime(*REQUIRED_ENV)  # cold start: a missing/invalid setting fails here, naming the variable


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
@invocation_deadline
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime = get_runtime(*REQUIRED_ENV)
    report = reconcile(runtime)
    metrics.add_metric(name="ReconcileResumed", unit=MetricUnit.Count, value=report.resumed)
    metrics.add_metric(name="ReconcileErrors", unit=MetricUnit.Count, value=report.errors)
    return asdict(report)
