"""SQS batch of S3 `Object Deleted` events: delete the TwelveLabs video and task, item DELETED, `video.deleted`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.removal import process_removal_body
from video_pipeline.settings import ObjectRemovedSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parser.models import SqsRecordModel

function = LambdaFunction(ObjectRemovedSettings)


@function.sqs_batch
def lambda_handler(record: SqsRecordModel, runtime: Runtime[ObjectRemovedSettings]) -> list[dict[str, Any]]:
    results = process_removal_body(str(record.body), runtime)
    function.count("VideosDeleted", len(results))
    return [r.__dict__ for r in results]
