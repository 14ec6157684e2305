"""Request bodies and form fields (pydantic models at the HTTP boundary)."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from twelvelabs_emulator.errors import invalid
from twelvelabs_emulator.models import MetadataValue


class Body(BaseModel):
    # Unknown fields are ignored: newer SDKs send fields this API version does not know.
    model_config = ConfigDict(extra="ignore")


class IndexModelIn(Body):
    model_name: str
    model_options: list[str]


class CreateIndexBody(Body):
    index_name: str = Field(min_length=1)
    models: list[IndexModelIn] = Field(min_length=1)
    addons: list[str] | None = None


class UpdateIndexBody(Body):
    index_name: str = Field(min_length=1)


class UpdateVideoBody(Body):
    user_metadata: dict[str, MetadataValue | None]


class ImportBody(Body):
    index_id: str = Field(min_length=1)
    incremental_import: bool = True
    retry_failed: bool = False
    user_metadata: dict[str, MetadataValue] | None = None


class ResponseFormatIn(Body):
    type: Literal["json_schema"]
    json_schema: dict[str, object]


class GistBody(Body):
    video_id: str = Field(min_length=1)
    types: list[Literal["title", "topic", "hashtag"]] = Field(min_length=1)


class SummarizeBody(Body):
    video_id: str = Field(min_length=1)
    type: Literal["summary", "chapter", "highlight"]
    prompt: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=1)
    response_format: ResponseFormatIn | None = None
    max_tokens: int | None = Field(default=None, ge=2, le=4096)


class AnalyzeBody(Body):
    video_id: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0, le=1)
    stream: bool = True
    response_format: ResponseFormatIn | None = None
    max_tokens: int | None = Field(default=None, ge=2, le=4096)
    model_name: Literal["pegasus1.2"] | None = None


class TaskForm(Body):
    index_id: str = Field(min_length=1)
    video_url: str | None = None
    enable_video_stream: bool = True
    user_metadata: str | None = None


class EmbedForm(Body):
    model_name: str
    text: str | None = None
    text_truncate: Literal["start", "end", "none"] = "end"
    image_url: str | None = None
    audio_url: str | None = None
    audio_start_offset_sec: float = Field(default=0.0, ge=0)


class EmbedTaskForm(Body):
    model_name: str
    video_url: str | None = None
    video_start_offset_sec: float | None = Field(default=None, ge=0)
    video_end_offset_sec: float | None = Field(default=None, gt=0)
    video_clip_length: float = Field(default=6.0, ge=2, le=10)
    video_embedding_scope: list[Literal["clip", "video"]] = Field(default_factory=lambda: ["clip"], min_length=1)


class SearchForm(Body):
    index_id: str = Field(min_length=1)
    search_options: list[Literal["visual", "audio"]] = Field(min_length=1)
    query_text: str | None = None
    query_media_type: Literal["image"] | None = None
    query_media_url: str | None = None
    operator: Literal["or", "and"] = "or"
    group_by: Literal["clip", "video"] = "clip"
    threshold: Literal["high", "medium", "low", "none"] = "low"
    adjust_confidence_level: float = Field(default=0.5, ge=0, le=1)
    sort_option: Literal["score", "clip_count"] = "score"
    page_limit: int = Field(default=10, ge=1, le=50)
    filter: str | None = None
    include_user_metadata: bool = False


def parse_user_metadata(raw: str | None, field: str = "user_metadata") -> dict[str, MetadataValue]:
    """A stringified JSON object whose values are strings, numbers or booleans."""
    if raw is None or raw.strip() == "":
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise invalid(field, f"it is not valid JSON ({exc.msg}).") from exc
    if not isinstance(data, dict):
        raise invalid(field, "it must be a JSON object.")
    for key, value in data.items():
        if not isinstance(value, (str, int, float, bool)):
            raise invalid(f"{field}.{key}", "values must be strings, numbers or booleans.")
    return data
