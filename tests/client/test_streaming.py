"""analyze: NDJSON stream into typed events, and the non-streamed variant."""

from __future__ import annotations

import json

import httpx
import pytest
from twelvelabs_client.errors import NotFoundError, ServerError, TwelveLabsError
from twelvelabs_client.models import (
    StreamEndEvent,
    StreamErrorEvent,
    StreamStartEvent,
    TextGenerationEvent,
    UnknownStreamEvent,
)
from twelvelabs_client.streaming import collect_stream, parse_stream_line

from tests.client.helpers import json_response

LINES = [
    '{"event_type":"stream_start","metadata":{"generation_id":"g1"}}',
    "",
    '{"event_type":"text_generation","text":"The video opens with"}',
    "not json at all",
    '{"event_type":"future_event","payload":{"x":1}}',
    "   ",
    "[1, 2]",
    '{"event_type":"text_generation","text":" a wide shot."}',
    '{"event_type":"stream_end","finish_reason":"stop","metadata":{"generation_id":"g1","usage":{"output_tokens":12}}}',
]


def ndjson(lines: list[str]) -> httpx.Response:
    return httpx.Response(
        200, content=("\n".join(lines) + "\n").encode(), headers={"content-type": "application/x-ndjson"}
    )


def test_stream_events_typed_and_tolerant(make_client) -> None:
    client, recorder = make_client(lambda r: ndjson(LINES))
    events = list(client.analyze_stream("v1", "Describe it", temperature=0.2))
    assert [type(e) for e in events] == [
        StreamStartEvent,
        TextGenerationEvent,
        UnknownStreamEvent,
        TextGenerationEvent,
        StreamEndEvent,
    ]
    assert events[2].event_type == "future_event" and events[2].payload == {"x": 1}  # type: ignore[attr-defined]
    body = json.loads(recorder.bodies[0])
    assert body == {"video_id": "v1", "prompt": "Describe it", "temperature": 0.2, "stream": True}
    result = collect_stream(events)
    assert result.data == "The video opens with a wide shot." and result.id == "g1"
    assert result.finish_reason == "stop" and result.usage is not None and result.usage.output_tokens == 12


def test_error_object_inside_200_stream_raises(make_client) -> None:
    lines = [LINES[0], LINES[2], '{"code":"token_limit_exceeded","message":"too long"}', LINES[-1]]
    client, _ = make_client(lambda r: ndjson(lines))
    stream = client.analyze_stream("v1", "p")
    assert isinstance(next(stream), StreamStartEvent)
    assert isinstance(next(stream), TextGenerationEvent)
    with pytest.raises(TwelveLabsError) as info:
        next(stream)
    assert info.value.code == "token_limit_exceeded"
    assert list(stream) == []  # closed after the error


def test_stream_error_event_is_yielded_and_collect_raises(make_client) -> None:
    lines = [LINES[0], '{"event_type":"stream_error","error":{"message":"model overloaded"}}']
    client, _ = make_client(lambda r: ndjson(lines))
    with client.analyze_stream("v1", "p") as stream:
        events = list(stream)
    assert isinstance(events[1], StreamErrorEvent) and events[1].error is not None
    with pytest.raises(TwelveLabsError, match="stream_error: model overloaded"):
        collect_stream(events)


def test_http_error_raises_at_call_and_is_retried_before_stream(make_client, clock) -> None:
    answers = [json_response(503), ndjson(LINES)]
    client, recorder = make_client(lambda r: answers.pop(0))
    stream = client.analyze_stream("v1", "p")  # sent now, retried once
    assert len(recorder.requests) == 2
    assert stream.collect().data == "The video opens with a wide shot."
    client, _ = make_client(lambda r: json_response(404, {"code": "resource_not_exist", "message": "no video"}))
    with pytest.raises(NotFoundError):
        client.analyze_stream("nope", "p")


def test_analyze_non_streamed(make_client) -> None:
    client, recorder = make_client(
        lambda r: json_response(
            200,
            {"id": "a1", "data": '{"x": 1}', "finish_reason": "stop", "usage": {"output_tokens": 5, "input_tokens": 9}},
        )
    )
    schema = {"type": "json_schema", "json_schema": {"type": "object", "properties": {"x": {"type": "integer"}}}}
    result = client.analyze("v1", "p", max_tokens=100, response_format=schema)
    assert result.data == '{"x": 1}' and result.usage is not None and result.usage.input_tokens == 9
    assert json.loads(recorder.bodies[0]) == {
        "video_id": "v1",
        "prompt": "p",
        "max_tokens": 100,
        "response_format": schema,
        "stream": False,
    }


def test_gist_and_summarize_bodies(make_client) -> None:
    answers = [
        json_response(200, {"id": "g", "topics": ["a"], "hashtags": ["#b"]}),
        json_response(200, {"id": "s", "summarize_type": "chapter", "chapters": [{"chapter_number": 0}]}),
    ]
    client, recorder = make_client(lambda r: answers.pop(0))
    assert client.gist("v1", ["topic", "hashtag"]).topics == ["a"]
    assert client.summarize("v1", "chapter", prompt="short").chapters is not None
    assert json.loads(recorder.bodies[0]) == {"video_id": "v1", "types": ["topic", "hashtag"]}
    assert json.loads(recorder.bodies[1]) == {"video_id": "v1", "type": "chapter", "prompt": "short"}
    with pytest.raises(ValueError):
        client.gist("v1", ["nonsense"])


def test_parse_stream_line_edge_cases() -> None:
    assert parse_stream_line(b"") is None
    assert parse_stream_line(b'{"event_type":"text_generation","text":"\xc3\xa9"}').text == "é"  # type: ignore[union-attr]
    # a known type with a wrong shape degrades to an unknown event instead of crashing
    event = parse_stream_line('{"event_type":"text_generation","text":{"nested":true}}')
    assert isinstance(event, UnknownStreamEvent)
    with pytest.raises(ServerError):
        parse_stream_line('{"error":{"code":"internal","message":"x"}}')
