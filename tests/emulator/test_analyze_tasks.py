"""`/analyze/tasks` (SDK 1.3.6): lifecycle, custom_id, time_based_metadata segmentation, max_tokens rules, list
filters, cancel/delete conflicts, wrapped errors, signed `analyze.task.*` webhooks with stable ids and delivery info."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from helpers import Receiver, file_server, sdk136, wait_for

from tests.emulator.conftest import client_for
from twelvelabs_emulator import Emulator

# types/analyze_task_response.py and friends (SDK 1.3.6)
TASK_KEYS = {
    "task_id",
    "custom_id",
    "batch_id",
    "video_source",
    "request_params",
    "status",
    "created_at",
    "completed_at",
    "result",
    "error",
    "webhooks",
}
RESULT_KEYS = {"generation_id", "data", "finish_reason", "usage"}
SOURCE_KEYS = {"type", "url", "asset_id", "video_id", "index_id", "system_metadata"}
PARAM_KEYS = {
    "analysis_mode",
    "prompt",
    "prompt_v2",
    "image",
    "response_format",
    "temperature",
    "max_tokens",
    "min_segment_duration",
    "max_segment_duration",
    "start_time",
    "end_time",
}
WEBHOOK_INFO_KEYS = {"url", "delivered", "attempts", "last_error"}
EVENT_KEYS = {"id", "created_at", "type", "data"}
EVENT_DATA_KEYS = {"id", "custom_id", "created_at", "status", "video_source", "error"}
SEGMENTS = {
    "type": "segment_definitions",
    "segment_time_format": "hh:mm:ss",
    "segment_definitions": [
        {
            "id": "sea",
            "description": "blue ocean water",
            "fields": [
                {"name": "colour", "type": "string", "description": "the main colour"},
                {"name": "length", "type": "number", "description": "seconds"},
                {"name": "tones", "type": "array", "description": "colours", "items": {"type": "string"}},
                {"name": "at", "type": "timestamp", "format": "seconds", "description": "when"},
                {
                    "name": "moments",
                    "type": "time_array",
                    "description": "moments",
                    "items": {
                        "type": "object",
                        "fields": [{"name": "what", "type": "string", "description": "what happens"}],
                    },
                },
            ],
        }
    ],
}


@pytest.fixture()
def media_url(samples: Path) -> Iterator[str]:
    with file_server(samples) as base:
        yield base


@pytest.fixture()
def current(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator(surface="current")


@pytest.fixture()
def api(current: Emulator) -> Iterator[httpx.Client]:
    with client_for(current) as client:
        yield client


def video(media_url: str, name: str = "ocean-waves.mp4") -> dict[str, str]:
    return {"type": "url", "url": f"{media_url}/videos/{name}"}


def wait_done(api: httpx.Client, task_id: str, timeout: float = 20.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = api.get(f"/analyze/tasks/{task_id}").json()
        if task["status"] in ("ready", "failed", "canceled"):
            return task
        time.sleep(0.05)
    raise AssertionError(f"analyze task {task_id} did not finish in {timeout} s")


def create(api: httpx.Client, **body: object) -> httpx.Response:
    return api.post("/analyze/tasks", json=body)


def verify(headers: dict[str, str], body: bytes, secret: str) -> None:
    parts = dict(p.split("=", 1) for p in headers["tl-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)


def test_general_task_lifecycle_and_exact_fields(make_emulator: Callable[..., Emulator], media_url: str) -> None:
    emu = make_emulator(surface="current", processing_seconds=3.0)  # 1.5 s in each state: observable under load
    with client_for(emu) as api:
        r = create(
            api, video=video(media_url), prompt="What is shown in this long prompt, described?", custom_id="cam-a_01"
        )
        assert r.status_code == 202, r.text
        assert r.json().keys() == {"task_id", "status"} and r.json()["status"] == "queued"
        task_id = r.json()["task_id"]
        seen: set[str] = set()
        deadline = time.monotonic() + 20
        while "ready" not in seen and time.monotonic() < deadline:
            seen.add(api.get(f"/analyze/tasks/{task_id}").json()["status"])
            time.sleep(0.02)
        assert {"processing", "ready"} <= seen and seen <= {"queued", "processing", "ready"}
        task = api.get(f"/analyze/tasks/{task_id}").json()
    assert set(task) <= TASK_KEYS and "webhooks" not in task  # no webhook URL configured
    assert task["custom_id"] == "cam-a_01" and task["status"] == "ready"
    assert set(task["video_source"]) <= SOURCE_KEYS
    assert task["video_source"] == {
        "type": "url",
        "url": f"{media_url}/videos/ocean-waves.mp4",
        "system_metadata": {"duration": 8.0},
    }
    assert set(task["request_params"]) <= PARAM_KEYS
    assert task["request_params"] == {
        "analysis_mode": "general",
        "prompt": "What is shown in this long prompt, described?",
        "temperature": 0.2,
        "max_tokens": 4096,
    }
    assert set(task["result"]) == RESULT_KEYS and task["result"]["finish_reason"] == "stop"
    assert "ocean" in task["result"]["data"] and task["completed_at"] >= task["created_at"]


def test_time_based_metadata(api: httpx.Client, media_url: str) -> None:
    r = create(
        api,
        video=video(media_url),
        analysis_mode="time_based_metadata",
        response_format=SEGMENTS,
        min_segment_duration=2,
        max_segment_duration=4,
    )
    assert r.status_code == 202, r.text
    task = wait_done(api, r.json()["task_id"])
    assert task["status"] == "ready" and task["request_params"]["max_tokens"] == 32768
    data = json.loads(task["result"]["data"])
    assert list(data) == ["sea"]
    segments = data["sea"]
    assert [(s["start_time"], s["end_time"]) for s in segments] == [("00:00:00", "00:00:04"), ("00:00:04", "00:00:08")]
    for segment in segments:
        assert set(segment) == {"start_time", "end_time", "metadata"}
        meta = segment["metadata"]
        assert list(meta) == ["colour", "length", "tones", "at", "moments"]
        assert meta["colour"] == "blue" and meta["length"] == 4.0 and "blue" in meta["tones"]
        assert meta["moments"][0]["start_time"] == segment["start_time"] and isinstance(meta["moments"][0]["what"], str)
    ranged = {
        "type": "segment_definitions",
        "segment_definitions": [
            {"id": "late", "description": "anything", "time_ranges": [{"start_time": 6, "end_time": 8}]}
        ],
    }
    task = wait_done(
        api,
        create(api, video=video(media_url), analysis_mode="time_based_metadata", response_format=ranged).json()[
            "task_id"
        ],
    )
    assert [(s["start_time"], s["end_time"]) for s in json.loads(task["result"]["data"])["late"]] == [(6.0, 8.0)]


def test_create_rules_are_wrapped_400s(api: httpx.Client, media_url: str) -> None:
    v = video(media_url)
    seg = {"analysis_mode": "time_based_metadata", "response_format": SEGMENTS}
    one = {"type": "segment_definitions", "segment_definitions": [{"id": "a", "description": "x"}]}
    field = {"name": "f", "type": "string", "description": "d"}
    cases: list[tuple[dict[str, object], str]] = [
        ({"video": v, "prompt": "x", "custom_id": ""}, "custom_id"),
        ({"video": v, "prompt": "x", "custom_id": "a" * 65}, "custom_id"),
        ({"video": v, "prompt": "x", "custom_id": "a b"}, "custom_id"),
        ({"video": v, "prompt": "x", "video_id": "x"}, "video_id"),
        ({"video": v, "prompt": "x", "model_name": "pegasus1.2"}, "pegasus1.2"),
        ({"video": v, "prompt": "x", "max_tokens": 511}, "max_tokens"),
        ({"video": v, "prompt": "x", "max_tokens": "unlimited", "model_name": "pegasus1.6"}, "max_tokens"),
        ({"video": v, **seg, "max_tokens": 2047}, "max_tokens"),
        ({"video": v, **seg, "max_tokens": "unlimited"}, "pegasus1.6"),
        ({"video": v, "analysis_mode": "time_based_metadata"}, "segment_definitions"),
        ({"video": v, **seg, "prompt": "x"}, "prompt"),
        ({"video": v, "prompt": "x", "response_format": one}, "time_based_metadata"),
        ({"video": v, "prompt": "x", "min_segment_duration": 3}, "min_segment_duration"),
        ({"video": v, **seg, "min_segment_duration": 1}, "min_segment_duration"),
        ({"video": v, **seg, "min_segment_duration": 4, "max_segment_duration": 3}, "max_segment_duration"),
        (
            {
                "video": v,
                "analysis_mode": "time_based_metadata",
                "response_format": {"type": "segment_definitions", "segment_definitions": []},
            },
            "1 to 20",
        ),
        (
            {
                "video": v,
                "analysis_mode": "time_based_metadata",
                "response_format": {
                    "type": "segment_definitions",
                    "segment_definitions": [{"id": "a", "description": "x"}] * 2,
                },
            },
            "twice",
        ),
        (
            {
                "video": v,
                "analysis_mode": "time_based_metadata",
                "response_format": {
                    "type": "segment_definitions",
                    "segment_definitions": [{"id": "a", "description": "x", "fields": [field | {"name": "metadata"}]}],
                },
            },
            "reserved",
        ),
        (
            {
                "video": v,
                "analysis_mode": "time_based_metadata",
                "response_format": {
                    "type": "segment_definitions",
                    "segment_definitions": [{"id": "a", "description": "x", "fields": [field | {"type": "date"}]}],
                },
            },
            "type",
        ),
        (
            {
                "video": v,
                "analysis_mode": "time_based_metadata",
                "response_format": {
                    "type": "segment_definitions",
                    "segment_definitions": [{"id": "a", "description": "x", "fields": [field | {"format": "seconds"}]}],
                },
            },
            "format",
        ),
        (
            {
                "video": v,
                "analysis_mode": "time_based_metadata",
                "response_format": {
                    "type": "segment_definitions",
                    "segment_definitions": [
                        {"id": "a", "description": "x", "fields": [field | {"type": "time_array"}]}
                    ],
                },
            },
            "items",
        ),
        (
            {
                "video": v,
                "analysis_mode": "time_based_metadata",
                "response_format": {
                    "type": "segment_definitions",
                    "segment_definitions": [
                        {"id": "a", "description": "x", "time_ranges": [{"start_time": 0, "end_time": 1}]}
                    ],
                },
            },
            "2 s",
        ),
        (
            {
                "video": v,
                "analysis_mode": "time_based_metadata",
                "response_format": {
                    "type": "segment_definitions",
                    "segment_definitions": [
                        {
                            "id": "a",
                            "description": "x",
                            "time_ranges": [{"start_time": 0, "end_time": 4}, {"start_time": 3, "end_time": 6}],
                        }
                    ],
                },
            },
            "overlap",
        ),
        (
            {
                "video": v,
                "analysis_mode": "time_based_metadata",
                "start_time": 0,
                "response_format": {
                    "type": "segment_definitions",
                    "segment_definitions": [
                        {"id": "a", "description": "x", "time_ranges": [{"start_time": 0, "end_time": 4}]}
                    ],
                },
            },
            "time_ranges",
        ),
    ]
    for body, needle in cases:
        r = create(api, **body)
        assert r.status_code == 400, (body, r.text)
        assert set(r.json()) == {"error"} and set(r.json()["error"]) == {"code", "message"}, r.text
        assert needle in r.json()["error"]["message"], (body, r.text)
    r = create(api, video=v, **seg, max_tokens="unlimited", model_name="pegasus1.6")
    assert r.status_code == 202, r.text
    r = create(
        api,
        video=v,
        prompt="x",
        response_format={
            "type": "json_schema",
            "json_schema": {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}},
        },
    )
    assert r.status_code == 422 and "maxLength" in r.json()["error"]["message"]


def test_list_filters_cancel_and_delete(make_emulator: Callable[..., Emulator], media_url: str, samples: Path) -> None:
    emu = make_emulator(surface="current", processing_seconds=30.0)  # long enough to act on a running task
    with client_for(emu) as api:
        slow = create(api, video=video(media_url), prompt="p" * 40, custom_id="slow").json()["task_id"]
        other = create(api, video=video(media_url, "forest-walk.mp4"), prompt="q", analysis_mode="general").json()[
            "task_id"
        ]
        listed = api.get("/analyze/tasks").json()
        assert [t["task_id"] for t in listed["data"]] == [other, slow]  # newest first
        assert listed["data"][1]["request_params"]["prompt"] == "p" * 30  # lists show the first 30 characters
        assert set(listed["page_info"]) == {"page", "limit_per_page", "total_page", "total_results"}
        by_url = api.get("/analyze/tasks", params={"video_url": f"{media_url}/videos/forest-walk.mp4"}).json()
        assert [t["task_id"] for t in by_url["data"]] == [other]
        assert api.get("/analyze/tasks", params={"analysis_mode": "time_based_metadata"}).json()["data"] == []
        assert api.get("/analyze/tasks", params={"status": "bogus"}).status_code == 400
        r = api.delete(f"/analyze/tasks/{slow}")
        assert r.status_code == 409 and r.json()["error"]["code"]
        r = api.post(f"/analyze/tasks/{slow}/cancel")
        assert r.status_code == 200 and r.json() == {"task_id": slow, "status": "canceled"}
        assert api.post(f"/analyze/tasks/{slow}/cancel").json() == {"task_id": slow, "status": "canceled"}
        canceled = api.get(f"/analyze/tasks/{slow}").json()
        assert canceled["error"]["code"] == "user_canceled" and "result" not in canceled and canceled["completed_at"]
        assert [t["task_id"] for t in api.get("/analyze/tasks", params={"status": "canceled"}).json()["data"]] == [slow]
        assert api.delete(f"/analyze/tasks/{slow}").status_code == 204
        assert api.get(f"/analyze/tasks/{slow}").status_code == 404
        r = api.post(f"/analyze/tasks/{'0' * 24}/cancel")
        assert r.status_code == 404 and r.json()["error"]["code"] == "resource_not_exist"
        api.post(f"/analyze/tasks/{other}/cancel")
    fast = make_emulator(surface="current")
    with client_for(fast) as api:
        done = wait_done(api, create(api, video=video(media_url), prompt="x").json()["task_id"])
        r = api.post(f"/analyze/tasks/{done['task_id']}/cancel")
        assert r.status_code == 409 and "ready" in r.json()["error"]["message"]


def test_signed_webhooks_with_stable_ids_and_delivery_info(
    make_emulator: Callable[..., Emulator], media_url: str
) -> None:
    with Receiver(statuses=[500]) as receiver:
        emu = make_emulator(
            surface="current",
            webhook_url=receiver.url,
            webhook_secret="s3cret",
            webhook_retry_base_seconds=0.05,
            processing_seconds=3.0,  # the task is still queued when the first GET shows `webhooks: []`
        )
        with client_for(emu) as api:
            task_id = create(api, video=video(media_url), prompt="x", custom_id="c1").json()["task_id"]
            assert api.get(f"/analyze/tasks/{task_id}").json().get("webhooks") == []
            wait_done(api, task_id)
            wait_for(lambda: len(receiver.received) == 2)
            wait_for(lambda: api.get(f"/analyze/tasks/{task_id}").json()["webhooks"][0]["delivered"])
            info = api.get(f"/analyze/tasks/{task_id}").json()["webhooks"]
    assert info == [{"url": receiver.url, "delivered": True, "attempts": 2}]
    bodies = [body for _, body in receiver.received]
    assert bodies[0] == bodies[1]  # the retry re-sends the same event: same id
    for headers, body in receiver.received:
        verify(headers, body, "s3cret")
    event = json.loads(bodies[0])
    assert set(event) == EVENT_KEYS and event["type"] == "analyze.task.ready" and event["id"].startswith("whe_")
    assert set(event["data"]) <= EVENT_DATA_KEYS
    assert event["data"] == {
        "id": task_id,
        "custom_id": "c1",
        "created_at": event["data"]["created_at"],
        "status": "ready",
        "video_source": {
            "type": "url",
            "url": f"{media_url}/videos/ocean-waves.mp4",
            "system_metadata": {"duration": 8.0},
        },
    }


def test_failed_canceled_and_dropped_webhooks(make_emulator: Callable[..., Emulator], media_url: str) -> None:
    with Receiver() as receiver:
        emu = make_emulator(surface="current", webhook_url=receiver.url, webhook_secret="k", processing_seconds=0.4)
        with client_for(emu) as api, httpx.Client(base_url=emu.admin_url) as admin:
            admin.post("/faults", json={"fail_next_analyze_tasks": 1})
            failed = wait_done(api, create(api, video=video(media_url), prompt="x").json()["task_id"])
            assert failed["status"] == "failed" and failed["error"]["message"] and "result" not in failed
            wait_for(lambda: len(receiver.received) == 1)
            admin.post("/faults", json={"drop_next_webhooks": 1})
            dropped = wait_done(api, create(api, video=video(media_url), prompt="x").json()["task_id"])
            wait_for(
                lambda: any(d["task_id"] == dropped["task_id"] and d["dropped"] for d in admin.get("/webhooks").json())
            )
            assert api.get(f"/analyze/tasks/{dropped['task_id']}").json()["webhooks"] == [
                {"url": receiver.url, "delivered": False, "attempts": 0}
            ]
            slow = make_emulator(surface="current", webhook_url=receiver.url, webhook_secret="k", processing_seconds=30)
            with client_for(slow) as slow_api:
                canceled_id = create(slow_api, video=video(media_url), prompt="x").json()["task_id"]
                slow_api.post(f"/analyze/tasks/{canceled_id}/cancel")
                wait_for(lambda: len(receiver.received) == 2)
    events = {json.loads(body)["type"]: json.loads(body) for _, body in receiver.received}
    assert set(events) == {"analyze.task.failed", "analyze.task.canceled"}
    assert events["analyze.task.failed"]["data"]["error"] == {"message": failed["error"]["message"]}
    assert "error" not in events["analyze.task.canceled"]["data"]  # never on canceled
    assert events["analyze.task.canceled"]["data"]["id"] == canceled_id


def test_sdk_1_3_6_drives_analyze_tasks(make_emulator: Callable[..., Emulator], media_url: str) -> None:
    sdk = sdk136()
    from twelvelabs_sdk136.types import (
        AnalyzeTaskReadyWebhookEvent,
        AsyncResponseFormat,
        SegmentDefinition,
        VideoContext_Url,
    )

    with Receiver() as receiver:
        emu = make_emulator(surface="current", webhook_url=receiver.url, webhook_secret="k")
        client = sdk.TwelveLabs(api_key="test-key", base_url=emu.base_url)
        url = VideoContext_Url(url=f"{media_url}/videos/ocean-waves.mp4")
        created = client.analyze_async.tasks.create(video=url, prompt="What?", custom_id="sdk-1")
        assert created.status == "queued"
        segmented = client.analyze_async.tasks.create(
            video=url,
            analysis_mode="time_based_metadata",
            response_format=AsyncResponseFormat(
                type="segment_definitions", segment_definitions=[SegmentDefinition(id="sea", description="blue sea")]
            ),
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            task = client.analyze_async.tasks.retrieve(created.task_id)
            if task.status == "ready":
                break
            time.sleep(0.05)
        assert task.result is not None and "ocean" in task.result.data and task.custom_id == "sdk-1"
        assert task.video_source is not None and task.video_source.system_metadata.duration == 8.0
        listed = client.analyze_async.tasks.list(page_limit=1)
        assert len(listed.data) == 1 and listed.page_info.total_results == 2
        wait_for(lambda: client.analyze_async.tasks.retrieve(segmented.task_id).status == "ready")
        assert json.loads(client.analyze_async.tasks.retrieve(segmented.task_id).result.data)["sea"]
        with pytest.raises(sdk.ConflictError):
            client.analyze_async.tasks.cancel(created.task_id)
        client.analyze_async.tasks.delete(created.task_id)
        with pytest.raises(sdk.NotFoundError):
            client.analyze_async.tasks.retrieve(created.task_id)
        wait_for(lambda: len(receiver.received) == 2)
    event = AnalyzeTaskReadyWebhookEvent.model_validate(json.loads(receiver.received[0][1]))
    assert event.type == "analyze.task.ready" and event.data.status == "ready"


def test_tasks_survive_a_restart_with_a_state_dir(
    make_emulator: Callable[..., Emulator], media_url: str, tmp_path: Path
) -> None:
    first = make_emulator(surface="current", state_dir=tmp_path, processing_seconds=60.0)
    with client_for(first) as api:
        task_id = create(api, video=video(media_url), prompt="x", custom_id="keep").json()["task_id"]
        embed_id = api.post(
            "/embed-v2/tasks",
            json={
                "input_type": "video",
                "model_name": "marengo3.0",
                "video": {"media_source": {"url": f"{media_url}/videos/forest-walk.mp4"}},
            },
        ).json()["_id"]
    first.stop()
    second = make_emulator(surface="current", state_dir=tmp_path, processing_seconds=0.2)
    with client_for(second) as api:
        task = wait_done(api, task_id)  # the unfinished task resumed and finished
        assert task["status"] == "ready" and task["custom_id"] == "keep" and "result" in task
        wait_for(lambda: api.get(f"/embed-v2/tasks/{embed_id}").json()["status"] == "ready")


def test_admin_reset_clears_analyze_and_embed_v2_tasks(api: httpx.Client, current: Emulator, media_url: str) -> None:
    task_id = create(api, video=video(media_url), prompt="x").json()["task_id"]
    embed_id = api.post(
        "/embed-v2/tasks",
        json={
            "input_type": "video",
            "model_name": "marengo3.0",
            "video": {"media_source": {"url": f"{media_url}/videos/forest-walk.mp4"}},
        },
    ).json()["_id"]
    assert httpx.post(f"{current.admin_url}/reset").status_code == 200
    assert api.get(f"/analyze/tasks/{task_id}").status_code == 404
    assert api.get("/analyze/tasks").json()["data"] == []
    assert api.get(f"/embed-v2/tasks/{embed_id}").status_code == 404
