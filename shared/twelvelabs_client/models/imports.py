"""Cloud-to-cloud imports (§6)."""

from __future__ import annotations

from pydantic import Field

from .common import MetadataValue, Request, TLModel


class ImportedVideo(TLModel):
    video_id: str | None = None
    filename: str | None = None
    created_at: str | None = None


class FailedFile(TLModel):
    filename: str | None = None
    error_message: str | None = None
    created_at: str | None = None


class ImportResult(TLModel):
    videos: list[ImportedVideo] = Field(default_factory=list)
    failed_files: list[FailedFile] = Field(default_factory=list)
    # True when rebuilt from the import status after an ambiguous failure of the start call.
    recovered: bool = False


class ImportStatus(TLModel):
    not_imported: list[str] = Field(default_factory=list)
    validating: list[ImportedVideo] = Field(default_factory=list)
    pending: list[ImportedVideo] = Field(default_factory=list)
    queued: list[ImportedVideo] = Field(default_factory=list)
    indexing: list[ImportedVideo] = Field(default_factory=list)
    ready: list[ImportedVideo] = Field(default_factory=list)
    failed: list[FailedFile] = Field(default_factory=list)


class ImportVideoStatus(TLModel):
    ready: int = 0
    validating: int = 0
    queued: int = 0
    pending: int = 0
    indexing: int = 0
    failed: int = 0


class ImportLog(TLModel):
    index_id: str | None = None
    index_name: str | None = None
    created_at: str | None = None
    ended_at: str | None = None
    video_status: ImportVideoStatus | None = None
    failed_files: list[FailedFile] = Field(default_factory=list)


class ImportLogs(TLModel):
    data: list[ImportLog] = Field(default_factory=list)


class CreateImportRequest(Request):
    index_id: str = Field(min_length=1)
    incremental_import: bool | None = None
    retry_failed: bool | None = None
    user_metadata: dict[str, MetadataValue] | None = None
