"""The two surfaces: exactly the documented fields on every object (both modes), and what each surface refuses.

Current-mode objects are checked against the official SDK 1.3.6 types (every key the emulator sends must be a
declared field, recursively); classic objects against the field tables of the classic reference (SDK 1.0.2 era).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from helpers import (
    BOTH,
    create_current_index,
    create_index,
    index_video,
    post_asset,
    sdk136,
    upload,
    wait_status,
    wait_task,
)
from pydantic import BaseModel

from tests.emulator.conftest import client_for
from twelvelabs_emulator import Emulator


def undeclared(value: Any, path: str = "$") -> list[str]:
    """Keys the SDK model did not declare (its models allow extras, so they land in `model_extra`)."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        found += [f"{path}.{k}" for k in (value.model_extra or {})]
        for name in type(value).model_fields:
            found += undeclared(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found += undeclared(item, f"{path}[{n}]")
    return found


def exact(model: type[BaseModel], data: object) -> BaseModel:
    """Parse as the SDK does (its `_id` aliases are applied by its own parse helper), then look for extras."""
    from twelvelabs_sdk136.core.pydantic_utilities import parse_obj_as

    parsed = parse_obj_as(model, data)
    assert undeclared(parsed) == [], (model.__name__, data)
    return parsed


def test_current_objects_carry_only_sdk_136_fields(make_emulator: Callable[..., Emulator], samples: Path) -> None:
    sdk = sdk136()
    from twelvelabs_sdk136.data_connectors.types import (
        AuthorizeConnectionResponse,
        CreateConnectionPickerTokenResponse,
        ListConnectionsResponse,
        ListRedirectUrisResponse,
    )
    from twelvelabs_sdk136.imports.types import ListImportsResponse
    from twelvelabs_sdk136.indexes.indexed_assets.types import (
        IndexedAssetsCreateResponse,
        IndexedAssetsListByAssetResponse,
        IndexedAssetsListResponse,
    )
    from twelvelabs_sdk136.indexes.types import IndexesListResponse
    from twelvelabs_sdk136.indexes.videos.types import VideosListResponse, VideosRetrieveResponse
    from twelvelabs_sdk136.tasks.types import TasksListResponse, TasksRetrieveResponse

    account = {
        "external_id": "a1",
        "display_name": "a@example.com",
        "files": {"v": {"path": str(samples / "videos" / "forest-walk.mp4")}, "x": {"reject": "source_unavailable"}},
    }
    emu = make_emulator(surface="current", drive_accounts=[account], multipart_chunk_size=30_000)
    with client_for(emu) as api:
        index_id = create_current_index(api)
        exact(IndexesListResponse, api.get("/indexes").json())
        exact(sdk.IndexSchema, api.get(f"/indexes/{index_id}").json())
        created = post_asset(api, samples / "videos" / "ocean-waves.mp4", user_metadata='{"a": ["x"]}').json()
        exact(sdk.Asset, created)
        asset = wait_status(api, f"/assets/{created['_id']}")
        exact(sdk.AssetDetail, asset)
        failed = wait_status(api, f"/assets/{post_asset(api, samples / 'bad' / 'empty.mp4').json()['_id']}")
        exact(sdk.AssetDetail, failed)
        exact(sdk.AssetDetail, api.get("/assets").json()["data"][0])
        data = (samples / "videos" / "forest-walk.mp4").read_bytes()
        session = api.post(
            "/assets/multipart-uploads", json={"filename": "f.mp4", "type": "video", "total_size": len(data)}
        ).json()
        exact(sdk.CreateAssetUploadResponse, session)
        upload_path = f"/assets/multipart-uploads/{session['upload_id']}"
        exact(sdk.ListIncompleteUploadsResponse, api.get("/assets/multipart-uploads").json())
        exact(sdk.GetUploadStatusResponse, api.get(upload_path).json())
        more = api.post(f"{upload_path}/presigned-urls", json={"start": 1, "count": 2}).json()
        exact(sdk.RequestAdditionalPresignedUrLsResponse, more)
        put = httpx.put(more["upload_urls"][0]["url"], content=data[:30_000])
        report = api.post(
            upload_path,
            json={
                "completed_chunks": [
                    {"chunk_index": 1, "proof": put.headers["ETag"], "proof_type": "etag", "chunk_size": 30_000}
                ]
            },
        )
        exact(sdk.ReportChunkBatchResponse, report.json())

        r = api.post(f"/indexes/{index_id}/indexed-assets", json={"asset_id": asset["_id"], "user_metadata": {"k": 1}})
        exact(IndexedAssetsCreateResponse, r.json())
        path = f"/indexes/{index_id}/indexed-assets/{r.json()['_id']}"
        exact(sdk.IndexedAsset, api.get(f"/indexes/{index_id}/indexed-assets").json()["data"][0])  # while validating
        wait_status(api, path)
        exact(IndexedAssetsListResponse, api.get(f"/indexes/{index_id}/indexed-assets").json())
        exact(
            sdk.IndexedAssetDetailed,
            api.get(path, params={"embedding_option": ["visual", "audio"], "transcription": "true"}).json(),
        )
        exact(IndexedAssetsListByAssetResponse, api.get(f"/assets/{asset['_id']}/indexed-assets").json())
        # the same id as a video (list items also carry the documented user_metadata the 1.3.6 list type omits)
        videos = api.get(f"/indexes/{index_id}/videos").json()
        assert set(videos["data"][0]) - set(sdk.VideoVector.model_fields) - {"_id"} == {"user_metadata"}
        retrieved = api.get(
            f"/indexes/{index_id}/videos/{r.json()['_id']}", params={"embedding_option": "visual-text"}
        ).json()
        # `system_metadata.size` is documented (classic reference §4.1) though the 1.3.6 retrieve type omits it
        assert retrieved["system_metadata"].pop("size") == asset["size"]
        exact(VideosRetrieveResponse, retrieved)
        del videos["data"][0]["user_metadata"]
        exact(VideosListResponse, videos)
        # classic tasks, still served in the current surface
        task = wait_task(api, upload(api, index_id, samples / "videos" / "forest-walk.mp4").json()["_id"])
        exact(TasksRetrieveResponse, task)
        exact(TasksListResponse, api.get("/tasks").json())

        auth = api.post(
            "/connections:authorize",
            json={"provider": "google_drive", "custom_id": "c", "redirect_uri": "https://app.example.com/cb"},
        ).json()
        exact(AuthorizeConnectionResponse, auth)
        consent = httpx.get(auth["authorize_url"], follow_redirects=False)
        connection_id = parse_qs(urlsplit(consent.headers["Location"]).query)["connection_id"][0]
        exact(sdk.Connection, api.get(f"/connections/{connection_id}").json())
        exact(ListConnectionsResponse, api.get("/connections").json())
        exact(CreateConnectionPickerTokenResponse, api.post(f"/connections/{connection_id}/picker-token").json())
        exact(
            sdk.RedirectUri,
            api.post("/connections/redirect-uris", json={"redirect_uri": "https://app.example.com/cb"}).json(),
        )
        exact(ListRedirectUrisResponse, api.get("/connections/redirect-uris").json())
        result = api.post(
            f"/connections/{connection_id}/imports", json={"items": [{"source_id": "v"}, {"source_id": "x"}]}
        ).json()
        exact(sdk.ImportResult, result)
        exact(ListImportsResponse, api.get(f"/connections/{connection_id}/imports").json())
        exact(sdk.ImportDetail, api.get(f"/connections/{connection_id}/imports/{result['_id']}").json())


INDEX_FIELDS = {
    "_id",
    "index_name",
    "models",
    "addons",
    "video_count",
    "total_duration",
    "created_at",
    "updated_at",
    "expires_at",
}
VIDEO_LIST_FIELDS = {"_id", "created_at", "updated_at", "indexed_at", "system_metadata", "user_metadata"}
TASK_FIELDS = {"_id", "index_id", "video_id", "status", "created_at", "updated_at", "system_metadata"}


def test_classic_objects_carry_only_documented_fields(api: httpx.Client, samples: Path) -> None:
    index_id = create_index(api, models=BOTH)
    assert set(api.get(f"/indexes/{index_id}").json()) == INDEX_FIELDS
    assert set(api.get("/indexes").json()["data"][0]) == INDEX_FIELDS
    task = index_video(api, index_id, samples / "videos" / "forest-walk.mp4", '{"k": "v"}')
    assert set(task) == TASK_FIELDS | {"hls"}
    assert set(api.get("/tasks").json()["data"][0]) == TASK_FIELDS
    failed = wait_task(api, upload(api, index_id, samples / "bad" / "empty.mp4").json()["_id"])
    assert set(failed) == TASK_FIELDS | {"hls"} and failed["hls"]["video_url"] is None  # no `error`
    assert set(api.get(f"/indexes/{index_id}/videos").json()["data"][0]) == VIDEO_LIST_FIELDS
    video = api.get(f"/indexes/{index_id}/videos/{task['video_id']}", params={"embedding_option": "visual-text"}).json()
    assert set(video) == VIDEO_LIST_FIELDS | {"hls", "embedding"}
    assert video["embedding"]["model_name"] == "Marengo-retrieval-2.7"
    assert len(video["embedding"]["video_embedding"]["segments"][0]["float"]) == 1024


def test_lenient_keeps_the_emulator_extras(lenient_api: httpx.Client, samples: Path) -> None:
    index_id = create_index(lenient_api)
    task = index_video(lenient_api, index_id, samples / "videos" / "forest-walk.mp4", '{"k": "v"}')
    assert task["user_metadata"] == {"k": "v"}
    failed = wait_task(lenient_api, upload(lenient_api, index_id, samples / "bad" / "empty.mp4").json()["_id"])
    assert failed["error"]["code"] == "video_file_broken"


REMOVED_IN_CURRENT = [
    ("POST", "/gist"),
    ("POST", "/summarize"),
    ("POST", "/generate"),
    ("POST", "/tasks/transfers/import/x"),
    ("GET", "/tasks/transfers/import/x/status"),
    ("GET", "/tasks/transfers/import/x/logs"),
]
CURRENT_ONLY = [
    ("POST", "/assets"),
    ("GET", "/assets"),
    ("POST", "/assets/multipart-uploads"),
    ("GET", f"/indexes/{'0' * 24}/indexed-assets"),
    ("POST", "/connections:authorize"),
    ("GET", "/connections"),
    ("GET", "/connections/redirect-uris"),
]


@pytest.mark.parametrize(("method", "path"), REMOVED_IN_CURRENT)
def test_removed_routes_answer_like_unknown_routes(capi: httpx.Client, method: str, path: str) -> None:
    r = capi.request(method, path, json={})
    assert r.status_code == 404 and r.json()["code"] == "resource_not_exist"


@pytest.mark.parametrize(("method", "path"), CURRENT_ONLY)
def test_classic_has_no_current_routes(api: httpx.Client, method: str, path: str) -> None:
    r = api.request(method, path, json={})
    assert r.status_code == 404 and r.json()["code"] == "resource_not_exist"


def test_classic_serves_no_presigned_upload_urls(emulator: Emulator) -> None:
    assert httpx.put(f"{emulator.root_url}/_uploads/anything", content=b"x").status_code == 404


@pytest.mark.parametrize("model", ["marengo2.7", "pegasus1.2", "pegasus1.5"])
def test_current_refuses_removed_index_models(capi: httpx.Client, model: str) -> None:
    r = capi.post(
        "/indexes", json={"index_name": "old", "models": [{"model_name": model, "model_options": ["visual"]}]}
    )
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid" and "marengo3.0" in r.json()["message"]
    assert capi.get("/indexes").json()["data"] == []


def test_classic_keeps_its_models(api: httpx.Client) -> None:
    assert api.post("/indexes", json={"index_name": "both", "models": BOTH}).status_code == 201
    r = api.post(
        "/indexes", json={"index_name": "new", "models": [{"model_name": "marengo3.0", "model_options": ["visual"]}]}
    )
    assert r.status_code == 400


def test_current_still_indexes_through_tasks(capi: httpx.Client, samples: Path) -> None:
    """`POST /tasks` is deprecated but served (SDK 1.3.6 still has it), into Marengo 3.0 indexes; the upload also
    becomes an asset, which the video names in `asset_id` (migration guide)."""
    index_id = create_current_index(capi)
    task = index_video(capi, index_id, samples / "videos" / "forest-walk.mp4")
    assert task["status"] == "ready" and set(task) == TASK_FIELDS | {"hls"}
    video = capi.get(f"/indexes/{index_id}/videos/{task['video_id']}").json()
    asset = wait_status(capi, f"/assets/{video['asset_id']}")
    assert asset["status"] == "ready" and asset["method"] == "direct" and asset["filename"] == "forest-walk.mp4"
    # the asset and the video hold their own links to the file: deleting the video keeps the asset usable
    assert capi.delete(f"/indexes/{index_id}/videos/{task['video_id']}").status_code == 204
    indexed = capi.post(f"/indexes/{index_id}/indexed-assets", json={"asset_id": asset["_id"]}).json()
    assert wait_status(capi, f"/indexes/{index_id}/indexed-assets/{indexed['_id']}")["status"] == "ready"


def test_classic_tasks_make_no_assets(api: httpx.Client, samples: Path) -> None:
    index_id = create_index(api)
    task = index_video(api, index_id, samples / "videos" / "forest-walk.mp4")
    assert "asset_id" not in api.get(f"/indexes/{index_id}/videos/{task['video_id']}").json()
