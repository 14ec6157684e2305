"""The official TwelveLabs Python SDK (twelvelabs==1.0.2) drives all 26 operations and parses every answer."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from twelvelabs import TwelveLabs
from twelvelabs.core.api_error import ApiError
from twelvelabs.errors import BadRequestError, TooManyRequestsError
from twelvelabs.indexes import IndexesCreateRequestModelsItem
from twelvelabs.types import ResponseFormat

MODELS = [
    IndexesCreateRequestModelsItem(model_name="marengo2.7", model_options=["visual", "audio"]),
    IndexesCreateRequestModelsItem(model_name="pegasus1.2", model_options=["visual", "audio"]),
]


def wait(fetch, done, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_sdk_drives_all_26_operations(make_emulator, samples: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "integration"
    source.mkdir()
    shutil.copy(samples / "videos" / "city-traffic.mov", source / "city-traffic.mov")
    emu = make_emulator(integrations={"local": str(source)})
    client = TwelveLabs(api_key="test-key", base_url=emu.base_url)

    # indexes: create, retrieve, update, list, (delete at the end)
    created = client.indexes.create(index_name="sdk", models=MODELS, addons=["thumbnail"])  # 1
    index_id = created.id
    assert index_id and len(index_id) == 24
    index = client.indexes.retrieve(index_id)  # 2
    assert index.index_name == "sdk" and index.models[0].model_name == "marengo2.7" and index.addons == ["thumbnail"]
    client.indexes.update(index_id, index_name="sdk-renamed")  # 3
    listed = list(client.indexes.list(page_limit=1))  # 4
    assert [i.id for i in listed] == [index_id] and listed[0].index_name == "sdk-renamed"

    # tasks: create (file + URL-less), retrieve, list
    with (samples / "videos" / "ocean-waves.mp4").open("rb") as fh:
        task = client.tasks.create(index_id=index_id, video_file=fh, user_metadata=json.dumps({"job": "a"}))  # 5
    assert task.id and task.video_id
    done = wait(lambda: client.tasks.retrieve(task.id), lambda t: t.status in ("ready", "failed"))  # 6
    assert done.status == "ready" and done.system_metadata.duration == 8.0 and done.hls.status == "COMPLETE"
    tasks = list(client.tasks.list(index_id=index_id, status=["ready"]))  # 7
    assert [t.id for t in tasks] == [task.id] and tasks[0].system_metadata.filename == "ocean-waves.mp4"

    # videos: list (with user-metadata filter), retrieve (with embeddings), update
    videos = list(client.indexes.videos.list(index_id, user_metadata={"job": "a"}))  # 8
    assert [v.id for v in videos] == [task.video_id] and videos[0].system_metadata.width == 640
    video = client.indexes.videos.retrieve(index_id, task.video_id, embedding_option=["visual-text"])  # 9
    assert video.system_metadata.duration == 8.0 and video.user_metadata == {"job": "a"}
    assert len(video.embedding.video_embedding.segments[0].float_) == 1024
    client.indexes.videos.update(index_id, task.video_id, user_metadata={"job": None, "reviewed": True})  # 10
    assert client.indexes.videos.retrieve(index_id, task.video_id).user_metadata == {"reviewed": True}

    # search + page by token
    result = client.search.query(
        index_id=index_id,
        search_options=["visual", "audio"],
        query_text="blue ocean",
        page_limit=1,
        threshold="none",
        group_by="clip",
    )  # 11
    hits = list(result)
    assert hits[0].video_id == task.video_id and hits[0].score > 30 and hits[0].confidence == "high"
    assert len(hits) == 2  # the pager followed next_page_token through GET /search/{token}
    first = client.search.create(index_id=index_id, search_options=["visual"], query_text="blue ocean", page_limit=1)
    page2 = client.search.retrieve(first.page_info.next_page_token, include_user_metadata=True)  # 12
    assert page2.data[0].video_id == task.video_id and page2.page_info.prev_page_token
    assert page2.data[0].user_metadata == {"reviewed": True}

    # generation
    gist = client.gist(video_id=task.video_id, types=["title", "topic", "hashtag"])  # 13
    assert gist.title and gist.topics and gist.hashtags and gist.usage.output_tokens > 0
    summary = client.summarize(video_id=task.video_id, type="summary", prompt="short")  # 14
    assert summary.summarize_type == "summary" and "ocean" in summary.summary
    chapters = client.summarize(video_id=task.video_id, type="chapter")
    assert chapters.chapters[0].chapter_number == 0 and chapters.chapters[-1].end_sec <= 8.0
    highlights = client.summarize(video_id=task.video_id, type="highlight")
    assert highlights.highlights[0].highlight
    analysis = client.analyze(video_id=task.video_id, prompt="What is shown?")  # 15
    assert analysis.finish_reason == "stop" and "What is shown?" in analysis.data
    structured = client.analyze(
        video_id=task.video_id,
        prompt="json",
        response_format=ResponseFormat(
            type="json_schema", json_schema={"type": "object", "properties": {"title": {"type": "string"}}}
        ),
    )
    assert isinstance(json.loads(structured.data)["title"], str)
    events = list(client.analyze_stream(video_id=task.video_id, prompt="What is shown?"))  # 16
    assert events[0].event_type == "stream_start" and events[-1].event_type == "stream_end"
    assert "".join(e.text for e in events if e.event_type == "text_generation") == analysis.data
    assert events[-1].metadata.usage.output_tokens == analysis.usage.output_tokens

    # embeddings
    media = samples / "media"
    with (media / "still.jpg").open("rb") as img, (media / "tone.wav").open("rb") as wav:
        emb = client.embed.create(
            model_name="Marengo-retrieval-2.7", text="blue ocean", image_file=img, audio_file=wav
        )  # 17
    assert len(emb.text_embedding.segments[0].float_) == 1024
    assert emb.image_embedding.metadata.input_filename == "still.jpg"
    assert emb.audio_embedding.segments[0].start_offset_sec == 0
    with (samples / "videos" / "forest-walk.mp4").open("rb") as fh:
        etask = client.embed.tasks.create(
            model_name="Marengo-retrieval-2.7",
            video_file=fh,
            video_clip_length=2,
            video_embedding_scope=["clip", "video"],
        )  # 18
    status = wait(lambda: client.embed.tasks.status(etask.id), lambda s: s.status in ("ready", "failed"))  # 19
    assert status.status == "ready" and status.video_embedding.metadata.duration == 5.0
    etasks = list(client.embed.tasks.list(status="ready"))  # 20
    assert [t.id for t in etasks] == [etask.id] and etasks[0].created_at is not None
    got = client.embed.tasks.retrieve(etask.id, embedding_option=["visual-text"])  # 21
    segments = got.video_embedding.segments
    assert {s.embedding_option for s in segments} == {"visual-text"}
    assert {s.embedding_scope for s in segments} == {"clip", "video"} and len(segments[0].float_) == 1024

    # imports
    imported = client.tasks.transfers.create("local", index_id=index_id, user_metadata={"from": "import"})  # 22
    assert [v.filename for v in imported.videos] == ["city-traffic.mov"] and imported.failed_files == []
    state = wait(
        lambda: client.tasks.transfers.get_status("local", index_id=index_id), lambda s: len(s.ready) == 1
    )  # 23
    assert state.ready[0].video_id == imported.videos[0].video_id and state.not_imported == []
    logs = client.tasks.transfers.get_logs("local")  # 24
    assert logs.data[0].index_id == index_id and logs.data[0].video_status.ready == 1

    # deletions: a ready task only after its video
    with pytest.raises(BadRequestError) as info:
        client.tasks.delete(task.id)
    assert info.value.body["code"] == "task_cannot_be_deleted"
    client.indexes.videos.delete(index_id, task.video_id)  # 25
    client.tasks.delete(task.id)  # 26
    client.indexes.delete(index_id)  # (indexes.delete)
    with pytest.raises(ApiError) as missing:
        client.indexes.retrieve(index_id)
    assert missing.value.status_code == 404 and missing.value.body["code"] == "resource_not_exist"


def test_sdk_sees_typed_errors(make_emulator) -> None:  # type: ignore[no-untyped-def]
    emu = make_emulator()
    client = TwelveLabs(api_key="test-key", base_url=emu.base_url)
    with pytest.raises(BadRequestError) as info:
        client.indexes.create(
            index_name="x", models=[IndexesCreateRequestModelsItem(model_name="nope", model_options=["visual"])]
        )
    assert info.value.body["code"] == "parameter_invalid" and "models[0].model_name" in info.value.body["message"]
    import httpx

    httpx.post(f"{emu.admin_url}/faults", json={"rate_limit_next": 1})
    with pytest.raises(TooManyRequestsError) as limited:  # the SDK maps 429 on the generation endpoints
        client.gist(video_id="0" * 24, types=["title"])
    assert limited.value.body["code"] == "too_many_requests" and limited.value.headers["retry-after"] == "1"
    with pytest.raises(ApiError) as auth:
        TwelveLabs(api_key="bad", base_url=emu.base_url).indexes.retrieve("0" * 24)
    assert auth.value.status_code == 401 and auth.value.body["code"] == "api_key_invalid"
