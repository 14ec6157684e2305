"""`/embed` (text, image, audio) and `/embed/tasks` (video), vectors in one space."""

from __future__ import annotations

import math
from pathlib import Path

import httpx
from helpers import file_server, wait_embed_task

MODEL = "Marengo-retrieval-2.7"
NO_FILE = {"_": ("", b"")}


def cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def text_vector(api: httpx.Client, text: str, **extra: str) -> list[float]:
    r = api.post("/embed", data={"model_name": MODEL, "text": text, **extra}, files=NO_FILE)
    assert r.status_code == 200, r.text
    return r.json()["text_embedding"]["segments"][0]["float"]


def test_text_image_audio(api: httpx.Client, samples: Path) -> None:
    blue = text_vector(api, "blue")
    assert len(blue) == 1024 and abs(sum(x * x for x in blue) - 1) < 1e-3
    assert text_vector(api, "blue") == blue  # deterministic
    media = samples / "media"
    with (media / "still.png").open("rb") as png, (media / "tone.wav").open("rb") as wav:
        r = api.post(
            "/embed",
            data={"model_name": MODEL, "text": "orange"},
            files={"image_file": ("still.png", png, "image/png"), "audio_file": ("tone.wav", wav, "audio/wav")},
        )
    body = r.json()
    assert body["model_name"] == MODEL
    image = body["image_embedding"]["segments"][0]["float"]
    assert body["image_embedding"]["metadata"] == {"input_filename": "still.png"}
    assert cos(image, blue) > cos(image, text_vector(api, "orange")) > -1  # still.png is blue
    audio = body["audio_embedding"]["segments"][0]
    assert audio["start_offset_sec"] == 0 and audio["end_offset_sec"] == 3.0 and len(audio["float"]) == 1024
    assert cos(audio["float"], text_vector(api, "high tone")) > cos(audio["float"], text_vector(api, "silence")) + 0.2
    with file_server(media) as base:
        r = api.post(
            "/embed",
            data={
                "model_name": MODEL,
                "image_url": f"{base}/still.jpg",
                "audio_url": f"{base}/tone.mp3",
                "audio_start_offset_sec": "1",
            },
            files=NO_FILE,
        )
    body = r.json()
    assert body["image_embedding"]["metadata"] == {"input_url": f"{base}/still.jpg"}
    assert body["audio_embedding"]["segments"][0]["start_offset_sec"] == 1.0
    assert cos(body["image_embedding"]["segments"][0]["float"], text_vector(api, "orange")) > 0.5


def test_text_truncate_rule(api: httpx.Client) -> None:
    long = " ".join(f"w{n}" for n in range(100))
    r = api.post("/embed", data={"model_name": MODEL, "text": long, "text_truncate": "none"}, files=NO_FILE)
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid" and "text" in r.json()["message"]
    first77 = " ".join(f"w{n}" for n in range(77))
    last77 = " ".join(f"w{n}" for n in range(23, 100))
    assert text_vector(api, long) == text_vector(api, first77)  # default: end
    assert text_vector(api, long, text_truncate="start") == text_vector(api, last77)


def test_embed_errors(api: httpx.Client, samples: Path) -> None:
    cases = [
        ({"text": "x"}, "parameter_not_provided", "model_name"),
        ({"model_name": "clip-vit", "text": "x"}, "parameter_invalid", "model_name"),
        ({"model_name": MODEL}, "parameter_not_provided", "text"),
        ({"model_name": MODEL, "text": "x", "text_truncate": "middle"}, "parameter_invalid", "text_truncate"),
        ({"model_name": MODEL, "image_url": "http://127.0.0.1:9/a.png"}, "parameter_invalid", "image_url"),
    ]
    for data, code, needle in cases:
        r = api.post("/embed", data=data, files=NO_FILE)
        assert r.status_code == 400 and r.json()["code"] == code and needle in r.json()["message"], (data, r.text)
    with (samples / "bad" / "not-a-video.mp4").open("rb") as fh:
        r = api.post("/embed", data={"model_name": MODEL}, files={"image_file": ("x.png", fh, "image/png")})
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid" and "image_file" in r.json()["message"]


def test_embed_tasks(api: httpx.Client, samples: Path) -> None:
    with (samples / "videos" / "ocean-waves.mp4").open("rb") as fh:
        r = api.post(
            "/embed/tasks",
            data={"model_name": MODEL, "video_clip_length": "3", "video_embedding_scope": ["clip", "video"]},
            files={"video_file": ("ocean-waves.mp4", fh, "video/mp4")},
        )
    assert r.status_code == 200, r.text
    task_id = r.json()["_id"]
    status = api.get(f"/embed/tasks/{task_id}/status").json()
    assert status["status"] == "processing" and status["model_name"] == MODEL
    assert status["video_embedding"]["metadata"]["input_filename"] == "ocean-waves.mp4"
    assert wait_embed_task(api, task_id)["status"] == "ready"
    got = api.get(f"/embed/tasks/{task_id}").json()
    meta = got["video_embedding"]["metadata"]
    assert meta == {
        "input_filename": "ocean-waves.mp4",
        "video_clip_length": 3.0,
        "video_embedding_scope": ["clip", "video"],
        "duration": 8.0,
    }
    segments = got["video_embedding"]["segments"]
    clips = [
        (s["start_offset_sec"], s["end_offset_sec"])
        for s in segments
        if s["embedding_scope"] == "clip" and s["embedding_option"] == "visual-text"
    ]
    assert clips == [(0.0, 3.0), (3.0, 6.0), (6.0, 8.0)]
    video_scope = [s for s in segments if s["embedding_scope"] == "video"]
    assert {s["embedding_option"] for s in video_scope} == {"visual-text", "audio"}
    assert all(s["start_offset_sec"] == 0 and s["end_offset_sec"] == 8.0 for s in video_scope)
    assert cos(video_scope[0]["float"], text_vector(api, "blue ocean")) > 0.3
    audio_only = api.get(f"/embed/tasks/{task_id}", params={"embedding_option": "audio"}).json()
    assert {s["embedding_option"] for s in audio_only["video_embedding"]["segments"]} == {"audio"}

    with file_server(samples) as base:  # the URL form, with offsets; a too-short final clip is dropped
        r = api.post(
            "/embed/tasks",
            data={
                "model_name": MODEL,
                "video_url": f"{base}/videos/city-traffic.mov",
                "video_start_offset_sec": "1",
                "video_end_offset_sec": "6",
                "video_clip_length": "2",
            },
            files=NO_FILE,
        )
        url_task = r.json()["_id"]
        broken = api.post(
            "/embed/tasks", data={"model_name": MODEL, "video_url": f"{base}/bad/not-a-video.mp4"}, files=NO_FILE
        ).json()["_id"]
        assert wait_embed_task(api, url_task)["status"] == "ready"
        failed = wait_embed_task(api, broken)
    got = api.get(f"/embed/tasks/{url_task}").json()
    assert got["video_embedding"]["metadata"]["input_url"].endswith("city-traffic.mov")
    assert [
        (s["start_offset_sec"], s["end_offset_sec"])
        for s in got["video_embedding"]["segments"]
        if s["embedding_option"] == "visual-text"
    ] == [(1.0, 3.0), (3.0, 5.0)]
    assert failed["status"] == "failed" and "error" not in failed  # v1.3 documents no error on an embed task

    listed = api.get("/embed/tasks").json()
    assert [t["_id"] for t in listed["data"]] == [broken, url_task, task_id]
    assert listed["page_info"]["total_results"] == 3
    assert [t["_id"] for t in api.get("/embed/tasks", params={"status": "failed"}).json()["data"]] == [broken]
    assert api.get("/embed/tasks", params={"started_at": "2999-01-01T00:00:00Z"}).json()["data"] == []
    assert (
        len(api.get("/embed/tasks", params={"ended_at": "2999-01-01T00:00:00Z", "page_limit": 2}).json()["data"]) == 2
    )


def test_embed_task_errors(api: httpx.Client, samples: Path) -> None:
    cases = [
        (
            {"model_name": MODEL, "video_url": "http://x/a.mp4", "video_clip_length": "1"},
            "parameter_invalid",
            "video_clip_length",
        ),
        (
            {"model_name": MODEL, "video_url": "http://x/a.mp4", "video_clip_length": "11"},
            "parameter_invalid",
            "video_clip_length",
        ),
        (
            {
                "model_name": MODEL,
                "video_url": "http://x/a.mp4",
                "video_start_offset_sec": "5",
                "video_end_offset_sec": "4",
            },
            "parameter_invalid",
            "video_end_offset_sec",
        ),
        (
            {"model_name": MODEL, "video_url": "http://x/a.mp4", "video_embedding_scope": "scene"},
            "parameter_invalid",
            "video_embedding_scope",
        ),
        ({"model_name": MODEL}, "parameter_not_provided", "video_url"),
        ({"video_url": "http://x/a.mp4"}, "parameter_not_provided", "model_name"),
    ]
    for data, code, needle in cases:
        r = api.post("/embed/tasks", data=data, files=NO_FILE)
        assert r.status_code == 400 and r.json()["code"] == code and needle in r.json()["message"], (data, r.text)
    r = api.get("/embed/tasks/not-an-id/status")
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid"
    assert api.get("/embed/tasks/" + "0" * 24 + "/status").status_code == 404
    assert api.get("/embed/tasks/" + "0" * 24).status_code == 404
    r = api.get("/embed/tasks", params={"status": "done"})
    assert r.status_code == 400 and "status" in r.json()["message"]


def test_current_surface_is_marengo_3_0_in_the_embed_v2_space(make_emulator, samples: Path) -> None:  # type: ignore[no-untyped-def]
    """SDK 1.3.6: `/embed` and `/embed/tasks` take marengo3.0 only and answer 512-d vectors that live in the same
    space as /embed-v2 (one text gives one vector on both), options named visual/audio, 500-token texts."""
    from tests.emulator.conftest import client_for

    emu = make_emulator(surface="current")
    with client_for(emu) as api:
        r = api.post("/embed", data={"model_name": MODEL, "text": "sea"}, files=NO_FILE)
        assert r.status_code == 400 and "marengo3.0" in r.json()["message"]
        v1 = api.post("/embed", data={"model_name": "marengo3.0", "text": "blue ocean"}, files=NO_FILE).json()
        assert v1["model_name"] == "marengo3.0"
        text = v1["text_embedding"]["segments"][0]["float"]
        v2 = api.post(
            "/embed-v2", json={"input_type": "text", "model_name": "marengo3.0", "text": {"input_text": "blue ocean"}}
        ).json()
        assert len(text) == 512 and text == v2["data"][0]["embedding"]
        long_text = " ".join(f"w{n}" for n in range(600))
        first_500 = " ".join(f"w{n}" for n in range(500))
        long_vec = api.post("/embed", data={"model_name": "marengo3.0", "text": long_text}, files=NO_FILE).json()
        short_vec = api.post("/embed", data={"model_name": "marengo3.0", "text": first_500}, files=NO_FILE).json()
        assert long_vec["text_embedding"] == short_vec["text_embedding"]  # auto-truncated at 500 tokens
        videos = {}
        for name in ("ocean-waves.mp4", "forest-walk.mp4"):
            with (samples / "videos" / name).open("rb") as fh:
                r = api.post(
                    "/embed/tasks", data={"model_name": "marengo3.0"}, files={"video_file": (name, fh, "video/mp4")}
                )
            assert r.status_code == 200, r.text
            assert wait_embed_task(api, r.json()["_id"])["status"] == "ready"
            videos[name] = api.get(f"/embed/tasks/{r.json()['_id']}", params={"embedding_option": "visual"}).json()
        ocean = videos["ocean-waves.mp4"]
        assert ocean["model_name"] == "marengo3.0"
        segments = ocean["video_embedding"]["segments"]
        assert {s["embedding_option"] for s in segments} == {"visual"} and all(len(s["float"]) == 512 for s in segments)
        forest = videos["forest-walk.mp4"]["video_embedding"]["segments"][0]["float"]
        assert cos(text, segments[0]["float"]) > cos(text, forest)  # v2 text vs v1 video: one space
        with file_server(samples / "videos") as base:
            v2_video = api.post(
                "/embed-v2",
                json={
                    "input_type": "video",
                    "model_name": "marengo3.0",
                    "video": {
                        "media_source": {"url": f"{base}/forest-walk.mp4"},
                        "embedding_option": ["visual"],
                        "embedding_scope": ["asset"],
                    },
                },
            ).json()["data"][0]["embedding"]
        assert cos(v2_video, forest) > 0.9  # the same video through v1 and v2 lands in the same place
