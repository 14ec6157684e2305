"""Indexes over real HTTP: CRUD, filters, pagination and every error."""

from __future__ import annotations

import httpx
from helpers import BOTH, MARENGO_ONLY, PEGASUS_ONLY, create_index, index_video


def test_create_retrieve_list_update_delete(api: httpx.Client) -> None:
    r = api.post("/indexes", json={"index_name": "news", "models": BOTH, "addons": ["thumbnail"]})
    assert r.status_code == 201
    index_id = r.json()["_id"]
    assert len(index_id) == 24 and int(index_id, 16) >= 0

    got = api.get(f"/indexes/{index_id}").json()
    assert got["_id"] == index_id and got["index_name"] == "news" and got["addons"] == ["thumbnail"]
    assert got["models"] == BOTH and got["video_count"] == 0 and got["total_duration"] == 0
    assert got["expires_at"] is None and got["created_at"].endswith("Z")

    r = api.put(f"/indexes/{index_id}", json={"index_name": "renamed"})
    assert r.status_code == 204 and r.content == b""
    assert api.get(f"/indexes/{index_id}").json()["index_name"] == "renamed"

    listed = api.get("/indexes").json()
    assert [i["_id"] for i in listed["data"]] == [index_id]
    assert listed["page_info"] == {"page": 1, "limit_per_page": 10, "total_page": 1, "total_results": 1}

    r = api.delete(f"/indexes/{index_id}")
    assert r.status_code == 204 and r.content == b""
    r = api.get(f"/indexes/{index_id}")
    assert r.status_code == 404
    assert r.json() == {
        "code": "resource_not_exist",
        "message": f"Resource with id {index_id} does not exist in indexes.",
    }


def test_list_filters_sort_and_pagination(api: httpx.Client) -> None:
    ids = [create_index(api, f"i{n}", BOTH if n % 2 else MARENGO_ONLY) for n in range(5)]
    pegasus = create_index(api, "peg", PEGASUS_ONLY)
    newest_first = [i["_id"] for i in api.get("/indexes", params={"page_limit": 50}).json()["data"]]
    assert newest_first == [pegasus, *reversed(ids)]
    oldest_first = api.get("/indexes", params={"sort_option": "asc", "page_limit": 50}).json()["data"]
    assert [i["_id"] for i in oldest_first] == [*ids, pegasus]

    page2 = api.get("/indexes", params={"page": 2, "page_limit": 4}).json()
    assert page2["page_info"] == {"page": 2, "limit_per_page": 4, "total_page": 2, "total_results": 6}
    assert len(page2["data"]) == 2
    assert api.get("/indexes", params={"page": 3, "page_limit": 4}).json()["data"] == []

    assert [i["_id"] for i in api.get("/indexes", params={"index_name": "i3"}).json()["data"]] == [ids[3]]
    marengo = {i["_id"] for i in api.get("/indexes", params={"model_family": "marengo"}).json()["data"]}
    assert marengo == set(ids)
    peg = {i["_id"] for i in api.get("/indexes", params={"model_family": "pegasus"}).json()["data"]}
    assert peg == {ids[1], ids[3], pegasus}
    assert len(api.get("/indexes", params={"model_options": "visual,audio"}).json()["data"]) == 6
    future = api.get("/indexes", params={"created_at": "2999-01-01T00:00:00Z"}).json()["data"]
    assert future == []


def test_create_errors_name_the_field(api: httpx.Client) -> None:
    create_index(api, "dup")
    cases = [
        ({"index_name": "dup", "models": BOTH}, "index_name_already_exists", "dup"),
        ({"models": BOTH}, "parameter_not_provided", "index_name"),
        ({"index_name": "x"}, "parameter_not_provided", "models"),
        ({"index_name": "x", "models": []}, "parameter_invalid", "models"),
        (
            {"index_name": "x", "models": [{"model_name": "gpt", "model_options": ["visual"]}]},
            "parameter_invalid",
            "models[0].model_name",
        ),
        (
            {"index_name": "x", "models": [{"model_name": "marengo2.7", "model_options": ["smell"]}]},
            "parameter_invalid",
            "models[0].model_options",
        ),
        (
            {"index_name": "x", "models": [{"model_name": "marengo2.7"}]},
            "parameter_not_provided",
            "models.0.model_options",
        ),
        ({"index_name": "x", "models": PEGASUS_ONLY, "addons": ["thumbnail"]}, "parameter_invalid", "addons"),
        ({"index_name": 5, "models": BOTH}, "parameter_invalid", "index_name"),
    ]
    for body, code, field in cases:
        r = api.post("/indexes", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["code"] == code, (body, r.text)
        assert field in r.json()["message"], (body, r.text)
    r = api.post("/indexes", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid"


def test_update_errors(api: httpx.Client) -> None:
    a, b = create_index(api, "a"), create_index(api, "b")
    r = api.put(f"/indexes/{a}", json={"index_name": "b"})
    assert r.status_code == 400 and r.json()["code"] == "index_name_already_exists"
    assert api.put(f"/indexes/{a}", json={"index_name": "a"}).status_code == 204  # its own name is fine
    r = api.put(f"/indexes/{b}", json={})
    assert r.status_code == 400 and r.json()["code"] == "parameter_not_provided" and "index_name" in r.json()["message"]
    r = api.put("/indexes/" + "0" * 24, json={"index_name": "z"})
    assert r.status_code == 404 and r.json()["code"] == "resource_not_exist"
    assert api.delete("/indexes/" + "0" * 24).status_code == 404


def test_delete_index_deletes_its_videos(api: httpx.Client, samples) -> None:  # type: ignore[no-untyped-def]
    index_id = create_index(api)
    task = index_video(api, index_id, samples / "videos" / "forest-walk.mp4")
    got = api.get(f"/indexes/{index_id}").json()
    assert got["video_count"] == 1 and got["total_duration"] == 5.0
    assert api.delete(f"/indexes/{index_id}").status_code == 204
    assert api.get(f"/indexes/{index_id}/videos/{task['video_id']}").status_code == 404
    assert api.get(f"/tasks/{task['_id']}").status_code == 404
