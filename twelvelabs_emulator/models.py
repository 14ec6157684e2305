"""The emulator's stored state (pydantic, so a `--state-dir` restart reloads it from JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MetadataValue = str | int | float | bool
# Indexed assets (like assets) also take arrays of strings (1.3.5+); classic inputs never carry them.
StoredMetadataValue = MetadataValue | list[str]

MARENGO = "marengo2.7"
PEGASUS = "pegasus1.2"
EMBED_MODEL_NAME = "Marengo-retrieval-2.7"
TASK_STATUSES = ("uploading", "validating", "pending", "queued", "indexing", "ready", "failed")
TERMINAL = ("ready", "failed")


class ErrorInfo(BaseModel):
    code: str
    message: str


class IndexModel(BaseModel):
    model_name: str
    model_options: list[str]


class IndexRecord(BaseModel):
    id: str
    seq: int
    index_name: str
    models: list[IndexModel]
    addons: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime

    def model_names(self) -> list[str]:
        return [m.model_name for m in self.models]

    def has_family(self, family: str) -> bool:
        return any(m.model_name.startswith(family) for m in self.models)

    def options(self, family: str | None = None) -> set[str]:
        return {o for m in self.models if family is None or m.model_name.startswith(family) for o in m.model_options}


class MediaInfo(BaseModel):
    """What PyAV read from the file."""

    filename: str
    duration: float
    width: int
    height: int
    fps: float
    size: int
    has_audio: bool


class ClipContent(BaseModel):
    """Content tokens of one clip (weights), the basis of its embedding and of generated text."""

    start: float
    end: float
    visual: dict[str, float]
    audio: dict[str, float]


class Segment(BaseModel):
    start_offset_sec: float
    end_offset_sec: float
    embedding_option: Literal["visual-text", "audio"]
    embedding_scope: Literal["clip", "video"]
    vector: list[float]


class VideoRecord(BaseModel):
    id: str
    seq: int
    index_id: str
    task_id: str
    created_at: datetime
    updated_at: datetime
    indexed_at: datetime
    media: MediaInfo
    user_metadata: dict[str, StoredMetadataValue] = Field(default_factory=dict)
    clips: list[ClipContent] = Field(default_factory=list)
    segments: list[Segment] = Field(default_factory=list)
    content_hash: str
    file_path: str
    enable_video_stream: bool = True
    asset_id: str | None = None


class TaskRecord(BaseModel):
    id: str
    seq: int
    index_id: str
    video_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    filename: str
    file_path: str | None
    owns_file: bool = True  # False for files read in place from a directory integration
    content_hash: str
    media: MediaInfo | None = None
    user_metadata: dict[str, StoredMetadataValue] = Field(default_factory=dict)
    enable_video_stream: bool = True
    error: ErrorInfo | None = None
    force_fail: bool = False  # fault injection `fail_next_tasks`
    import_id: str | None = None
    video_deleted: bool = False
    asset_id: str | None = None  # set for indexed assets (POST /indexes/{id}/indexed-assets): not a /tasks task
    upload_asset_id: str | None = None  # current surface: the asset a POST /tasks upload also became


class EmbedTaskRecord(BaseModel):
    id: str
    seq: int
    model_name: str
    status: Literal["processing", "ready", "failed"]
    created_at: datetime
    updated_at: datetime
    input_url: str | None = None
    input_filename: str | None = None
    file_path: str | None
    content_hash: str
    clip_length: float
    scopes: list[str]
    start_offset: float | None = None
    end_offset: float | None = None
    duration: float | None = None
    segments: list[Segment] = Field(default_factory=list)
    error: ErrorInfo | None = None


class ImportFailure(BaseModel):
    filename: str
    error_message: str
    created_at: datetime
    content_key: str = ""


class ImportRecord(BaseModel):
    id: str
    seq: int
    integration_id: str
    index_id: str
    index_name: str
    created_at: datetime
    task_ids: list[str] = Field(default_factory=list)
    failed_files: list[ImportFailure] = Field(default_factory=list)


class State(BaseModel):
    seq: int = 0
    indexes: dict[str, IndexRecord] = Field(default_factory=dict)
    videos: dict[str, VideoRecord] = Field(default_factory=dict)
    tasks: dict[str, TaskRecord] = Field(default_factory=dict)
    embed_tasks: dict[str, EmbedTaskRecord] = Field(default_factory=dict)
    imports: list[ImportRecord] = Field(default_factory=list)
    current: CurrentState = Field(default_factory=lambda: CurrentState())

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


AssetKind = Literal["video", "audio", "image"]


class AssetRecord(BaseModel):
    """An uploaded file (`/assets`); indexed assets and analysis reference it once it is `ready`."""

    id: str
    seq: int
    method: Literal["direct", "url", "multipart", "connector"]
    status: Literal["processing", "ready", "failed"]
    filename: str
    file_type: str
    created_at: datetime
    updated_at: datetime
    user_metadata: dict[str, MetadataValue | list[str]] | None = None
    source: dict[str, object] | None = None
    enable_hls: bool = False
    enable_thumbnail: bool = False
    file_path: str | None = None
    content_hash: str = ""
    kind: AssetKind | None = None
    size: int | None = None
    duration: float | None = None
    technical_metadata: dict[str, object] | None = None
    media: MediaInfo | None = None  # set for ready videos: what indexing needs
    error_message: str | None = None
    connection_key: str | None = None  # "<account>/<source_id>" for connector imports (dedupe)


class ChunkRecord(BaseModel):
    index: int
    status: Literal["completed", "pending", "failed"] = "pending"
    etag: str | None = None  # set when the bytes arrived through the presigned URL
    size: int = 0
    uploaded_at: datetime | None = None
    updated_at: datetime
    reported: bool = False


class UploadUrlRecord(BaseModel):
    token: str
    chunk_index: int
    expires_at: datetime
    used: bool = False


class MultipartUploadRecord(BaseModel):
    id: str
    seq: int
    asset_id: str
    filename: str
    type: AssetKind
    total_size: int
    chunk_size: int
    total_chunks: int
    status: Literal["active", "completed", "failed", "expired"] = "active"
    enable_hls: bool = False
    enable_thumbnail: bool = False
    user_metadata: dict[str, MetadataValue | list[str]] | None = None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    chunks: list[ChunkRecord] = Field(default_factory=list)
    urls: dict[str, UploadUrlRecord] = Field(default_factory=dict)  # token -> url record
    data_path: str


class ConnectionRecord(BaseModel):
    id: str
    seq: int
    provider: Literal["google_drive"] = "google_drive"
    status: Literal["active", "expired", "revoked"] = "active"
    custom_id: str | None = None
    account_external_id: str
    account_display_name: str
    scopes: list[str] = Field(default_factory=list)
    connected_at: datetime
    last_used_at: datetime | None = None


class DriveFile(BaseModel):
    """One file of a fake Google Drive: a local file to fetch, or the rejection code an import gets."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    filename: str | None = None  # `original_filename`; default: the path's name
    reject: (
        Literal[
            "source_unavailable",
            "source_not_authorized",
            "unsupported_media_type",
            "video_filesize_too_large",
            "audio_filesize_too_large",
            "media_filesize_too_large",
        ]
        | None
    ) = None


class DriveAccount(BaseModel):
    """A fake Google Drive account (admin route / config `drive_accounts`); OAuth consent picks one."""

    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1)
    display_name: str = Field(min_length=1)
    scopes: list[str] = Field(default_factory=lambda: ["https://www.googleapis.com/auth/drive.file"])
    files: dict[str, DriveFile] = Field(default_factory=dict)  # source_id -> file


class PendingAuthorization(BaseModel):
    state: str
    redirect_uri: str
    custom_id: str | None = None
    created_at: datetime


class RedirectUriRecord(BaseModel):
    id: str
    seq: int
    redirect_uri: str
    created_at: datetime


class ConnectionImportItem(BaseModel):
    source_id: str
    action: Literal["created", "skipped", "retried", "rejected"]
    asset_id: str | None = None
    error: ErrorInfo | None = None


class ConnectionImportRecord(BaseModel):
    id: str
    seq: int
    connection_id: str
    provider: str = "google_drive"
    custom_id: str | None = None
    created_at: datetime
    items: list[ConnectionImportItem] = Field(default_factory=list)


class CurrentState(BaseModel):
    """Resources of the current surface (SDK 1.1.0+)."""

    assets: dict[str, AssetRecord] = Field(default_factory=dict)
    uploads: dict[str, MultipartUploadRecord] = Field(default_factory=dict)
    connections: dict[str, ConnectionRecord] = Field(default_factory=dict)
    redirect_uris: dict[str, RedirectUriRecord] = Field(default_factory=dict)
    connection_imports: dict[str, ConnectionImportRecord] = Field(default_factory=dict)
    drive_accounts: dict[str, DriveAccount] = Field(default_factory=dict)
    authorizations: dict[str, PendingAuthorization] = Field(default_factory=dict)


State.model_rebuild()
