"""The SNS message body: pointers only, never a payload (JSON Schemas in docs/notifications/)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from video_pipeline.models.base import Strict, utc_now_iso
from video_pipeline.models.jobs import JobItem, JobStatus, MediaKind

EventType = Literal[
    "video.completed",
    "video.failed",
    "video.rejected",
    "video.deleted",
    "embedding.completed",
    "embedding.failed",
]


class SourceRef(Strict):
    bucket: str
    key: str
    version_id: str | None = None
    s3_uri: str


class TwelveLabsRef(Strict):
    index_id: str | None = None
    task_id: str | None = None
    video_id: str | None = None


class ErrorInfo(Strict):
    code: str
    message: str


class PipelineNotification(Strict):
    """The SNS message body."""

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
