"""Pydantic models for every boundary: incoming events, the job item, state machine payloads, SNS bodies."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

JobStatus = Literal["RECEIVED", "REJECTED", "INDEXING", "ANALYZING", "COMPLETED", "FAILED", "DELETED"]
MediaKind = Literal["video", "image", "audio"]
EventType = Literal[
    "video.completed",
    "video.failed",
    "video.rejected",
    "video.deleted",
    "embedding.completed",
    "embedding.failed",
]
AnalysisKind = Literal["gist", "summary", "chapter", "highlight", "analyze"]


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Lenient(BaseModel):
    """AWS adds fields over time: accept and ignore what we do not use."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# ---------------------------------------------------------------- S3 objects and events


class S3ObjectRef(_Lenient):
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


class _EventBridgeBucket(_Lenient):
    name: str


class _EventBridgeObject(_Lenient):
    key: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = Field(default=None, alias="version-id")
    sequencer: str | None = None


class _EventBridgeS3Detail(_Lenient):
    bucket: _EventBridgeBucket
    object: _EventBridgeObject
    reason: str | None = None
    deletion_type: str | None = Field(default=None, alias="deletion-type")


class EventBridgeS3Event(_Lenient):
    """An EventBridge `Object Created` / `Object Deleted` event from `aws.s3` (the body of an SQS message)."""

    id: str | None = None
    detail_type: str = Field(alias="detail-type")
    source: str
    # AWS sends ISO-8601; moto sends an epoch float. We only log it.
    time: str | float | None = None
    detail: _EventBridgeS3Detail

    def object_ref(self) -> S3ObjectRef:
        return _object_ref(self.detail.bucket.name, self.detail.object)


class _NotificationObject(_Lenient):
    key: str
    size: int | None = None
    etag: str | None = Field(default=None, alias="eTag")
    version_id: str | None = Field(default=None, alias="versionId")
    sequencer: str | None = None


class _NotificationS3(_Lenient):
    bucket: _EventBridgeBucket
    object: _NotificationObject


class S3NotificationRecord(_Lenient):
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


class S3ObjectEvent(_Lenient):
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
        actions = {("created" if r.event_name.startswith("ObjectCreated") else "removed") for r in records}
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


# ---------------------------------------------------------------- configuration shapes


class AnalysisSpec(_Lenient):
    """One configured analysis (env `ANALYSES`, then one Map item in the state machine)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    kind: AnalysisKind
    types: list[Literal["title", "topic", "hashtag"]] | None = None
    prompt: str | None = Field(default=None, max_length=8000)
    temperature: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=2, le=4096)

    @model_validator(mode="after")
    def _check_kind_fields(self) -> AnalysisSpec:
        if self.kind == "analyze" and not self.prompt:
            raise ValueError(f"analysis {self.name!r}: kind 'analyze' needs a prompt")
        if self.kind == "gist" and not self.types:
            self.types = ["title", "topic", "hashtag"]
        return self

    @property
    def result_name(self) -> str:
        """The key in the item's `results` map and the S3 object name."""
        return f"analysis-{self.name}" if self.kind == "analyze" else self.name


class EmbeddingOptions(_Lenient):
    clip_length: float = Field(default=6, ge=2, le=10)
    scopes: list[Literal["clip", "video"]] = Field(default_factory=lambda: ["clip"])


# ---------------------------------------------------------------- state machine payloads


class ExecutionInput(_Lenient):
    """The `video-pipeline` execution input written by `ingest` (small: pointers only)."""

    job_key: str
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    index_id: str
    analyses: list[AnalysisSpec]
    embedding: EmbeddingOptions


class StartIndexingInput(_Lenient):
    job_key: str
    bucket: str
    key: str
    version_id: str | None = None
    index_id: str


class StartIndexingOutput(BaseModel):
    task_id: str
    video_id: str | None = None


class AwaitIndexingInput(_Lenient):
    task_token: str = Field(min_length=1)
    job_key: str
    task_id: str


class IndexingOutcome(BaseModel):
    """What `SendTaskSuccess` hands to the state machine: the task, always with the error fields (maybe null)."""

    task_id: str
    video_id: str | None = None
    status: str
    error_code: str | None = None
    error_message: str | None = None


class StartEmbeddingsInput(_Lenient):
    job_key: str
    bucket: str
    key: str
    version_id: str | None = None
    embedding: EmbeddingOptions = Field(default_factory=EmbeddingOptions)


class EmbeddingPoll(BaseModel):
    """The embeddings poll state: also the output of start/check (the Wait reads `wait_seconds`)."""

    task_id: str
    status: str
    wait_seconds: int
    polls: int
    max_polls: int


class CheckEmbeddingsInput(_Lenient):
    job_key: str
    task_id: str
    polls: int = 0
    wait_seconds: int = 0


class StoreEmbeddingsInput(_Lenient):
    job_key: str
    task_id: str


class ResultPointer(BaseModel):
    name: str
    uri: str


class RunAnalysisInput(_Lenient):
    job_key: str
    video_id: str
    index_id: str | None = None
    analysis: AnalysisSpec


class FinalizeInput(_Lenient):
    job_key: str
    execution_arn: str | None = None


class FinalizeOutput(BaseModel):
    job_key: str
    status: JobStatus
    results: dict[str, str]


class CaughtError(_Lenient):
    """`$.error` as written by a Catch: `{"Error": "<errorType>", "Cause": "<Lambda error payload JSON or text>"}`."""

    error: str = Field(alias="Error")
    cause: str | None = Field(default=None, alias="Cause")


class RecordFailureInput(_Lenient):
    """From the state machine's failure path: the job key, the execution and the whole (small) state."""

    job_key: str
    execution_arn: str | None = None
    state: dict[str, Any] = Field(default_factory=dict)


class ExecutionStatusDetail(_Lenient):
    execution_arn: str = Field(alias="executionArn")
    state_machine_arn: str | None = Field(default=None, alias="stateMachineArn")
    name: str
    status: str
    error: str | None = None
    cause: str | None = None


class ExecutionStatusChangeEvent(_Lenient):
    """EventBridge `Step Functions Execution Status Change` (FAILED / TIMED_OUT / ABORTED)."""

    detail_type: Literal["Step Functions Execution Status Change"] = Field(alias="detail-type")
    source: Literal["aws.states"]
    detail: ExecutionStatusDetail


# ---------------------------------------------------------------- the job item


class JobItem(_Lenient):
    """One row of `JobsTable` (see docs/architecture.md)."""

    job_key: str
    kind: MediaKind = "video"
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    s3_uri: str
    sequencer: str | None = None
    run: int = 1
    status: JobStatus
    stages: dict[str, str] = Field(default_factory=dict)
    media_format: str | None = None
    tl_index_id: str | None = None
    tl_task_id: str | None = None
    tl_video_id: str | None = None
    tl_embedding_task_id: str | None = None
    execution_arn: str | None = None
    title: str | None = None
    topics: list[str] | None = None
    hashtags: list[str] | None = None
    results: dict[str, str] = Field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    notified: list[str] = Field(default_factory=list)  # SNS event types already published for this run
    tl_purged: bool | None = None  # the TwelveLabs video/task of a removed object are gone
    created_at: str
    updated_at: str


# ---------------------------------------------------------------- SNS


class SourceRef(BaseModel):
    bucket: str
    key: str
    version_id: str | None = None
    s3_uri: str


class TwelveLabsRef(BaseModel):
    index_id: str | None = None
    task_id: str | None = None
    video_id: str | None = None


class ErrorInfo(BaseModel):
    code: str
    message: str


class PipelineNotification(BaseModel):
    """The SNS message body (pointers only, never a payload)."""

    schema_version: Literal["1"] = "1"
    event_type: EventType
    job_key: str
    status: JobStatus
    kind: MediaKind = "video"
    source: SourceRef
    twelvelabs: TwelveLabsRef
    results: dict[str, str] = Field(default_factory=dict)
    title: str | None = None
    error: ErrorInfo | None = None
    occurred_at: str = Field(default_factory=utc_now_iso)

    @classmethod
    def for_job(cls, event_type: EventType, job: JobItem) -> PipelineNotification:
        return cls(
            event_type=event_type,
            job_key=job.job_key,
            status=job.status,
            kind=job.kind,
            source=SourceRef(bucket=job.bucket, key=job.key, version_id=job.version_id, s3_uri=job.s3_uri),
            twelvelabs=TwelveLabsRef(index_id=job.tl_index_id, task_id=job.tl_task_id, video_id=job.tl_video_id),
            results=dict(job.results),
            title=job.title,
            error=ErrorInfo(code=job.error_code, message=job.error_message or "") if job.error_code else None,
        )


# ---------------------------------------------------------------- webhook (Function URL)


class FunctionUrlRequest(_Lenient):
    """A Lambda Function URL request (payload format 2.0): only what the webhook needs."""

    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    is_base64_encoded: bool = Field(default=False, alias="isBase64Encoded")
    request_context: dict[str, Any] = Field(default_factory=dict, alias="requestContext")

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


class FunctionUrlResponse(BaseModel):
    statusCode: int
    headers: dict[str, str] = Field(default_factory=lambda: {"content-type": "application/json"})
    body: str
