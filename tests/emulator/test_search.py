"""Search (classic surface): meaningful ranking, grouping, filters, page tokens (expiry included) and every error."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from helpers import PEGASUS_ONLY, create_index, file_server, index_video, upload, wait_task

NO_FILE = {"_": ("", b"")}  # forces multipart like the SDKs do


@pytest.fixture()
def library(api: httpx.Client, samples: Path) -> dict[str, str]:
    index_id = create_index(api)
    ids = {"index": index_id}
    tasks = {}
    for name, meta in [
        ("ocean-waves.mp4", '{"kind": "sea", "rating": 5}'),
        ("city-traffic.mov", '{"kind": "urban", "rating": 3}'),
        ("forest-walk.mp4", '{"kind": "nature", "rating": 4}'),
    ]:
        tasks[name.split("-")[0]] = upload(api, index_id, samples / "videos" / name, meta).json()["_id"]
    for key, task_id in tasks.items():
        ids[key] = str(wait_task(api, task_id)["video_id"])
    return ids


def search(api: httpx.Client, **fields: object) -> httpx.Response:
    return api.post("/search", data=fields, files=NO_FILE)


def test_text_query_ranks_the_matching_video_first(api: httpx.Client, library: dict[str, str]) -> None:
    for query, expected in [("blue ocean", "ocean"), ("green forest trees", "forest"), ("grey city street", "city")]:
        r = search(api, index_id=library["index"], search_options=["visual"], query_text=query)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["data"][0]["video_id"] == library[expected], (query, body)
        assert body["data"][0]["confidence"] == "high" and body["data"][0]["rank"] == 1
        scores = [h["score"] for h in body["data"]]
        assert scores == sorted(scores, reverse=True) and all(0 <= s <= 100 for s in scores)
        assert [h["rank"] for h in body["data"]] == list(range(1, len(body["data"]) + 1))
        # every visual clip of the index is ranked (as Marengo does); the matching video's clips come first and
        # are the only confident ones, the unrelated ones trail as "low"
        assert len(body["data"]) == 4
        matching = [h for h in body["data"] if h["video_id"] == library[expected]]
        assert body["data"][: len(matching)] == matching
        assert {h["confidence"] for h in body["data"][len(matching) :]} == {"low"}
        assert body["search_pool"] == {"total_count": 3, "total_duration": 19.0, "index_id": library["index"]}
    r = search(api, index_id=library["index"], search_options=["visual"], query_text="blue", threshold="none")
    assert len(r.json()["data"]) == 4  # every clip of the index, ranked
    r = search(api, index_id=library["index"], search_options=["audio"], query_text="high pitched tone")
    assert r.json()["data"][0]["video_id"] == library["city"]  # 523 Hz vs 330/262 Hz


def test_image_query(api: httpx.Client, library: dict[str, str], samples: Path) -> None:
    with (samples / "media" / "still.png").open("rb") as fh:  # a blue image
        r = api.post(
            "/search",
            data={"index_id": library["index"], "search_options": ["visual"], "query_media_type": "image"},
            files={"query_media_file": ("still.png", fh, "image/png")},
        )
    assert r.status_code == 200, r.text
    assert r.json()["data"][0]["video_id"] == library["ocean"]
    with file_server(samples / "media") as base:
        r = search(
            api,
            index_id=library["index"],
            search_options=["visual"],
            query_media_type="image",
            query_media_url=f"{base}/still.png",
        )
    assert r.status_code == 200 and r.json()["data"][0]["video_id"] == library["ocean"]
    r = search(
        api,
        index_id=library["index"],
        search_options=["audio"],
        query_media_type="image",
        query_media_url="http://127.0.0.1:9/x.png",
    )
    assert r.status_code == 400


def test_group_by_video_filters_and_user_metadata(api: httpx.Client, library: dict[str, str]) -> None:
    r = search(
        api,
        index_id=library["index"],
        search_options=["visual", "audio"],
        query_text="blue ocean tone",
        group_by="video",
        threshold="none",
        include_user_metadata="true",
    )
    body = r.json()
    assert body["data"][0]["id"] == library["ocean"]
    assert {c["video_id"] for c in body["data"][0]["clips"]} == {library["ocean"]}
    assert body["data"][0]["user_metadata"] == {"kind": "sea", "rating": 5}
    assert body["page_info"]["total_inner_matches"] == 4
    flt = {"kind": "urban"}
    r = search(
        api,
        index_id=library["index"],
        search_options=["visual"],
        query_text="blue",
        threshold="none",
        filter=json.dumps(flt),
    )
    assert {h["video_id"] for h in r.json()["data"]} == {library["city"]}
    for flt, expected in [
        ({"rating": {"gte": 4}}, {"ocean", "forest"}),
        ({"id": [library["forest"]]}, {"forest"}),
        ({"duration": {"lte": 6}, "width": 640}, {"city"}),
        ({"filename": "forest-walk.mp4"}, {"forest"}),
    ]:
        r = search(
            api,
            index_id=library["index"],
            search_options=["visual"],
            query_text="x",
            threshold="none",
            filter=json.dumps(flt),
        )
        assert {h["video_id"] for h in r.json()["data"]} == {library[k] for k in expected}, flt


def test_page_tokens(make_emulator, samples: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.emulator.conftest import client_for

    emu = make_emulator(search_token_ttl_seconds=60.0)
    now = [1_900_000_000.0]
    emu.services.searches.clock = lambda: now[0]  # an injected clock: expiry without sleeping
    with client_for(emu) as api:
        index_id = create_index(api)
        for name in ("ocean-waves.mp4", "city-traffic.mov", "forest-walk.mp4"):
            index_video(api, index_id, samples / "videos" / name)
        first = search(
            api, index_id=index_id, search_options=["visual"], query_text="blue", threshold="none", page_limit=3
        ).json()
        info = first["page_info"]
        assert info["limit_per_page"] == 3 and info["total_results"] == 4 and "prev_page_token" not in info
        assert info["page_expires_at"].endswith("Z")
        second = api.get(f"/search/{info['next_page_token']}")
        assert second.status_code == 200
        body = second.json()
        assert len(body["data"]) == 1 and "next_page_token" not in body["page_info"]
        assert body["data"][0]["rank"] == 4
        back = api.get(f"/search/{body['page_info']['prev_page_token']}").json()
        assert back["data"] == first["data"]
        now[0] += 59.0
        assert api.get(f"/search/{info['next_page_token']}").status_code == 200  # still inside the TTL
        now[0] += 1.0
        expired = api.get(f"/search/{info['next_page_token']}")
        assert expired.status_code == 400 and expired.json()["code"] == "search_page_token_expired"
    r = httpx.get(f"{emu.base_url}/search/not-a-token", headers={"x-api-key": "test-key"})
    assert r.status_code == 400 and r.json()["code"] == "search_page_token_expired"


def test_errors(api: httpx.Client, library: dict[str, str]) -> None:
    index_id = library["index"]
    visual_only = create_index(api, "v", [{"model_name": "marengo2.7", "model_options": ["visual"]}])
    pegasus = create_index(api, "p", PEGASUS_ONLY)
    cases: list[tuple[dict[str, object], str, str]] = [
        (
            {"index_id": visual_only, "search_options": ["audio"], "query_text": "x"},
            "search_option_not_supported",
            "audio",
        ),
        (
            {"index_id": pegasus, "search_options": ["visual"], "query_text": "x"},
            "index_not_supported_for_search",
            pegasus,
        ),
        (
            {"index_id": index_id, "search_options": ["visual"], "query_text": "x", "filter": "{bad"},
            "search_filter_invalid",
            "filter",
        ),
        (
            {"index_id": index_id, "search_options": ["visual"], "query_text": "x", "filter": "[1]"},
            "search_filter_invalid",
            "filter",
        ),
        (
            {"index_id": index_id, "search_options": ["visual"], "query_text": "x", "filter": '{"d": {"near": 1}}'},
            "search_filter_invalid",
            "filter.d",
        ),
        (
            {"index_id": index_id, "search_options": ["visual"], "query_text": "x", "page_limit": 51},
            "parameter_invalid",
            "page_limit",
        ),
        ({"index_id": index_id, "search_options": ["smell"], "query_text": "x"}, "parameter_invalid", "search_options"),
        ({"index_id": index_id, "query_text": "x"}, "parameter_not_provided", "search_options"),
        ({"search_options": ["visual"], "query_text": "x"}, "parameter_not_provided", "index_id"),
        ({"index_id": index_id, "search_options": ["visual"]}, "parameter_not_provided", "query_text"),
        (
            {"index_id": index_id, "search_options": ["visual"], "query_text": "x", "group_by": "frame"},
            "parameter_invalid",
            "group_by",
        ),
        (
            {"index_id": index_id, "search_options": ["visual"], "query_text": "x", "threshold": "max"},
            "parameter_invalid",
            "threshold",
        ),
        (
            {"index_id": index_id, "search_options": ["visual"], "query_text": "x", "operator": "xor"},
            "parameter_invalid",
            "operator",
        ),
        (
            {"index_id": index_id, "search_options": ["visual"], "query_text": "x", "sort_option": "clip_count"},
            "parameter_invalid",
            "sort_option",
        ),
        (
            {"index_id": index_id, "search_options": ["visual"], "query_text": "word " * 80},
            "parameter_invalid",
            "query_text",
        ),
        (
            {"index_id": index_id, "search_options": ["visual"], "query_media_url": "http://x/y.png"},
            "parameter_not_provided",
            "query_media_type",
        ),
    ]
    for fields, code, needle in cases:
        r = search(api, **fields)
        assert r.status_code == 400, (fields, r.text)
        assert r.json()["code"] == code and needle in r.json()["message"], (fields, r.text)
    r = search(api, index_id="0" * 24, search_options=["visual"], query_text="x")
    assert r.status_code == 404 and r.json()["code"] == "resource_not_exist"


def test_generic_query_on_a_one_video_index_is_ranked_and_paged(api: httpx.Client, samples: Path) -> None:
    """Marengo answers any text query with ranked hits: no shared words does not mean no results."""
    index_id = create_index(api)
    video_id = index_video(api, index_id, samples / "videos" / "ocean-waves.mp4")["video_id"]  # 8 s: two clips
    body = search(api, index_id=index_id, search_options=["visual"], query_text="a colourful test pattern").json()
    assert [h["video_id"] for h in body["data"]] == [video_id, video_id] and body["page_info"]["total_results"] == 2
    first = search(api, index_id=index_id, search_options=["visual"], query_text="test", page_limit=1).json()
    assert len(first["data"]) == 1 and first["data"][0]["rank"] == 1
    second = api.get(f"/search/{first['page_info']['next_page_token']}").json()
    assert second["data"][0]["rank"] == 2 and second["data"][0]["video_id"] == video_id
    assert "next_page_token" not in second["page_info"] and second["page_info"]["prev_page_token"]
    assert {(h["start"], h["end"]) for h in first["data"] + second["data"]} == {(0.0, 6.0), (6.0, 8.0)}


def test_relevance_orders_a_shared_query_by_content(api: httpx.Client, library: dict[str, str]) -> None:
    """With every clip ranked, the order is still the content's: "blue ocean" puts the ocean clips first, and an
    unrelated query's scores stay below the related ones'."""
    related = search(api, index_id=library["index"], search_options=["visual"], query_text="blue ocean").json()["data"]
    unrelated = search(api, index_id=library["index"], search_options=["visual"], query_text="people dancing").json()[
        "data"
    ]
    assert [h["video_id"] for h in related[:2]] == [library["ocean"], library["ocean"]]
    assert max(h["score"] for h in unrelated) < related[0]["score"]
    assert len(unrelated) == len(related) == 4


def test_sdk_1_0_2_pages_a_generic_query(make_emulator, samples: Path) -> None:  # type: ignore[no-untyped-def]
    from twelvelabs import TwelveLabs
    from twelvelabs.indexes import IndexesCreateRequestModelsItem

    emu = make_emulator()
    client = TwelveLabs(api_key="test-key", base_url=emu.base_url)
    index_id = client.indexes.create(
        index_name="generic",
        models=[IndexesCreateRequestModelsItem(model_name="marengo2.7", model_options=["visual", "audio"])],
    ).id
    from tests.emulator.conftest import client_for

    with client_for(emu) as api:
        video_id = index_video(api, index_id, samples / "videos" / "ocean-waves.mp4")["video_id"]
    hits = list(client.search.query(index_id=index_id, search_options=["visual"], query_text="test", page_limit=1))
    assert [h.video_id for h in hits] == [video_id, video_id]  # the pager fetched page 2 through its token
    assert [h.rank for h in hits] == [1, 2] and all(h.confidence == "low" for h in hits)
