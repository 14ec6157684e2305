"""The emulator's stored state (pydantic, so a `--state-dir` restart reloads it from JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

MetadataValue = str | int | float | bool

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
    user_metadata: dict[str, MetadataValue] = Field(default_factory=dict)
    clips: list[ClipContent] = Field(default_factory=list)
    segments: list[Segment] = Field(default_factory=list)
    content_hash: str
    file_path: str
    enable_video_stream: bool = True


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
    user_metadata: dict[str, MetadataValue] = Field(default_factory=dict)
    enable_video_stream: bool = True
    error: ErrorInfo | None = None
    force_fail: bool = False  # fault injection `fail_next_tasks`
    import_id: str | None = None
    video_deleted: bool = False


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

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq
