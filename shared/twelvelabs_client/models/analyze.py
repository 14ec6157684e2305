"""`/analyze` as SDK 1.3.6 speaks it (video union, image, prompt_v2, start/end) and `/analyze/tasks`
(2026 reference §4, §5). Status/enum fields stay plain strings so unknown values parse."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from .common import Request, TLModel, Usage


class AnalyzeModel:
    PEGASUS_1_5 = "pegasus1.5"
    PEGASUS_1_6 = "pegasus1.6"
    PEGASUS_1_2 = "pegasus1.2"  # classic only (removed in SDK 1.3.2)


class VideoUrl(Request):
    type: Literal["url"] = "url"
    url: str = Field(min_length=1)


class VideoAsset(Request):
    type: Literal["asset_id"] = "asset_id"
    asset_id: str = Field(min_length=1)


class VideoBase64(Request):
    type: Literal["base64_string"] = "base64_string"
    base64_string: str = Field(min_length=1)


VideoContext = VideoUrl | VideoAsset | VideoBase64


def video_url(url: str) -> VideoUrl:
    return VideoUrl(url=url)


def video_asset(asset_id: str) -> VideoAsset:
    return VideoAsset(asset_id=asset_id)


class ImageInput(Request):
    """One item of `image` (Pegasus 1.6): a name and exactly one of url / asset_id / base64_string."""

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    url: str | None = None
    asset_id: str | None = None
    base64_string: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ImageInput:
        if sum(v is not None for v in (self.url, self.asset_id, self.base64_string)) != 1:
            raise ValueError("an image input takes exactly one of url, asset_id, base64_string")
        return self


class PromptMediaSource(Request):
    name: str = Field(min_length=1)
    media_type: str = "image"
    url: str | None = None
    asset_id: str | None = None
    base64_string: str | None = None


class PromptV2(Request):
    input_text: str = Field(min_length=1)
    media_sources: list[PromptMediaSource] | None = Field(default=None, max_length=4)


class AnalyzeWarning(TLModel):
    """`error` of an analyze answer / task: a warning when finish_reason=length, else the failure reason."""

    code: str | None = None
    message: str | None = None


class AnalyzeCurrentRequest(Request):
    """Body of POST /analyze (current): exactly one of video/image(/video_id classic), prompt/prompt_v2."""

    model_name: str | None = None
    video: VideoContext | None = None
    image: list[ImageInput] | None = Field(default=None, min_length=1, max_length=20)
    video_id: str | None = None
    prompt: str | None = None
    prompt_v2: PromptV2 | None = None
    temperature: float | None = Field(default=None, ge=0, le=1)
    response_format: dict[str, Any] | None = None
    max_tokens: int | str | None = None
    start_time: float | None = Field(default=None, ge=0)
    end_time: float | None = Field(default=None, gt=0)
    stream: bool = False

    @model_validator(mode="after")
    def _check(self) -> AnalyzeCurrentRequest:
        sources = [n for n in ("video", "image", "video_id") if getattr(self, n) is not None]
        if len(sources) != 1:
            raise ValueError(f"pass exactly one of video, image, video_id (got {sources or 'none'})")
        if self.prompt is not None and self.prompt_v2 is not None:
            raise ValueError("pass only one of prompt, prompt_v2")
        if self._needs_prompt() and self.prompt is None and self.prompt_v2 is None:
            raise ValueError("pass one of prompt, prompt_v2")
        if self.image is not None and self.prompt_v2 is not None:
            raise ValueError("image cannot be combined with prompt_v2")
        if self.start_time is not None and self.end_time is not None and self.end_time - self.start_time < 1:
            raise ValueError("end_time must be at least 1 s after start_time")
        if isinstance(self.max_tokens, str) and self.max_tokens != "unlimited":
            raise ValueError("max_tokens is an integer or 'unlimited'")
        if isinstance(self.max_tokens, int) and self.max_tokens < 1:
            raise ValueError("max_tokens must be positive")
        return self

    def _needs_prompt(self) -> bool:
        return True


# --- /analyze/tasks ----------------------------------------------------------------------------------


class AnalyzeTaskStatus:
    QUEUED = "queued"
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    CANCELED = "canceled"
    TERMINAL = frozenset({READY, FAILED, CANCELED})


class AnalysisMode:
    GENERAL = "general"
    TIME_BASED_METADATA = "time_based_metadata"


class AnalyzeTaskCreateRequest(AnalyzeCurrentRequest):
    """Body of POST /analyze/tasks: the sync fields (no stream) plus the async ones."""

    stream: bool = Field(default=False, exclude=True)
    custom_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    analysis_mode: str | None = None
    min_segment_duration: float | None = Field(default=None, ge=2)
    max_segment_duration: float | None = Field(default=None, ge=2)

    @model_validator(mode="after")
    def _check_async(self) -> AnalyzeTaskCreateRequest:
        if self.video_id is not None:
            raise ValueError("analyze tasks take video or image, not video_id")
        if self.analysis_mode == AnalysisMode.TIME_BASED_METADATA and (self.prompt or self.prompt_v2):
            raise ValueError("analysis_mode time_based_metadata takes no prompt (segment_definitions instead)")
        return self

    def _needs_prompt(self) -> bool:
        # time_based_metadata describes its segments in response_format.segment_definitions
        return self.analysis_mode != AnalysisMode.TIME_BASED_METADATA


class CreatedAnalyzeTask(TLModel):
    task_id: str
    status: str | None = None
    recovered: bool = False


class VideoSourceSystemMetadata(TLModel):
    duration: float | None = None


class AnalyzeVideoSource(TLModel):
    type: str | None = None  # url | base64_string | asset_id | video_id
    url: str | None = None
    asset_id: str | None = None
    video_id: str | None = None
    index_id: str | None = None
    system_metadata: VideoSourceSystemMetadata | None = None


class AnalyzeTaskResult(TLModel):
    generation_id: str | None = None
    data: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None


class AnalyzeTaskWebhookInfo(TLModel):
    url: str | None = None
    delivered: bool | None = None
    attempts: int | None = None
    last_error: str | None = None


class AnalyzeTask(TLModel):
    task_id: str
    custom_id: str | None = None
    batch_id: str | None = None
    video_source: AnalyzeVideoSource | None = None
    request_params: dict[str, Any] | None = None
    status: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    result: AnalyzeTaskResult | None = None
    error: AnalyzeWarning | None = None
    webhooks: list[AnalyzeTaskWebhookInfo] | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in AnalyzeTaskStatus.TERMINAL


class CanceledAnalyzeTask(TLModel):
    task_id: str
    status: str | None = None
