"""State machine `.waitForTaskToken` task: park the token, resolve at once if the task already ended."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from video_pipeline.clients import get_runtime
from video_pipeline.handler_support import invocation_deadline, parse_event
from video_pipeline.indexing import await_indexing
from video_pipeline.models import AwaitIndexingInput

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="TwelveLabsPipeline")

REQUIRED_ENV = ("CALLBACKS_TABLE",)
get_runtime(*REQUIRED_ENV)  # cold start: a missing/invalid setting fails here, naming the variable


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
@invocation_deadline
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime = get_runtime(*REQUIRED_ENV)
    return await_indexing(parse_event(AwaitIndexingInput, event), runtime)
