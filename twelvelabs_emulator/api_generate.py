"""Routes: `/gist`, `/summarize`, `/analyze` (and the deprecated `/generate`), NDJSON streaming included."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

from werkzeug.wrappers import Response

from twelvelabs_emulator import analyze as current
from twelvelabs_emulator import generation
from twelvelabs_emulator.bodies import AnalyzeBody, GistBody, ResponseFormatIn, SummarizeBody
from twelvelabs_emulator.errors import ApiError, invalid, not_found
from twelvelabs_emulator.httpkit import EmulatorRequest, json_response, parse_json_body
from twelvelabs_emulator.models import VideoRecord
from twelvelabs_emulator.services import Services

PROMPT_TOKEN_LIMIT = 2000
FRAGMENT_CHARS = 24


def _video_for_generation(s: Services, video_id: str) -> VideoRecord:
    with s.rt.store.read() as st:
        video = st.videos.get(video_id)
        if video is None:
            raise not_found(video_id, "videos")
        index = st.indexes.get(video.index_id)
        if index is None or not index.has_family("pegasus"):
            raise ApiError(
                400,
                "index_not_supported_for_generate",
                f"The index {video.index_id} of video {video_id} has no Pegasus model.",
            )
        return video.model_copy(deep=True)


def _check_prompt(prompt: str | None) -> None:
    if prompt is not None and generation.count_tokens(prompt) > PROMPT_TOKEN_LIMIT:
        raise ApiError(400, "token_limit_exceeded", f"The prompt is longer than {PROMPT_TOKEN_LIMIT} tokens.")


def _structured(video: VideoRecord, response_format: ResponseFormatIn | None, fallback: str) -> str:
    if response_format is None:
        return fallback
    return generation.structured(video, response_format.model_dump())


def gist(s: Services, request: EmulatorRequest) -> Response:
    body = parse_json_body(request, GistBody)
    video = _video_for_generation(s, body.video_id)
    result: dict[str, object] = {"id": str(uuid.uuid4())}
    produced: list[str] = []
    if "title" in body.types:
        result["title"] = generation.title(video)
        produced.append(str(result["title"]))
    if "topic" in body.types:
        result["topics"] = generation.topics(video)
        produced += generation.topics(video)
    if "hashtag" in body.types:
        result["hashtags"] = generation.hashtags(video)
        produced += generation.hashtags(video)
    result["usage"] = {"output_tokens": generation.count_tokens(" ".join(produced))}
    return json_response(result)


def summarize(s: Services, request: EmulatorRequest) -> Response:
    body = parse_json_body(request, SummarizeBody)
    _check_prompt(body.prompt)
    if body.response_format is not None and body.type != "summary":
        raise invalid("response_format", "it is only valid with type=summary.")
    video = _video_for_generation(s, body.video_id)
    generation_id = str(uuid.uuid4())
    if body.type == "summary":
        text = _structured(video, body.response_format, generation.summary(video, body.prompt))
        text, _, tokens = generation.truncate(text, body.max_tokens)
        return json_response(
            {"summarize_type": "summary", "id": generation_id, "summary": text, "usage": {"output_tokens": tokens}}
        )
    if body.type == "chapter":
        chapters = generation.chapters(video)
        tokens = generation.count_tokens(json.dumps(chapters))
        return json_response(
            {"summarize_type": "chapter", "id": generation_id, "chapters": chapters, "usage": {"output_tokens": tokens}}
        )
    highlights = generation.highlights(video)
    return json_response(
        {
            "summarize_type": "highlight",
            "id": generation_id,
            "highlights": highlights,
            "usage": {"output_tokens": generation.count_tokens(json.dumps(highlights))},
        }
    )


def _fragments(text: str) -> Iterator[str]:
    # Fixed-size pieces, so fragments may split mid-word as the real stream does.
    for start in range(0, len(text), FRAGMENT_CHARS):
        yield text[start : start + FRAGMENT_CHARS]


def _ndjson(
    generation_id: str, text: str, finish_reason: str, usage: dict[str, int], warning: dict[str, str] | None = None
) -> Iterator[bytes]:
    def line(event: dict[str, object]) -> bytes:
        return (json.dumps(event) + "\n").encode("utf-8")

    yield line({"event_type": "stream_start", "metadata": {"generation_id": generation_id}})
    for fragment in _fragments(text):
        yield line({"event_type": "text_generation", "text": fragment})
    end: dict[str, object] = {
        "event_type": "stream_end",
        "finish_reason": finish_reason,
        "metadata": {"generation_id": generation_id, "usage": usage},
    }
    if warning is not None:
        end["error"] = warning
    yield line(end)


def _analyze_current(s: Services, request: EmulatorRequest) -> Response:
    """`/analyze` as SDK 1.3.6 speaks it: video {url|asset_id|base64_string} or images, Pegasus 1.5/1.6."""
    data = current.read_json_object(request)
    current.check_removed(data)
    if (
        data.get("response_format", {})
        and isinstance(data.get("response_format"), dict)
        and data["response_format"].get("type") == "segment_definitions"
    ):
        raise invalid(
            "response_format.type",
            "only json_schema is supported for synchronous analysis; use /analyze/tasks for segment_definitions.",
        )
    body = current.validate(current.SyncAnalyzeIn, data)
    current.check_prompt_shape(body)
    max_tokens = current.check_max_tokens(body.max_tokens)
    if body.response_format is not None:
        if body.response_format.json_schema is None:
            raise invalid("response_format.json_schema", "it is required when type is json_schema.")
        current.check_json_schema(body.response_format.json_schema)
    inputs = current.resolve_inputs(s, body, current.SYNC_MAX_SECONDS)
    text = current.generate_text(inputs, body.response_format)
    text, finish_reason, tokens = generation.truncate(text, max_tokens)
    usage = {"output_tokens": tokens, "input_tokens": current.input_tokens(inputs)}
    warning = {"message": current.LENGTH_WARNING} if finish_reason == "length" else None
    generation_id = str(uuid.uuid4())
    if body.stream:
        return Response(_ndjson(generation_id, text, finish_reason, usage, warning), mimetype="application/x-ndjson")
    answer: dict[str, object] = {"id": generation_id, "data": text, "finish_reason": finish_reason, "usage": usage}
    if warning is not None:
        answer["error"] = warning
    return json_response(answer)


def analyze(s: Services, request: EmulatorRequest) -> Response:
    if s.rt.config.surface == "current":
        return _analyze_current(s, request)
    body = parse_json_body(request, AnalyzeBody)
    _check_prompt(body.prompt)
    video = _video_for_generation(s, body.video_id)
    text = _structured(video, body.response_format, generation.answer(video, body.prompt))
    text, finish_reason, tokens = generation.truncate(text, body.max_tokens)
    generation_id = str(uuid.uuid4())
    if body.stream:
        return Response(
            _ndjson(generation_id, text, finish_reason, {"output_tokens": tokens}), mimetype="application/x-ndjson"
        )
    return json_response(
        {"id": generation_id, "data": text, "finish_reason": finish_reason, "usage": {"output_tokens": tokens}}
    )


def generate(s: Services, request: EmulatorRequest) -> Response:
    """Deprecated `/generate`: `/analyze` without response_format."""
    return analyze(s, request)
