"""The current surface (SDK 1.3.6) over real loopback HTTP against the strict emulator (surface="current")."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from twelvelabs_client import TwelveLabsClient
from twelvelabs_client.errors import APIConnectionError, ConflictError, NotFoundError, ProcessingFailedError
from twelvelabs_client.models import StreamEndEvent, StreamStartEvent, video_asset
from twelvelabs_client.webhooks import AnalyzeTaskWebhookEvent, parse_webhook_event

from tests.client.conftest import DRIVE_ACCOUNT, DropAnswers, EmulatorEnv

MODELS = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]


def wait_for(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60.0) -> Any:
    """Poll for an event with a bound (the bound is never asserted as a duration)."""
    end = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > end:
            return value
        time.sleep(0.05)


@pytest.fixture(scope="module")
def world(tl_current: EmulatorEnv) -> dict[str, Any]:
    """A ready asset indexed into a Marengo 3.0 index, shared by the read-only tests."""
    client = tl_current.client()
    asset = client.create_asset(
        file=tl_current.samples / "videos" / "ocean-waves.mp4",
        user_metadata={"category": "nature"},
        idempotency_key=f"world-{uuid.uuid4().hex}",
    )
    asset = client.wait_for_asset(asset.id, initial_interval=0.05, max_interval=0.2, timeout=60)
    index = client.create_index(f"current-{uuid.uuid4().hex[:8]}", MODELS)
    indexed = client.create_indexed_asset(index.id, asset.id, user_metadata={"n": 1}, idempotency_key="world-ia")
    ready = client.wait_for_indexed_asset(index.id, indexed.id, initial_interval=0.05, max_interval=0.2, timeout=60)
    return {"client": client, "asset": asset, "index_id": index.id, "indexed": ready, "location": indexed.location}


def test_assets_direct_and_metadata(world: dict[str, Any]) -> None:
    client: TwelveLabsClient = world["client"]
    asset = world["asset"]
    assert asset.status == "ready" and asset.filename == "ocean-waves.mp4" and asset.method == "direct"
    assert asset.user_metadata is not None and asset.user_metadata["category"] == "nature"
    assert asset.id in {a.id for a in client.iter_assets(filename="ocean", page_limit=1)}
    assert asset.id in {a.id for a in client.list_assets(asset_types=["video"]).data}
    client.update_asset_metadata(asset.id, {"category": None, "rating": 5})
    meta = client.get_asset(asset.id).user_metadata or {}
    assert "category" not in meta and meta["rating"] == 5
    client.replace_asset_metadata(asset.id, {"only": "this"})
    assert client.get_asset(asset.id).user_metadata == {"only": "this"}
    refs = client.list_asset_indexed_assets(asset.id)
    assert [r.id for r in refs.data] == [world["indexed"].id]
    with pytest.raises(ConflictError):
        client.delete_asset(asset.id)  # an indexed asset uses it


def test_asset_by_url_and_delete(tl_current: EmulatorEnv) -> None:
    client = tl_current.client()
    url = f"{tl_current.sink.files_url}/videos/forest-walk.mp4?X-Amz-Signature={uuid.uuid4().hex}"
    asset = client.create_asset(url=url)
    assert asset.method == "url" and asset.filename == "forest-walk.mp4"
    ready = client.wait_for_asset(asset.id, initial_interval=0.05, max_interval=0.2, timeout=60)
    assert ready.status == "ready"
    client.delete_asset_metadata(asset.id)
    client.delete_asset(asset.id)
    with pytest.raises(NotFoundError):
        client.get_asset(asset.id)


def test_multipart_upload_of_a_large_file(tl_current: EmulatorEnv) -> None:
    client = tl_current.client()
    path = tl_current.samples / "videos" / "city-traffic.mov"
    assert path.stat().st_size > 3 * 16 * 1024  # several chunks, more than the 2 initial URLs
    key = f"mp-{uuid.uuid4().hex}"
    asset = client.upload_asset_multipart(path, type="video", idempotency_key=key)
    ready = client.wait_for_asset(asset.id, initial_interval=0.05, max_interval=0.2, timeout=60)
    assert ready.status == "ready" and ready.size == path.stat().st_size
    again = client.upload_asset_multipart(path, type="video", idempotency_key=key)
    assert again.id == asset.id and again.recovered


class _ChunkStoreDown(httpx.BaseTransport):
    """Loopback transport on which chunk PUTs fail (connection refused) after the first `ok` succeeded."""

    def __init__(self, ok: int) -> None:
        self.inner, self.ok = httpx.HTTPTransport(), ok

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and "/_uploads/" in request.url.path:
            if self.ok <= 0:
                raise httpx.ConnectError("chunk store down", request=request)
            self.ok -= 1
        return self.inner.handle_request(request)


def test_interrupted_multipart_upload_is_resumed_by_a_rerun(tl_current: EmulatorEnv) -> None:
    """A run dies mid-upload (the session's asset is reserved, `processing`, never completed): the re-run with
    the same key resumes that session instead of returning an asset that can never become ready."""
    path = tl_current.samples / "videos" / "city-traffic.mov"
    name, key = f"resume-{uuid.uuid4().hex[:8]}.mov", f"mp-{uuid.uuid4().hex}"
    broken = tl_current.client(transport=_ChunkStoreDown(ok=2), sleep=lambda _: None)
    with pytest.raises(APIConnectionError):
        broken.upload_asset_multipart(path, type="video", filename=name, idempotency_key=key)
    [reserved] = tl_current.client().list_assets(filename=name).data
    assert reserved.status == "processing"
    client = tl_current.client()
    asset = client.upload_asset_multipart(path, type="video", filename=name, idempotency_key=key)
    assert asset.id == reserved.id and asset.recovered
    ready = client.wait_for_asset(asset.id, initial_interval=0.05, max_interval=0.2, timeout=60)
    assert ready.status == "ready" and ready.size == path.stat().st_size
    assert [a.id for a in client.list_assets(filename=name).data] == [asset.id]


@pytest.mark.parametrize("strip_key", [True, False])
def test_ambiguous_asset_create_leaves_one_asset(tl_current: EmulatorEnv, strip_key: bool) -> None:
    drop = DropAnswers("/assets", strip_key=strip_key)
    client = tl_current.client(transport=drop)
    name = f"amb-{uuid.uuid4().hex[:8]}.mp4"
    asset = client.create_asset(
        file=tl_current.samples / "videos" / "ocean-waves.mp4",
        filename=name,
        idempotency_key=None if strip_key else "amb-key",
    )
    assert asset.recovered and drop.posts == 1
    assert [a.id for a in client.list_assets(filename=name).data] == [asset.id]


@pytest.mark.parametrize("strip_key", [True, False])
def test_ambiguous_indexed_asset_create_leaves_one(
    tl_current: EmulatorEnv, world: dict[str, Any], strip_key: bool
) -> None:
    client = tl_current.client(transport=DropAnswers("/indexed-assets", strip_key=strip_key))
    index_id = client.create_index(f"amb-{uuid.uuid4().hex[:8]}", MODELS).id
    created = client.create_indexed_asset(index_id, world["asset"].id, idempotency_key=f"ia-{strip_key}")
    assert created.recovered
    assert [i.id for i in client.list_indexed_assets(index_id).data] == [created.id]


def test_indexed_assets(world: dict[str, Any]) -> None:
    client: TwelveLabsClient = world["client"]
    index_id, indexed = world["index_id"], world["indexed"]
    assert world["location"].endswith(f"/indexes/{index_id}/indexed-assets/{indexed.id}")
    assert indexed.status == "ready" and indexed.asset_id == world["asset"].id
    listed = client.list_indexed_assets(index_id, status=["ready"], filename="ocean-waves.mp4")
    assert [i.id for i in listed.data] == [indexed.id]
    detail = client.get_indexed_asset(index_id, indexed.id, embedding_option=["visual", "audio"])
    assert detail.embedding is not None and detail.embedding.video_embedding is not None
    assert len(detail.embedding.video_embedding.segments[0].float_ or []) == 512
    client.update_indexed_asset(index_id, indexed.id, {"n": None, "reviewed": True})
    meta = client.get_indexed_asset(index_id, indexed.id).user_metadata or {}
    assert meta.get("reviewed") is True and "n" not in meta
    again = client.create_indexed_asset(index_id, world["asset"].id, idempotency_key="world-ia")
    assert again.id == indexed.id and again.recovered


def test_search_current(world: dict[str, Any]) -> None:
    client: TwelveLabsClient = world["client"]
    page = client.search(world["index_id"], search_options=["visual", "audio"], query_text="waves", page_limit=5)
    assert page.data and page.data[0].video_id == world["indexed"].id
    assert page.data[0].rank == 1 and page.data[0].score is None
    grouped = client.search(world["index_id"], search_options=["visual"], query_text="water", group_by="video")
    assert grouped.data and grouped.data[0].clips


def test_analyze_sync_and_stream(world: dict[str, Any]) -> None:
    client: TwelveLabsClient = world["client"]
    result = client.analyze(video=video_asset(world["asset"].id), prompt="What is in the video?", max_tokens=512)
    assert result.data and result.finish_reason in ("stop", "length")
    events = list(client.analyze_stream(video=video_asset(world["asset"].id), prompt="Describe it"))
    assert isinstance(events[0], StreamStartEvent) and isinstance(events[-1], StreamEndEvent)
    with pytest.raises(NotFoundError):
        client.analyze(video=video_asset("0" * 24), prompt="p")


def test_analyze_tasks_and_webhooks(tl_current: EmulatorEnv, world: dict[str, Any]) -> None:
    client: TwelveLabsClient = world["client"]
    key = f"an-{uuid.uuid4().hex[:8]}"
    created = client.create_analyze_task(video=video_asset(world["asset"].id), prompt="Summarise", idempotency_key=key)
    again = client.create_analyze_task(video=video_asset(world["asset"].id), prompt="Summarise", idempotency_key=key)
    assert again.task_id == created.task_id and again.recovered
    task = client.wait_for_analyze_task(created.task_id, initial_interval=0.05, max_interval=0.2, timeout=60)
    assert task.custom_id == key and task.result is not None and task.result.data
    assert created.task_id in {t.task_id for t in client.iter_analyze_tasks(asset_id=world["asset"].id)}
    hooks = wait_for(
        lambda: list(tl_current.sink.webhooks), lambda h: any(created.task_id.encode() in body for _, body in h)
    )
    headers, body = next((h, b) for h, b in hooks if created.task_id.encode() in b)
    event = parse_webhook_event(body, headers.get("tl-signature"), tl_current.webhook_secret)
    assert isinstance(event, AnalyzeTaskWebhookEvent) and event.type == "analyze.task.ready"
    assert event.task_id == created.task_id and event.data.custom_id == key
    client.delete_analyze_task(created.task_id)
    with pytest.raises(NotFoundError):
        client.get_analyze_task(created.task_id)


def test_analyze_task_cancel_and_failure(tl_current: EmulatorEnv, world: dict[str, Any]) -> None:
    client: TwelveLabsClient = world["client"]
    created = client.create_analyze_task(video=video_asset(world["asset"].id), prompt="Long job")
    try:
        canceled = client.cancel_analyze_task(created.task_id)
    except ConflictError:  # it finished before the cancel arrived (a loaded machine): then it is terminal
        assert client.get_analyze_task(created.task_id).is_terminal
    else:
        assert canceled.status == "canceled"
        assert client.cancel_analyze_task(created.task_id).status == "canceled"  # repeat cancels answer the same
        with pytest.raises(ProcessingFailedError) as info:
            client.wait_for_analyze_task(created.task_id, initial_interval=0.05, timeout=30)
        assert info.value.resource.status == "canceled"
    tl_current.admin("POST", "/faults", json={"fail_next_analyze_tasks": 1})
    try:
        failing = client.create_analyze_task(video=video_asset(world["asset"].id), prompt="Doomed")
        with pytest.raises(ProcessingFailedError) as info:
            client.wait_for_analyze_task(failing.task_id, initial_interval=0.05, max_interval=0.2, timeout=60)
        assert info.value.resource.status == "failed"
    finally:
        tl_current.admin("DELETE", "/faults")


def test_ambiguous_analyze_task_create_leaves_one(tl_current: EmulatorEnv, world: dict[str, Any]) -> None:
    client = tl_current.client(transport=DropAnswers("/analyze/tasks", strip_key=True))
    key = f"amb-{uuid.uuid4().hex[:8]}"
    created = client.create_analyze_task(video=video_asset(world["asset"].id), prompt="p", idempotency_key=key)
    assert created.recovered
    mine = [t for t in client.iter_analyze_tasks(asset_id=world["asset"].id) if t.custom_id == key]
    assert [t.task_id for t in mine] == [created.task_id]


def test_embed_v2(tl_current: EmulatorEnv, world: dict[str, Any]) -> None:
    client = tl_current.client()
    text = client.embed_v2("text", text="waves on a beach")
    assert len(text.data[0].embedding) == 512
    url = f"{tl_current.sink.files_url}/videos/forest-walk.mp4?sig={uuid.uuid4().hex}"
    created = client.create_embed_v2_task("video", video={"media_source": {"url": url}})
    assert created.location is not None and created.id in created.location
    done = client.wait_for_embed_v2_task(created.id, initial_interval=0.05, max_interval=0.2, timeout=60)
    assert done.data and len(done.data[0].embedding) == 512
    assert created.id in {t.id for t in client.iter_embed_v2_tasks(page_limit=5)}
    sync_video = client.embed_v2(
        "video",
        video={
            "media_source": {"asset_id": world["asset"].id},
            "embedding_option": ["visual"],
            "embedding_scope": ["clip"],
        },
    )
    assert sync_video.data and all(len(d.embedding) == 512 for d in sync_video.data)


def test_ambiguous_embed_v2_task_by_url_leaves_one(tl_current: EmulatorEnv) -> None:
    client = tl_current.client(transport=DropAnswers("/embed-v2/tasks", strip_key=True))
    url = f"{tl_current.sink.files_url}/videos/forest-walk.mp4?sig={uuid.uuid4().hex}"
    created = client.create_embed_v2_task("video", video={"media_source": {"url": url}})
    assert created.recovered
    matching = [t for t in client.iter_embed_v2_tasks() if t.input_url() == url]
    assert [t.id for t in matching] == [created.id]


def test_connections_and_imports(tl_current: EmulatorEnv) -> None:
    client = tl_current.client()
    redirect = f"https://app-{uuid.uuid4().hex[:6]}.example.com/callback"
    registered = client.create_redirect_uri(redirect)
    assert client.create_redirect_uri(redirect).id == registered.id  # 409 -> the registered one
    auth = client.authorize_connection(redirect, custom_id="user-7")
    # plays the user's consent (params= would replace the URL's own query, so the account is appended)
    consent = httpx.get(f"{auth.authorize_url}&account={DRIVE_ACCOUNT}", follow_redirects=False, timeout=10)
    assert consent.is_redirect, consent.text
    query = parse_qs(urlsplit(consent.headers["location"]).query)
    assert query["status"] == ["ok"] and query["custom_id"] == ["user-7"]
    connection_id = query["connection_id"][0]
    connection = client.get_connection(connection_id)
    assert connection.status == "active" and connection.account is not None
    assert connection_id in {c.id for c in client.iter_connections()}
    token = client.create_picker_token(connection_id)
    assert token.access_token and token.expires_in
    result = client.create_connection_import(connection_id, ["drive-ocean", "drive-bad"], idempotency_key="imp-1")
    assert result.has_failures and [i.action for i in result.items] == ["created", "rejected"]
    assert result.items[1].error is not None and result.items[1].error.code == "unsupported_media_type"
    again = client.create_connection_import(connection_id, ["drive-ocean"])
    assert again.items[0].action == "skipped" and again.items[0].asset_id == result.items[0].asset_id
    assert result.id in {i.id for i in client.iter_connection_imports(connection_id)}
    assert client.get_connection_import(connection_id, result.id).items
    client.delete_redirect_uri(registered.id)
    client.delete_connection(connection_id)
    with pytest.raises(NotFoundError):
        client.get_connection(connection_id)


def test_removed_classic_operations_answer_not_found(tl_current: EmulatorEnv, world: dict[str, Any]) -> None:
    client = tl_current.client()
    with pytest.raises(NotFoundError):
        client.gist(world["indexed"].id, ["title"])
    with pytest.raises(NotFoundError):
        client.get_import_logs("integ")
