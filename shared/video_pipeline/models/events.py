"""What AWS hands a function, on the Powertools Parser models: S3 events (EventBridge shape, or the classic
notification `Records[]`) in SQS bodies, Step Functions execution status events, Function URL requests."""

from __future__ import annotations

import json
from typing import Literal
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, LambdaFunctionUrlModel
from pydantic import ConfigDict, Field, field_validator

from video_pipeline.models.base import Lenient, Strict


class S3ObjectRef(Lenient):
    """One S3 object version as named by an event. `key` is already URL-decoded."""

    bucket: str = Field(min_length=1)
    key: str = Field(min_length=1)
    size: int | None = Field(default=None, ge=0)
    etag: str | None = None
    version_id: str | None = None
    sequencer: str | None = None

    @field_validator("etag")
    @classmethod
    def _strip_quotes(cls, value: str | None) -> str | None:
        return value.strip('"') if value else value

    @property
    def s3_uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


# ---------------------------------------------------------------- S3 -> EventBridge (-> SQS body)


class _Bucket(Lenient):
    name: str


class _EventBridgeObject(Lenient):
    key: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = Field(default=None, alias="version-id")
    sequencer: str | None = None


class _EventBridgeS3Detail(Lenient):
    bucket: _Bucket
    object: _EventBridgeObject
    reason: str | None = None
    deletion_type: str | None = Field(default=None, alias="deletion-type")


class EventBridgeS3Event(EventBridgeModel):
    """An EventBridge `Object Created` / `Object Deleted` event from `aws.s3` (the body of an SQS message)."""

    model_config = ConfigDict(defer_build=True)

    detail: _EventBridgeS3Detail  # typed here: the Powertools model leaves it open

    def object_ref(self) -> S3ObjectRef:
        return _object_ref(self.detail.bucket.name, self.detail.object)


# ---------------------------------------------------------------- classic S3 notification (`Records[]`)


class _NotificationObject(Lenient):
    key: str
    size: int | None = None
    etag: str | None = Field(default=None, alias="eTag")
    version_id: str | None = Field(default=None, alias="versionId")
    sequencer: str | None = None


class _NotificationS3(Lenient):
    bucket: _Bucket
    object: _NotificationObject


class S3NotificationRecord(Lenient):
    """One record of a classic S3 bucket notification (`{"Records": [...]}`)."""

    event_name: str = Field(alias="eventName")
    s3: _NotificationS3

    def object_ref(self) -> S3ObjectRef:
        return _object_ref(self.s3.bucket.name, self.s3.object)


def _object_ref(bucket: str, obj: _EventBridgeObject | _NotificationObject) -> S3ObjectRef:
    """Both event shapes name the object alike; keys arrive URL-encoded in either."""
    return S3ObjectRef(
        bucket=bucket,
        key=unquote_plus(obj.key),
        size=obj.size,
        etag=obj.etag,
        version_id=obj.version_id,
        sequencer=obj.sequencer,
    )


class S3ObjectEvent(Lenient):
    """What an SQS message body told us: the objects and whether they were created or removed."""

    action: Literal["created", "removed", "test"]
    objects: list[S3ObjectRef]
    event_id: str | None = None


def parse_s3_message_body(body: str) -> S3ObjectEvent:
    """Parse an SQS body holding either an EventBridge S3 event or an S3 notification `Records[]` event.

    Raises `ValueError`/`pydantic.ValidationError` for anything else (the caller turns it into InvalidEventError).
    """
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise ValueError("the message body is not a JSON object")
    if payload.get("Event") == "s3:TestEvent":
        return S3ObjectEvent(action="test", objects=[])
    if "Records" in payload:
        records = [S3NotificationRecord.model_validate(r) for r in payload["Records"]]
        actions: set[Literal["created", "removed"]] = {
            "created" if r.event_name.startswith("ObjectCreated") else "removed" for r in records
        }
        if len(actions) != 1:
            raise ValueError("an S3 notification mixing created and removed records")
        return S3ObjectEvent(action=actions.pop(), objects=[r.object_ref() for r in records])
    event = EventBridgeS3Event.model_validate(payload)
    if event.source != "aws.s3":
        raise ValueError(f"unexpected event source {event.source!r}")
    if event.detail_type == "Object Created":
        action: Literal["created", "removed"] = "created"
    elif event.detail_type == "Object Deleted":
        action = "removed"
    else:
        raise ValueError(f"unexpected detail-type {event.detail_type!r}")
    return S3ObjectEvent(action=action, objects=[event.object_ref()], event_id=event.id)


# ---------------------------------------------------------------- Step Functions -> EventBridge


class ExecutionStatusDetail(Lenient):
    execution_arn: str = Field(alias="executionArn")
    state_machine_arn: str | None = Field(default=None, alias="stateMachineArn")
    name: str
    status: str
    error: str | None = None
    cause: str | None = None


class ExecutionStatusChangeEvent(EventBridgeModel):
    """EventBridge `Step Functions Execution Status Change` (FAILED / TIMED_OUT / ABORTED)."""

    model_config = ConfigDict(defer_build=True)

    detail_type: Literal["Step Functions Execution Status Change"] = Field(alias="detail-type")
    source: Literal["aws.states"]
    detail: ExecutionStatusDetail


# ---------------------------------------------------------------- webhook (Lambda Function URL, payload 2.0)


class FunctionUrlRequest(LambdaFunctionUrlModel):
    """A Lambda Function URL request (payload format 2.0)."""

    model_config = ConfigDict(defer_build=True)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def raw_body(self) -> bytes:
        """The body as sent (base64-decoded when the URL encoded it). Raises ValueError if not valid base64."""
        import base64
        import binascii

        text = self.body if isinstance(self.body, str) else ""
        if not self.isBase64Encoded:
            return text.encode()
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise ValueError("body is not valid base64") from exc


class FunctionUrlResponse(Strict):
    statusCode: int
    headers: dict[str, str] = Field(default_factory=lambda: {"content-type": "application/json"})
    body: str
