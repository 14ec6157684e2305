"""The S3 -> EventBridge events the local stack delivers look like AWS's (etag, one sequencer per event)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_stack import moto_patches

BUCKET = "media-bucket"


@pytest.fixture()
def delivered() -> Iterator[tuple[Any, Any, str]]:
    with mock_aws():
        undo: list[moto_patches.Undo] = []
        moto_patches.patch_s3_eventbridge_detail(moto_patches.PatchContext(None, None, ""), undo)  # type: ignore[arg-type]
        try:
            s3 = boto3.client("s3", region_name="us-east-1")
            events = boto3.client("events", region_name="us-east-1")
            sqs = boto3.client("sqs", region_name="us-east-1")
            s3.create_bucket(Bucket=BUCKET)
            s3.put_bucket_notification_configuration(
                Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )
            queue = sqs.create_queue(QueueName="events")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            pattern = {
                "source": ["aws.s3"],
                "detail-type": ["Object Created", "Object Deleted"],
                "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"prefix": "videos/"}]}},
            }
            events.put_rule(Name="objects", EventPattern=json.dumps(pattern))
            events.put_targets(Rule="objects", Targets=[{"Id": "q", "Arn": arn}])
            yield s3, sqs, queue
        finally:
            for step in reversed(undo):
                step()


def _details(sqs: Any, queue: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    return [json.loads(m["Body"]) for m in messages]


def test_created_events_carry_etag_and_a_fresh_sequencer(delivered: tuple[Any, Any, str]) -> None:
    s3, sqs, queue = delivered
    s3.put_object(Bucket=BUCKET, Key="videos/a.mp4", Body=b"first")
    s3.put_object(Bucket=BUCKET, Key="videos/a.mp4", Body=b"first")
    s3.put_object(Bucket=BUCKET, Key="notes/skip.txt", Body=b"x")
    events = _details(sqs, queue)

    assert [e["detail-type"] for e in events] == ["Object Created", "Object Created"]
    objects = [e["detail"]["object"] for e in events]
    etag = s3.head_object(Bucket=BUCKET, Key="videos/a.mp4")["ETag"].strip('"')
    assert [o["etag"] for o in objects] == [etag, etag]
    assert "eTag" not in objects[0] and "version-id" not in objects[0]  # unversioned bucket
    assert objects[0]["sequencer"] < objects[1]["sequencer"]
    assert events[0]["time"].endswith("Z")


def test_deleted_events_name_the_key(delivered: tuple[Any, Any, str]) -> None:
    s3, sqs, queue = delivered
    s3.put_object(Bucket=BUCKET, Key="videos/b.mp4", Body=b"x")
    s3.delete_object(Bucket=BUCKET, Key="videos/b.mp4")
    deleted = [e for e in _details(sqs, queue) if e["detail-type"] == "Object Deleted"]
    assert deleted and deleted[0]["detail"]["object"]["key"] == "videos/b.mp4"
