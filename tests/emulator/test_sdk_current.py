"""The official SDK 1.3.6 drives the current surface: every endpoint of assets, multipart uploads, indexes, indexed
assets, connections and imports (plus the legacy /tasks), and every answer parses into its types."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from helpers import sdk136

from twelvelabs_emulator import Emulator

NO_RETRY: dict[str, Any] = {"max_retries": 0}  # the SDK retries 409s; these tests want the first answer


def until(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.fixture()
def emu(make_emulator: Callable[..., Emulator], samples: Path) -> Emulator:
    account = {
        "external_id": "drive-1",
        "display_name": "ann@example.com",
        "files": {
            "vid": {"path": str(samples / "videos" / "forest-walk.mp4")},
            "locked": {"reject": "source_not_authorized"},
        },
    }
    return make_emulator(
        surface="current", drive_accounts=[account], multipart_chunk_size=25_000, multipart_initial_urls=1
    )


@pytest.fixture()
def client(emu: Emulator) -> Iterator[Any]:
    sdk = sdk136()
    yield sdk.TwelveLabs(api_key="test-key", base_url=emu.base_url)


def test_assets(client: Any, samples: Path) -> None:
    sdk = sdk136()
    video = samples / "videos" / "ocean-waves.mp4"
    with video.open("rb") as fh:
        created = client.assets.create(method="direct", file=fh, user_metadata='{"league": "A"}')
    assert isinstance(created, sdk.Asset) and created.status == "processing" and created.id
    asset = until(lambda: client.assets.retrieve(created.id), lambda a: a.status != "processing")
    assert isinstance(asset, sdk.AssetDetail) and asset.status == "ready" and asset.duration == 8.0
    assert asset.technical_metadata.video_width == 640 and asset.size == video.stat().st_size
    assert asset.hls.status == "ready" and asset.thumbnail.representative_url
    listed = list(client.assets.list(page_limit=1))  # the pager walks the pages
    assert [a.id for a in listed] == [created.id]
    assert [a.id for a in client.assets.list(asset_types=["video"], filename="ocean")] == [created.id]
    client.assets.update_user_metadata(created.id, user_metadata={"league": None, "round": 3})
    assert client.assets.retrieve(created.id).user_metadata == {"round": 3}
    client.assets.replace_user_metadata(created.id, user_metadata={"tags": ["a", "b"]})
    assert client.assets.retrieve(created.id).user_metadata == {"tags": ["a", "b"]}
    client.assets.delete_user_metadata(created.id)
    assert client.assets.retrieve(created.id).user_metadata is None
    with pytest.raises(sdk.NotFoundError):
        client.assets.retrieve_transcription(created.id)
    client.assets.delete(created.id)
    with pytest.raises(sdk.NotFoundError):
        client.assets.retrieve(created.id)
    with pytest.raises(sdk.BadRequestError) as bad:
        client.assets.create(method="url")
    assert bad.value.body["code"] == "parameter_not_provided"


def test_multipart_upload_endpoints(client: Any, samples: Path) -> None:
    sdk = sdk136()
    data = (samples / "videos" / "forest-walk.mp4").read_bytes()
    session = client.multipart_upload.create(filename="forest.mp4", type="video", total_size=len(data))
    assert isinstance(session, sdk.CreateAssetUploadResponse) and len(session.upload_urls) == 1
    assert [u.upload_id for u in client.multipart_upload.list_incomplete_uploads()] == [session.upload_id]
    more = client.multipart_upload.get_additional_presigned_urls(
        session.upload_id, start=2, count=session.total_chunks - 1
    )
    urls = {u.chunk_index: u.url for u in [*session.upload_urls, *more.upload_urls]}
    chunks = []
    for index in range(1, session.total_chunks + 1):
        part = data[(index - 1) * session.chunk_size : index * session.chunk_size]
        answer = httpx.put(urls[index], content=part, headers=session.upload_headers)
        chunks.append(
            sdk.CompletedChunk(
                chunk_index=index, proof=answer.headers["ETag"].strip('"'), proof_type="etag", chunk_size=len(part)
            )
        )
    report = client.multipart_upload.report_chunk_batch(session.upload_id, completed_chunks=chunks)
    assert isinstance(report, sdk.ReportChunkBatchResponse) and report.url and report.total_completed == len(chunks)
    statuses = list(client.multipart_upload.get_status(session.upload_id, page_limit=1))
    assert [c.status for c in statuses] == ["completed"] * session.total_chunks
    asset = until(lambda: client.assets.retrieve(session.asset_id), lambda a: a.status != "processing")
    assert asset.status == "ready" and asset.method == "multipart"


def test_indexes_and_indexed_assets(client: Any, samples: Path) -> None:
    sdk = sdk136()
    from twelvelabs_sdk136.indexes import IndexesCreateRequestModelsItem

    with pytest.raises(sdk.BadRequestError):
        client.indexes.create(
            index_name="old", models=[IndexesCreateRequestModelsItem(model_name="marengo2.7", model_options=["visual"])]
        )  # type: ignore[arg-type]
    index = client.indexes.create(
        index_name="sdk",
        models=[IndexesCreateRequestModelsItem(model_name="marengo3.0", model_options=["visual", "audio"])],
    )
    client.indexes.update(index.id, index_name="sdk-2")
    assert client.indexes.retrieve(index.id).index_name == "sdk-2"
    assert [i.id for i in client.indexes.list()] == [index.id]
    with (samples / "videos" / "ocean-waves.mp4").open("rb") as fh:
        created = client.assets.create(method="direct", file=fh)
    until(lambda: client.assets.retrieve(created.id), lambda a: a.status == "ready")
    indexed = client.indexes.indexed_assets.create(index.id, asset_id=created.id, user_metadata={"k": "v"})
    assert indexed.id and indexed.asset_id == created.id
    ready = until(
        lambda: client.indexes.indexed_assets.retrieve(index.id, indexed.id), lambda a: a.status in ("ready", "failed")
    )
    assert ready.status == "ready" and ready.system_metadata.duration == 8.0 and ready.user_metadata == {"k": "v"}
    detail = client.indexes.indexed_assets.retrieve(index.id, indexed.id, embedding_option=["visual"])
    segments = detail.embedding.video_embedding.segments
    assert segments and all(len(s.float_) == 512 for s in segments)
    assert [a.id for a in client.indexes.indexed_assets.list(index.id, status=["ready"], duration={"gte": 5})] == [
        indexed.id
    ]
    assert [a.id for a in client.indexes.indexed_assets.list(index.id, user_metadata={"k": "v"})] == [indexed.id]
    assert [(s.id, s.index.id) for s in client.indexes.indexed_assets.list_by_asset(created.id)] == [
        (indexed.id, index.id)
    ]
    with pytest.raises(sdk.ConflictError):
        client.assets.delete(created.id, request_options=NO_RETRY)
    client.indexes.indexed_assets.update(index.id, indexed.id, user_metadata={"k": None})
    assert client.indexes.indexed_assets.retrieve(index.id, indexed.id).user_metadata == {}
    video = client.indexes.videos.retrieve(index.id, indexed.id)
    assert video.asset_id == created.id
    client.indexes.indexed_assets.delete(index.id, indexed.id)
    with pytest.raises(sdk.NotFoundError):
        client.indexes.indexed_assets.retrieve(index.id, indexed.id)
    # the legacy task route still works in the current surface
    with (samples / "videos" / "forest-walk.mp4").open("rb") as fh:
        task = client.tasks.create(index_id=index.id, video_file=fh)
    done = until(lambda: client.tasks.retrieve(task.id), lambda t: t.status in ("ready", "failed"))
    assert done.status == "ready" and [t.id for t in client.tasks.list()] == [task.id]
    client.indexes.delete(index.id)


def test_connections_and_imports(client: Any, emu: Emulator) -> None:
    sdk = sdk136()
    uri = client.data_connectors.create_redirect_uri(redirect_uri="https://app.example.com/cb")
    assert [u.id for u in client.data_connectors.list_redirect_uris().data] == [uri.id]
    # SDK 1.3.6 bug: it joins "connections:authorize" onto the base URL with urljoin, which reads "connections:"
    # as a URL scheme, so authorize_connection never reaches any server. Clients must send this one request
    # themselves; the answer still parses into the SDK type.
    with pytest.raises(httpx.UnsupportedProtocol):
        client.data_connectors.authorize_connection(provider="google_drive", redirect_uri=uri.redirect_uri)
    from twelvelabs_sdk136.data_connectors.types import AuthorizeConnectionResponse

    raw = httpx.post(
        f"{emu.base_url}/connections:authorize",
        headers={"x-api-key": "test-key"},
        json={"provider": "google_drive", "redirect_uri": uri.redirect_uri, "custom_id": "user-1"},
    )
    auth = AuthorizeConnectionResponse.model_validate(raw.json())
    consent = httpx.get(auth.authorize_url, follow_redirects=False)
    connection_id = parse_qs(urlsplit(consent.headers["Location"]).query)["connection_id"][0]
    conn = client.data_connectors.retrieve_connection(connection_id)
    assert conn.status == "active" and conn.account.display_name == "ann@example.com" and conn.custom_id == "user-1"
    assert [c.id for c in client.data_connectors.list_connections().data] == [connection_id]
    token = client.data_connectors.create_connection_picker_token(connection_id)
    assert token.access_token and token.expires_in > 0
    result = client.imports.import_files(connection_id, items=[{"source_id": "vid"}, {"source_id": "locked"}])
    assert isinstance(result, sdk.ImportResult) and result.has_failures
    assert [(i.action, i.error.code if i.error else None) for i in result.items] == [
        ("created", None),
        ("rejected", "source_not_authorized"),
    ]
    # an idempotent retry of the same import (Idempotency-Key through the SDK's request options)
    options = {"additional_headers": {"Idempotency-Key": "imp-1"}}
    again = client.imports.import_files(connection_id, items=[{"source_id": "vid"}], request_options=options)
    replay = client.imports.import_files(connection_id, items=[{"source_id": "vid"}], request_options=options)
    assert again.id == replay.id and again.items[0].action == "skipped"
    assert [i.id for i in client.imports.list_imports(connection_id).data] == [again.id, result.id]
    detail = until(
        lambda: client.imports.retrieve_import(connection_id, result.id), lambda d: d.items[0].status != "processing"
    )
    assert detail.items[0].status == "ready" and detail.item_count == 2
    asset = client.assets.retrieve(detail.items[0].asset_id)
    assert asset.method == "connector" and asset.source.details.source_id == "vid"
    client.data_connectors.delete_redirect_uri(uri.id)
    client.data_connectors.delete_connection(connection_id)
    with pytest.raises(sdk.NotFoundError):
        client.data_connectors.retrieve_connection(connection_id)
