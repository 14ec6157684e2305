"""/analyze (current), /analyze/tasks, /embed-v2 (+tasks), search (current) and connections over MockTransport."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from twelvelabs_client.errors import ConflictError, ProcessingFailedError
from twelvelabs_client.models import (
    AnalyzeTask,
    StreamEndEvent,
    StreamStartEvent,
    TextGenerationEvent,
    video_asset,
    video_url,
)

from tests.client.helpers import FakeClock, json_response, multipart_fields

ANSWER = {
    "id": "gen-1",
    "data": '{"goals":[{"t":812.5}]}',
    "finish_reason": "length",
    "usage": {"output_tokens": 14, "input_tokens": 5210},
    "error": {"message": "truncated"},
}


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- /analyze --------------------------------------------------------------------------------------


def test_analyze_current_body_and_result(make_client) -> None:
    client, recorder = make_client(lambda r: json_response(200, ANSWER))
    schema = {"type": "json_schema", "json_schema": {"type": "object", "properties": {"goals": {"type": "array"}}}}
    result = client.analyze(
        video=video_asset("a1"),
        prompt="List the goals.",
        model_name="pegasus1.5",
        response_format=schema,
        max_tokens=2048,
        start_time=10,
        end_time=70,
        temperature=0.1,
    )
    assert json.loads(recorder.bodies[0]) == {
        "model_name": "pegasus1.5",
        "video": {"type": "asset_id", "asset_id": "a1"},
        "prompt": "List the goals.",
        "temperature": 0.1,
        "response_format": schema,
        "max_tokens": 2048,
        "start_time": 10,
        "end_time": 70,
        "stream": False,
    }
    assert result.finish_reason == "length" and result.error is not None and result.error.message == "truncated"
    assert result.usage is not None and result.usage.input_tokens == 5210


def test_analyze_image_and_prompt_v2_bodies(make_client) -> None:
    client, recorder = make_client(lambda r: json_response(200, {"id": "g", "data": "ok", "finish_reason": "stop"}))
    client.analyze(
        image=[{"name": "shot_1", "url": "https://x/1.jpg"}, {"name": "shot_2", "asset_id": "a2"}],
        prompt="Compare <@shot_1> and <@shot_2>",
        model_name="pegasus1.6",
    )
    assert json.loads(recorder.bodies[0])["image"] == [
        {"name": "shot_1", "url": "https://x/1.jpg"},
        {"name": "shot_2", "asset_id": "a2"},
    ]
    client.analyze(
        video={"type": "url", "url": "https://x/v.mp4"},
        prompt_v2={
            "input_text": "Is <@logo> shown?",
            "media_sources": [{"name": "logo", "media_type": "image", "url": "https://x/l.png"}],
        },
    )
    body = json.loads(recorder.bodies[1])
    assert body["prompt_v2"]["media_sources"][0]["name"] == "logo" and "prompt" not in body


def test_analyze_classic_call_unchanged(make_client) -> None:
    client, recorder = make_client(lambda r: json_response(200, {"id": "g", "data": "x"}))
    client.analyze("vid1", "What happens?", temperature=0.2, max_tokens=100)
    assert json.loads(recorder.bodies[0]) == {
        "video_id": "vid1",
        "prompt": "What happens?",
        "temperature": 0.2,
        "max_tokens": 100,
        "stream": False,
    }


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"prompt": "p"}, "exactly one of video, image, video_id"),
        ({"video": video_url("https://x"), "video_id": "v", "prompt": "p"}, "exactly one of video, image, video_id"),
        ({"video": video_url("https://x")}, "one of prompt, prompt_v2"),
        ({"video": video_url("https://x"), "prompt": "p", "prompt_v2": {"input_text": "q"}}, "only one of prompt"),
        ({"video": video_url("https://x"), "prompt": "p", "start_time": 5, "end_time": 5.5}, "at least 1 s"),
        ({"video": video_url("https://x"), "prompt": "p", "max_tokens": "lots"}, "integer or 'unlimited'"),
        ({"image": [{"name": "bad name!", "url": "https://x"}], "prompt": "p"}, "name"),
        ({"image": [{"name": "a", "url": "https://x", "asset_id": "b"}], "prompt": "p"}, "exactly one of url"),
    ],
)
def test_analyze_bad_input_is_a_clear_error(make_client, kwargs: dict[str, Any], fragment: str) -> None:
    client, recorder = make_client(lambda r: json_response(200, {}))
    with pytest.raises(ValueError, match="invalid analyze request") as info:
        client.analyze(**kwargs)
    assert fragment in str(info.value) and recorder.requests == []


def test_analyze_stream_current_with_warning(make_client) -> None:
    lines = [
        {"event_type": "stream_start", "metadata": {"generation_id": "g1"}},
        {"event_type": "text_generation", "text": "Hel"},
        {"event_type": "text_generation", "text": "lo"},
        {
            "event_type": "stream_end",
            "finish_reason": "length",
            "error": {"message": "cut"},
            "metadata": {"generation_id": "g1", "usage": {"output_tokens": 2}},
        },
    ]
    content = b"\n".join(json.dumps(line).encode() for line in lines) + b"\n"
    client, recorder = make_client(
        lambda r: httpx.Response(200, content=content, headers={"content-type": "application/x-ndjson"})
    )
    stream = client.analyze_stream(video=video_asset("a1"), prompt="hi")
    assert json.loads(recorder.bodies[0])["stream"] is True
    events = list(stream)
    assert isinstance(events[0], StreamStartEvent) and isinstance(events[1], TextGenerationEvent)
    assert isinstance(events[-1], StreamEndEvent) and events[-1].error is not None
    result = client.analyze_stream(video=video_asset("a1"), prompt="hi").collect()
    assert result.data == "Hello" and result.finish_reason == "length" and result.error is not None


# --- /analyze/tasks -------------------------------------------------------------------------------


class FakeAnalyzeTasks:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.tasks: list[dict[str, Any]] = []
        self.fail_after_create: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1.3")
        q = request.url.params
        if request.method == "POST" and path == "/analyze/tasks":
            body = json.loads(request.content)
            task = {
                "task_id": f"t{len(self.tasks) + 1}",
                "custom_id": body.get("custom_id"),
                "status": "queued",
                "created_at": iso(self.clock.now),
                "video_source": body["video"],
            }
            self.tasks.append(task)
            if self.fail_after_create:
                self.fail_after_create.pop(0)
                return json_response(500, {"error": {"code": "INTERNAL_SERVER_ERROR", "message": "boom"}})
            return json_response(202, {"task_id": task["task_id"], "status": "queued"})
        if request.method == "GET" and path == "/analyze/tasks":
            items = list(reversed(self.tasks))
            if "asset_id" in q:
                items = [t for t in items if t["video_source"].get("asset_id") == q["asset_id"]]
            if "video_url" in q:
                items = [t for t in items if t["video_source"].get("url") == q["video_url"]]
            return json_response(200, {"data": items, "page_info": {"page": 1, "total_page": 1}})
        task_id = path.split("/")[3]
        task = next(t for t in self.tasks if t["task_id"] == task_id)
        if path.endswith("/cancel"):
            task["status"] = "canceled"
            return json_response(200, {"task_id": task_id, "status": "canceled"})
        if request.method == "DELETE":
            if task["status"] == "processing":
                return json_response(409, {"error": {"code": "task_in_progress", "message": "running"}})
            self.tasks.remove(task)
            return httpx.Response(204)
        return json_response(200, task)


def test_analyze_task_lifecycle(make_client, clock: FakeClock) -> None:
    api = FakeAnalyzeTasks(clock)
    client, recorder = make_client(api)
    created = client.create_analyze_task(
        video=video_asset("a1"),
        analysis_mode="time_based_metadata",
        max_tokens="unlimited",
        model_name="pegasus1.6",
        response_format={
            "type": "segment_definitions",
            "segment_definitions": [{"id": "goal", "description": "goals"}],
        },
        min_segment_duration=2,
        custom_id="cam-a",
    )
    assert created.task_id == "t1" and created.status == "queued" and not created.recovered
    body = json.loads(recorder.bodies[0])
    assert body["max_tokens"] == "unlimited" and "stream" not in body and body["custom_id"] == "cam-a"
    assert [t.task_id for t in client.iter_analyze_tasks(asset_id="a1", status="queued")] == ["t1"]
    assert recorder.requests[-1].url.params["asset_id"] == "a1"
    assert client.cancel_analyze_task("t1").status == "canceled"
    task = client.get_analyze_task("t1")
    assert isinstance(task, AnalyzeTask) and task.is_terminal
    api.tasks[0]["status"] = "processing"
    with pytest.raises(ConflictError):
        client.delete_analyze_task("t1")
    api.tasks[0]["status"] = "ready"
    client.delete_analyze_task("t1")
    assert api.tasks == []


def test_analyze_task_key_becomes_custom_id_and_is_found(make_client, clock: FakeClock) -> None:
    api = FakeAnalyzeTasks(clock)
    client, recorder = make_client(api)
    first = client.create_analyze_task(video=video_url("https://m.test/v.mp4"), prompt="p", idempotency_key="job#1")
    custom = json.loads(recorder.calls("POST", "/analyze/tasks")[0].content)["custom_id"]
    assert custom.startswith("k-") and len(custom) <= 64  # '#' is not allowed in custom_id: hashed
    again = client.create_analyze_task(video=video_url("https://m.test/v.mp4"), prompt="p", idempotency_key="job#1")
    assert again.task_id == first.task_id and again.recovered and len(api.tasks) == 1
    assert recorder.calls("GET", "/analyze/tasks")[-1].url.params["video_url"] == "https://m.test/v.mp4"
    api.tasks[0]["status"] = "failed"  # a failed run is not reused
    third = client.create_analyze_task(video=video_url("https://m.test/v.mp4"), prompt="p", idempotency_key="job#1")
    assert third.task_id == "t2" and len(api.tasks) == 2


def test_ambiguous_analyze_task_create_is_recovered(make_client, clock: FakeClock) -> None:
    api = FakeAnalyzeTasks(clock)
    api.fail_after_create = ["500"]
    client, recorder = make_client(api)
    created = client.create_analyze_task(video=video_asset("a9"), prompt="p", idempotency_key="job-2")
    assert created.recovered and created.task_id == "t1" and len(api.tasks) == 1
    assert len(recorder.calls("POST", "/analyze/tasks")) == 1


def test_wait_for_analyze_task(make_client, clock: FakeClock) -> None:
    api = FakeAnalyzeTasks(clock)
    client, _ = make_client(api)
    client.create_analyze_task(video=video_asset("a1"), prompt="p")
    api.tasks[0].update(status="failed", error={"code": "user_canceled", "message": "nope"})
    with pytest.raises(ProcessingFailedError, match="nope"):
        client.wait_for_analyze_task("t1")
    api.tasks[0].update(status="ready", result={"generation_id": "g", "data": "{}", "finish_reason": "stop"})
    assert client.wait_for_analyze_task("t1").result is not None


def test_analyze_task_input_checks(make_client, clock: FakeClock) -> None:
    client, recorder = make_client(FakeAnalyzeTasks(clock))
    with pytest.raises(ValueError, match="no prompt"):
        client.create_analyze_task(video=video_asset("a"), prompt="p", analysis_mode="time_based_metadata")
    with pytest.raises(ValueError, match="custom_id"):
        client.create_analyze_task(video=video_asset("a"), prompt="p", custom_id="has space")
    assert recorder.requests == []


# --- /embed-v2 ------------------------------------------------------------------------------------


def test_embed_v2_sync(make_client) -> None:
    answer = {
        "data": [
            {
                "embedding": [0.5] * 512,
                "embedding_option": "visual",
                "embedding_scope": "clip",
                "start_sec": 0,
                "end_sec": 6,
            },
            {"embedding": [0.1] * 512, "embedding_option": "future-mode", "embedding_scope": None},
        ],
        "metadata": {"input_type": "video", "clip_length": 6, "duration": 155.7},
    }
    client, recorder = make_client(lambda r: json_response(200, answer))
    video = {
        "media_source": {"asset_id": "a1"},
        "segmentation": {"strategy": "fixed", "fixed": {"duration_sec": 6}},
        "embedding_option": ["visual", "audio"],
        "embedding_scope": ["clip"],
    }
    result = client.embed_v2("video", video=video)
    assert json.loads(recorder.bodies[0]) == {"input_type": "video", "model_name": "marengo3.0", "video": video}
    assert len(result.data[0].embedding) == 512 and result.data[1].embedding_option == "future-mode"
    client.embed_v2("text", text="waves on a beach")
    assert json.loads(recorder.bodies[1])["text"] == {"input_text": "waves on a beach"}
    with pytest.raises(ValueError, match="needs the 'image'"):
        client.embed_v2("image", text="x")
    with pytest.raises(ValueError, match="only the 'text'"):
        client.embed_v2("text", text="x", image={"media_source": {"url": "u"}})


def test_embed_v2_tasks_and_lost_answer(make_client, clock: FakeClock) -> None:
    tasks: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1.3")
        if request.method == "POST":
            body = json.loads(request.content)
            tasks.insert(
                0,
                {
                    "_id": f"e{len(tasks) + 1}",
                    "model_name": "marengo3.0",
                    "status": "processing",
                    "created_at": iso(clock.now),
                    "video_embedding": {"metadata": {"input_url": body["video"]["media_source"]["url"]}},
                },
            )
            if len(tasks) == 1:
                raise httpx.RemoteProtocolError("dropped")
            return json_response(
                202,
                {"_id": tasks[0]["_id"], "status": "processing", "data": None},
                {"Location": f"/v1.3/embed-v2/tasks/{tasks[0]['_id']}"},
            )
        if path == "/embed-v2/tasks":
            assert "started_at" in request.url.params or "page_limit" not in request.url.params
            return json_response(200, {"data": tasks, "page_info": {"page": 1, "total_page": 1}})
        task = next(t for t in tasks if t["_id"] == path.rsplit("/", 1)[-1])
        task["status"] = "ready"
        return json_response(200, {"_id": task["_id"], "status": "ready", "data": [{"embedding": [0.0] * 512}]})

    client, _recorder = make_client(handler)
    video = {"media_source": {"url": "https://m.test/a.mp4"}}
    created = client.create_embed_v2_task("video", video=video, idempotency_key="job")
    assert created.recovered and created.id == "e1" and len(tasks) == 1
    second = client.create_embed_v2_task("video", video={"media_source": {"url": "https://m.test/b.mp4"}})
    assert second.id == "e2" and second.location == "/v1.3/embed-v2/tasks/e2" and not second.recovered
    done = client.wait_for_embed_v2_task("e2")
    assert done.data is not None and len(done.data[0].embedding) == 512
    assert [t.id for t in client.iter_embed_v2_tasks()] == ["e2", "e1"]


# --- search (current) -----------------------------------------------------------------------------


def test_search_current_fields_and_rank_hits(make_client) -> None:
    page = {
        "data": [
            {"video_id": "v1", "start": 0, "end": 6, "rank": 1, "transcription": "goal!"},
            {"id": "v2", "clips": [{"start": 1, "end": 2, "rank": 2, "video_id": "v2"}]},
        ],
        "page_info": {"limit_per_page": 10, "total_results": 2},
    }
    client, recorder = make_client(lambda r: json_response(200, page))
    result = client.search(
        "idx",
        search_options=["visual", "transcription"],
        transcription_options=["lexical"],
        query_text="goal",
        query_media_urls=["https://x/1.jpg", "https://x/2.jpg"],
    )
    fields = multipart_fields(recorder.requests[0])
    assert fields["search_options"] == ["visual", "transcription"] and fields["transcription_options"] == ["lexical"]
    assert fields["query_media_url"] == ["https://x/1.jpg", "https://x/2.jpg"] and fields["query_media_type"] == [
        "image"
    ]
    assert not {"threshold", "sort_option", "adjust_confidence_level"} & set(fields)
    assert result.data[0].rank == 1 and result.data[0].score is None and result.data[0].transcription == "goal!"
    assert result.data[1].clips and result.data[1].clips[0].rank == 2
    with pytest.raises(ValueError, match="transcription search option"):
        client.search("idx", search_options=["visual"], transcription_options=["lexical"], query_text="q")
    with pytest.raises(ValueError, match="10"):
        client.search("idx", search_options=["visual"], query_media_urls=["https://x"] * 11)


# --- connections ----------------------------------------------------------------------------------


def test_connections_surface(make_client) -> None:
    redirect_uris: list[dict[str, Any]] = []
    import_posts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1.3")
        if path == "/connections:authorize":
            return json_response(200, {"authorize_url": "https://accounts.google.com/o/oauth2/auth?x", "state": "s"})
        if path == "/connections" and request.method == "GET":
            return json_response(
                200,
                {
                    "data": [
                        {
                            "_id": "c1",
                            "provider": "google_drive",
                            "status": "active",
                            "account": {"external_id": "1", "display_name": "me@x"},
                            "scopes": ["drive.file"],
                        }
                    ],
                    "page_info": {"page": 1, "total_page": 1},
                },
            )
        if path == "/connections/c1" and request.method == "GET":
            return json_response(200, {"_id": "c1", "status": "paused-by-admin"})
        if path.endswith("/picker-token"):
            return json_response(200, {"access_token": "ya29.secret", "expires_in": 3599, "scope": "a b"})
        if path == "/connections/redirect-uris" and request.method == "POST":
            uri = json.loads(request.content)["redirect_uri"]
            if any(r["redirect_uri"] == uri for r in redirect_uris):
                return json_response(409, {"code": "redirect_uri_already_registered", "message": "dup"})
            redirect_uris.append({"_id": f"r{len(redirect_uris) + 1}", "redirect_uri": uri, "created_at": "t"})
            return json_response(201, redirect_uris[-1])
        if path == "/connections/redirect-uris":
            return json_response(200, {"data": redirect_uris, "page_info": {"page": 1, "total_page": 1}})
        if path == "/connections/c1/imports" and request.method == "POST":
            import_posts.append(request)
            return json_response(
                202,
                {
                    "_id": "imp1",
                    "has_failures": True,
                    "items": [
                        {"source_id": "f1", "action": "created", "asset_id": "a1", "status": "processing"},
                        {
                            "source_id": "f2",
                            "action": "rejected",
                            "error": {"code": "unsupported_media_type", "message": "m"},
                        },
                        {"source_id": "f3", "action": "brand-new-action", "asset_id": "a3", "status": "ready"},
                    ],
                },
            )
        if path == "/connections/c1/imports":
            return json_response(
                200,
                {
                    "data": [{"_id": "imp1", "connection_id": "c1", "item_count": 3}],
                    "page_info": {"page": 1, "total_page": 1},
                },
            )
        if path == "/connections/c1/imports/imp1":
            return json_response(200, {"_id": "imp1", "items": [{"source_id": "f1", "status": "ready"}]})
        return httpx.Response(204)

    client, recorder = make_client(handler)
    auth = client.authorize_connection("https://app.test/cb", custom_id="user-7")
    assert auth.authorize_url.startswith("https://accounts.google.com")
    assert json.loads(recorder.bodies[0]) == {
        "provider": "google_drive",
        "redirect_uri": "https://app.test/cb",
        "custom_id": "user-7",
    }
    assert [c.id for c in client.iter_connections()] == ["c1"]
    assert client.get_connection("c1").status == "paused-by-admin"
    token = client.create_picker_token("c1")
    assert token.expires_in == 3599 and "ya29" not in repr(token)
    first = client.create_redirect_uri("https://app.test/cb")
    again = client.create_redirect_uri("https://app.test/cb")  # already registered -> the registered one
    assert again.id == first.id and again.recovered
    client.delete_redirect_uri(first.id)
    result = client.create_connection_import("c1", ["f1", "f2", "f3"], idempotency_key="batch-1")
    assert result.has_failures and [i.action for i in result.items] == ["created", "rejected", "brand-new-action"]
    assert import_posts[0].headers["idempotency-key"].startswith("tlc-")
    assert json.loads(import_posts[0].content) == {
        "items": [{"source_id": "f1"}, {"source_id": "f2"}, {"source_id": "f3"}]
    }
    assert [i.id for i in client.iter_connection_imports("c1")] == ["imp1"]
    assert client.get_connection_import("c1", "imp1").items
    client.delete_connection("c1")
    assert recorder.requests[-1].method == "DELETE"
    with pytest.raises(ValueError, match="unique"):
        client.create_connection_import("c1", ["f1", "f1"])
    with pytest.raises(ValueError, match="1-100"):
        client.create_connection_import("c1", [f"f{i}" for i in range(101)])
