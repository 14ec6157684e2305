"""SQS batch of S3 `Object Created` events: screen, claim, start the video pipeline (images/audio: embed here).

Partial batch failures: a failing record is retried by SQS and lands in the DLQ; the others succeed. A record that
can never succeed (not an S3 event, an object without etag or version) goes to the DLQ at once, with its reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from video_pipeline.clients import Runtime
from video_pipeline.errors import InvalidEventError
from video_pipeline.failures import dead_letter, dead_letter_queue_of
from video_pipeline.handler import LambdaFunction
from video_pipeline.ingest import process_message_body
from video_pipeline.settings import IngestSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parser.models import SqsRecordModel

function = LambdaFunction(IngestSettings)


@function.sqs_batch
def lambda_handler(record: SqsRecordModel, runtime: Runtime[IngestSettings]) -> list[dict[str, Any]]:
    try:
        results = process_message_body(str(record.body), runtime)
    except InvalidEventError as exc:
        # Five receives would change nothing: park it now (acknowledged here) unless the queue has no DLQ.
        try:
            queue_url = dead_letter_queue_of(record.eventSourceARN)
        except ClientError:
            function.logger.exception("could not find the dead-letter queue: the record is retried")
            queue_url = None
        if queue_url is None:
            raise
        dead_letter(queue_url, str(record.body), str(exc), source=f"ingest:{record.messageId}")
        function.count("Ingest_poison")
        return []
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
