"""Assets, multipart uploads, indexed assets and the bounded waits, over httpx.MockTransport."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from twelvelabs_client.errors import (
    ConflictError,
    DeadlineExceededError,
    ProcessingFailedError,
    ServerError,
    WaitTimeoutError,
)
from twelvelabs_client.models import Asset, CompletedChunk

from tests.client.helpers import FakeClock, json_response, multipart_fields


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeAssetsAPI:
    """/assets, /assets/multipart-uploads, a presigned chunk host and /indexes/{id}/indexed-assets.

    Strict: list items have exactly the documented fields. `fail_after_create` makes the next
    creating POST answer 500 (or drop) after the resource exists.
    """

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.assets: list[dict[str, Any]] = []
        self.indexed: list[dict[str, Any]] = []
        self.uploads: dict[str, dict[str, Any]] = {}
        self.chunks: dict[tuple[str, int], bytes] = {}
        self.fail_after_create: list[str] = []
        self.used_urls: set[str] = set()
        self.initial_urls = 2
        self.chunk_size = 10

    def _fail(self) -> httpx.Response | None:
        if not self.fail_after_create:
            return None
        mode = self.fail_after_create.pop(0)
        if mode == "drop":
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return json_response(500, {"code": "internal_error", "message": "boom"})

    def _new_asset(self, method: str, filename: str, metadata: dict[str, Any] | None, status: str) -> dict[str, Any]:
        asset = {
            "_id": f"{len(self.assets) + 1:024x}",
            "method": method,
            "status": status,
            "filename": filename,
            "file_type": "video/mp4",
            "created_at": iso(self.clock.now),
        }
        if metadata:
            asset["user_metadata"] = metadata
        self.assets.append(asset)
        return asset

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "chunks.test":
            return self._chunk(request)
        path = request.url.path.removeprefix("/v1.3")
        q = request.url.params
        if request.method == "POST" and path == "/assets":
            fields = multipart_fields(request)
            method = fields["method"][0]
            meta = json.loads(fields["user_metadata"][0]) if "user_metadata" in fields else None
            asset = self._new_asset(method, fields["filename"][0], meta, "processing")
            if method == "direct":
                asset["_bytes"] = fields["file"][0][1]
            return self._fail() or json_response(201, self._view(asset))
        if request.method == "GET" and path == "/assets":
            items = [a for a in reversed(self.assets) if q.get("filename", "").lower() in a["filename"].lower()]
            return self._page(items, q)
        if path.startswith("/assets/multipart-uploads"):
            return self._multipart(request, path)
        if path.startswith("/assets/"):
            asset_id = path.split("/")[2]
            asset = next((a for a in self.assets if a["_id"] == asset_id), None)
            if asset is None:
                return json_response(404, {"code": "resource_not_exist", "message": asset_id})
            if request.method == "GET":
                return json_response(200, self._view(asset))
            if request.method == "DELETE" and not path.endswith("/user-metadata"):
                if any(i["asset_id"] == asset_id for i in self.indexed) and q.get("force") != "true":
                    return json_response(409, {"code": "asset_in_use", "message": "indexed assets use it"})
                self.assets.remove(asset)
                return httpx.Response(204)
            if path.endswith("/user-metadata"):
                body = json.loads(request.content) if request.content else {}
                if request.method == "PUT":
                    asset["user_metadata"] = {k: v for k, v in body["user_metadata"].items() if v is not None}
                elif request.method == "PATCH":
                    merged = {**asset.get("user_metadata", {}), **body["user_metadata"]}
                    asset["user_metadata"] = {k: v for k, v in merged.items() if v is not None}
                else:
                    asset.pop("user_metadata", None)
                return httpx.Response(204)
        if path.endswith("/indexed-assets") and request.method == "POST":
            body = json.loads(request.content)
            item = {
                "_id": f"ia{len(self.indexed) + 1:022d}",
                "asset_id": body["asset_id"],
                "status": "pending",
                "created_at": iso(self.clock.now),
                "index": path.split("/")[2],
            }
            self.indexed.append(item)
            location = f"/v1.3{path}/{item['_id']}"
            return self._fail() or json_response(
                202, {"_id": item["_id"], "asset_id": item["asset_id"]}, {"Location": location}
            )
        if path.endswith("/indexed-assets") and request.method == "GET":
            items = [i for i in reversed(self.indexed) if i["index"] == path.split("/")[2]]
            return self._page([{k: v for k, v in i.items() if k != "index"} for i in items], q)
        raise AssertionError(f"unexpected {request.method} {request.url}")

    def _view(self, asset: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in asset.items() if not k.startswith("_") or k == "_id"}

    def _page(self, items: list[dict[str, Any]], q: httpx.QueryParams) -> httpx.Response:
        page, limit = int(q.get("page", 1)), int(q.get("page_limit", 10))
        chunk = items[(page - 1) * limit : page * limit]
        return json_response(
            200,
            {
                "data": [self._view(i) for i in chunk],
                "page_info": {
                    "page": page,
                    "limit_per_page": limit,
                    "total_page": max(1, -(-len(items) // limit)),
                    "total_results": len(items),
                },
            },
        )

    def _urls(self, upload_id: str, start: int, count: int) -> list[dict[str, Any]]:
        n = self.uploads[upload_id]["total_chunks"]
        return [
            {
                "chunk_index": i,
                "url": f"https://chunks.test/{upload_id}/{i}?sig={len(self.used_urls)}-{i}",
                "expires_at": iso(self.clock.now + 3600),
            }
            for i in range(start, min(n, start + count - 1) + 1)
        ]

    def _multipart(self, request: httpx.Request, path: str) -> httpx.Response:
        parts = path.split("/")
        if request.method == "GET" and path == "/assets/multipart-uploads":  # the open sessions
            open_ = [
                {
                    "upload_id": upload_id,
                    "status": "active",
                    "total_size": u["size"],
                    "chunk_size": self.chunk_size,
                    "total_chunks": u["total_chunks"],
                    "created_at": u["asset"]["created_at"],
                }
                for upload_id, u in reversed(self.uploads.items())
                if len(u["reported"]) < u["total_chunks"]
            ]
            return self._page(open_, request.url.params)
        if request.method == "POST" and path == "/assets/multipart-uploads":
            body = json.loads(request.content)
            asset = self._new_asset("multipart", body["filename"], body.get("user_metadata"), "processing")
            asset["status"] = "uploading"  # hidden until complete
            upload_id = f"up{len(self.uploads) + 1}"
            total_chunks = -(-body["total_size"] // self.chunk_size)
            self.uploads[upload_id] = {
                "asset": asset,
                "total_chunks": total_chunks,
                "reported": set(),
                "size": body["total_size"],
            }
            return json_response(
                201,
                {
                    "upload_id": upload_id,
                    "asset_id": asset["_id"],
                    "upload_urls": self._urls(upload_id, 1, self.initial_urls),
                    "upload_headers": {"x-amz-meta-upload": upload_id},
                    "chunk_size": self.chunk_size,
                    "total_chunks": total_chunks,
                    "expires_at": iso(self.clock.now + 86400),
                },
            )
        upload = self.uploads[parts[3]]
        if request.method == "POST" and path.endswith("/presigned-urls"):
            body = json.loads(request.content)
            return json_response(
                200,
                {
                    "upload_id": parts[3],
                    "start_index": body["start"],
                    "count": body["count"],
                    "upload_urls": self._urls(parts[3], body["start"], body["count"]),
                },
            )
        if request.method == "POST":
            body = json.loads(request.content)
            assert 1 <= len(body["completed_chunks"]) <= 50
            for chunk in body["completed_chunks"]:
                assert chunk["proof_type"] == "etag" and not chunk["proof"].startswith('"')
                assert chunk["proof"] == f"etag-{parts[3]}-{chunk['chunk_index']}"
                upload["reported"].add(chunk["chunk_index"])
            done = len(upload["reported"]) == upload["total_chunks"]
            if done:
                upload["asset"]["status"] = "processing"
                upload["asset"]["_bytes"] = b"".join(
                    self.chunks[(parts[3], i)] for i in range(1, upload["total_chunks"] + 1)
                )
            return json_response(
                200,
                {
                    "asset_id": upload["asset"]["_id"],
                    "processed_chunks": len(body["completed_chunks"]),
                    "total_completed": len(upload["reported"]),
                    **({"url": "https://assets.test/x"} if done else {}),
                },
            )
        raise AssertionError(path)

    def _chunk(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "PUT" and "x-api-key" not in request.headers  # never leak the key
        assert request.headers["content-type"] == "application/octet-stream"
        upload_id, index = request.url.path.strip("/").split("/")
        assert request.headers["x-amz-meta-upload"] == upload_id
        url = str(request.url)
        if url in self.used_urls:
            return httpx.Response(403, content=b"<Error>AccessDenied: URL already used</Error>")
        self.used_urls.add(url)
        self.chunks[(upload_id, int(index))] = request.read()
        return httpx.Response(200, headers={"ETag": f'"etag-{upload_id}-{index}"'})


@pytest.fixture
def api(clock: FakeClock) -> FakeAssetsAPI:
    return FakeAssetsAPI(clock)


def test_direct_upload_streams_file_and_sends_form(make_client, api: FakeAssetsAPI, tmp_path: Path) -> None:
    video = tmp_path / "match.mp4"
    video.write_bytes(b"v" * 300)
    client, recorder = make_client(api)
    asset = client.create_asset(file=video, user_metadata={"league": "A"}, enable_hls=True)
    assert asset.status == "processing" and asset.filename == "match.mp4" and not asset.recovered
    fields = multipart_fields(recorder.calls("POST", "/assets")[0])
    assert fields["method"] == ["direct"] and fields["enable_hls"] == ["true"] and fields["filename"] == ["match.mp4"]
    assert fields["file"] == [("match.mp4", b"v" * 300)] and json.loads(fields["user_metadata"][0]) == {"league": "A"}
    assert recorder.calls("POST", "/assets")[0].headers["idempotency-key"].startswith("tlc-")


def test_url_upload_with_key_is_found_again_not_recreated(make_client, api: FakeAssetsAPI) -> None:
    client, recorder = make_client(api)
    first = client.create_asset(url="https://media.test/v/clip.mp4?sig=1", idempotency_key="job-1")
    fields = multipart_fields(recorder.calls("POST", "/assets")[0])
    assert fields["method"] == ["url"] and fields["url"] == ["https://media.test/v/clip.mp4?sig=1"]
    assert fields["filename"] == ["clip.mp4"] and json.loads(fields["user_metadata"][0]) == {"idempotency_key": "job-1"}
    again = client.create_asset(url="https://media.test/v/clip.mp4?sig=2", idempotency_key="job-1")
    assert again.id == first.id and again.recovered and len(api.assets) == 1
    other = client.create_asset(url="https://media.test/v/clip.mp4?sig=2", idempotency_key="job-2")
    assert other.id != first.id and len(api.assets) == 2


@pytest.mark.parametrize("mode", ["500", "drop"])
@pytest.mark.parametrize("key", ["job-9", None])
def test_ambiguous_asset_create_finds_the_asset(make_client, api: FakeAssetsAPI, mode: str, key: str | None) -> None:
    api.fail_after_create = [mode]
    client, recorder = make_client(api)
    asset = client.create_asset(file=io.BytesIO(b"x" * 50), filename="a.mp4", idempotency_key=key)
    assert asset.recovered and asset.id == api.assets[0]["_id"] and len(api.assets) == 1
    assert len(recorder.calls("POST", "/assets")) == 1
    listed = recorder.calls("GET", "/assets")[-1]
    assert listed.url.params["filename"] == "a.mp4"


def test_ambiguous_asset_create_without_match_resends_same_key(make_client, clock: FakeClock) -> None:
    posts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            if len(posts) == 1:
                raise httpx.ReadTimeout("lost before the server acted")
            return json_response(201, {"_id": "a1", "status": "processing", "filename": "a.mp4"})
        return json_response(200, {"data": [], "page_info": {"page": 1, "total_page": 1}})

    client, _ = make_client(handler)
    asset = client.create_asset(url="https://m.test/a.mp4", idempotency_key="k")
    assert asset.id == "a1" and not asset.recovered
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]


def test_reserved_metadata_key_is_a_clear_error(make_client, api: FakeAssetsAPI) -> None:
    client, _ = make_client(api)
    with pytest.raises(ValueError, match="reserved"):
        client.create_asset(url="https://m.test/a.mp4", user_metadata={"idempotency_key": "x"}, idempotency_key="y")
    with pytest.raises(ValueError, match="exactly one"):
        client.create_asset()


def test_asset_read_metadata_delete(make_client, api: FakeAssetsAPI) -> None:
    client, recorder = make_client(api)
    asset = client.create_asset(url="https://m.test/a.mp4", user_metadata={"a": 1, "b": "x"})
    assert [a.id for a in client.iter_assets(page_limit=1)] == [asset.id]
    client.update_asset_metadata(asset.id, {"a": None, "c": True})
    assert client.get_asset(asset.id).user_metadata == {"b": "x", "c": True}
    client.replace_asset_metadata(asset.id, {"z": 1})
    assert client.get_asset(asset.id).user_metadata == {"z": 1}
    client.delete_asset_metadata(asset.id)
    assert client.get_asset(asset.id).user_metadata is None
    assert [r.method for r in recorder.requests if r.url.path.endswith("/user-metadata")] == ["PATCH", "PUT", "DELETE"]
    assert json.loads(recorder.calls("PATCH")[0].content) == {"user_metadata": {"a": None, "c": True}}
    client.create_indexed_asset("idx1", asset.id)
    with pytest.raises(ConflictError):
        client.delete_asset(asset.id)
    client.delete_asset(asset.id, force=True)
    assert recorder.requests[-1].url.params["force"] == "true"
    assert api.assets == []


def test_asset_list_filters_encoding(make_client) -> None:
    client, recorder = make_client(lambda r: json_response(200, {"data": [], "page_info": {"page": 1}}))
    client.list_assets(asset_ids=["a", "b"], asset_types=["video", "audio"], filename="x", page_limit=50)
    params = recorder.requests[0].url.params
    assert params.get_list("asset_ids") == ["a", "b"] and params.get_list("asset_types") == ["video", "audio"]


def test_unknown_asset_status_and_fields_are_kept() -> None:
    asset = Asset.model_validate(
        {
            "_id": "a",
            "status": "archived",
            "method": "teleport",
            "new_field": 1,
            "hls": {"status": "queued-later", "manifest_url": None},
        }
    )
    assert asset.status == "archived" and asset.method == "teleport" and asset.model_extra == {"new_field": 1}
    assert not asset.is_terminal


def test_multipart_upload_puts_every_chunk_and_reports(make_client, api: FakeAssetsAPI, tmp_path: Path) -> None:
    data = bytes(range(256)) * 2 + b"tail"  # 516 bytes -> 52 chunks of 10: two report batches, URL refills
    big = tmp_path / "big.mp4"
    big.write_bytes(data)
    client, recorder = make_client(api)
    asset = client.upload_asset_multipart(big, type="video", user_metadata={"k": "v"}, idempotency_key="job-mp")
    assert asset.id == api.assets[0]["_id"] and asset.status == "processing"
    assert api.assets[0]["_bytes"] == data
    reports = [json.loads(r.content) for r in recorder.calls("POST", "/assets/multipart-uploads/up1")]
    assert [len(r["completed_chunks"]) for r in reports] == [50, 2]
    assert reports[1]["completed_chunks"][-1] == {
        "chunk_index": 52,
        "proof": "etag-up1-52",
        "proof_type": "etag",
        "chunk_size": 6,
    }
    create = json.loads(recorder.calls("POST", "/assets/multipart-uploads")[0].content)
    assert create == {
        "filename": "big.mp4",
        "type": "video",
        "total_size": 516,
        "user_metadata": {"k": "v", "idempotency_key": "job-mp"},
    }
    assert recorder.calls("POST", "/assets/multipart-uploads/up1/presigned-urls")
    # with the same key the finished asset is found (its session is no longer open): nothing is uploaded again
    before = len(recorder.requests)
    again = client.upload_asset_multipart(big, idempotency_key="job-mp")
    assert again.id == asset.id and again.recovered
    assert [(r.method, r.url.path) for r in recorder.requests[before:]] == [
        ("GET", "/v1.3/assets"),
        ("GET", "/v1.3/assets/multipart-uploads"),
    ]


def test_multipart_used_url_gets_a_fresh_one(make_client, api: FakeAssetsAPI) -> None:
    api.initial_urls = 3
    client, recorder = make_client(api)
    session = client.create_multipart_upload("f.mp4", "video", 25)
    first = session.upload_urls[0].url
    assert client.put_chunk(first, b"0123456789", session.upload_headers) == "etag-up1-1"
    api.used_urls.add(session.upload_urls[1].url)  # e.g. consumed by a lost earlier attempt
    asset_id = client._upload_chunks(session, io.BytesIO(b"0123456789abcdefghijKLMNO"), 25)
    assert asset_id == session.asset_id and api.assets[0]["_bytes"] == b"0123456789abcdefghijKLMNO"
    refills = [json.loads(r.content) for r in recorder.calls("POST", "/assets/multipart-uploads/up1/presigned-urls")]
    assert {"start": 2, "count": 1} in refills


def test_multipart_argument_checks(make_client, api: FakeAssetsAPI) -> None:
    client, _ = make_client(api)
    with pytest.raises(ValueError):
        client.create_multipart_upload("", "video", 10)
    with pytest.raises(ValueError):
        client.report_chunks("up", [])
    with pytest.raises(ValueError):
        client.report_chunks("up", [CompletedChunk(chunk_index=i, proof="e", chunk_size=1) for i in range(1, 52)])
    with pytest.raises(ValueError):
        client.get_presigned_urls("up", 0, 5)


def test_indexed_asset_create_list_get_patch_delete(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1.3")
        if request.method == "POST":
            return json_response(
                202, {"_id": "ia1", "asset_id": "a1"}, {"Location": "/v1.3/indexes/i/indexed-assets/ia1"}
            )
        if request.method == "GET" and path == "/indexes/i/indexed-assets":
            return json_response(
                200,
                {
                    "data": [
                        {
                            "_id": "ia1",
                            "asset_id": "a1",
                            "status": "indexing",
                            "system_metadata": {"filename": "a.mp4", "duration": 12.5},
                        }
                    ],
                    "page_info": {"page": 1, "total_page": 1},
                },
            )
        if request.method == "GET":
            return json_response(
                200,
                {
                    "_id": "ia1",
                    "asset_id": "a1",
                    "status": "ready",
                    "user_metadata": {"x": 1},
                    "embedding": {
                        "model_name": "marengo3.0",
                        "video_embedding": {
                            "segments": [
                                {
                                    "float": [0.1] * 512,
                                    "start_offset_sec": 0,
                                    "end_offset_sec": 6,
                                    "embedding_option": "visual",
                                    "embedding_scope": "clip",
                                }
                            ]
                        },
                    },
                    "transcription": [{"start": 0, "end": 1, "value": "hi"}],
                },
            )
        return httpx.Response(204)

    client, recorder = make_client(handler)
    created = client.create_indexed_asset("i", "a1", enable_video_stream=True, user_metadata={"x": 1})
    assert (created.id, created.asset_id, created.location) == ("ia1", "a1", "/v1.3/indexes/i/indexed-assets/ia1")
    assert json.loads(recorder.requests[0].content) == {
        "asset_id": "a1",
        "enable_video_stream": True,
        "user_metadata": {"x": 1},
    }
    page = client.list_indexed_assets(
        "i", status=["ready", "indexing"], duration={"gte": 10}, filename="a.mp4", user_metadata={"x": 1}
    )
    assert page.data[0].system_metadata is not None and page.data[0].system_metadata.duration == 12.5
    params = recorder.requests[-1].url.params
    assert params.get_list("status") == ["ready", "indexing"] and params["duration[gte]"] == "10"
    assert params["user_metadata[x]"] == "1"
    detail = client.get_indexed_asset("i", "ia1", embedding_option=["visual", "audio"], transcription=True)
    assert detail.embedding and detail.embedding.video_embedding
    assert len(detail.embedding.video_embedding.segments[0].float_ or []) == 512
    assert recorder.requests[-1].url.params.get_list("embedding_option") == ["visual", "audio"]
    client.update_indexed_asset("i", "ia1", {"x": None})
    assert json.loads(recorder.requests[-1].content) == {"user_metadata": {"x": None}}
    client.delete_indexed_asset("i", "ia1")
    assert recorder.requests[-1].method == "DELETE"


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_ambiguous_indexed_asset_create_finds_it(make_client, api: FakeAssetsAPI, mode: str) -> None:
    client, recorder = make_client(api)
    client.create_indexed_asset("idx1", "other-asset")
    api.fail_after_create = [mode]
    created = client.create_indexed_asset("idx1", "asset-1", idempotency_key="job-1")
    assert created.recovered and created.id == api.indexed[1]["_id"] and len(api.indexed) == 2
    # and a re-run with the key finds it before posting
    again = client.create_indexed_asset("idx1", "asset-1", idempotency_key="job-1")
    assert again.id == created.id and len(recorder.calls("POST", "/indexes/idx1/indexed-assets")) == 2


def test_indexed_asset_create_gives_up_when_nothing_found(make_client, clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return json_response(500, {"code": "internal_error", "message": "x"})
        return json_response(200, {"data": [], "page_info": {"page": 1, "total_page": 1}})

    client, recorder = make_client(handler, max_retries=1)
    with pytest.raises(ServerError) as info:
        client.create_indexed_asset("i", "a")
    assert info.value.ambiguous and len(recorder.calls("POST")) == 2


# --- waits -----------------------------------------------------------------------------------------


def _statuses(*statuses: str, error: str | None = None):
    answers = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        status = answers.pop(0) if len(answers) > 1 else answers[0]
        body: dict[str, Any] = {"_id": "a1", "status": status}
        if status == "failed" and error:
            body["error"] = {"message": error}
        return json_response(200, body)

    return handler


def test_wait_for_asset_grows_waits_until_ready(make_client, clock: FakeClock) -> None:
    client, recorder = make_client(_statuses("processing", "processing", "processing", "ready"))
    asset = client.wait_for_asset("a1", initial_interval=1.0, factor=2.0, max_interval=3.0)
    assert asset.status == "ready" and clock.sleeps == [1.0, 2.0, 3.0] and len(recorder.requests) == 4


def test_wait_for_asset_failed_raises_with_reason(make_client, clock: FakeClock) -> None:
    client, _ = make_client(_statuses("processing", "failed", error="unsupported codec"))
    with pytest.raises(ProcessingFailedError) as info:
        client.wait_for_asset("a1")
    assert "unsupported codec" in str(info.value) and info.value.resource.status == "failed"


def test_wait_is_bounded_by_its_timeout(make_client, clock: FakeClock) -> None:
    client, recorder = make_client(_statuses("processing"))
    with pytest.raises(WaitTimeoutError):
        client.wait_for_asset("a1", timeout=10.0, initial_interval=1.0, factor=2.0, max_interval=4.0)
    assert clock.sleeps == [1.0, 2.0, 4.0, 3.0]  # the last wait is cut to what is left
    assert sum(clock.sleeps) == 10.0 and len(recorder.requests) == 5


def test_wait_never_sleeps_past_the_deadline(make_client, clock: FakeClock) -> None:
    client, _ = make_client(_statuses("processing"))
    end = clock.now + 2.5
    client.with_deadline(lambda: end - clock.now)
    with pytest.raises(DeadlineExceededError):
        client.wait_for_asset("a1", initial_interval=1.0, factor=2.0)
    assert clock.sleeps == [1.0] and clock.now <= end


def test_wait_bounds_are_validated(make_client) -> None:
    client, _ = make_client(_statuses("ready"))
    with pytest.raises(ValueError):
        client.wait_for_asset("a1", timeout=0)
    with pytest.raises(ValueError):
        client.wait_for_asset("a1", factor=0.5)


def test_wait_for_indexed_asset(make_client, clock: FakeClock) -> None:
    client, _ = make_client(_statuses("validating", "pending", "queued", "indexing", "ready"))
    assert client.wait_for_indexed_asset("i", "a1", initial_interval=1, max_interval=1).status == "ready"
    assert clock.sleeps == [1, 1, 1, 1]


def test_upload_asset_picks_direct_or_multipart(
    make_client, api: FakeAssetsAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twelvelabs_client.resources import assets as assets_module

    video = tmp_path / "v.mp4"
    video.write_bytes(b"y" * 25)
    client, recorder = make_client(api)
    client.upload_asset(video)
    assert len(recorder.calls("POST", "/assets")) == 1 and not recorder.calls("POST", "/assets/multipart-uploads")
    monkeypatch.setattr(assets_module, "DIRECT_UPLOAD_MAX_BYTES", 10)
    client.upload_asset(video)
    assert len(recorder.calls("POST", "/assets/multipart-uploads")) == 1 and api.assets[-1]["_bytes"] == b"y" * 25


def test_transcription_and_multipart_reads(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1.3")
        if path.endswith("/transcription"):
            return json_response(
                200,
                {
                    "status": "ready",
                    "sentences": [{"start": 0, "end": 2.5, "value": "Hello."}],
                    "utterances": [{"start": 0, "end": 2.5, "value": "Hello.", "speaker": "A"}],
                },
            )
        if path == "/assets/multipart-uploads":
            return json_response(
                200,
                {
                    "data": [
                        {"upload_id": "up1", "status": "active", "total_size": 30, "chunk_size": 10, "total_chunks": 3}
                    ],
                    "page_info": {"page": 1, "total_page": 1},
                },
            )
        return json_response(
            200,
            {
                "upload_id": "up1",
                "status": "active",
                "chunks_completed": 1,
                "chunks_pending": 2,
                "uploaded_chunks": [{"index": 1, "status": "completed", "uploaded_at": None}],
                "page_info": {"page": 1, "total_page": 1},
            },
        )

    client, recorder = make_client(handler)
    transcript = client.get_asset_transcription("a1", include=["sentences", "utterances"])
    assert transcript.sentences and transcript.utterances and transcript.utterances[0].speaker == "A"
    assert recorder.requests[0].url.params.get_list("include") == ["sentences", "utterances"]
    assert [u.upload_id for u in client.list_multipart_uploads(page_limit=5).data] == ["up1"]
    status = client.get_multipart_upload("up1", page_limit=10)
    assert status.chunks_pending == 2 and status.uploaded_chunks[0].status == "completed"
