"""Creating calls are never blindly retried: after an ambiguous failure the client finds what it created."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from twelvelabs_client.errors import APIConnectionError, ConflictError, InvalidParameterError, ServerError

from tests.client.helpers import FakeClock, json_response, multipart_fields


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeTasksAPI:
    """Just enough of /tasks, /indexes/{id}/videos and /indexes for the recovery paths.

    `fail_after_create` is a list of failure modes consumed by POST /tasks *after* the task exists:
    "drop" (connection dropped, no answer) or "500". Strict like the documented API: task objects
    carry no user_metadata and GET /tasks has no metadata filter. `videos_at_once=False`: a task
    stays `pending` and its video is not listed (as before `ready`) until `finish()`.
    """

    def __init__(self, clock: FakeClock, videos_at_once: bool = True) -> None:
        self.clock = clock
        self.tasks: list[dict[str, Any]] = []
        self.videos: list[dict[str, Any]] = []
        self.indexes: list[dict[str, Any]] = []
        self.fail_after_create: list[str] = []
        self.fail_before_create: list[Exception] = []
        self.videos_at_once = videos_at_once
        self.pending_videos: list[dict[str, Any]] = []

    def finish(self) -> None:
        """Every pending task becomes ready and its video is listed."""
        for task in self.tasks:
            task["status"] = "ready"
        self.videos.extend(self.pending_videos)
        self.pending_videos.clear()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1.3")
        if request.method == "POST" and path == "/tasks":
            if self.fail_before_create:
                raise self.fail_before_create.pop(0)
            fields = multipart_fields(request)
            n = len(self.tasks) + 1
            filename = (
                fields["video_file"][0][0]
                if "video_file" in fields
                else httpx.URL(fields["video_url"][0]).path.rsplit("/", 1)[-1]
            )
            metadata = json.loads(fields["user_metadata"][0]) if "user_metadata" in fields else {}
            task = {
                "_id": f"task{n:020d}",
                "video_id": f"vid{n:021d}",
                "index_id": fields["index_id"][0],
                "status": "pending",
                "created_at": iso(self.clock.now),
                "system_metadata": {"filename": filename},
                "_meta": metadata,
            }
            self.tasks.append(task)
            video = {"_id": task["video_id"], "user_metadata": metadata, "system_metadata": {"filename": filename}}
            (self.videos if self.videos_at_once else self.pending_videos).append(video)
            if self.fail_after_create:
                mode = self.fail_after_create.pop(0)
                if mode == "500+foreign":  # another job's task lands right after ours (newer in the list)
                    foreign = {
                        **task,
                        "_id": f"task{n + 1:020d}",
                        "video_id": f"vid{n + 1:021d}",
                        "_meta": {"job_key": "someone-else"},
                    }
                    self.tasks.append(foreign)
                    self.videos.append(
                        {
                            "_id": foreign["video_id"],
                            "user_metadata": foreign["_meta"],
                            "system_metadata": {"filename": filename},
                        }
                    )
                if mode == "drop":
                    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
                return json_response(500, {"code": "internal_error", "message": "boom"})
            return json_response(200, {"_id": task["_id"], "video_id": task["video_id"]})
        if request.method == "GET" and path == "/tasks":
            q = request.url.params
            items = [t for t in reversed(self.tasks) if t["index_id"] == q.get("index_id", t["index_id"])]
            if "filename" in q:
                items = [t for t in items if t["system_metadata"]["filename"] == q["filename"]]
            return self._page(items, q, self._task_view)
        if request.method == "GET" and path.startswith("/indexes/") and path.endswith("/videos"):
            q = request.url.params
            wanted = {k[len("user_metadata[") : -1]: v for k, v in q.multi_items() if k.startswith("user_metadata[")}
            items = [v for v in self.videos if all(str(v["user_metadata"].get(k)) == val for k, val in wanted.items())]
            return self._page(items, q, lambda v: v)
        if request.method == "GET" and path.startswith("/indexes/") and "/videos/" in path:
            video_id = path.rsplit("/", 1)[-1]
            for video in self.videos:
                if video["_id"] == video_id:
                    return json_response(200, video)
            return json_response(404, {"code": "resource_not_exist", "message": f"no video {video_id}"})
        if request.method == "POST" and path == "/indexes":
            body = json.loads(request.content)
            if any(i["index_name"] == body["index_name"] for i in self.indexes):
                return json_response(400, {"code": "index_name_already_exists", "message": "taken"})
            index = {
                "_id": f"idx{len(self.indexes):021d}",
                "index_name": body["index_name"],
                "created_at": iso(self.clock.now),
            }
            self.indexes.append(index)
            if self.fail_after_create:
                self.fail_after_create.pop(0)
                raise httpx.ReadTimeout("no answer")
            return json_response(201, {"_id": index["_id"]})
        if request.method == "GET" and path == "/indexes":
            items = [i for i in self.indexes if request.url.params.get("index_name", "") in i["index_name"]]
            return self._page(items, request.url.params, lambda i: i)
        raise AssertionError(f"unexpected {request.method} {path}")

    def _task_view(self, task: dict[str, Any]) -> dict[str, Any]:
        assert "user_metadata" not in task
        return {k: v for k, v in task.items() if k != "_meta"}

    def _page(self, items: list[dict], q: httpx.QueryParams, view: Callable[[dict], dict]) -> httpx.Response:
        page, limit = int(q.get("page", 1)), int(q.get("page_limit", 10))
        total_page = max(1, -(-len(items) // limit))
        chunk = items[(page - 1) * limit : page * limit]
        return json_response(
            200,
            {
                "data": [view(i) for i in chunk],
                "page_info": {
                    "page": page,
                    "limit_per_page": limit,
                    "total_page": total_page,
                    "total_results": len(items),
                },
            },
        )


@pytest.fixture
def api(clock: FakeClock) -> FakeTasksAPI:
    return FakeTasksAPI(clock)


@pytest.mark.parametrize("mode", ["drop", "500"])
@pytest.mark.parametrize("at_once", [True, False])
def test_ambiguous_create_task_finds_the_created_task(make_client, api: FakeTasksAPI, mode: str, at_once: bool) -> None:
    api.videos_at_once = at_once  # False: the video is not listed yet, only the filename scan can find the task
    api.fail_after_create = [mode]
    client, recorder = make_client(api)
    created = client.create_task(
        "idx1",
        video_url="https://bucket.s3.amazonaws.com/a.mp4?X-Amz-Signature=s",
        user_metadata={"source": "s3"},
        idempotency_key="job-1",
    )
    assert len(api.tasks) == 1, "no duplicate task"
    assert created.id == api.tasks[0]["_id"] and created.video_id == api.tasks[0]["video_id"] and created.recovered
    assert len(recorder.calls("POST", "/tasks")) == 1
    assert api.tasks[0]["_meta"] == {"source": "s3", "job_key": "job-1"}
    # one Idempotency-Key per operation, derived from the caller's key (stable across re-runs)
    keys = {r.headers["idempotency-key"] for r in recorder.calls("POST", "/tasks")}
    assert len(keys) == 1 and keys.pop().startswith("tlc-")


def test_idempotency_key_header_is_stable_across_retries_and_derived(make_client, api: FakeTasksAPI) -> None:
    api.fail_before_create = [httpx.ConnectError("refused"), httpx.ReadTimeout("lost")]
    api.videos_at_once = False
    client, recorder = make_client(api)
    client.create_task("idx1", video_url="https://x/a.mp4", idempotency_key="job-7")
    headers = [r.headers["idempotency-key"] for r in recorder.calls("POST", "/tasks")]
    assert len(headers) == 3 and len(set(headers)) == 1
    client.create_task("idx1", video_url="https://x/b.mp4", idempotency_key="job-8")
    other = recorder.calls("POST", "/tasks")[-1].headers["idempotency-key"]
    assert other != headers[0]
    # without a caller key each call still gets one key, the same on its retries
    api.fail_before_create = [httpx.ConnectError("refused")]
    client.create_task("idx1", video_url="https://x/c.mp4")
    last_two = [r.headers["idempotency-key"] for r in recorder.calls("POST", "/tasks")[-2:]]
    assert last_two[0] == last_two[1] and last_two[0] not in (headers[0], other)


def test_existing_task_for_the_key_is_returned_without_creating(make_client, api: FakeTasksAPI) -> None:
    client, recorder = make_client(api)
    first = client.create_task("idx1", video_url="https://x/a.mp4", idempotency_key="job-1")
    assert not first.recovered
    again = client.create_task("idx1", video_url="https://x/a.mp4", idempotency_key="job-1")
    assert again.id == first.id and again.recovered
    assert len(api.tasks) == 1 and len(recorder.calls("POST", "/tasks")) == 1
    other = client.create_task("idx1", video_url="https://x/a.mp4", idempotency_key="job-2")
    assert other.id != first.id and len(api.tasks) == 2


def test_find_task_by_metadata(make_client, api: FakeTasksAPI) -> None:
    client, recorder = make_client(api)
    created = client.create_task("idx1", video_url="https://x/a.mp4", user_metadata={"job_key": "k"})
    before = len(recorder.requests)
    found = client.find_task_by_metadata("idx1", "job_key", "k")
    assert found is not None and found.id == created.id
    # the videos filter, then the video's task by filename (documented filters only)
    assert [r.url.path for r in recorder.requests[before:]] == ["/v1.3/indexes/idx1/videos", "/v1.3/tasks"]
    assert recorder.requests[-1].url.params["filename"] == "a.mp4"
    assert not any(k.startswith("user_metadata") for k in recorder.requests[-1].url.params)
    assert client.find_task_by_metadata("idx1", "job_key", "nope") is None


def test_ambiguous_upload_without_key_matches_on_filename(make_client, api: FakeTasksAPI, tmp_path) -> None:
    api.videos_at_once = False
    api.fail_after_create = ["drop"]
    video = tmp_path / "clip-0001.mp4"
    video.write_bytes(b"\0" * 1000)
    client, _recorder = make_client(api)
    created = client.create_task("idx1", video_file=video)
    assert created.recovered and len(api.tasks) == 1
    assert api.tasks[0]["system_metadata"]["filename"] == "clip-0001.mp4"


def test_not_found_after_ambiguous_failure_recreates_once(make_client, api: FakeTasksAPI, clock: FakeClock) -> None:
    # The lost attempt created nothing (the failure happened before the handler stored the task).
    api.fail_before_create = [httpx.ReadTimeout("write stalled")]
    client, recorder = make_client(api)
    created = client.create_task("idx1", video_url="https://x/a.mp4", idempotency_key="job-9")
    assert not created.recovered and len(api.tasks) == 1
    assert len(recorder.calls("POST", "/tasks")) == 2
    # the lookup ran between the two POSTs
    methods = [(r.method, r.url.path) for r in recorder.requests]
    assert methods.index(("GET", "/v1.3/tasks"), 3) < len(methods) - 1


def test_unsent_failure_is_retried_without_lookup(make_client, api: FakeTasksAPI) -> None:
    api.fail_before_create = [httpx.ConnectError("connection refused")]
    client, recorder = make_client(api)
    client.create_task("idx1", video_url="https://x/a.mp4")
    assert len(api.tasks) == 1 and len(recorder.calls("POST", "/tasks")) == 2
    assert recorder.calls("GET", "/tasks") == []


def test_non_seekable_upload_is_not_resent(make_client, api: FakeTasksAPI) -> None:
    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.data = io.BytesIO(b"x" * 5000)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer: Any) -> int:
            chunk = self.data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    api.fail_before_create = [httpx.ReadTimeout("lost")]
    client, recorder = make_client(api)
    with pytest.raises(Exception) as info:
        client.create_task("idx1", video_file=Pipe())
    assert info.value.ambiguous and len(recorder.calls("POST", "/tasks")) == 1


def test_4xx_on_create_is_raised_not_retried(make_client, clock: FakeClock) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return json_response(400, {"code": "video_resolution_too_low", "message": "too small"})

    client, _ = make_client(handler)
    with pytest.raises(InvalidParameterError) as info:
        client.create_task("idx1", video_url="https://x/a.mp4")
    assert info.value.code == "video_resolution_too_low" and len(calls) == 1 and not info.value.ambiguous


def test_create_without_recovery_match_gives_up_after_retries(make_client, clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return json_response(503, {"code": "unavailable", "message": "down"})
        return json_response(200, {"data": [], "page_info": {"page": 1, "total_page": 1}})

    client, recorder = make_client(handler, max_retries=2)
    with pytest.raises(ServerError) as info:
        client.create_task("idx1", video_url="https://x/a.mp4", idempotency_key="k")
    assert info.value.ambiguous
    assert len(recorder.calls("POST", "/tasks")) == 3


def test_create_index_lost_answer_found_by_name(make_client, api: FakeTasksAPI) -> None:
    api.fail_after_create = ["timeout"]
    client, recorder = make_client(api)
    created = client.create_index("news", [{"model_name": "marengo2.7", "model_options": ["visual", "audio"]}])
    assert created.recovered and created.id == api.indexes[0]["_id"] and len(api.indexes) == 1
    assert len(recorder.calls("POST", "/indexes")) == 1
    body = json.loads(recorder.bodies[0])
    assert body == {
        "index_name": "news",
        "models": [{"model_name": "marengo2.7", "model_options": ["visual", "audio"]}],
    }


def test_create_index_name_taken(make_client, api: FakeTasksAPI) -> None:
    client, _ = make_client(api)
    first = client.create_index("news", [{"model_name": "marengo2.7", "model_options": ["visual"]}])
    with pytest.raises(ConflictError) as info:
        client.create_index("news", [{"model_name": "marengo2.7", "model_options": ["visual"]}])
    assert info.value.code == "index_name_already_exists"
    assert (
        client.get_or_create_index("news", [{"model_name": "marengo2.7", "model_options": ["visual"]}]).id == first.id
    )


def test_delete_retried_after_lost_answer_treats_404_as_done(make_client, clock: FakeClock) -> None:
    answers = [httpx.ReadTimeout("lost"), json_response(404, {"code": "resource_not_exist", "message": "gone"})]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client, _ = make_client(handler)
    client.delete_video("i", "v")  # no exception: the first attempt deleted it


def test_delete_of_missing_resource_still_raises(make_client) -> None:
    client, _ = make_client(lambda r: json_response(404, {"code": "resource_not_exist", "message": "gone"}))
    from twelvelabs_client.errors import NotFoundError

    with pytest.raises(NotFoundError):
        client.delete_task("t")


def test_embedding_task_lost_answer_found_by_url(make_client, clock: FakeClock) -> None:
    tasks: list[dict] = []
    url = "https://bucket.s3.amazonaws.com/a.mp4?versionId=3&X-Amz-Signature=abc"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            fields = multipart_fields(request)
            tasks.insert(
                0,
                {
                    "_id": f"e{len(tasks)}",
                    "status": "processing",
                    "created_at": iso(clock.now),
                    "video_embedding": {
                        "metadata": {
                            "input_url": fields["video_url"][0],
                            "video_clip_length": float(fields.get("video_clip_length", ["6"])[0]),
                        }
                    },
                },
            )
            if len(tasks) == 1:
                raise httpx.RemoteProtocolError("dropped")
            return json_response(200, {"_id": tasks[0]["_id"]})
        assert request.url.params["started_at"]
        return json_response(200, {"data": tasks, "page_info": {"page": 1, "total_page": 1}})

    client, recorder = make_client(handler)
    created = client.create_embedding_task(video_url=url, video_clip_length=6, video_embedding_scope=["clip", "video"])
    assert created.recovered and created.id == "e0" and len(tasks) == 1
    fields = multipart_fields(recorder.calls("POST")[0])
    assert fields["video_embedding_scope"] == ["clip", "video"] and fields["model_name"] == ["Marengo-retrieval-2.7"]
    # With an idempotency key, a re-signed URL of the same object version finds it before creating.
    again = client.create_embedding_task(
        video_url=url.replace("abc", "zzz"), video_clip_length=6, idempotency_key="job"
    )
    assert again.id == "e0" and len(recorder.calls("POST")) == 1
    # ...but not another object version, nor other parameters
    other = client.create_embedding_task(video_url=url.replace("versionId=3", "versionId=4"), idempotency_key="job")
    assert other.id == "e1" and not other.recovered
    longer = client.create_embedding_task(video_url=url, video_clip_length=10, idempotency_key="job")
    assert longer.id == "e2" and len(recorder.calls("POST")) == 3


def test_import_lost_answer_rebuilt_from_status(make_client, clock: FakeClock) -> None:
    started: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1.3")
        if request.method == "POST":
            started.append(iso(clock.now))
            return json_response(502)
        if path.endswith("/logs"):
            return json_response(
                200,
                {
                    "data": [
                        {
                            "index_id": "idx",
                            "created_at": t,
                            "ended_at": None,
                            "video_status": {
                                "ready": 0,
                                "validating": 1,
                                "queued": 0,
                                "pending": 0,
                                "indexing": 0,
                                "failed": 0,
                            },
                        }
                        for t in started
                    ]
                },
            )
        assert path.endswith("/status") and request.url.params["index_id"] == "idx"
        return json_response(
            200,
            {
                "validating": [{"video_id": "v1", "filename": "a.mp4", "created_at": started[0]}],
                "failed": [],
                "not_imported": [],
            },
        )

    client, recorder = make_client(handler)
    result = client.create_import("integ", "idx", incremental_import=True)
    assert result.recovered and [v.video_id for v in result.videos] == ["v1"] and len(started) == 1
    assert json.loads(recorder.bodies[0]) == {"index_id": "idx", "incremental_import": True}


def test_connection_refused_everywhere_raises_connection_error(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client, recorder = make_client(handler, max_retries=1)
    with pytest.raises(APIConnectionError) as info:
        client.create_task("idx1", video_url="https://x/a.mp4")
    assert not info.value.ambiguous and len(recorder.requests) == 2


def test_conflict_after_lost_create_answer_returns_our_index(make_client, api: FakeTasksAPI, clock: FakeClock) -> None:
    # 1st POST creates then times out; the lookup misses (eventual consistency), the re-send gets
    # index_name_already_exists: the final lookup finds the index our first attempt made.
    misses = [True]
    inner = api.__call__

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and misses:
            misses.pop()
            return json_response(200, {"data": [], "page_info": {"page": 1, "total_page": 1}})
        return inner(request)

    api.fail_after_create = ["timeout"]
    client, recorder = make_client(handler)
    created = client.create_index("race", [{"model_name": "marengo2.7", "model_options": ["visual"]}])
    assert created.recovered and created.id == api.indexes[0]["_id"] and len(api.indexes) == 1
    assert len(recorder.calls("POST", "/indexes")) == 2


def test_recovery_picks_our_task_among_others(make_client, api: FakeTasksAPI) -> None:
    client, _ = make_client(api)
    client.create_task("idx1", video_url="https://x/other.mp4", idempotency_key="job-A")
    client.create_task("idx1", video_url="https://x/same.mp4", idempotency_key="job-B")
    api.fail_after_create = ["500+foreign"]
    created = client.create_task("idx1", video_url="https://x/same.mp4", idempotency_key="job-C")
    assert len(api.tasks) == 4 and created.recovered
    assert created.id == api.tasks[2]["_id"]
    # and a later call with another task's key finds that one, not the newest
    assert client.create_task("idx1", video_url="https://x/zzz.mp4", idempotency_key="job-A").id == api.tasks[0]["_id"]


def test_ready_same_filename_tasks_are_checked_through_their_video(make_client, api: FakeTasksAPI) -> None:
    # An earlier job's task of the same filename is ready (its video says job-A); ours is not listed yet.
    api.videos_at_once = False
    client, recorder = make_client(api)
    client.create_task("idx1", video_url="https://x/same.mp4", idempotency_key="job-A")
    api.finish()
    api.fail_after_create = ["500"]
    created = client.create_task("idx1", video_url="https://x/same.mp4", idempotency_key="job-B")
    assert created.recovered and created.id == api.tasks[1]["_id"] and len(api.tasks) == 2
    assert recorder.calls("GET", f"/indexes/idx1/videos/{api.tasks[0]['video_id']}")


def test_caller_job_key_is_kept_and_key_stored_alongside(make_client, api: FakeTasksAPI) -> None:
    client, _ = make_client(api)
    first = client.create_task(
        "idx1", video_url="https://x/a.mp4", user_metadata={"job_key": "job-1"}, idempotency_key="job-1#run2"
    )
    assert api.tasks[0]["_meta"] == {"job_key": "job-1", "idempotency_key": "job-1#run2"}
    again = client.create_task(
        "idx1", video_url="https://x/a.mp4", user_metadata={"job_key": "job-1"}, idempotency_key="job-1#run2"
    )
    assert again.id == first.id and again.recovered and len(api.tasks) == 1
    rerun = client.create_task(
        "idx1", video_url="https://x/a.mp4", user_metadata={"job_key": "job-1"}, idempotency_key="job-1#run3"
    )
    assert rerun.id != first.id and len(api.tasks) == 2


def test_key_conflict_means_an_earlier_request_created_it(make_client, api: FakeTasksAPI, clock: FakeClock) -> None:
    # A re-run with a re-signed URL: same Idempotency-Key, other body -> 409 idempotency_key_conflict;
    # the task of the earlier request (not ready yet, so the pre-check missed it) is returned.
    api.videos_at_once = False
    seen: dict[str, bytes] = {}
    inner = api.__call__

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers.get("idempotency-key")
        if request.method == "POST" and key is not None:
            url = multipart_fields(request)["video_url"][0]
            if key in seen and seen[key] != url.encode():
                return json_response(409, {"code": "idempotency_key_conflict", "message": "other body"})
            seen[key] = url.encode()
        return inner(request)

    client, _recorder = make_client(handler)
    first = client.create_task("idx1", video_url="https://b.s3/v/a.mp4?sig=1", idempotency_key="job-1")
    clock.sleep(3600)  # an hour later, outside any ambiguous-failure window
    again = client.create_task("idx1", video_url="https://b.s3/v/a.mp4?sig=2", idempotency_key="job-1")
    assert again.id == first.id and again.recovered and len(api.tasks) == 1


def test_key_conflict_without_a_match_raises_ambiguous_conflict(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return json_response(409, {"code": "idempotency_key_conflict", "message": "other body"})
        return json_response(200, {"data": [], "page_info": {"page": 1, "total_page": 1}})

    client, recorder = make_client(handler)
    with pytest.raises(ConflictError) as info:
        client.create_task("idx1", video_url="https://x/a.mp4", idempotency_key="k")
    assert info.value.ambiguous and len(recorder.calls("POST")) == 1


def test_key_in_use_is_retried_and_replayed(make_client, clock: FakeClock) -> None:
    answers = [
        json_response(409, {"code": "idempotency_key_in_use", "message": "still running"}),
        json_response(200, {"_id": "t1", "video_id": "v1"}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return answers.pop(0)
        return json_response(200, {"data": [], "page_info": {"page": 1, "total_page": 1}})

    client, recorder = make_client(handler)
    created = client.create_task("idx1", video_url="https://x/a.mp4", idempotency_key="k")
    assert created.id == "t1" and len(recorder.calls("POST")) == 2 and len(clock.sleeps) == 1


# --- against the strict classic emulator (real loopback HTTP) --------------------------------------

CLASSIC_MODELS = [{"model_name": "marengo2.7", "model_options": ["visual", "audio"]}]


def _classic_index(env: Any) -> str:
    import uuid

    return env.client().create_index(f"idem-{uuid.uuid4().hex[:8]}", CLASSIC_MODELS).id


def _admin_faults(env: Any, **faults: Any) -> None:
    env.admin("DELETE", "/faults")
    if faults:
        env.admin("POST", "/faults", json=faults)


@pytest.mark.parametrize("key", ["job-strict-1", None])
@pytest.mark.parametrize("source", ["file", "url"])
def test_strict_classic_500_after_create_leaves_one_task(tl_emulator: Any, key: str | None, source: str) -> None:
    index_id = _classic_index(tl_emulator)
    client = tl_emulator.client()
    _admin_faults(tl_emulator, error_after_create_next=1, path_prefix="/v1.3/tasks")
    try:
        if source == "file":
            created = client.create_task(
                index_id,
                video_file=tl_emulator.samples / "videos" / "ocean-waves.mp4",
                user_metadata={"job_key": "j"},
                idempotency_key=key,
            )
        else:
            url = f"{tl_emulator.sink.files_url}/videos/forest-walk.mp4?X-Amz-Signature=s1"
            created = client.create_task(index_id, video_url=url, idempotency_key=key)
    finally:
        _admin_faults(tl_emulator)
    assert created.recovered
    assert [t.id for t in client.list_tasks(index_id=index_id).data] == [created.id]


@pytest.mark.parametrize("strip_key", [True, False])
def test_strict_classic_dropped_answer_leaves_one_task(tl_emulator: Any, strip_key: bool) -> None:
    from tests.client.conftest import DropAnswers

    index_id = _classic_index(tl_emulator)
    drop = DropAnswers("/tasks", strip_key=strip_key)
    client = tl_emulator.client(transport=drop)
    url = f"{tl_emulator.sink.files_url}/videos/city-traffic.mov?X-Amz-Signature=s1"
    created = client.create_task(index_id, video_url=url, user_metadata={"job_key": "j2"}, idempotency_key="j2#1")
    assert created.recovered and drop.posts == 1
    assert [t.id for t in client.list_tasks(index_id=index_id).data] == [created.id]


def test_strict_classic_rerun_with_resigned_url_finds_its_task(tl_emulator: Any) -> None:
    # The pipeline's crash window: the task was created, the record was not written; the re-run signs a
    # new URL. Whether the task is still indexing (Idempotency-Key conflict -> lookup) or ready (videos
    # filter), no second task is created.
    index_id = _classic_index(tl_emulator)
    client = tl_emulator.client()
    base = f"{tl_emulator.sink.files_url}/videos/ocean-waves.mp4?X-Amz-Signature="
    first = client.create_task(index_id, video_url=base + "a", user_metadata={"job_key": "j3"}, idempotency_key="j3#1")
    again = client.create_task(index_id, video_url=base + "b", user_metadata={"job_key": "j3"}, idempotency_key="j3#1")
    assert again.id == first.id and again.recovered
    deadline = time.monotonic() + 30  # a bound on waiting for an event, not a timing assertion
    while client.get_task(first.id).status not in ("ready", "failed"):
        assert time.monotonic() < deadline, "indexing did not finish"
        time.sleep(0.05)
    third = client.create_task(index_id, video_url=base + "c", user_metadata={"job_key": "j3"}, idempotency_key="j3#1")
    assert third.id == first.id
    assert len(client.list_tasks(index_id=index_id).data) == 1
    other_run = client.create_task(
        index_id, video_url=base + "d", user_metadata={"job_key": "j3"}, idempotency_key="j3#2"
    )
    assert other_run.id != first.id and len(client.list_tasks(index_id=index_id).data) == 2
