"""Gist, summarize (classic only: removed from the current API) and analyze (both surfaces).

They create nothing server-side, so they are retried like GETs (a retry after a lost answer can
cost a second generation's tokens, never a duplicate).

`analyze` speaks both surfaces: classic `analyze(video_id, prompt)` (Pegasus 1.2, index-based) and
current `analyze(video=video_asset(id) | video_url(url) | {...}, prompt=... | prompt_v2=..., image=[...],
model_name=, start_time=, end_time=)` as SDK 1.3.6 sends it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import BaseModel, ValidationError

from ..models.generate import (
    AnalyzeResult,
    AnalyzeStreamEvent,
    GistRequest,
    GistResult,
    SummarizeRequest,
    SummarizeResult,
)
from ..streaming import AnalyzeStream
from ._base import ResourceBase

if TYPE_CHECKING:
    from ..models.analyze import ImageInput, PromptV2, VideoContext

# String aliases: the current-surface models load on first use, not at import.
VideoArg: TypeAlias = "VideoContext | Mapping[str, Any]"
ImageArg: TypeAlias = "Sequence[ImageInput | Mapping[str, Any]]"
PromptV2Arg: TypeAlias = "PromptV2 | Mapping[str, Any]"


def _dump(value: BaseModel | Mapping[str, Any] | None) -> Any:
    if value is None:
        return None
    return value.model_dump(mode="json", exclude_none=True) if isinstance(value, BaseModel) else dict(value)


def analysis_fields(
    *,
    model_name: str | None,
    video: VideoArg | None,
    image: ImageArg | None,
    prompt: str | None,
    prompt_v2: PromptV2Arg | None,
    temperature: float | None,
    response_format: Mapping[str, Any] | None,
    max_tokens: int | str | None,
    start_time: float | None,
    end_time: float | None,
) -> dict[str, Any]:
    """The fields sync `/analyze` and async `/analyze/tasks` share, as plain values for their request models."""
    return {
        "model_name": model_name,
        "video": _dump(video),
        "image": [_dump(i) for i in image] if image is not None else None,
        "prompt": prompt,
        "prompt_v2": _dump(prompt_v2),
        "temperature": temperature,
        "response_format": dict(response_format) if response_format else None,
        "max_tokens": max_tokens,
        "start_time": start_time,
        "end_time": end_time,
    }


def analyze_body(
    *,
    video_id: str | None,
    prompt: str | None,
    temperature: float | None,
    max_tokens: int | str | None,
    response_format: Mapping[str, Any] | None,
    video: VideoArg | None,
    image: ImageArg | None,
    prompt_v2: PromptV2Arg | None,
    model_name: str | None,
    start_time: float | None,
    end_time: float | None,
    stream: bool,
) -> dict[str, Any]:
    """The JSON body, validated (exactly one source, one prompt kind); a clear ValueError otherwise."""
    from ..models.analyze import AnalyzeCurrentRequest

    try:
        fields = analysis_fields(
            model_name=model_name,
            video=video,
            image=image,
            prompt=prompt,
            prompt_v2=prompt_v2,
            temperature=temperature,
            response_format=response_format,
            max_tokens=max_tokens,
            start_time=start_time,
            end_time=end_time,
        )
        request = AnalyzeCurrentRequest.model_validate({**fields, "video_id": video_id, "stream": stream})
    except ValidationError as exc:
        raise ValueError(f"invalid analyze request: {exc.errors(include_url=False)}") from exc
    return request.to_body()


class GenerateMixin(ResourceBase):
    def gist(self, video_id: str, types: Sequence[str]) -> GistResult:
        """Classic only (removed 2026-02-15 from the current API)."""
        body = GistRequest.model_validate({"video_id": video_id, "types": list(types)}).to_body()
        return self._parse(GistResult, self._transport.request("POST", "/gist", json=body))

    def summarize(
        self,
        video_id: str,
        type: str,
        prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> SummarizeResult:
        """Classic only (removed from the current API in SDK 1.2.1)."""
        body = SummarizeRequest.model_validate(
            {
                "video_id": video_id,
                "type": type,
                "prompt": prompt,
                "temperature": temperature,
                "max_tokens": max_tokens,
                "response_format": dict(response_format) if response_format else None,
            }
        ).to_body()
        return self._parse(SummarizeResult, self._transport.request("POST", "/summarize", json=body))

    def analyze(
        self,
        video_id: str | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: Mapping[str, Any] | None = None,
        *,
        video: VideoArg | None = None,
        image: ImageArg | None = None,
        prompt_v2: PromptV2Arg | None = None,
        model_name: str | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
    ) -> AnalyzeResult:
        """POST /analyze with stream=false: one JSON answer (`error` = warning when finish_reason=length)."""
        body = analyze_body(
            video_id=video_id,
            prompt=prompt,
            temperature=temperature,
            max_tokens=max_tokens,
            response_format=response_format,
            video=video,
            image=image,
            prompt_v2=prompt_v2,
            model_name=model_name,
            start_time=start_time,
            end_time=end_time,
            stream=False,
        )
        return self._parse(AnalyzeResult, self._transport.request("POST", "/analyze", json=body))

    def analyze_stream(
        self,
        video_id: str | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: Mapping[str, Any] | None = None,
        *,
        video: VideoArg | None = None,
        image: ImageArg | None = None,
        prompt_v2: PromptV2Arg | None = None,
        model_name: str | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
    ) -> Iterator[AnalyzeStreamEvent]:
        """POST /analyze with stream=true: typed NDJSON events as they arrive.

        Retries happen only before the first event; a failure mid-stream raises (resending would
        duplicate text). Close the iterator (or exhaust it) to release the connection.
        """
        body = analyze_body(
            video_id=video_id,
            prompt=prompt,
            temperature=temperature,
            max_tokens=max_tokens,
            response_format=response_format,
            video=video,
            image=image,
            prompt_v2=prompt_v2,
            model_name=model_name,
            start_time=start_time,
            end_time=end_time,
            stream=True,
        )
        # Sent now, so HTTP errors raise here rather than at the first next().
        return AnalyzeStream(self._transport.stream("POST", "/analyze", json=body))
