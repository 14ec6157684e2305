"""Auth, headers, rate limiting, fault injection, the admin API, and "bad input never answers 500"."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from helpers import create_index, index_video, upload, wait_task

from tests.emulator.conftest import client_for


def test_auth_and_unknown_routes(emulator, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    for headers in ({}, {"x-api-key": "wrong"}):
        r = httpx.get(f"{emulator.base_url}/indexes", headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "api_key_invalid" and r.json()["message"]
        assert r.headers["X-Api-Version"] == "1.3"
    r = api.get("/nothing/here")
    assert (
        r.status_code == 404
        and r.json()["code"] == "resource_not_exist"
        and "/v1.3/nothing/here" in r.json()["message"]
    )
    r = api.patch("/indexes")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    assert httpx.get(emulator.base_url.replace("/v1.3", "/v1.2/indexes")).status_code == 404


def test_every_response_carries_version_and_rate_headers(api: httpx.Client) -> None:
    first = api.get("/indexes")
    second = api.get("/indexes/" + "0" * 24)
    for r in (first, second):
        assert r.headers["X-Api-Version"] == "1.3"
        for name in ("X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Used", "X-Ratelimit-Reset"):
            assert r.headers[name].isdigit()
        assert abs(int(r.headers["X-Ratelimit-Reset"]) - time.time()) <= 61
    assert int(second.headers["X-Ratelimit-Used"]) == int(first.headers["X-Ratelimit-Used"]) + 1


def test_rate_limit(make_emulator) -> None:  # type: ignore[no-untyped-def]
    emu = make_emulator(rate_limit_per_minute=3)
    now = [1_800_000_030.0]  # an injected clock, 30 s into a one-minute window
    emu.runtime.limiter.clock = lambda: now[0]
    with client_for(emu) as api:
        answers = [api.get("/indexes") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["X-Ratelimit-Remaining"] for r in answers] == ["2", "1", "0", "0"]
    limited = answers[-1]
    assert limited.json()["code"] == "too_many_requests" and "3 requests per minute" in limited.json()["message"]
    assert limited.headers["Retry-After"] == "30"  # the rest of the window
    assert limited.headers["X-Ratelimit-Limit"] == "3"
    assert int(limited.headers["X-Ratelimit-Reset"]) == 1_800_000_060
    now[0] = 1_800_000_061.0  # the next window: counting starts over
    with client_for(emu) as api:
        again = api.get("/indexes")
    assert again.status_code == 200 and again.headers["X-Ratelimit-Remaining"] == "2"


def test_faults(emulator, api: httpx.Client, admin: httpx.Client, samples: Path) -> None:  # type: ignore[no-untyped-def]
    assert admin.get("/health").json()["status"] == "ok"
    assert admin.post("/faults", json={"server_error_rate": 1.0, "server_error_status": 503}).status_code == 200
    r = api.get("/indexes")
    assert r.status_code == 503 and r.json()["code"] == "internal_error"
    assert admin.get("/faults").json()["server_error_rate"] == 1.0
    assert admin.delete("/faults").json()["server_error_rate"] == 0.0
    assert api.get("/indexes").status_code == 200

    admin.post("/faults", json={"rate_limit_next": 2, "path_prefix": "/v1.3/tasks"})
    assert api.get("/indexes").status_code == 200  # outside the prefix
    limited = [api.get("/tasks") for _ in range(3)]
    assert [r.status_code for r in limited] == [429, 429, 200]
    assert limited[0].headers["Retry-After"] == "1" and limited[0].json()["code"] == "too_many_requests"
    assert int(limited[0].headers["X-Ratelimit-Reset"]) <= time.time() + 2
    admin.delete("/faults")

    # latency_ms: the request waits that long before anything else (recorded through the runtime's sleep hook)
    waits: list[float] = []
    emulator.runtime.sleep = waits.append
    admin.post("/faults", json={"latency_ms": 300})
    assert api.get("/indexes").status_code == 200
    assert waits == [0.3]
    admin.delete("/faults")
    assert api.get("/indexes").status_code == 200 and waits == [0.3]

    # error_after_create_next: the resource exists although the answer was a 500
    admin.post("/faults", json={"error_after_create_next": 1})
    r = api.post(
        "/indexes",
        json={"index_name": "ambiguous", "models": [{"model_name": "marengo2.7", "model_options": ["visual"]}]},
    )
    assert r.status_code == 500 and r.json()["code"] == "internal_error"
    assert [i["index_name"] for i in api.get("/indexes").json()["data"]] == ["ambiguous"]
    index_id = api.get("/indexes").json()["data"][0]["_id"]
    admin.post("/faults", json={"error_after_create_next": 1, "path_prefix": "/v1.3/tasks"})
    assert upload(api, index_id, samples / "videos" / "forest-walk.mp4").status_code == 500
    tasks = api.get("/tasks").json()["data"]
    assert len(tasks) == 1
    posts = [e for e in admin.get("/requests").json() if e["method"] == "POST" and e["path"] == "/v1.3/tasks"]
    assert [e["status"] for e in posts] == [500]

    admin.post("/faults", json={"fail_next_tasks": 1})
    failed = wait_task(api, upload(api, index_id, samples / "videos" / "forest-walk.mp4").json()["_id"])
    assert failed["status"] == "failed" and "error" not in failed  # strict: the code is not on the task object
    assert (
        wait_task(api, upload(api, index_id, samples / "videos" / "forest-walk.mp4").json()["_id"])["status"] == "ready"
    )

    r = admin.post("/faults", json={"server_error_rate": 2})
    assert r.status_code == 400 and "server_error_rate" in r.json()["message"]
    r = admin.post("/faults", json={"bogus": 1})
    assert r.status_code == 400 and r.json()["code"] == "parameter_unknown"


def test_requests_log_and_reset(emulator, api: httpx.Client, admin: httpx.Client, samples: Path) -> None:  # type: ignore[no-untyped-def]
    index_id = create_index(api)
    index_video(api, index_id, samples / "videos" / "forest-walk.mp4")
    log = admin.get("/requests").json()
    assert log[0] == {"method": "POST", "path": "/v1.3/indexes", "status": 201}
    assert admin.delete("/requests").json() == [] and admin.get("/requests").json() == []
    assert admin.post("/reset").status_code == 200
    assert api.get("/indexes").json()["data"] == [] and api.get("/tasks").json()["data"] == []
    assert not [p for p in emulator.runtime.media_dir.iterdir()]


JUNK = [
    b"",
    b"null",
    b"[]",
    b'"x"',
    b"{",
    b'{"index_name": null}',
    b'{"models": "x"}',
    b"\xff\xfe",
    b'{"video_id": 5, "types": {}}',
    b'{"user_metadata": "x"}',
    b'{"index_id": []}',
]


def test_bad_input_never_answers_500(emulator, api: httpx.Client, admin: httpx.Client, samples: Path) -> None:  # type: ignore[no-untyped-def]
    index_id = create_index(api)
    video = index_video(api, index_id, samples / "videos" / "forest-walk.mp4")
    ids = {"index": index_id, "video": str(video["video_id"]), "task": str(video["_id"])}
    json_posts = [
        "/indexes",
        "/gist",
        "/summarize",
        "/analyze",
        "/generate",
        "/tasks/transfers/import/x",
        f"/indexes/{ids['index']}",
        f"/indexes/{ids['index']}/videos/{ids['video']}",
    ]
    for path in json_posts:
        for junk in JUNK:
            for method in ("POST", "PUT", "PATCH"):
                r = api.request(method, path, content=junk, headers={"content-type": "application/json"})
                assert r.status_code < 500, (method, path, junk, r.text)
    form_posts = ["/tasks", "/embed", "/embed/tasks", "/search"]
    forms = [
        {},
        {"index_id": ids["index"]},
        {"model_name": "Marengo-retrieval-2.7", "video_clip_length": "abc"},
        {"index_id": ids["index"], "search_options": "visual", "query_text": "", "page_limit": "-1"},
        {"index_id": ids["index"], "user_metadata": "[1]", "video_url": "not a url"},
        {"model_name": "Marengo-retrieval-2.7", "audio_start_offset_sec": "x", "text": "a"},
    ]
    for path in form_posts:
        for form in forms:
            r = api.post(path, data=form, files={"video_file": ("a.mp4", b"\x00garbage", "video/mp4")})
            assert r.status_code < 500, (path, form, r.text)
            r = api.post(
                path, content=b"--zzz\r\nbroken", headers={"content-type": "multipart/form-data; boundary=zzz"}
            )
            assert r.status_code < 500, (path, r.text)
        r = api.post(path, data={"index_id": "x" * (2 * 1024 * 1024)}, files={"_": ("", b"")})
        assert r.status_code == 400 and r.json()["code"] == "parameter_invalid", (path, r.text)
    queries = [
        {"page": "x"},
        {"page_limit": "0"},
        {"sort_option": "up"},
        {"created_at": "z"},
        {"status": "x"},
        {"embedding_option": "x"},
        {"width": "wide"},
        {"include_user_metadata": "maybe"},
        {"transcription": "x"},
    ]
    gets = [
        "/indexes",
        f"/indexes/{ids['index']}/videos",
        f"/indexes/{ids['index']}/videos/{ids['video']}",
        "/tasks",
        "/embed/tasks",
        f"/tasks/{ids['task']}",
        "/search/abc",
        "/tasks/transfers/import/x/status",
        f"/embed/tasks/{'0' * 24}",
    ]
    for path in gets:
        for query in queries:
            r = api.get(path, params=query)
            assert r.status_code < 500, (path, query, r.text)
    assert all(e["status"] < 500 for e in admin.get("/requests").json())
