"""Gist, summarize, analyze (plain, structured, NDJSON-streamed) built from the video's real content."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from helpers import MARENGO_ONLY, create_index, index_video


@pytest.fixture()
def video_id(api: httpx.Client, samples: Path) -> str:
    return str(index_video(api, create_index(api), samples / "videos" / "ocean-waves.mp4")["video_id"])


def test_gist(api: httpx.Client, video_id: str) -> None:
    r = api.post("/gist", json={"video_id": video_id, "types": ["title", "topic", "hashtag"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "Ocean" in body["title"] and "Blue" in body["title"]
    assert body["topics"] and "#ocean" in body["hashtags"] and body["usage"]["output_tokens"] > 0
    only = api.post("/gist", json={"video_id": video_id, "types": ["title"]}).json()
    assert "title" in only and "topics" not in only and "hashtags" not in only
    assert api.post("/gist", json={"video_id": video_id, "types": ["title"]}).json()["title"] == only["title"]


def test_summarize_types(api: httpx.Client, video_id: str) -> None:
    r = api.post("/summarize", json={"video_id": video_id, "type": "summary", "prompt": "For kids"})
    body = r.json()
    assert r.status_code == 200 and body["summarize_type"] == "summary"
    assert "8.0-second" in body["summary"] and "640x360" in body["summary"] and "For kids" in body["summary"]
    chapters = api.post("/summarize", json={"video_id": video_id, "type": "chapter"}).json()
    assert chapters["summarize_type"] == "chapter"
    items = chapters["chapters"]
    assert [c["chapter_number"] for c in items] == list(range(len(items))) and items[0]["chapter_number"] == 0
    assert all(0 <= c["start_sec"] < c["end_sec"] <= 8.0 for c in items)
    assert all(isinstance(c["start"], int) and isinstance(c["end"], int) for c in items)
    assert all(c["chapter_title"] and c["chapter_summary"] for c in items)
    highlights = api.post("/summarize", json={"video_id": video_id, "type": "highlight"}).json()
    assert highlights["summarize_type"] == "highlight"
    assert all(0 <= h["start_sec"] < h["end_sec"] <= 8.0 and h["highlight"] for h in highlights["highlights"])
    structured = api.post(
        "/summarize",
        json={
            "video_id": video_id,
            "type": "summary",
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "type": "object",
                    "properties": {"headline": {"type": "string"}},
                    "required": ["headline"],
                },
            },
        },
    ).json()
    assert isinstance(json.loads(structured["summary"])["headline"], str)


def test_analyze_plain_and_structured(api: httpx.Client, video_id: str) -> None:
    r = api.post("/analyze", json={"video_id": video_id, "prompt": "Describe the colours", "stream": False})
    body = r.json()
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert set(body) == {"id", "data", "finish_reason", "usage"}
    assert "Describe the colours" in body["data"] and "blue" in body["data"] and body["finish_reason"] == "stop"
    cut = api.post("/analyze", json={"video_id": video_id, "prompt": "p", "stream": False, "max_tokens": 5}).json()
    assert cut["finish_reason"] == "length" and cut["usage"]["output_tokens"] == 5
    schema = {
        "type": "object",
        "required": ["title", "duration", "safe", "tags", "mood", "scenes", "id"],
        "properties": {
            "title": {"type": "string"},
            "duration": {"type": "number", "maximum": 100},
            "safe": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "mood": {"enum": ["calm", "tense"]},
            "count": {"type": "integer", "minimum": 3},
            "scenes": {"type": "array", "items": {"$ref": "#/$defs/scene"}},
            "id": {"type": "string", "format": "uuid"},
        },
        "$defs": {"scene": {"type": "object", "properties": {"start": {"type": "number"}}}},
    }
    r = api.post(
        "/analyze",
        json={
            "video_id": video_id,
            "prompt": "As JSON",
            "stream": False,
            "response_format": {"type": "json_schema", "json_schema": schema},
        },
    )
    data = json.loads(r.json()["data"])
    assert isinstance(data["title"], str) and data["duration"] == 8.0 and data["safe"] is True
    assert isinstance(data["tags"], list) and all(isinstance(t, str) for t in data["tags"])
    assert data["mood"] == "calm" and data["count"] >= 3 and isinstance(data["scenes"][0]["start"], float)
    assert len(data["id"]) == 36
    r = api.post(
        "/analyze",
        json={
            "video_id": video_id,
            "prompt": "x",
            "stream": False,
            "response_format": {"type": "json_schema", "json_schema": {"type": "string", "maxLength": 3}},
        },
    )
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid" and "maxLength" in r.json()["message"]


def test_analyze_stream_is_ndjson(api: httpx.Client, video_id: str) -> None:
    plain = api.post("/analyze", json={"video_id": video_id, "prompt": "What happens?", "stream": False}).json()
    for body in (
        {"video_id": video_id, "prompt": "What happens?"},
        {"video_id": video_id, "prompt": "What happens?", "stream": True},
    ):
        with api.stream("POST", "/analyze", json=body) as r:
            assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
            events = [json.loads(line) for line in r.iter_lines() if line]
        assert events[0]["event_type"] == "stream_start" and events[0]["metadata"]["generation_id"]
        assert events[-1]["event_type"] == "stream_end" and events[-1]["finish_reason"] == "stop"
        assert events[-1]["metadata"]["generation_id"] == events[0]["metadata"]["generation_id"]
        middle = events[1:-1]
        assert len(middle) > 2 and all(e["event_type"] == "text_generation" for e in middle)
        assert "".join(e["text"] for e in middle) == plain["data"]
        assert events[-1]["metadata"]["usage"]["output_tokens"] == plain["usage"]["output_tokens"]


def test_errors(api: httpx.Client, samples: Path, video_id: str) -> None:
    marengo_video = index_video(api, create_index(api, "m", MARENGO_ONLY), samples / "videos" / "forest-walk.mp4")
    for path, body in [
        ("/gist", {"video_id": marengo_video["video_id"], "types": ["title"]}),
        ("/summarize", {"video_id": marengo_video["video_id"], "type": "summary"}),
        ("/analyze", {"video_id": marengo_video["video_id"], "prompt": "x"}),
    ]:
        r = api.post(path, json=body)
        assert r.status_code == 400 and r.json()["code"] == "index_not_supported_for_generate", (path, r.text)
    cases = [
        ("/gist", {"video_id": video_id, "types": ["poem"]}, "parameter_invalid", "types"),
        ("/gist", {"video_id": video_id}, "parameter_not_provided", "types"),
        ("/summarize", {"video_id": video_id, "type": "novel"}, "parameter_invalid", "type"),
        (
            "/summarize",
            {"video_id": video_id, "type": "chapter", "response_format": {"type": "json_schema", "json_schema": {}}},
            "parameter_invalid",
            "response_format",
        ),
        ("/summarize", {"video_id": video_id, "type": "summary", "temperature": 3}, "parameter_invalid", "temperature"),
        ("/analyze", {"video_id": video_id}, "parameter_not_provided", "prompt"),
        ("/analyze", {"prompt": "x"}, "parameter_not_provided", "video_id"),
        ("/analyze", {"video_id": video_id, "prompt": "x", "max_tokens": 1}, "parameter_invalid", "max_tokens"),
        ("/analyze", {"video_id": video_id, "prompt": "word " * 2001}, "token_limit_exceeded", "2000"),
    ]
    for path, body, code, needle in cases:
        r = api.post(path, json=body)
        assert r.status_code == 400 and r.json()["code"] == code and needle in r.json()["message"], (path, body, r.text)
    r = api.post("/analyze", json={"video_id": "0" * 24, "prompt": "x"})
    assert r.status_code == 404 and r.json()["code"] == "resource_not_exist"
