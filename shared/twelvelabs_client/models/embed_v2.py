"""`/embed-v2` (sync) and `/embed-v2/tasks` (2026 reference §6). Marengo 3.0 vectors are 512 floats."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import TLModel

DEFAULT_EMBED_V2_MODEL = "marengo3.0"
MARENGO_3_0_DIMENSION = 512


class EmbedInputType:
    TEXT = "text"
    IMAGE = "image"
    TEXT_IMAGE = "text_image"
    AUDIO = "audio"
    VIDEO = "video"
    MULTI_INPUT = "multi_input"
    DOCUMENT = "document"


class EmbeddingData(TLModel):
    embedding: list[float] = Field(default_factory=list)
    embedding_option: str | None = None  # visual | audio | transcription | text | fused | None
    embedding_scope: str | None = None  # clip | page | chunk | asset | None
    start_sec: float | None = None
    end_sec: float | None = None
    embedding_uncertainty: list[float] | None = None
    start_page_number: int | None = None
    end_page_number: int | None = None
    quadrant: str | None = None
    chunk_index: int | None = None


class EmbedV2Response(TLModel):
    data: list[EmbeddingData] = Field(default_factory=list)
    metadata: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None


class EmbedV2TaskStatus:
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    TERMINAL = frozenset({READY, FAILED})


class EmbedV2Error(TLModel):
    message: str | None = None


class CreatedEmbedV2Task(TLModel):
    id: str = Field(alias="_id")
    status: str | None = None
    location: str | None = None
    recovered: bool = False


class EmbedV2Task(TLModel):
    """GET /embed-v2/tasks/{id}: `data` is set once ready."""

    id: str = Field(alias="_id")
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    data: list[EmbeddingData] | None = None
    metadata: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None
    error: EmbedV2Error | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in EmbedV2TaskStatus.TERMINAL


class EmbedV2MediaMetadata(TLModel):
    input_url: str | None = None
    input_filename: str | None = None
    video_clip_length: float | None = None
    video_embedding_scope: list[str] | None = None
    duration: float | None = None


class EmbedV2MediaBlock(TLModel):
    metadata: EmbedV2MediaMetadata | None = None


class EmbedV2TaskSummary(TLModel):
    """An item of GET /embed-v2/tasks (`MediaEmbeddingTask`)."""

    id: str = Field(alias="_id")
    model_name: str | None = None
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    video_embedding: EmbedV2MediaBlock | None = None
    audio_embedding: EmbedV2MediaBlock | None = None
    document_embedding: EmbedV2MediaBlock | None = None
    image_embedding: EmbedV2MediaBlock | None = None

    def input_url(self) -> str | None:
        for block in (self.video_embedding, self.audio_embedding, self.document_embedding, self.image_embedding):
            if block is not None and block.metadata is not None and block.metadata.input_url:
                return block.metadata.input_url
        return None
