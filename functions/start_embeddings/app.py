"""State machine task: create the video embedding task once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from video_pipeline.clients import get_runtime
from video_pipeline.handler_support import invocation_deadline, parse_event
from video_pipeline.embeddings import start_embeddings
from video_pipeline.models import StartEmbeddingsInput

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="TwelveLabsPipeline")

REQUIRED_ENV = ("JOBS_TABLE",)
get_runtime(*REQUIRED_ENV)  # cold start: a missing/invalid setting fails here, naming the variable


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
@invocation_deadline
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime = get_runtime(*REQUIRED_ENV)
    result = start_embeddings(parse_event(StartEmbeddingsInput, event), runtime)
    metrics.add_metric(name="EmbeddingTasksStarted", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
