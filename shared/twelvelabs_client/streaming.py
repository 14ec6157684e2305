"""NDJSON stream of `/analyze` (§10.3) parsed into typed events."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

import httpx
from pydantic import ValidationError

from .errors import TwelveLabsError, error_from_response
from .models.common import Usage
from .models.generate import (
    AnalyzeResult,
    AnalyzeStreamEvent,
    StreamEndEvent,
    StreamErrorEvent,
    StreamStartEvent,
    TextGenerationEvent,
    UnknownStreamEvent,
)

_EVENTS: dict[str, type[AnalyzeStreamEvent]] = {
    "stream_start": StreamStartEvent,
    "text_generation": TextGenerationEvent,
    "stream_end": StreamEndEvent,
    "stream_error": StreamErrorEvent,
}


def parse_stream_line(
    line: str | bytes, *, status_code: int = 200, headers: object = None
) -> AnalyzeStreamEvent | None:
    """One line -> an event; None for blank/unparseable lines (the official SDK skips them too).

    An error object (`{"code": ..., "message": ...}`) inside a 200 stream raises the mapped error.
    """
    raw = line.decode("utf-8", errors="replace") if isinstance(line, (bytes, bytearray)) else line
    raw = raw.strip()
    if not raw:
        return None
    try:
        obj = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    if "event_type" not in obj and ("code" in obj or isinstance(obj.get("error"), dict)):
        # The server gave up mid-stream with a plain error body: surface it, never swallow.
        error_status = status_code if status_code >= 400 else 500
        raise error_from_response(error_status, headers, raw.encode())
    cls = _EVENTS.get(str(obj.get("event_type")), UnknownStreamEvent)
    try:
        return cls.model_validate(obj)
    except ValidationError:
        # A known event type with an unexpected shape: keep it as an unknown event rather than crash.
        return UnknownStreamEvent.model_validate(obj)


def iter_stream_events(lines: Iterable[str | bytes], *, headers: object = None) -> Iterator[AnalyzeStreamEvent]:
    for line in lines:
        event = parse_stream_line(line, headers=headers)
        if event is not None:
            yield event


def collect_stream(events: Iterable[AnalyzeStreamEvent]) -> AnalyzeResult:
    """Fold a stream into the non-streamed result shape; a stream_error event raises."""
    parts: list[str] = []
    generation_id: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    warning: Any = None
    for event in events:
        if isinstance(event, StreamStartEvent) and event.metadata is not None:
            generation_id = event.metadata.generation_id
        elif isinstance(event, TextGenerationEvent):
            parts.append(event.text)
        elif isinstance(event, StreamEndEvent):
            finish_reason = event.finish_reason
            warning = event.error
            if event.metadata is not None:
                generation_id = event.metadata.generation_id or generation_id
                usage = event.metadata.usage
        elif isinstance(event, StreamErrorEvent):
            detail = event.error
            raise TwelveLabsError(
                (detail.message if detail and detail.message else "stream_error event"),
                code=(detail.code if detail and detail.code else "stream_error"),
            )
    return AnalyzeResult(id=generation_id, data="".join(parts), finish_reason=finish_reason, usage=usage, error=warning)


class AnalyzeStream(Iterator[AnalyzeStreamEvent]):
    """Iterator over the events of an open streaming response; releases the connection when
    exhausted, closed, used as a context manager, or garbage-collected."""

    def __init__(self, opened: AbstractContextManager[httpx.Response]) -> None:
        self._opened = opened
        response = opened.__enter__()
        self._closed = False
        self._events = iter_stream_events(response.iter_lines(), headers=response.headers)

    def __iter__(self) -> AnalyzeStream:
        return self

    def __next__(self) -> AnalyzeStreamEvent:
        if self._closed:
            raise StopIteration
        try:
            return next(self._events)
        except BaseException:
            self.close()  # StopIteration and errors alike end the stream
            raise

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._opened.__exit__(None, None, None)

    def collect(self) -> AnalyzeResult:
        """The whole answer as one AnalyzeResult (raises on a stream_error event)."""
        return collect_stream(self)

    def __enter__(self) -> AnalyzeStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self.close()
