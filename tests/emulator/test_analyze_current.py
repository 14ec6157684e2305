"""`POST /analyze` on the current surface (SDK 1.3.6): video {url|asset_id|base64_string}, Pegasus 1.6 images,
prompt_v2, windows, max_tokens range, response_format json_schema rules (422/400), NDJSON stream, exact keys."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from helpers import file_server, sdk136, wait_for

from tests.emulator.conftest import client_for
from twelvelabs_emulator import Emulator

NON_STREAM_KEYS = {"id", "data", "finish_reason", "usage", "error"}  # types/non_stream_analyze_response.py
USAGE_KEYS = {"output_tokens", "input_tokens"}


@pytest.fixture()
def current(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator(surface="current")


@pytest.fixture()
def api(current: Emulator) -> Iterator[httpx.Client]:
    with client_for(current) as client:
        yield client


@pytest.fixture()
def media_url(samples: Path) -> Iterator[str]:
    with file_server(samples) as base:
        yield base


def analyze(api: httpx.Client, **body: object) -> httpx.Response:
    return api.post("/analyze", json={"stream": False} | body)


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def test_url_and_base64_sources_answer_exactly_the_documented_fields(
    api: httpx.Client, media_url: str, samples: Path
) -> None:
    r = analyze(api, video={"type": "url", "url": f"{media_url}/videos/ocean-waves.mp4"}, prompt="What is shown?")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"id", "data", "finish_reason", "usage"} and set(body) <= NON_STREAM_KEYS
    assert set(body["usage"]) == USAGE_KEYS and body["finish_reason"] == "stop"
    assert "ocean" in body["data"] and "blue" in body["data"] and "8.0-second" in body["data"]
    r = analyze(
        api,
        video={"type": "base64_string", "base64_string": b64(samples / "videos" / "forest-walk.mp4")},
        prompt="Describe it",
        model_name="pegasus1.6",
    )
    assert r.status_code == 200 and "green" in r.json()["data"]


def test_asset_source(api: httpx.Client, samples: Path) -> None:
    with (samples / "videos" / "city-traffic.mov").open("rb") as fh:
        r = api.post("/assets", data={"method": "direct"}, files={"file": ("city-traffic.mov", fh, "video/quicktime")})
    assert r.status_code == 201, r.text
    asset_id = r.json()["_id"]
    wait_for(lambda: api.get(f"/assets/{asset_id}").json()["status"] == "ready")
    r = analyze(api, video={"type": "asset_id", "asset_id": asset_id}, prompt="What is shown?")
    assert r.status_code == 200, r.text
    assert "grey" in r.json()["data"] and "city traffic" in r.json()["data"]
    r = analyze(api, video={"type": "asset_id", "asset_id": "0" * 24}, prompt="x")
    assert r.status_code == 404 and r.json()["code"] == "resource_not_exist"


def test_stream_is_ndjson(api: httpx.Client, media_url: str) -> None:
    r = api.post(
        "/analyze",
        json={
            "video": {"type": "url", "url": f"{media_url}/videos/ocean-waves.mp4"},
            "prompt": "What?",
            "stream": True,
        },
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    events = [json.loads(line) for line in r.text.splitlines() if line]
    assert events[0]["event_type"] == "stream_start" and events[-1]["event_type"] == "stream_end"
    assert {e["event_type"] for e in events[1:-1]} == {"text_generation"}
    assert set(events[0]) == {"event_type", "metadata"} and set(events[0]["metadata"]) == {"generation_id"}
    assert all(set(e) == {"event_type", "text"} for e in events[1:-1])
    end = events[-1]
    assert set(end) == {"event_type", "finish_reason", "metadata"} and end["finish_reason"] == "stop"
    assert end["metadata"]["generation_id"] == events[0]["metadata"]["generation_id"]
    assert "ocean" in "".join(e["text"] for e in events[1:-1])


def test_removed_inputs_and_ranges(api: httpx.Client, media_url: str, samples: Path) -> None:
    video = {"type": "url", "url": f"{media_url}/videos/ocean-waves.mp4"}
    cases: list[tuple[dict[str, object], str, str]] = [
        ({"video_id": "0" * 24, "prompt": "x"}, "parameter_invalid", "video_id"),
        ({"video": video, "prompt": "x", "model_name": "pegasus1.2"}, "parameter_invalid", "pegasus1.2"),
        ({"video": video, "prompt": "x", "model_name": "pegasus9"}, "parameter_invalid", "model_name"),
        ({"video": video, "prompt": "x", "max_tokens": 511}, "parameter_invalid", "max_tokens"),
        ({"video": video, "prompt": "x", "max_tokens": 98_305}, "parameter_invalid", "max_tokens"),
        ({"video": video, "prompt": "x", "temperature": 1.5}, "parameter_invalid", "temperature"),
        ({"prompt": "x"}, "parameter_not_provided", "video or image"),
        ({"video": video}, "parameter_not_provided", "prompt"),
        ({"video": {"type": "url"}, "prompt": "x"}, "parameter_invalid", "video"),
        ({"video": {"type": "url", "url": "ftp://x/y.mp4"}, "prompt": "x"}, "parameter_invalid", "video.url"),
        ({"video": {"type": "base64_string", "base64_string": "@@@"}, "prompt": "x"}, "parameter_invalid", "base64"),
        ({"video": video, "prompt": "x", "start_time": 8.0}, "parameter_invalid", "start_time"),
        ({"video": video, "prompt": "x", "end_time": 9.0}, "parameter_invalid", "end_time"),
        ({"video": video, "prompt": "x", "start_time": 3.0, "end_time": 3.5}, "parameter_invalid", "at least 1 s"),
        ({"video": video, "prompt": "x", "start_time": 5.0, "end_time": 4.0}, "parameter_invalid", "end_time"),
        ({"video": video, "prompt": "x", "prompt_v2": {"input_text": "y"}}, "parameter_invalid", "prompt_v2"),
        (
            {"video": {"type": "url", "url": f"{media_url}/bad/tiny-320x240.mp4"}, "prompt": "x"},
            "video_resolution_too_low",
            "320x240",
        ),
        (
            {"video": {"type": "url", "url": f"{media_url}/bad/not-a-video.mp4"}, "prompt": "x"},
            "video_file_broken",
            "not-a-video",
        ),
    ]
    for body, code, needle in cases:
        r = analyze(api, **body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["code"] == code and needle in r.json()["message"], (body, r.text)
    for max_tokens in (512, 98_304):
        assert analyze(api, video=video, prompt="x", max_tokens=max_tokens).status_code == 200
    windowed = analyze(api, video=video, prompt="x", start_time=6.0, end_time=8.0).json()["data"]
    assert "From 6.0 s to 8.0 s" in windowed and "From 0.0 s" not in windowed


def test_images_need_pegasus_1_6(api: httpx.Client, samples: Path, media_url: str) -> None:
    png = b64(samples / "media" / "still.png")
    image = [{"name": "front", "base64_string": png}, {"name": "back", "url": f"{media_url}/media/still.jpg"}]
    r = analyze(api, image=image, prompt="Compare <@front> with <@back>")
    assert r.status_code == 400 and "pegasus1.6" in r.json()["message"]
    r = analyze(api, image=image, prompt="Compare <@front> with <@back>", model_name="pegasus1.6")
    assert r.status_code == 200, r.text
    assert "Image front" in r.json()["data"] and "blue" in r.json()["data"]
    for bad, needle in [
        ({"image": image, "prompt": "Only <@front>"}, "back"),
        ({"image": [{"name": "a-b", "base64_string": png}], "prompt": "x"}, "image[0].name"),
        ({"image": [{"name": "a", "base64_string": png}] * 2, "prompt": "x"}, "unique"),
        (
            {"image": image, "video": {"type": "url", "url": f"{media_url}/videos/ocean-waves.mp4"}, "prompt": "x"},
            "mutually exclusive",
        ),
        ({"image": [{"name": "a"}], "prompt": "x"}, "exactly one"),
    ]:
        r = analyze(api, model_name="pegasus1.6", **bad)
        assert r.status_code == 400 and needle in r.json()["message"], (bad, r.text)


def test_prompt_v2_reference_images(api: httpx.Client, samples: Path, media_url: str) -> None:
    r = analyze(
        api,
        video={"type": "url", "url": f"{media_url}/videos/ocean-waves.mp4"},
        prompt_v2={
            "input_text": "Is there a <@ref> in the video?",
            "media_sources": [
                {"name": "ref", "media_type": "image", "base64_string": b64(samples / "media" / "still.png")}
            ],
        },
    )
    assert r.status_code == 200 and "ocean" in r.json()["data"]
    r = analyze(
        api,
        video={"type": "url", "url": f"{media_url}/videos/ocean-waves.mp4"},
        prompt_v2={"input_text": "Is there a <@other>?", "media_sources": []},
    )
    assert r.status_code == 400 and "other" in r.json()["message"]


SCHEMA = {
    "type": "object",
    "properties": {
        "note": {"type": "string"},
        "title": {"type": "string"},
        "scenes": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "start_time": {"type": "number"},
                    "end_time": {"type": "integer"},
                    "at": {"type": "timestamp", "format": "hh:mm:ss.fff"},
                    "description": {"type": "string"},
                    "colour": {"enum": ["red", "green", "blue"]},
                },
            },
        },
        "clip_count": {"type": "integer", "minimum": 0, "maximum": 10},
        "moving": {"type": "boolean"},
        "kind": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "tag": {"$ref": "#/$defs/tag"},
        "when": {"type": "timestamp", "format": "seconds"},
    },
    "required": ["title", "scenes"],
    "$defs": {"tag": {"type": "string", "format": "uuid"}},
}


def test_json_schema_output_conforms_in_declaration_order(api: httpx.Client, media_url: str) -> None:
    r = analyze(
        api,
        video={"type": "url", "url": f"{media_url}/videos/ocean-waves.mp4"},
        prompt="Structure it",
        response_format={"type": "json_schema", "json_schema": SCHEMA},
    )
    assert r.status_code == 200, r.text
    data = json.loads(r.json()["data"])
    # declaration order, except that the optional first property yields to the first required one
    assert list(data) == ["title", "note", "scenes", "clip_count", "moving", "kind", "tag", "when"]
    scenes = data["scenes"]
    assert [(s["start_time"], s["end_time"]) for s in scenes] == [(0.0, 6), (6.0, 8)]  # one per 6 s clip
    assert [s["at"] for s in scenes] == ["00:00:00.000", "00:00:06.000"]
    assert all(s["colour"] == "blue" and isinstance(s["description"], str) for s in scenes)
    assert isinstance(data["clip_count"], int) and 0 <= data["clip_count"] <= 10
    assert isinstance(data["moving"], bool) and isinstance(data["kind"], str)
    assert len(data["tag"]) == 36 and data["when"] == 0.0


def test_json_schema_rules(api: httpx.Client, media_url: str) -> None:
    video = {"type": "url", "url": f"{media_url}/videos/ocean-waves.mp4"}

    def attempt(schema: dict[str, object]) -> httpx.Response:
        return analyze(api, video=video, prompt="x", response_format={"type": "json_schema", "json_schema": schema})

    for keyword, sub in [
        ("minLength", {"type": "string", "minLength": 1}),
        ("maxLength", {"type": "string", "maxLength": 9}),
        ("uniqueItems", {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
        ("maxItems", {"type": "array", "items": {"type": "string"}, "maxItems": 3}),
    ]:
        r = attempt({"type": "object", "properties": {"a": sub}})
        assert r.status_code == 422 and keyword in r.json()["message"], r.text
    r = attempt({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False})
    assert r.status_code == 422 and "additionalProperties" in r.json()["message"]
    r = attempt({"type": "object", "properties": {"t": {"type": "timestamp"}}})
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid"
    assert "response_format.json_schema.properties.t.format" in r.json()["message"]
    assert "format is required for timestamp type" in r.json()["message"]
    for bad in [
        {"type": "object", "properties": {"start_time": {"type": "boolean"}}},
        {"type": "object", "properties": {"end_time": {"type": "string", "format": "time"}}},
        {
            "type": "object",
            "properties": {"a": {"type": "object", "properties": {"b": {"type": "timestamp", "format": "seconds"}}}},
        },
        {"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}},
        {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}, "minItems": 2}}},
    ]:
        r = attempt(bad)
        assert r.status_code == 400 and r.json()["code"] == "parameter_invalid", (bad, r.text)
    r = analyze(
        api, video=video, prompt="x", response_format={"type": "segment_definitions", "segment_definitions": []}
    )
    assert r.status_code == 400 and "json_schema" in r.json()["message"]


def test_long_output_ends_with_length_and_a_warning(api: httpx.Client, media_url: str) -> None:
    """How tests force finish_reason=length: answers quote the prompt, so a ~600-word prompt with max_tokens=512
    outgrows the limit (text and json_schema alike; the JSON is then cut)."""
    video = {"type": "url", "url": f"{media_url}/videos/ocean-waves.mp4"}
    prompt = "describe " * 600
    body = analyze(api, video=video, prompt=prompt, max_tokens=512).json()
    assert body["finish_reason"] == "length" and body["usage"]["output_tokens"] == 512
    assert set(body) == NON_STREAM_KEYS and set(body["error"]) == {"message"}
    structured = analyze(
        api,
        video=video,
        prompt=prompt,
        max_tokens=512,
        response_format={
            "type": "json_schema",
            "json_schema": {"type": "object", "properties": {"summary": {"type": "string"}}},
        },
    ).json()
    assert structured["finish_reason"] == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(structured["data"])
    r = api.post("/analyze", json={"video": video, "prompt": prompt, "max_tokens": 512, "stream": True})
    end = json.loads(r.text.splitlines()[-1])
    assert end["finish_reason"] == "length" and end["error"]["message"]


def test_sdk_1_3_6_analyze_and_stream(current: Emulator, media_url: str, samples: Path) -> None:
    sdk = sdk136()
    from twelvelabs_sdk136.types import SyncResponseFormat, VideoContext_Base64String, VideoContext_Url

    client = sdk.TwelveLabs(api_key="test-key", base_url=current.base_url)
    url = VideoContext_Url(url=f"{media_url}/videos/ocean-waves.mp4")
    answer = client.analyze(
        video=url,
        prompt="What is shown?",
        model_name="pegasus1.5",
        temperature=0.2,
        max_tokens=2048,
        start_time=0.0,
        end_time=8.0,
    )
    assert answer.finish_reason == "stop" and "ocean" in answer.data and answer.usage.input_tokens
    structured = client.analyze(
        video=VideoContext_Base64String(base_64_string=b64(samples / "videos" / "forest-walk.mp4")),
        prompt="json",
        response_format=SyncResponseFormat(
            type="json_schema", json_schema={"type": "object", "properties": {"title": {"type": "string"}}}
        ),
    )
    assert list(json.loads(structured.data)) == ["title"]
    events = list(client.analyze_stream(video=url, prompt="What is shown?"))
    assert [e.event_type for e in (events[0], events[-1])] == ["stream_start", "stream_end"]
    assert events[-1].metadata.usage.output_tokens > 0
    assert "ocean" in "".join(e.text or "" for e in events if e.event_type == "text_generation")
    with pytest.raises(sdk.BadRequestError):
        client.analyze(video=url, prompt="x", max_tokens=10)


def test_429_bodies_per_endpoint_family(make_emulator: Callable[..., Emulator], media_url: str) -> None:
    """Current surface: empty 429 body on /analyze and /search, wrapped on /embed-v2 and /analyze/tasks."""
    from twelvelabs_emulator.error_shapes import rate_limit_shape

    assert rate_limit_shape("/v1.3/analyze", "classic") == "flat"
    assert rate_limit_shape("/v1.3/indexes", "current") == "flat"
    emu = make_emulator(surface="current")
    with client_for(emu) as api, httpx.Client(base_url=emu.admin_url) as admin:
        admin.post("/faults", json={"rate_limit_next": 5})
        for method, path, body in [
            ("POST", "/analyze", {"prompt": "x"}),
            ("POST", "/search", None),
            ("GET", "/search/some-token", None),
        ]:
            r = api.request(method, path, json=body)
            assert r.status_code == 429 and r.content == b"" and r.headers["retry-after"] == "1", path
        for method, path in [("POST", "/embed-v2"), ("GET", "/analyze/tasks")]:
            r = api.request(method, path, json={})
            assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_requests", path
        r = api.post("/analyze", json={"prompt": "x", "stream": False})
        assert r.status_code == 400  # the faults are used up: back to normal answers


def test_injected_500s_follow_the_endpoint_error_shape(make_emulator: Callable[..., Emulator], media_url: str) -> None:
    """/embed-v2* and /analyze/tasks* document wrapped 500s (INTERNAL_SERVER_ERROR example); the rest flat."""
    emu = make_emulator(surface="current")
    with client_for(emu) as api, httpx.Client(base_url=emu.admin_url) as admin:
        admin.post("/faults", json={"server_error_rate": 1.0})
        for path in ("/embed-v2/tasks", "/analyze/tasks"):
            r = api.get(path)
            assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error", path
        r = api.get("/assets")
        assert r.status_code == 500 and r.json()["code"] == "internal_error"
        admin.delete("/faults")
        admin.post("/faults", json={"error_after_create_next": 1, "path_prefix": "/v1.3/embed-v2/tasks"})
        video = {"media_source": {"url": f"{media_url}/videos/ocean-waves.mp4"}}
        r = api.post("/embed-v2/tasks", json={"input_type": "video", "model_name": "marengo3.0", "video": video})
        assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error", r.text
        assert len(api.get("/embed-v2/tasks").json()["data"]) == 1  # created, then the answer was lost


def test_http_image_urls_are_refused_except_on_loopback(api: httpx.Client, media_url: str) -> None:
    r = analyze(api, model_name="pegasus1.6", prompt="x", image=[{"name": "a", "url": "http://example.com/a.png"}])
    assert r.status_code == 400 and "HTTPS" in r.json()["message"]
    r = analyze(api, model_name="pegasus1.6", prompt="x", image=[{"name": "a", "url": f"{media_url}/media/still.png"}])
    assert r.status_code == 200, r.text  # loopback http: the emulator's concession to local tests


def test_string_patterns_are_honoured(api: httpx.Client, media_url: str) -> None:
    schema = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "pattern": "^[A-Z]{3}-\\d{2}$"},
            "answer": {"type": "string", "pattern": "^(yes|no)$"},
            "title": {"type": "string", "pattern": "Waves"},
        },
    }
    r = analyze(
        api,
        video={"type": "url", "url": f"{media_url}/videos/ocean-waves.mp4"},
        prompt="x",
        response_format={"type": "json_schema", "json_schema": schema},
    )
    data = json.loads(r.json()["data"])
    assert data["code"] == "AAA-00" and data["answer"] == "yes"
    assert data["title"] == "Ocean Waves in Blue"  # already matching: the content-derived text stays


VALIDATED_SCHEMAS = [
    {
        "type": "object",
        "properties": {"summary": {"type": "string"}, "score": {"type": "number", "minimum": 0, "maximum": 1}},
        "required": ["summary"],
    },
    {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "label": {"enum": ["ocean", "forest", "city"]},
                        "start_time": {"type": "integer"},
                        "confidence": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
                    },
                    "required": ["label"],
                },
            },
            "flag": {"type": ["boolean", "null"]},
            "fixed": {"const": "v1"},
            "when": {"type": "string", "format": "date-time"},
            "id": {"type": "string", "format": "uuid"},
        },
        "required": ["items"],
    },
    {
        "type": "object",
        "$defs": {
            "clip": {"type": "object", "properties": {"colour": {"type": "string"}, "end_time": {"type": "number"}}}
        },
        "properties": {
            "clips": {"type": "array", "items": {"$ref": "#/$defs/clip"}},
            "either": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        },
    },
]


@pytest.mark.parametrize("schema", VALIDATED_SCHEMAS)
def test_json_schema_output_validates(api: httpx.Client, media_url: str, schema: dict[str, object]) -> None:
    """The answer validates against the schema with a real JSON Schema (Draft 2020-12) validator."""
    import jsonschema

    r = analyze(
        api,
        video={"type": "url", "url": f"{media_url}/videos/ocean-waves.mp4"},
        prompt="x",
        response_format={"type": "json_schema", "json_schema": schema},
    )
    assert r.status_code == 200, r.text
    data = json.loads(r.json()["data"])
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(
        data
    )
    if "items" in data:
        assert {item["label"] for item in data["items"]} == {"ocean"}  # the enum value the footage shows
