"""SQS batch of S3 `Object Created` events: screen, claim, start the video pipeline (images/audio: embed here).

Partial batch failures: a failing record is retried by SQS and lands in the DLQ; the others succeed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.ingest import process_message_body
from video_pipeline.settings import IngestSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parser.models import SqsRecordModel

function = LambdaFunction(IngestSettings)


@function.sqs_batch
def lambda_handler(record: SqsRecordModel, runtime: Runtime[IngestSettings]) -> list[dict[str, Any]]:
    results = process_message_body(str(record.body), runtime)
    for result in results:
        function.count(f"Ingest_{result.outcome}")
        function.logger.info(
            "ingested",
            extra={
                "message_id": record.messageId,
                "job_key": result.job_key,
                "outcome": result.outcome,
                "detail": result.detail,
            },
        )
    return [r.__dict__ for r in results]
