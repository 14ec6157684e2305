"""`/embed` and `/embed/tasks` (§7, §8)."""

from __future__ import annotations

from pydantic import Field

from .common import TLModel
from .videos import EmbeddingSegment

DEFAULT_EMBED_MODEL = "Marengo-retrieval-2.7"


class EmbeddingTaskStatusValue:
    """Known embedding-task statuses; the fields stay plain strings."""

    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    TERMINAL = frozenset({READY, FAILED})


class EmbeddingMetadata(TLModel):
    input_url: str | None = None
    input_filename: str | None = None
    video_clip_length: float | None = None
    video_embedding_scope: list[str] | None = None
    duration: float | None = None


class MediaEmbedding(TLModel):
    """text_embedding / image_embedding / audio_embedding blocks of `/embed`."""

    segments: list[EmbeddingSegment] = Field(default_factory=list)
    error_message: str | None = None
    metadata: EmbeddingMetadata | None = None


class EmbeddingResponse(TLModel):
    model_name: str | None = None
    text_embedding: MediaEmbedding | None = None
    image_embedding: MediaEmbedding | None = None
    audio_embedding: MediaEmbedding | None = None


class CreatedEmbeddingTask(TLModel):
    id: str = Field(alias="_id")
    recovered: bool = False


class TaskVideoEmbedding(TLModel):
    metadata: EmbeddingMetadata | None = None
    segments: list[EmbeddingSegment] = Field(default_factory=list)


class EmbeddingTaskStatus(TLModel):
    id: str = Field(alias="_id")
    model_name: str | None = None
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    video_embedding: TaskVideoEmbedding | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in EmbeddingTaskStatusValue.TERMINAL


class EmbeddingTask(EmbeddingTaskStatus):
    """Retrieve answer: the status fields plus the segments."""

    audio_embedding: TaskVideoEmbedding | None = None
