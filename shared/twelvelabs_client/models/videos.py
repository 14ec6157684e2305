"""Videos in an index (§4)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import MetadataValue, Request, TLModel


class SystemMetadata(TLModel):
    filename: str | None = None
    duration: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    size: float | None = None
    model_names: list[str] | None = None
    video_title: str | None = None


class HLS(TLModel):
    video_url: str | None = None
    thumbnail_urls: list[str] | None = None
    status: str | None = None  # PROCESSING | COMPLETE | CANCELED | ERROR (kept open)
    updated_at: str | None = None


class EmbeddingSegment(TLModel):
    float_: list[float] | None = Field(default=None, alias="float")
    start_offset_sec: float | None = None
    end_offset_sec: float | None = None
    embedding_option: str | None = None
    embedding_scope: str | None = None


class VideoEmbeddingSegments(TLModel):
    segments: list[EmbeddingSegment] = Field(default_factory=list)


class VideoEmbedding(TLModel):
    model_name: str | None = None
    video_embedding: VideoEmbeddingSegments | None = None


class TranscriptionSegment(TLModel):
    start: float | None = None
    end: float | None = None
    value: str | None = None


class Video(TLModel):
    id: str = Field(alias="_id")
    created_at: str | None = None
    updated_at: str | None = None
    indexed_at: str | None = None
    system_metadata: SystemMetadata | None = None
    user_metadata: dict[str, Any] | None = None
    hls: HLS | None = None
    embedding: VideoEmbedding | None = None
    transcription: list[TranscriptionSegment] | None = None
    asset_id: str | None = None


class UpdateVideoRequest(Request):
    # None values are sent as JSON null: PATCH deletes those keys.
    user_metadata: dict[str, MetadataValue]

    def to_body(self) -> dict[str, Any]:
        return {"user_metadata": dict(self.user_metadata)}
