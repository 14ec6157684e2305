"""Classic operations over real loopback HTTP against the strict classic emulator, plus injected faults
(the fault and transport tests run against both surfaces)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from twelvelabs_client import TwelveLabsClient
from twelvelabs_client.errors import (
    AuthenticationError,
    ConflictError,
    DeadlineExceededError,
    InvalidParameterError,
    NotFoundError,
    ServerError,
)
from twelvelabs_client.models import (
    StreamEndEvent,
    StreamStartEvent,
    TaskStatus,
    TextGenerationEvent,
)
from twelvelabs_client.webhooks import parse_webhook

from tests.client.conftest import EmulatorEnv
from tests.client.helpers import FakeClock

MODELS = [
    {"model_name": "marengo2.7", "model_options": ["visual", "audio"]},
    {"model_name": "pegasus1.2", "model_options": ["visual", "audio"]},
]


def wait_for(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60.0) -> Any:
    end = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > end:
            return value
        time.sleep(0.05)


@pytest.fixture(scope="module")
def world(tl_emulator: EmulatorEnv) -> dict[str, Any]:
    """One index with one indexed video, shared by the read-only tests."""
    client = tl_emulator.client()
    index = client.create_index(f"client-tests-{uuid.uuid4().hex[:8]}", MODELS, addons=["thumbnail"])
    video_path = tl_emulator.samples / "videos" / "ocean-waves.mp4"
    created = client.create_task(
        index.id, video_file=video_path, user_metadata={"category": "nature", "n": 3}, idempotency_key="world-1"
    )
    task = wait_for(lambda: client.get_task(created.id), lambda t: t.is_terminal)
    assert task.status == TaskStatus.READY, task
    return {
        "client": client,
        "index_id": index.id,
        "task_id": created.id,
        "video_id": task.video_id,
        "samples": tl_emulator.samples,
    }


@pytest.fixture
def fresh_index(tl_emulator: EmulatorEnv) -> str:
    client = tl_emulator.client()
    return client.create_index(f"fresh-{uuid.uuid4().hex[:8]}", MODELS).id


def test_indexes_crud(tl_emulator: EmulatorEnv) -> None:
    client = tl_emulator.client()
    name = f"crud-{uuid.uuid4().hex[:8]}"
    created = client.create_index(name, MODELS)  # 1 create
    index = client.get_index(created.id)  # 2 retrieve
    assert index.index_name == name and {m.model_name for m in index.models} == {"marengo2.7", "pegasus1.2"}
    client.update_index(created.id, name + "-renamed")  # 3 update
    assert client.get_index(created.id).index_name == name + "-renamed"
    page = client.list_indexes(index_name=name + "-renamed")  # 4 list
    assert [i.id for i in page.data] == [created.id]
    assert created.id in {i.id for i in client.iter_indexes(page_limit=1)}
    with pytest.raises(ConflictError) as info:
        client.create_index(name + "-renamed", MODELS)
    assert info.value.code == "index_name_already_exists"
    assert client.get_or_create_index(name + "-renamed", MODELS).id == created.id
    client.delete_index(created.id)  # 5 delete
    with pytest.raises(NotFoundError):
        client.get_index(created.id)


def test_tasks_and_videos(tl_emulator: EmulatorEnv, world: dict[str, Any]) -> None:
    client: TwelveLabsClient = world["client"]
    index_id, video_id = world["index_id"], world["video_id"]
    task = client.get_task(world["task_id"])  # 6 retrieve task
    assert task.index_id == index_id and task.video_id == video_id
    tasks = client.list_tasks(index_id=index_id, status=["ready", "failed"])  # 7 list tasks
    assert world["task_id"] in [t.id for t in tasks.data]
    assert world["task_id"] in [t.id for t in client.iter_tasks(index_id=index_id, page_limit=1)]
    videos = client.list_videos(index_id)  # 8 list videos
    assert [v.id for v in videos.data] == [video_id]
    assert [v.id for v in client.iter_videos(index_id, user_metadata={"category": "nature"})] == [video_id]
    assert list(client.iter_videos(index_id, user_metadata={"category": "sports"})) == []
    video = client.get_video(index_id, video_id, embedding_option=["visual-text", "audio"], transcription=True)  # 9
    assert video.system_metadata is not None and video.system_metadata.width == 640
    assert video.system_metadata.filename == "ocean-waves.mp4"
    assert video.embedding is not None and video.embedding.video_embedding is not None
    assert (
        video.embedding.video_embedding.segments
        and len(video.embedding.video_embedding.segments[0].float_ or []) == 1024
    )
    assert video.user_metadata is not None and video.user_metadata["job_key"] == "world-1"
    client.update_video(index_id, video_id, {"category": "sea", "n": None, "reviewed": True})  # 10 patch
    meta = client.get_video(index_id, video_id).user_metadata
    assert meta is not None and meta["category"] == "sea" and meta["reviewed"] is True and "n" not in meta
    found = client.find_task_by_metadata(index_id, "job_key", "world-1")
    assert found is not None and found.id == world["task_id"]


def test_create_task_from_url_and_delete(tl_emulator: EmulatorEnv, fresh_index: str) -> None:
    client = tl_emulator.client()
    url = f"{tl_emulator.sink.files_url}/videos/city-traffic.mov?X-Amz-Signature=abc&X-Amz-Expires=900"
    created = client.create_task(fresh_index, video_url=url, enable_video_stream=False)  # 11 create task
    task = wait_for(lambda: client.get_task(created.id), lambda t: t.is_terminal)
    assert task.status == "ready" and task.system_metadata is not None
    with pytest.raises(ConflictError) as info:
        client.delete_task(created.id)  # a ready task's video must go first
    assert info.value.code == "task_cannot_be_deleted"
    client.delete_video(fresh_index, task.video_id)  # 12 delete video
    with pytest.raises(NotFoundError):
        client.get_video(fresh_index, task.video_id)
    client.delete_task(created.id)  # 13 delete task
    with pytest.raises(NotFoundError):
        client.get_task(created.id)


def test_invalid_media_is_rejected_or_fails(tl_emulator: EmulatorEnv, fresh_index: str) -> None:
    client = tl_emulator.client()
    try:
        created = client.create_task(fresh_index, video_file=tl_emulator.samples / "bad" / "short-2s.mp4")
    except InvalidParameterError as error:
        assert error.code == "video_duration_too_short"
    else:
        task = wait_for(lambda: client.get_task(created.id), lambda t: t.is_terminal)
        assert task.status == TaskStatus.FAILED


def test_search_and_pages(world: dict[str, Any]) -> None:
    client: TwelveLabsClient = world["client"]
    first = client.search(
        world["index_id"],
        search_options=["visual", "audio"],
        query_text="waves",  # 14 search
        page_limit=1,
        include_user_metadata=True,
    )
    assert first.data and first.data[0].video_id == world["video_id"]
    hits = list(client.iter_search(world["index_id"], search_options=["visual"], query_text="ocean", page_limit=1))
    assert hits and all(h.video_id == world["video_id"] for h in hits)
    if first.next_page_token:
        second = client.get_search_page(first.next_page_token, include_user_metadata=True)  # 15 page
        assert second.page_info is not None
    else:  # only one clip matched: page retrieval still has to work on an invalid token
        with pytest.raises(InvalidParameterError):
            client.get_search_page("not-a-token")
    grouped = client.search(world["index_id"], search_options=["visual"], query_text="water", group_by="video")
    assert grouped.data and grouped.data[0].clips
    assert image_search_works(client, world["index_id"], world["samples"])


def image_search_works(client: TwelveLabsClient, index_id: str, samples: Any) -> bool:
    page = client.search(index_id, search_options=["visual"], query_media_file=samples / "media" / "still.jpg")
    return page.search_pool is not None and page.search_pool.index_id in (None, index_id)


def test_generate(world: dict[str, Any]) -> None:
    client: TwelveLabsClient = world["client"]
    gist = client.gist(world["video_id"], ["title", "topic", "hashtag"])  # 16 gist
    assert gist.title and gist.topics is not None
    summary = client.summarize(world["video_id"], "chapter", prompt="brief")  # 17 summarize
    assert summary.chapters and summary.chapters[0].chapter_number == 0
    result = client.analyze(world["video_id"], "What is in the video?", max_tokens=200)  # 18 analyze
    assert result.data and result.finish_reason in ("stop", "length")
    events = list(client.analyze_stream(world["video_id"], "Describe it"))
    assert isinstance(events[0], StreamStartEvent) and isinstance(events[-1], StreamEndEvent)
    assert any(isinstance(e, TextGenerationEvent) for e in events)
    with pytest.raises(NotFoundError):
        client.analyze("0" * 24, "p")


def test_embeddings(tl_emulator: EmulatorEnv) -> None:
    client = tl_emulator.client()
    media = tl_emulator.samples / "media"
    emb = client.create_embedding(
        text="waves on a beach",
        image_file=media / "still.jpg",  # 19 embed
        audio_file=media / "tone.wav",
    )
    assert emb.text_embedding is not None and len(emb.text_embedding.segments[0].float_ or []) == 1024
    assert emb.image_embedding is not None and emb.audio_embedding is not None
    created = client.create_embedding_task(
        video_file=tl_emulator.samples / "videos" / "forest-walk.mp4",  # 20
        video_clip_length=4,
        video_embedding_scope=["clip", "video"],
    )
    status = wait_for(lambda: client.get_embedding_task_status(created.id), lambda s: s.is_terminal)  # 21 status
    assert status.status == "ready"
    listed = client.list_embedding_tasks(status="ready")  # 22 list
    assert created.id in [t.id for t in listed.data]
    assert created.id in [t.id for t in client.iter_embedding_tasks(page_limit=1)]
    task = client.get_embedding_task(created.id, embedding_option="visual-text")  # 23 retrieve
    assert task.video_embedding is not None and task.video_embedding.segments
    assert {s.embedding_scope for s in task.video_embedding.segments} == {"clip", "video"}


def test_imports(tl_emulator: EmulatorEnv, fresh_index: str) -> None:
    client = tl_emulator.client()
    result = client.create_import(
        tl_emulator.integration_id,
        fresh_index,
        incremental_import=True,  # 24 import
        user_metadata={"source": "import"},
    )
    assert result.videos or result.failed_files
    status = client.get_import_status(tl_emulator.integration_id, fresh_index)  # 25 status
    assert isinstance(status.ready, list)
    logs = client.get_import_logs(tl_emulator.integration_id)  # 26 logs
    assert any(log.index_id == fresh_index for log in logs)


def test_auth_error(emu: EmulatorEnv) -> None:
    client = TwelveLabsClient(api_key="wrong", base_url=emu.base_url)
    with pytest.raises(AuthenticationError) as info:
        client.list_indexes()
    assert str(info.value).startswith("api_key_invalid: ")


# --- faults ---------------------------------------------------------------------------------------


MODELS_BY_SURFACE = {"classic": MODELS, "current": [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]}


@pytest.fixture(params=["classic", "current"])
def surface(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def emu(surface: str, request: pytest.FixtureRequest) -> EmulatorEnv:
    """The strict emulator of either surface (the fault and transport tests run against both)."""
    env: EmulatorEnv = request.getfixturevalue("tl_emulator" if surface == "classic" else "tl_current")
    return env


@pytest.fixture
def faults(emu: EmulatorEnv):
    emu.admin("DELETE", "/faults")
    emu.admin("DELETE", "/requests")
    yield lambda **kw: emu.admin("POST", "/faults", json=kw)
    emu.admin("DELETE", "/faults")


def _log(tl_emulator: EmulatorEnv) -> list[dict[str, Any]]:
    body = tl_emulator.admin("GET", "/requests")
    return body["data"] if isinstance(body, dict) else body


@pytest.mark.parametrize("key", ["job-500", None])
def test_500_after_create_leaves_exactly_one_task(emu: EmulatorEnv, surface: str, faults, key) -> None:
    client = emu.client()
    index_id = client.create_index(f"t500-{uuid.uuid4().hex[:8]}", MODELS_BY_SURFACE[surface]).id
    faults(error_after_create_next=1, path_prefix="/v1.3/tasks")
    created = client.create_task(index_id, video_file=emu.samples / "videos" / "ocean-waves.mp4", idempotency_key=key)
    assert created.recovered
    tasks = client.list_tasks(index_id=index_id).data
    assert [t.id for t in tasks] == [created.id]
    posts = [r for r in _log(emu) if r["method"] == "POST" and r["path"] == "/v1.3/tasks"]
    assert [r["status"] for r in posts] == [500]


def test_500_after_create_index(emu: EmulatorEnv, surface: str, faults) -> None:
    client = emu.client()
    name = f"amb-{uuid.uuid4().hex[:8]}"
    faults(error_after_create_next=1, path_prefix="/v1.3/indexes")
    created = client.create_index(name, MODELS_BY_SURFACE[surface])
    assert created.recovered and [i.id for i in client.list_indexes(index_name=name).data] == [created.id]


def test_500_after_create_embed_task(tl_emulator: EmulatorEnv) -> None:
    tl_emulator.admin("DELETE", "/requests")
    client = tl_emulator.client()
    url = f"{tl_emulator.sink.files_url}/videos/forest-walk.mp4?sig={uuid.uuid4().hex}"
    tl_emulator.admin("POST", "/faults", json={"error_after_create_next": 1, "path_prefix": "/v1.3/embed/tasks"})
    try:
        task = client.create_embedding_task(video_url=url)
    finally:
        tl_emulator.admin("DELETE", "/faults")
    assert task.recovered
    posts = [r for r in _log(tl_emulator) if r["method"] == "POST" and r["path"] == "/v1.3/embed/tasks"]
    assert [r["status"] for r in posts] == [500]


def test_rate_limit_storm_is_ridden_out(emu: EmulatorEnv, faults) -> None:
    sleeps: list[float] = []
    client = emu.client(sleep=sleeps.append)
    faults(rate_limit_next=3)
    assert client.list_indexes().data is not None
    assert len(sleeps) == 3 and all(s >= 1.0 for s in sleeps)  # Retry-After: 1 honoured


def test_deadline_during_server_errors(emu: EmulatorEnv, faults) -> None:
    # Injected clock: sleeps advance it, so the deadline is reached by behaviour (retries + backoff),
    # never measured against wall time.
    clock = FakeClock()
    client = emu.client(
        backoff_base=1.0, backoff_max=4.0, max_retries=20, sleep=clock.sleep, clock=clock.time, rand=lambda: 1.0
    )
    faults(server_error_rate=1.0, path_prefix="/v1.3/indexes")
    end = clock.now + 6.0
    with pytest.raises(DeadlineExceededError) as info:
        client.with_deadline(lambda: end - clock.now).list_indexes()
    assert clock.sleeps == [1.0, 2.0] and clock.now <= end  # the next 4 s wait would pass the deadline
    assert isinstance(info.value.__cause__, ServerError)
    assert len([r for r in _log(emu) if r["status"] == 500]) == 3


def test_read_timeout_is_retried(emu: EmulatorEnv, faults) -> None:
    client = emu.client(read_timeout=0.2, max_retries=1, backoff_base=0.01)
    faults(latency_ms=400, path_prefix="/v1.3/indexes")
    from twelvelabs_client.errors import APITimeoutError

    with pytest.raises(APITimeoutError):
        client.list_indexes()
    # The server logs a request when it finishes it, after our timeout: wait for both attempts.
    log = wait_for(lambda: _log(emu), lambda entries: len([r for r in entries if r["path"] == "/v1.3/indexes"]) >= 2, 5)
    assert len([r for r in log if r["path"] == "/v1.3/indexes"]) == 2


def test_webhook_from_emulator_verifies(tl_emulator: EmulatorEnv, world: dict[str, Any]) -> None:
    hooks = wait_for(
        lambda: list(tl_emulator.sink.webhooks),
        lambda h: any(b'"' + world["task_id"].encode() + b'"' in body for _, body in h),
        timeout=10,
    )
    headers, body = next((h, b) for h, b in hooks if world["task_id"].encode() in b)
    event = parse_webhook(body, headers.get("tl-signature"), tl_emulator.webhook_secret)
    assert event.type == "index.task.ready" and event.task_id == world["task_id"] and event.status == "ready"


def test_shared_emulator_fixture_differs_only_by_settings(emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite-wide `emulator` fixture, reached purely through TWELVELABS_* environment settings."""
    monkeypatch.setenv("TWELVELABS_BASE_URL", str(emulator.base_url))
    monkeypatch.setenv("TWELVELABS_API_KEY", "test-key")
    monkeypatch.setenv("TWELVELABS_READ_TIMEOUT", "10")
    client = TwelveLabsClient.from_env()
    created = client.create_index("from-env", MODELS)
    assert client.get_index(created.id).index_name == "from-env"
    assert [i.id for i in client.iter_indexes()] == [created.id]
