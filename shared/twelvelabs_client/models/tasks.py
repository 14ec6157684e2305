"""Video indexing tasks (§5)."""

from __future__ import annotations

from pydantic import Field

from .common import TLModel
from .videos import HLS, SystemMetadata


class TaskStatus:
    """Known task statuses; `Task.status` stays a plain str so a new status parses."""

    UPLOADING = "uploading"
    VALIDATING = "validating"
    PENDING = "pending"
    QUEUED = "queued"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"
    TERMINAL = frozenset({READY, FAILED})


class Task(TLModel):
    id: str = Field(alias="_id")
    index_id: str | None = None
    video_id: str | None = None
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    system_metadata: SystemMetadata | None = None
    hls: HLS | None = None
    estimated_time: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TaskStatus.TERMINAL


class CreatedTask(TLModel):
    id: str = Field(alias="_id")
    video_id: str | None = None
    # True when the client did not get the create answer but found the task it had created.
    recovered: bool = False
