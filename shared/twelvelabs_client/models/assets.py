"""Assets, multipart uploads and indexed assets (current surface, SDK 1.1.0+; 2026 reference §2, §3).

Enum-like fields are plain `str` (unknown values kept); the constant classes name the known ones.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import PageInfo, TLModel
from .videos import HLS, SystemMetadata, TranscriptionSegment, VideoEmbedding


class AssetStatus:
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    TERMINAL = frozenset({READY, FAILED})


class AssetMethod:
    DIRECT = "direct"
    URL = "url"
    MULTIPART = "multipart"
    CONNECTOR = "connector"


class AssetType:
    VIDEO = "video"
    AUDIO = "audio"
    IMAGE = "image"
    DOCUMENT = "document"


class AssetSourceDetails(TLModel):
    provider: str | None = None
    source_id: str | None = None
    original_filename: str | None = None
    source_link: str | None = None


class AssetSource(TLModel):
    type: str | None = None
    details: AssetSourceDetails | None = None


class AssetHls(TLModel):
    manifest_url: str | None = None
    status: str | None = None  # pending | processing | ready | error


class AssetThumbnail(TLModel):
    representative_url: str | None = None
    status: str | None = None


class AssetError(TLModel):
    message: str | None = None


class Asset(TLModel):
    """`Asset` (create answer, list items) and `AssetDetail` (retrieve): the detail fields are optional."""

    id: str = Field(alias="_id")
    method: str | None = None
    status: str | None = None
    filename: str | None = None
    file_type: str | None = None
    created_at: str | None = None
    user_metadata: dict[str, Any] | None = None
    source: AssetSource | None = None
    hls: AssetHls | None = None
    thumbnail: AssetThumbnail | None = None
    technical_metadata: dict[str, Any] | None = None
    size: int | None = None
    duration: float | None = None
    error: AssetError | None = None
    # True when the create answer was lost and the client found the asset it had created.
    recovered: bool = False

    @property
    def is_terminal(self) -> bool:
        return self.status in AssetStatus.TERMINAL


class AssetTranscriptionItem(TLModel):
    start: float | None = None
    end: float | None = None
    value: str | None = None
    speaker: str | None = None


class AssetTranscription(TLModel):
    status: str | None = None  # pending | processing | ready | failed
    words: list[AssetTranscriptionItem] | None = None
    sentences: list[AssetTranscriptionItem] | None = None
    utterances: list[AssetTranscriptionItem] | None = None
    error: AssetError | None = None


class IndexRef(TLModel):
    id: str | None = Field(default=None, alias="_id")
    name: str | None = None


class AssetIndexedAssetRef(TLModel):
    """An item of GET /assets/{id}/indexed-assets."""

    id: str = Field(alias="_id")
    index: IndexRef | None = None


# --- multipart uploads -------------------------------------------------------------------------------


class PresignedUrl(TLModel):
    chunk_index: int
    url: str
    expires_at: str | None = None


class MultipartUpload(TLModel):
    """Answer of POST /assets/multipart-uploads."""

    upload_id: str
    asset_id: str | None = None
    upload_urls: list[PresignedUrl] = Field(default_factory=list)
    upload_headers: dict[str, str] = Field(default_factory=dict)
    chunk_size: int | None = None
    total_chunks: int | None = None
    expires_at: str | None = None


class CompletedChunk(TLModel):
    chunk_index: int = Field(ge=1)
    proof: str
    proof_type: str = "etag"
    chunk_size: int = Field(ge=0)


class ReportChunksResult(TLModel):
    url: str | None = None  # set once every chunk is reported
    asset_id: str | None = None
    processed_chunks: int | None = None
    duplicate_chunks: int | None = None
    total_completed: int | None = None


class PresignedUrls(TLModel):
    upload_id: str | None = None
    start_index: int | None = None
    count: int | None = None
    upload_urls: list[PresignedUrl] = Field(default_factory=list)
    generated_at: str | None = None
    expires_at: str | None = None


class ChunkInfo(TLModel):
    index: int | None = None
    status: str | None = None  # completed | pending | failed
    uploaded_at: str | None = None
    updated_at: str | None = None
    error: Any = None


class MultipartUploadStatus(TLModel):
    upload_id: str | None = None
    status: str | None = None  # active | completed | failed | expired
    uploaded_chunks: list[ChunkInfo] = Field(default_factory=list)
    chunks_completed: int | None = None
    chunks_failed: int | None = None
    chunks_pending: int | None = None
    total_size: int | None = None
    uploaded_size: int | None = None
    created_at: str | None = None
    updated_at: str | None = None
    page_info: PageInfo | None = None  # pages `uploaded_chunks`


class MultipartUploadSummary(TLModel):
    upload_id: str
    status: str | None = None
    total_size: int | None = None
    chunk_size: int | None = None
    total_chunks: int | None = None
    created_at: str | None = None
    expires_at: str | None = None


# --- indexed assets ----------------------------------------------------------------------------------


class IndexedAssetStatus:
    VALIDATING = "validating"
    PENDING = "pending"
    QUEUED = "queued"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"
    TERMINAL = frozenset({READY, FAILED})


class IndexedAsset(TLModel):
    """`IndexedAsset` (list) and `IndexedAssetDetailed` (retrieve: user_metadata, hls, embedding, transcription)."""

    id: str = Field(alias="_id")
    asset_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    indexed_at: str | None = None
    status: str | None = None
    system_metadata: SystemMetadata | None = None
    user_metadata: dict[str, Any] | None = None
    hls: HLS | None = None
    embedding: VideoEmbedding | None = None
    transcription: list[TranscriptionSegment] | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in IndexedAssetStatus.TERMINAL


class CreatedIndexedAsset(TLModel):
    """202 answer of POST /indexes/{id}/indexed-assets; `location` is the Location header."""

    id: str = Field(alias="_id")
    asset_id: str | None = None
    location: str | None = None
    recovered: bool = False
