"""SQS batch of S3 `Object Created` events: screen, claim, start the video pipeline (images/audio: embed here).

Partial batch failures: a failing record is retried by SQS and lands in the DLQ; the others succeed.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from video_pipeline.clients import get_runtime
from video_pipeline.handler_support import invocation_deadline
from video_pipeline.ingest import process_message_body

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="TwelveLabsPipeline")
processor = BatchProcessor(event_type=EventType.SQS)

REQUIRED_ENV = ("JOBS_TABLE", "NOTIFICATIONS_TOPIC_ARN", "STATE_MACHINE_ARN", "TWELVELABS_INDEX_ID", "RESULTS_BUCKET")
get_runtime(*REQUIRED_ENV)  # cold start: a missing/invalid setting fails here, naming the variable


def record_handler(record: SQSRecord) -> list[dict[str, Any]]:
    results = process_message_body(record.body, get_runtime(*REQUIRED_ENV))
    for result in results:
        metrics.add_metric(name=f"Ingest_{result.outcome}", unit=MetricUnit.Count, value=1)
        logger.info("ingested", extra={"message_id": record.message_id, "job_key": result.job_key,
                                       "outcome": result.outcome, "detail": result.detail})
    return [r.__dict__ for r in results]


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
@invocation_deadline
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
