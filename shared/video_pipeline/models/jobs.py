"""The `JobsTable` item (see docs/architecture.md) and its statuses."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from video_pipeline.models.base import Lenient

# PURGING: the run was retired (its object deleted or overwritten by a newer version) and what TwelveLabs holds for
# it is being removed; it ends as `retired_as` (DELETED or SUPERSEDED) once nothing is left in TwelveLabs.
JobStatus = Literal[
    "RECEIVED", "REJECTED", "INDEXING", "ANALYZING", "COMPLETED", "FAILED", "PURGING", "DELETED", "SUPERSEDED"
]
RetiredStatus = Literal["DELETED", "SUPERSEDED"]
MediaKind = Literal["video", "image", "audio"]


class JobItem(Lenient):
    """One row of `JobsTable`."""

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
    tl_asset_id: str | None = None  # current surface: the asset (uploaded by URL) ...
    tl_indexed_asset_id: str | None = None  # ... and its indexed asset (also tl_task_id and tl_video_id)
    execution_arn: str | None = None
    title: str | None = None
    topics: list[str] | None = None
    hashtags: list[str] | None = None
    results: dict[str, str] = Field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    notified: list[str] = Field(default_factory=list)  # SNS event types already published for this run
    tl_analyze_tasks: dict[str, str] = Field(default_factory=dict)  # current: analysis task name -> analyze task id
    tl_purged: bool | None = None  # the TwelveLabs video/task of a removed object are gone
    retired_as: RetiredStatus | None = None  # PURGING: what the job becomes once purged
    retire_reason: str | None = None
    lease_until: int | None = None  # image/audio: epoch until which one ingest delivery holds the /embed call
    created_at: str
    updated_at: str
