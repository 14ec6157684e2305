"""Lambda Function URL (payload 2.0): TwelveLabs webhook, `TL-Signature` verified (fails closed), deduplicated."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from video_pipeline.callbacks import handle_webhook
from video_pipeline.clients import get_runtime
from video_pipeline.handler_support import invocation_deadline
from video_pipeline.models import FunctionUrlRequest

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="TwelveLabsPipeline")

REQUIRED_ENV = ("CALLBACKS_TABLE",)
get_runtime(*REQUIRED_ENV)  # cold start: a missing/invalid setting fails here, naming the variable


@logger.inject_lambda_context(log_event=False)  # never log the event: it carries the signature header
@tracer.capture_lambda_handler
@metrics.log_metrics
@invocation_deadline
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        request = FunctionUrlRequest.model_validate(event)
    except ValidationError:
        logger.warning("not a Function URL request")
        return {"statusCode": 400, "headers": {"content-type": "application/json"},
                "body": '{"message": "not a Function URL request"}'}
    response = handle_webhook(request, get_runtime(*REQUIRED_ENV))
    metrics.add_metric(name=f"Webhook_{response.statusCode}", unit=MetricUnit.Count, value=1)
    return response.model_dump()
