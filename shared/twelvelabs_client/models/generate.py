"""Gist, summarize, analyze (§10), including the NDJSON stream events."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .common import Request, TLModel, Usage


class GistResult(TLModel):
    id: str | None = None
    title: str | None = None
    topics: list[str] | None = None
    hashtags: list[str] | None = None
    usage: Usage | None = None


class Chapter(TLModel):
    chapter_number: int | None = None
    start_sec: float | None = None
    end_sec: float | None = None
    start: float | None = None
    end: float | None = None
    chapter_title: str | None = None
    chapter_summary: str | None = None


class Highlight(TLModel):
    start_sec: float | None = None
    end_sec: float | None = None
    start: float | None = None
    end: float | None = None
    highlight: str | None = None
    highlight_summary: str | None = None


class SummarizeResult(TLModel):
    """One model for the three shapes; `summarize_type` says which list/field is set."""

    id: str | None = None
    summarize_type: str | None = None
    summary: str | None = None
    chapters: list[Chapter] | None = None
    highlights: list[Highlight] | None = None
    usage: Usage | None = None


class AnalyzeWarningDetail(TLModel):
    code: str | None = None
    message: str | None = None


class AnalyzeResult(TLModel):
    id: str | None = None
    data: str | None = None
    finish_reason: str | None = None  # stop | length (kept open)
    usage: Usage | None = None
    # SDK 1.3.6: a warning (e.g. truncated output) present when finish_reason=length.
    error: AnalyzeWarningDetail | None = None


class ResponseFormat(TLModel):
    type: str = "json_schema"
    json_schema: dict[str, Any]


class GistRequest(Request):
    video_id: str = Field(min_length=1)
    types: list[Literal["title", "topic", "hashtag"]] = Field(min_length=1)


class SummarizeRequest(Request):
    video_id: str = Field(min_length=1)
    type: Literal["summary", "chapter", "highlight"]
    prompt: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    response_format: dict[str, Any] | None = None


class AnalyzeRequest(Request):
    video_id: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    response_format: dict[str, Any] | None = None
    stream: bool = False


# --- stream events -------------------------------------------------------------------------------


class StreamMetadata(TLModel):
    generation_id: str | None = None
    usage: Usage | None = None


class StreamStartEvent(TLModel):
    event_type: Literal["stream_start"] = "stream_start"
    metadata: StreamMetadata | None = None


class TextGenerationEvent(TLModel):
    event_type: Literal["text_generation"] = "text_generation"
    text: str = ""


class StreamEndEvent(TLModel):
    event_type: Literal["stream_end"] = "stream_end"
    finish_reason: str | None = None
    metadata: StreamMetadata | None = None
    error: AnalyzeWarningDetail | None = None  # SDK 1.3.6 warning


class StreamErrorDetail(TLModel):
    message: str | None = None
    code: str | None = None


class StreamErrorEvent(TLModel):
    event_type: Literal["stream_error"] = "stream_error"
    error: StreamErrorDetail | None = None


class UnknownStreamEvent(TLModel):
    """An event type this client does not know yet; the raw fields are kept as extras."""

    event_type: str | None = None


AnalyzeStreamEvent = StreamStartEvent | TextGenerationEvent | StreamEndEvent | StreamErrorEvent | UnknownStreamEvent
