"""Gist, summarize and analyze (Pegasus). They create nothing server-side, so they are retried
like GETs (a retry after a lost answer can cost a second generation's tokens, never a duplicate)."""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

from ..models.generate import (
    AnalyzeRequest,
    AnalyzeResult,
    AnalyzeStreamEvent,
    GistRequest,
    GistResult,
    SummarizeRequest,
    SummarizeResult,
)
from ..streaming import AnalyzeStream
from ._base import ResourceBase


class GenerateMixin(ResourceBase):
    def gist(self, video_id: str, types: Sequence[str]) -> GistResult:
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
        body = SummarizeRequest.model_validate({
            "video_id": video_id, "type": type, "prompt": prompt, "temperature": temperature,
            "max_tokens": max_tokens, "response_format": dict(response_format) if response_format else None,
        }).to_body()
        return self._parse(SummarizeResult, self._transport.request("POST", "/summarize", json=body))

    def _analyze_body(
        self, video_id: str, prompt: str, temperature: float | None, max_tokens: int | None,
        response_format: Mapping[str, Any] | None, stream: bool,
    ) -> dict[str, Any]:
        return AnalyzeRequest.model_validate({
            "video_id": video_id, "prompt": prompt, "temperature": temperature, "max_tokens": max_tokens,
            "response_format": dict(response_format) if response_format else None, "stream": stream,
        }).to_body()

    def analyze(
        self,
        video_id: str,
        prompt: str,
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> AnalyzeResult:
        """POST /analyze with stream=false: one JSON answer."""
        body = self._analyze_body(video_id, prompt, temperature, max_tokens, response_format, stream=False)
        return self._parse(AnalyzeResult, self._transport.request("POST", "/analyze", json=body))

    def analyze_stream(
        self,
        video_id: str,
        prompt: str,
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> Iterator[AnalyzeStreamEvent]:
        """POST /analyze with stream=true: typed NDJSON events as they arrive.

        Retries happen only before the first event; a failure mid-stream raises (resending would
        duplicate text). Close the iterator (or exhaust it) to release the connection.
        """
        body = self._analyze_body(video_id, prompt, temperature, max_tokens, response_format, stream=True)
        # Sent now, so HTTP errors raise here rather than at the first next().
        return AnalyzeStream(self._transport.stream("POST", "/analyze", json=body))
