"""`/embed-v2` and `/embed-v2/tasks` (Marengo 3.0, SDK 1.3.6): every input type, 512-d content-derived vectors,
segment math (§6.1), wrapped errors, tasks with 202 + Location, list filters, and the official SDK parses it all."""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from helpers import file_server, sdk136, solid_video

from tests.emulator.conftest import client_for
from twelvelabs_emulator import Emulator, embed_v2
from twelvelabs_emulator.models import ClipContent

DATA_KEYS = {"embedding", "embedding_option", "embedding_scope", "start_sec", "end_sec"}  # types/embedding_data.py
VIDEO_META_KEYS = {
    "input_type",
    "input_url",
    "input_filename",
    "clip_length",
    "embedding_scopes",
    "embedding_options",
    "duration",
    "start_offset_sec",
    "end_offset_sec",
}
TASK_KEYS = {
    "_id",
    "status",
    "created_at",
    "updated_at",
    "data",
    "metadata",
    "error",
}  # types/embedding_task_response.py
LIST_ITEM_KEYS = {"_id", "model_name", "status", "created_at", "updated_at", "video_embedding", "audio_embedding"}


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


def embed(api: httpx.Client, **body: object) -> httpx.Response:
    return api.post("/embed-v2", json={"model_name": "marengo3.0"} | body)


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_text_image_and_multi_input_share_a_512_d_space(api: httpx.Client, media_url: str, samples: Path) -> None:
    ocean = embed(api, input_type="text", text={"input_text": "blue ocean water"}).json()
    forest = embed(api, input_type="text", text={"input_text": "green forest"}).json()
    assert set(ocean) == {"data"} and len(ocean["data"]) == 1
    item = ocean["data"][0]
    assert set(item) == DATA_KEYS and len(item["embedding"]) == 512
    assert item["embedding_option"] is None and item["embedding_scope"] is None and item["start_sec"] is None
    image = embed(api, input_type="image", image={"media_source": {"url": f"{media_url}/media/still.png"}}).json()
    assert image["metadata"] == {"input_type": "image", "input_url": f"{media_url}/media/still.png"}
    blue = image["data"][0]["embedding"]
    assert cosine(blue, ocean["data"][0]["embedding"]) > cosine(
        blue, forest["data"][0]["embedding"]
    )  # the still is blue
    png = base64.b64encode((samples / "media" / "still.png").read_bytes()).decode()
    both = embed(api, input_type="text_image", text_image={"media_source": {"base64_string": png}, "input_text": "sea"})
    assert both.status_code == 200 and both.json()["metadata"] == {"input_type": "text_image"}
    multi = embed(
        api,
        input_type="multi_input",
        multi_input={"input_text": "sea", "media_sources": [{"media_type": "image", "base64_string": png}]},
    )
    assert multi.status_code == 200 and multi.json()["metadata"] == {"input_type": "multi_input"}
    assert len(multi.json()["data"][0]["embedding"]) == 512


def test_video_segments_options_scopes_and_metadata(api: httpx.Client, media_url: str) -> None:
    url = f"{media_url}/videos/ocean-waves.mp4"  # 8 s
    body = embed(
        api,
        input_type="video",
        video={
            "media_source": {"url": url},
            "segmentation": {"strategy": "fixed", "fixed": {"duration_sec": 3}},
            "embedding_option": ["visual", "audio"],
            "embedding_scope": ["clip", "asset"],
        },
    ).json()
    clips = [
        (d["embedding_option"], d["start_sec"], d["end_sec"]) for d in body["data"] if d["embedding_scope"] == "clip"
    ]
    assert clips == [
        ("visual", 0.0, 3.0),
        ("audio", 0.0, 3.0),
        ("visual", 3.0, 6.0),
        ("audio", 3.0, 6.0),
        ("visual", 6.0, 8.0),
        ("audio", 6.0, 8.0),
    ]  # the short last segment is kept
    assets = [
        (d["embedding_option"], d["start_sec"], d["end_sec"]) for d in body["data"] if d["embedding_scope"] == "asset"
    ]
    assert assets == [("visual", 0.0, 8.0), ("audio", 0.0, 8.0)]
    assert all(set(d) == DATA_KEYS and len(d["embedding"]) == 512 for d in body["data"])
    assert set(body["metadata"]) <= VIDEO_META_KEYS
    assert body["metadata"] == {
        "input_type": "video",
        "input_url": url,
        "clip_length": 3,
        "embedding_scopes": ["clip", "asset"],
        "embedding_options": ["visual", "audio"],
        "duration": 8.0,
    }
    default = embed(api, input_type="video", video={"media_source": {"url": url}}).json()
    # defaults: dynamic 4 s, options visual+audio+transcription (no speech: no transcription vectors), clip+asset
    assert default["metadata"]["embedding_options"] == ["visual", "audio", "transcription"]
    assert "clip_length" not in default["metadata"]
    assert {d["embedding_option"] for d in default["data"]} == {"visual", "audio"}
    fused = embed(
        api,
        input_type="video",
        video={
            "media_source": {"url": url},
            "embedding_option": ["visual", "audio"],
            "embedding_scope": ["asset"],
            "embedding_type": ["fused_embedding"],
        },
    ).json()
    assert [(d["embedding_option"], d["embedding_scope"]) for d in fused["data"]] == [("fused", "asset")]
    window = embed(
        api,
        input_type="video",
        video={
            "media_source": {"url": url},
            "start_sec": 2,
            "end_sec": 7,
            "embedding_option": ["visual"],
            "embedding_scope": ["asset"],
        },
    ).json()
    assert window["data"][0]["start_sec"] == 2 and window["data"][0]["end_sec"] == 7
    assert window["metadata"]["start_offset_sec"] == 2 and window["metadata"]["end_offset_sec"] == 7


def test_dynamic_segmentation_follows_scenes(tmp_path: Path) -> None:
    """Pieces of min_duration_sec merge while the content stays the same; a scene change starts a new segment."""
    blue = {"blue": 1.0, "still": 0.5}
    red = {"red": 1.0, "still": 0.5}
    pieces = [
        ClipContent(start=a, end=b, visual=v, audio={"silence": 1.0})
        for (a, b), v in zip(embed_v2.fixed_bounds(0, 14, 4), [blue, blue, red, red], strict=True)
    ]
    merged = embed_v2.dynamic_clips(pieces, 4)
    assert [(c.start, c.end) for c in merged] == [(0.0, 8.0), (8.0, 14.0)]
    assert embed_v2.fixed_bounds(0, 12, 5) == [(0.0, 5.0), (5.0, 10.0), (10.0, 12.0)]
    long_same = [ClipContent(start=a, end=b, visual=blue, audio={}) for a, b in embed_v2.fixed_bounds(0, 16, 4)]
    assert [(c.start, c.end) for c in embed_v2.dynamic_clips(long_same, 4)] == [(0.0, 8.0), (8.0, 16.0)]  # <= 10 s


def test_audio(api: httpx.Client, media_url: str) -> None:
    body = embed(
        api,
        input_type="audio",
        audio={
            "media_source": {"url": f"{media_url}/media/tone.wav"},
            "segmentation": {"strategy": "fixed", "fixed": {"duration_sec": 2}},
        },
    ).json()
    assert [(d["embedding_scope"], d["start_sec"], d["end_sec"]) for d in body["data"]] == [
        ("clip", 0.0, 2.0),
        ("clip", 2.0, 3.0),
        ("asset", 0.0, 3.0),
    ]
    assert body["metadata"]["input_type"] == "audio" and body["metadata"]["duration"] == 3.0
    r = embed(
        api,
        input_type="audio",
        audio={
            "media_source": {"url": f"{media_url}/media/tone.wav"},
            "segmentation": {"strategy": "dynamic", "dynamic": {"min_duration_sec": 2}},
        },
    )
    assert r.status_code == 400 and "fixed" in r.json()["error"]["message"]


def test_errors_are_wrapped(api: httpx.Client, media_url: str, tmp_path: Path) -> None:
    url = f"{media_url}/videos/ocean-waves.mp4"
    cases: list[tuple[dict[str, object], str]] = [
        ({"input_type": "text"}, "text"),
        ({"input_type": "text", "text": {"input_text": "word " * 501}}, "500 tokens"),
        ({"input_type": "text", "model_name": "marengo2.7", "text": {"input_text": "x"}}, "model_name"),
        ({"input_type": "text", "text": {"input_text": "x"}, "embedding_dimension": 256}, "marengo3.5"),
        ({"input_type": "speech"}, "input_type"),
        ({"input_type": "image", "image": {"media_source": {}}}, "exactly one"),
        ({"input_type": "image", "image": {"media_source": {"url": url, "asset_id": "x"}}}, "exactly one"),
        (
            {
                "input_type": "video",
                "video": {
                    "media_source": {"url": url},
                    "segmentation": {"strategy": "fixed", "fixed": {"duration_sec": 11}},
                },
            },
            "duration_sec",
        ),
        (
            {
                "input_type": "video",
                "video": {
                    "media_source": {"url": url},
                    "segmentation": {"strategy": "dynamic", "dynamic": {"min_duration_sec": 6}},
                },
            },
            "min_duration_sec",
        ),
        (
            {
                "input_type": "video",
                "video": {
                    "media_source": {"url": url},
                    "embedding_option": ["visual"],
                    "embedding_type": ["fused_embedding"],
                },
            },
            "embedding_type",
        ),
        ({"input_type": "video", "video": {"media_source": {"url": url}, "start_sec": 5, "end_sec": 4}}, "end_sec"),
        ({"input_type": "video", "video": {"media_source": {"url": url}, "embedding_scope": ["local"]}}, "local"),
        (
            {"input_type": "multi_input", "multi_input": {"media_sources": [{"media_type": "video", "url": url}]}},
            "images only",
        ),
    ]
    for body, needle in cases:
        r = embed(api, **body)
        assert r.status_code == 400, (body, r.text)
        assert set(r.json()) == {"error"} and needle in r.json()["error"]["message"], (body, r.text)
    with file_server(solid_video(tmp_path / "long.mp4", 640, 360, 601).parent) as base:
        r = embed(api, input_type="video", video={"media_source": {"url": f"{base}/long.mp4"}})
    assert r.status_code == 400 and "600" in r.json()["error"]["message"]  # sync video: 10 minutes at most


def test_tasks(make_emulator: Callable[..., Emulator], media_url: str, samples: Path) -> None:
    emu = make_emulator(surface="current", processing_seconds=4.0)  # still processing at the first GET, under load
    with client_for(emu) as api:
        r = api.post(
            "/embed-v2/tasks",
            json={
                "input_type": "video",
                "model_name": "marengo3.0",
                "video": {
                    "media_source": {"url": f"{media_url}/videos/city-traffic.mov"},
                    "segmentation": {"strategy": "fixed", "fixed": {"duration_sec": 6}},
                    "embedding_scope": ["local", "asset"],
                },
            },
        )
        assert r.status_code == 202, r.text
        assert r.json() == {"_id": r.json()["_id"], "status": "processing", "data": None}
        task_id = r.json()["_id"]
        assert r.headers["location"] == f"/v1.3/embed-v2/tasks/{task_id}"
        processing = api.get(f"/embed-v2/tasks/{task_id}").json()
        assert processing["status"] == "processing" and processing["data"] is None and "metadata" not in processing
        short = api.post(
            "/embed-v2/tasks",
            json={
                "input_type": "video",
                "model_name": "marengo3.0",
                "video": {"media_source": {"url": f"{media_url}/bad/short-2s.mp4"}},
            },
        ).json()["_id"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and api.get(f"/embed-v2/tasks/{task_id}").json()["status"] == "processing":
            time.sleep(0.05)
        task = api.get(f"/embed-v2/tasks/{task_id}").json()
        assert set(task) <= TASK_KEYS and task["status"] == "ready"
        assert [(d["embedding_option"], d["embedding_scope"]) for d in task["data"]] == [
            ("visual", "clip"),
            ("audio", "clip"),
            ("visual", "asset"),
            ("audio", "asset"),
        ]
        assert task["metadata"]["clip_length"] == 6 and task["metadata"]["embedding_scopes"] == ["local", "asset"]
        while time.monotonic() < deadline and api.get(f"/embed-v2/tasks/{short}").json()["status"] == "processing":
            time.sleep(0.05)
        failed = api.get(f"/embed-v2/tasks/{short}").json()
        assert failed["status"] == "failed" and failed["error"] == {"message": embed_v2.FAILED_MESSAGE}  # < 4 s
        listed = api.get("/embed-v2/tasks").json()
        assert [t["_id"] for t in listed["data"]] == [short, task_id]
        assert all(set(t) <= LIST_ITEM_KEYS for t in listed["data"])
        assert listed["data"][1]["video_embedding"]["metadata"] == {
            "input_url": f"{media_url}/videos/city-traffic.mov",
            "video_clip_length": 6,
            "video_embedding_scope": ["local", "asset"],
            "video_embedding_option": ["visual", "audio", "transcription"],
            "duration": 6.0,
        }
        assert [t["_id"] for t in api.get("/embed-v2/tasks", params={"status": "failed"}).json()["data"]] == [short]
        assert api.get("/embed-v2/tasks", params={"started_at": "2999-01-01T00:00:00Z"}).json()["data"] == []
        assert api.get("/embed-v2/tasks", params={"started_at": "nope"}).status_code == 400
        r = api.get(f"/embed-v2/tasks/{'0' * 24}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "resource_not_exist"
        r = api.post("/embed-v2/tasks", json={"input_type": "document", "model_name": "marengo3.0"})
        assert r.status_code == 400 and "error" in r.json()


def test_sdk_1_3_6_embed_v2(current: Emulator, media_url: str) -> None:
    sdk = sdk136()
    from twelvelabs_sdk136.types import MediaSource, TextInputRequest, VideoInputRequest

    client = sdk.TwelveLabs(api_key="test-key", base_url=current.base_url)
    text = client.embed.v_2.create(input_type="text", model_name="marengo3.0", text=TextInputRequest(input_text="sea"))
    assert len(text.data[0].embedding) == 512
    video = client.embed.v_2.create(
        input_type="video",
        model_name="marengo3.0",
        video=VideoInputRequest(
            media_source=MediaSource(url=f"{media_url}/videos/ocean-waves.mp4"),
            embedding_option=["visual"],
            embedding_scope=["clip"],
        ),
    )
    assert video.metadata is not None and video.metadata.input_type == "video" and video.metadata.duration == 8.0
    assert {d.embedding_option for d in video.data} == {"visual"}
    from twelvelabs_sdk136.types import AsyncVideoInputRequest

    created = client.embed.v_2.tasks.create(
        input_type="video",
        model_name="marengo3.0",
        video=AsyncVideoInputRequest(media_source=MediaSource(url=f"{media_url}/videos/forest-walk.mp4")),
    )
    assert created.status == "processing"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        task = client.embed.v_2.tasks.retrieve(created.id)
        if task.status != "processing":
            break
        time.sleep(0.05)
    assert task.status == "ready" and task.data and len(task.data[0].embedding) == 512
    listed = list(client.embed.v_2.tasks.list(page_limit=1))
    assert [t.id for t in listed] == [created.id] and listed[0].video_embedding.metadata.duration == 5.0
    with pytest.raises(sdk.BadRequestError):
        client.embed.v_2.create(
            input_type="text", model_name="marengo3.0", text=TextInputRequest(input_text="x " * 600)
        )


def test_large_base64_bodies(api: httpx.Client, tmp_path: Path) -> None:
    """Base64 media make big JSON bodies: a ~6 MB video is fine, a body over the limit is a wrapped 413."""
    big = solid_video(tmp_path / "big.mp4", 1280, 720, 12, rgb=(20, 120, 40))
    padded = big.read_bytes() + b"\0" * (6 * 1024 * 1024)  # trailing bytes after the container: still decodable
    body = {
        "input_type": "video",
        "video": {
            "media_source": {"base64_string": base64.b64encode(padded).decode()},
            "embedding_option": ["visual"],
            "embedding_scope": ["asset"],
        },
    }
    r = embed(api, **body)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["metadata"]["duration"] >= 12.0
    r = api.post(
        "/embed-v2", content=b"{" + b" " * (53 * 1024 * 1024) + b"}", headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
