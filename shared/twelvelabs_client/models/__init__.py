"""Pydantic models for every request and response of the v1.3 classic surface."""

from .common import MetadataValue, Page, PageInfo, Request, TLModel, Usage
from .embed import (
    DEFAULT_EMBED_MODEL,
    CreatedEmbeddingTask,
    EmbeddingMetadata,
    EmbeddingResponse,
    EmbeddingTask,
    EmbeddingTaskStatus,
    EmbeddingTaskStatusValue,
    MediaEmbedding,
    TaskVideoEmbedding,
)
from .generate import (
    AnalyzeRequest,
    AnalyzeResult,
    AnalyzeStreamEvent,
    Chapter,
    GistRequest,
    GistResult,
    Highlight,
    ResponseFormat,
    StreamEndEvent,
    StreamErrorDetail,
    StreamErrorEvent,
    StreamMetadata,
    StreamStartEvent,
    SummarizeRequest,
    SummarizeResult,
    TextGenerationEvent,
    UnknownStreamEvent,
)
from .imports import (
    CreateImportRequest,
    FailedFile,
    ImportedVideo,
    ImportLog,
    ImportLogs,
    ImportResult,
    ImportStatus,
    ImportVideoStatus,
)
from .indexes import CreatedIndex, CreateIndexRequest, Index, IndexModel, ModelName, UpdateIndexRequest
from .search import SearchHit, SearchPage, SearchPageInfo, SearchPool
from .tasks import CreatedTask, Task, TaskStatus
from .videos import (
    HLS,
    EmbeddingSegment,
    SystemMetadata,
    TranscriptionSegment,
    UpdateVideoRequest,
    Video,
    VideoEmbedding,
    VideoEmbeddingSegments,
)

__all__ = [name for name in dir() if not name.startswith("_")]
