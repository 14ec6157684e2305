"""Video indexing tasks: uploads and URLs, the lifecycle, real media checks, deletion rules, listing."""

from __future__ import annotations

import json
import time
from fractions import Fraction
from pathlib import Path

import httpx
import pytest
from helpers import BOTH, MARENGO_ONLY, create_index, file_server, index_video, solid_video, upload, wait_task


def test_upload_lifecycle_and_metadata(api: httpx.Client, samples: Path) -> None:
    index_id = create_index(api)
    r = upload(api, index_id, samples / "videos" / "ocean-waves.mp4", json.dumps({"job_key": "j1", "n": 2, "ok": True}))
    assert r.status_code == 200
    created = r.json()
    assert set(created) == {"_id", "video_id"}
    seen: list[str] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        task = api.get(f"/tasks/{created['_id']}").json()
        if not seen or seen[-1] != task["status"]:
            seen.append(task["status"])
        if task["status"] in ("ready", "failed"):
            break
        time.sleep(0.01)
    order = ["validating", "pending", "queued", "indexing", "ready"]
    assert seen[-1] == "ready" and seen == sorted(seen, key=order.index), seen
    assert len(seen) >= 2  # at least one intermediate status observed before ready
    assert task["video_id"] == created["video_id"] and task["index_id"] == index_id
    assert task["system_metadata"] == {"filename": "ocean-waves.mp4", "duration": 8.0, "width": 640, "height": 360}
    # Strict: the task object has exactly the documented fields; the metadata lives on the video.
    assert set(task) == {"_id", "index_id", "video_id", "status", "created_at", "updated_at", "system_metadata", "hls"}
    assert task["hls"]["status"] == "COMPLETE"
    video = api.get(f"/indexes/{index_id}/videos/{created['video_id']}").json()
    assert video["user_metadata"] == {"job_key": "j1", "n": 2, "ok": True}
    # hls.video_url serves the stored file
    assert httpx.get(video["hls"]["video_url"]).content == (samples / "videos" / "ocean-waves.mp4").read_bytes()


def test_video_url_download(api: httpx.Client, samples: Path) -> None:
    index_id = create_index(api)
    with file_server(samples / "videos") as base:
        r = api.post(
            "/tasks", data={"index_id": index_id, "video_url": f"{base}/city-traffic.mov"}, files={"x": ("", b"")}
        )
        assert r.status_code == 200, r.text
        task = wait_task(api, r.json()["_id"])
        assert task["status"] == "ready"
        assert task["system_metadata"]["filename"] == "city-traffic.mov"
        assert task["system_metadata"]["duration"] == 6.0
        r = api.post("/tasks", data={"index_id": index_id, "video_url": f"{base}/missing.mp4"}, files={"x": ("", b"")})
        assert r.status_code == 400 and r.json()["code"] == "parameter_invalid" and "video_url" in r.json()["message"]
    r = api.post(
        "/tasks", data={"index_id": index_id, "video_url": "http://127.0.0.1:9/nothing.mp4"}, files={"x": ("", b"")}
    )
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid" and "video_url" in r.json()["message"]
    r = api.post("/tasks", data={"index_id": index_id, "video_url": "ftp://example/a.mp4"}, files={"x": ("", b"")})
    assert r.status_code == 400 and "video_url" in r.json()["message"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("bad/tiny-320x240.mp4", "video_resolution_too_low"),
        ("bad/short-2s.mp4", "video_duration_too_short"),
        ("bad/empty.mp4", "video_file_broken"),
        ("bad/not-a-video.mp4", "video_file_broken"),
    ],
)
def test_bad_samples_fail_with_the_documented_code(
    lenient_api: httpx.Client, samples: Path, name: str, code: str
) -> None:
    # The failure code is only visible on a lenient emulator (the documented task object has no `error`).
    api = lenient_api
    index_id = create_index(api)
    r = upload(api, index_id, samples / name)
    assert r.status_code == 200, r.text
    task = wait_task(api, r.json()["_id"])
    assert task["status"] == "failed"
    assert task["error"]["code"] == code and task["error"]["message"]


def test_generated_media_rules(lenient_api: httpx.Client, tmp_path: Path) -> None:
    api = lenient_api
    both, marengo = create_index(api, "both", BOTH), create_index(api, "marengo", MARENGO_ONLY)
    wide = solid_video(tmp_path / "wide.mp4", 1000, 400, 5)
    huge = solid_video(tmp_path / "huge.mp4", 4000, 2250, 5)
    long = solid_video(tmp_path / "long.mp4", 640, 360, 3700, fps=Fraction(1, 10))
    expectations = [
        (both, wide, "video_resolution_invalid_aspect_ratio"),
        (both, huge, "video_resolution_too_high"),
        (both, long, "video_duration_too_long"),
    ]
    for index_id, path, code in expectations:
        task = wait_task(api, upload(api, index_id, path).json()["_id"])
        assert task["status"] == "failed" and task["error"]["code"] == code, (path, task)
    # Pegasus caps duration at 1 h, Marengo at 2 h: the same file is fine for a Marengo-only index.
    task = wait_task(api, upload(api, marengo, long).json()["_id"], timeout=120)
    assert task["status"] == "ready", task


def test_size_limit_is_a_synchronous_400(make_emulator, samples: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.emulator.conftest import client_for

    emu = make_emulator(max_video_bytes=50_000)
    with client_for(emu) as api:
        index_id = create_index(api)
        r = upload(api, index_id, samples / "videos" / "ocean-waves.mp4")
        assert r.status_code == 400 and r.json()["code"] == "video_filesize_too_large"
        with file_server(samples / "videos") as base:
            r = api.post(
                "/tasks", data={"index_id": index_id, "video_url": f"{base}/ocean-waves.mp4"}, files={"x": ("", b"")}
            )
        assert r.status_code == 400 and r.json()["code"] == "video_filesize_too_large"
        assert api.get("/tasks").json()["data"] == []
        assert not list((emu.runtime.media_dir).iterdir())  # rejected files are not kept


def test_create_errors(api: httpx.Client, samples: Path) -> None:
    index_id = create_index(api)
    r = api.post("/tasks", data={"index_id": index_id}, files={"x": ("", b"")})
    assert r.status_code == 400 and r.json()["code"] == "parameter_not_provided" and "video_file" in r.json()["message"]
    r = api.post("/tasks", data={"video_url": "http://x/a.mp4"}, files={"x": ("", b"")})
    assert r.status_code == 400 and r.json()["code"] == "parameter_not_provided" and "index_id" in r.json()["message"]
    r = upload(api, "f" * 24, samples / "videos" / "forest-walk.mp4")
    assert r.status_code == 404 and r.json()["code"] == "resource_not_exist"
    r = upload(api, index_id, samples / "videos" / "forest-walk.mp4", user_metadata="{nope")
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid" and "user_metadata" in r.json()["message"]
    r = upload(api, index_id, samples / "videos" / "forest-walk.mp4", user_metadata='{"a": {"b": 1}}')
    assert r.status_code == 400 and "user_metadata.a" in r.json()["message"]
    r = api.post("/tasks", json={"index_id": index_id, "video_url": "http://x/a.mp4"})
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid" and "Content-Type" in r.json()["message"]
    assert api.get("/tasks/" + "a" * 24).status_code == 404


def test_delete_rules(api: httpx.Client, samples: Path) -> None:
    index_id = create_index(api)
    r = upload(api, index_id, samples / "videos" / "forest-walk.mp4")
    task_id, video_id = r.json()["_id"], r.json()["video_id"]
    r = api.delete(f"/tasks/{task_id}")  # still validating
    assert r.status_code == 400 and r.json()["code"] == "task_cannot_be_deleted"
    wait_task(api, task_id)
    r = api.delete(f"/tasks/{task_id}")  # ready, video still there
    assert r.status_code == 400 and r.json()["code"] == "task_cannot_be_deleted" and video_id in r.json()["message"]
    assert api.delete(f"/indexes/{index_id}/videos/{video_id}").status_code == 204
    assert api.delete(f"/tasks/{task_id}").status_code == 204
    assert api.get(f"/tasks/{task_id}").status_code == 404
    failed = wait_task(api, upload(api, index_id, samples / "bad" / "empty.mp4").json()["_id"])
    assert api.delete(f"/tasks/{failed['_id']}").status_code == 204


def test_strict_failed_task_has_no_error_field(api: httpx.Client, samples: Path) -> None:
    task = wait_task(api, upload(api, create_index(api), samples / "bad" / "short-2s.mp4").json()["_id"])
    assert task["status"] == "failed" and "error" not in task and "user_metadata" not in task


def test_strict_tasks_ignore_the_user_metadata_filter(api: httpx.Client, samples: Path) -> None:
    index_id = create_index(api)
    index_video(api, index_id, samples / "videos" / "ocean-waves.mp4", '{"job_key": "k-1"}')
    index_video(api, index_id, samples / "videos" / "forest-walk.mp4", '{"job_key": "k-2"}')
    found = api.get("/tasks", params={"user_metadata[job_key]": "k-1"}).json()["data"]
    assert len(found) == 2  # an undocumented parameter is ignored, as the API ignores unknown parameters


def test_list_filters_and_pagination(lenient_api: httpx.Client, samples: Path) -> None:
    api = lenient_api
    a, b = create_index(api, "a"), create_index(api, "b")
    ok = index_video(api, a, samples / "videos" / "ocean-waves.mp4", '{"job_key": "k-1"}')
    index_video(api, b, samples / "videos" / "forest-walk.mp4", '{"job_key": "k-2"}')
    bad = wait_task(api, upload(api, a, samples / "bad" / "short-2s.mp4").json()["_id"])

    def ids(**params: object) -> list[str]:
        r = api.get("/tasks", params=params)
        assert r.status_code == 200, r.text
        return [t["_id"] for t in r.json()["data"]]

    assert len(ids()) == 3
    assert set(ids(index_id=a)) == {ok["_id"], bad["_id"]}
    assert ids(status="failed") == [bad["_id"]]
    assert len(ids(status=["ready", "failed"])) == 3
    assert ids(filename="ocean-waves.mp4") == [ok["_id"]]
    assert ids(**{"duration[gte]": 6}) == [ok["_id"]]
    assert ids(width=480) != [] and ids(height=999) == []
    assert ids(**{"user_metadata[job_key]": "k-1"}) == [ok["_id"]]
    assert ids(sort_option="asc")[0] == ok["_id"]
    page = api.get("/tasks", params={"page_limit": 2, "page": 2}).json()
    assert len(page["data"]) == 1 and page["page_info"]["total_page"] == 2
    for params, field in [
        ({"status": "done"}, "status"),
        ({"page_limit": 51}, "page_limit"),
        ({"page": 0}, "page"),
        ({"sort_by": "name"}, "sort_by"),
        ({"duration": "long"}, "duration"),
        ({"created_at": "yesterday"}, "created_at"),
    ]:
        r = api.get("/tasks", params=params)
        assert r.status_code == 400 and r.json()["code"] == "parameter_invalid" and field in r.json()["message"]
