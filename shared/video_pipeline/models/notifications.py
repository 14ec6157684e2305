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
    "video.superseded",
    "embedding.completed",
    "embedding.failed",
]


class SourceRef(Strict):
    """The S3 object version the job was made from."""

    bucket: str
    key: str
    version_id: str | None = Field(default=None, description="S3 version id; null when the bucket is unversioned.")
    etag: str | None = Field(default=None, description="S3 ETag of that version, without quotes.")
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
    # Consumers order the messages of one job by `run`: a re-upload of the same content after FAILED or DELETED
    # starts run + 1 under the same job_key, and a late message of an older run must not overwrite a newer one.
    run: int = Field(ge=1, description="The job's run number: each re-run of the same content adds 1.")
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
            run=job.run,
            status=job.status,
            kind=job.kind,
            source=SourceRef(
                bucket=job.bucket, key=job.key, version_id=job.version_id, etag=job.etag, s3_uri=job.s3_uri
            ),
            twelvelabs=TwelveLabsRef(index_id=job.tl_index_id, task_id=job.tl_task_id, video_id=job.tl_video_id),
            results=dict(job.results),
            title=job.title,
            error=ErrorInfo(code=job.error_code, message=job.error_message or "") if job.error_code else None,
        )
