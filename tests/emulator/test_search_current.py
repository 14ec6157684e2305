"""Search on the current surface (SDK 1.3.6): hits carry rank but no score/confidence, removed knobs are ignored,
transcription options, multi-image and composed queries, and the official SDK 1.3.6 parses every answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from helpers import file_server, sdk136, upload, wait_task

from tests.emulator.conftest import client_for
from twelvelabs_emulator import Emulator

NO_FILE = {"_": ("", b"")}  # forces multipart like the SDKs do
MARENGO3 = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]
# SearchItem / SearchItemClipsItem / SearchResultsPageInfo / SearchPool of SDK 1.3.6 (types/search_*.py)
HIT_KEYS = {"start", "end", "video_id", "rank", "thumbnail_url", "transcription", "user_metadata"}
GROUP_KEYS = {"id", "clips", "user_metadata"}
PAGE_INFO_KEYS = {
    "limit_per_page",
    "page_expires_at",
    "total_results",
    "total_inner_matches",
    "next_page_token",
    "prev_page_token",
}


@pytest.fixture()
def current(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator(surface="current")


@pytest.fixture()
def library(current: Emulator, samples: Path) -> dict[str, str]:
    with client_for(current) as api:
        r = api.post("/indexes", json={"index_name": "lib", "models": MARENGO3})
        assert r.status_code == 201, r.text
        ids = {"index": r.json()["_id"]}
        tasks = {}
        for name, meta in [
            ("ocean-waves.mp4", '{"kind": "sea"}'),
            ("city-traffic.mov", '{"kind": "urban"}'),
            ("forest-walk.mp4", '{"kind": "nature"}'),
        ]:
            response = upload(api, ids["index"], samples / "videos" / name, meta)
            assert response.status_code == 200, response.text
            tasks[name.split("-")[0]] = response.json()["_id"]
        for key, task_id in tasks.items():
            task = wait_task(api, task_id)
            assert task["status"] == "ready", task
            ids[key] = str(task["video_id"])
    return ids


def search(api: httpx.Client, **fields: object) -> httpx.Response:
    return api.post("/search", data=fields, files=NO_FILE)


def test_hits_are_ranked_without_score_or_confidence(current: Emulator, library: dict[str, str]) -> None:
    with client_for(current) as api:
        for query, expected in [
            ("blue ocean", "ocean"),
            ("green forest trees", "forest"),
            ("grey city street", "city"),
        ]:
            body = search(api, index_id=library["index"], search_options=["visual"], query_text=query).json()
            hits = body["data"]
            assert hits[0]["video_id"] == library[expected], (query, hits)
            assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1)) and len(hits) == 4
            for hit in hits:
                assert set(hit) <= HIT_KEYS and {"start", "end", "video_id", "rank"} <= set(hit)
                assert "score" not in hit and "confidence" not in hit
            assert set(body["page_info"]) <= PAGE_INFO_KEYS and "prev_page_token" not in body["page_info"]
            assert set(body["search_pool"]) == {"total_count", "total_duration", "index_id"}


def test_removed_knobs_are_ignored(current: Emulator, library: dict[str, str]) -> None:
    """SDK 1.3.6: threshold / adjust_confidence_level / sort_option are "Deprecated: ignored by the API"."""
    with client_for(current) as api:
        plain = search(api, index_id=library["index"], search_options=["visual"], query_text="blue ocean").json()
        knobs = search(
            api,
            index_id=library["index"],
            search_options=["visual"],
            query_text="blue ocean",
            threshold="high",
            adjust_confidence_level="0.9",
            sort_option="clip_count",
        ).json()
    assert [(h["video_id"], h["start"]) for h in knobs["data"]] == [(h["video_id"], h["start"]) for h in plain["data"]]


def test_group_by_video_user_metadata_and_generic_paging(current: Emulator, library: dict[str, str]) -> None:
    with client_for(current) as api:
        body = search(
            api,
            index_id=library["index"],
            search_options=["visual", "audio"],
            query_text="blue ocean",
            group_by="video",
            include_user_metadata="true",
        ).json()
        first = body["data"][0]
        assert set(first) <= GROUP_KEYS and first["id"] == library["ocean"]
        assert first["user_metadata"] == {"kind": "sea"}
        assert all(set(c) <= HIT_KEYS and c["video_id"] == library["ocean"] for c in first["clips"])
        assert body["page_info"]["total_inner_matches"] == 4
        page1 = search(
            api, index_id=library["index"], search_options=["visual"], query_text="test", page_limit=3
        ).json()
        page2 = api.get(f"/search/{page1['page_info']['next_page_token']}").json()
        assert [h["rank"] for h in page1["data"]] == [1, 2, 3] and [h["rank"] for h in page2["data"]] == [4]
        assert page2["page_info"]["prev_page_token"]


def test_transcription_and_composed_queries(current: Emulator, library: dict[str, str], samples: Path) -> None:
    with client_for(current) as api:
        r = search(
            api, index_id=library["index"], search_options=["visual"], query_text="x", transcription_options=["lexical"]
        )
        assert r.status_code == 400 and "transcription_options" in r.json()["message"]
        # transcription comes from the audio track: the audio model option enables it (the index has audio);
        # the sample media carry no speech, so it matches nothing
        r = search(
            api,
            index_id=library["index"],
            search_options=["transcription"],
            query_text="x",
            transcription_options=["lexical"],
        )
        assert r.status_code == 200 and r.json()["data"] == [], r.text
        visual_only = api.post(
            "/indexes",
            json={"index_name": "visual-only", "models": [{"model_name": "marengo3.0", "model_options": ["visual"]}]},
        ).json()["_id"]
        for options in (["transcription"], ["audio"]):
            r = search(api, index_id=visual_only, search_options=options, query_text="x")
            assert r.status_code == 400 and r.json()["code"] == "search_option_not_supported", r.text
        r = api.post(
            "/indexes",
            json={"index_name": "t", "models": [{"model_name": "marengo3.0", "model_options": ["transcription"]}]},
        )
        assert r.status_code == 400 and "models[0].model_options" in r.json()["message"]
        with file_server(samples / "media") as base:
            r = api.post(
                "/search",
                data={
                    "index_id": library["index"],
                    "search_options": ["visual"],
                    "query_media_type": "image",
                    "query_media_url": [f"{base}/still.png", f"{base}/still.jpg"],
                },
                files=NO_FILE,
            )
            assert r.status_code == 200, r.text
            assert r.json()["data"][0]["video_id"] == library["ocean"]  # the still images are blue
            r = api.post(
                "/search",
                data={
                    "index_id": library["index"],
                    "search_options": ["visual"],
                    "query_media_type": "image",
                    "query_text": "blue water",
                    "query_media_url": f"{base}/still.png",
                },
                files=NO_FILE,
            )
            assert r.status_code == 200 and r.json()["data"][0]["video_id"] == library["ocean"]
            r = api.post(
                "/search",
                data={
                    "index_id": library["index"],
                    "search_options": ["visual"],
                    "query_media_type": "image",
                    "query_media_url": [f"{base}/still.png"] * 11,
                },
                files=NO_FILE,
            )
            assert r.status_code == 400 and "10" in r.json()["message"]
        r = search(api, index_id=library["index"], search_options=["visual"], query_text="word " * 501)
        assert r.status_code == 400 and "500 tokens" in r.json()["message"]
        assert (
            search(api, index_id=library["index"], search_options=["visual"], query_text="word " * 100).status_code
            == 200
        )  # Marengo 3.0 takes up to 500 tokens


def test_transcription_option_ranking(current: Emulator, library: dict[str, str]) -> None:
    """The sample media carry no speech: transcription alone matches nothing; with "or" the visual matches stand,
    with "and" a clip would need a transcription match too."""
    from twelvelabs_emulator import search as search_lib
    from twelvelabs_emulator import vectors

    vector = vectors.embed_text("blue ocean")
    with current.runtime.store.read() as st:

        def hits(options: list[str], operator: str) -> list[dict[str, object]]:
            query = search_lib.SearchQuery(
                index_id=library["index"],
                options=options,
                vector=vector,
                media_query=False,
                operator=operator,
                surface="current",
            )
            return search_lib.rank(st, query)[0]

        assert hits(["transcription"], "or") == []
        assert len(hits(["visual", "transcription"], "or")) == 4
        assert hits(["visual", "transcription"], "and") == []


def test_sdk_1_3_6_search_and_pages(current: Emulator, library: dict[str, str], samples: Path) -> None:
    sdk = sdk136()
    client = sdk.TwelveLabs(api_key="test-key", base_url=current.base_url)
    hits = list(
        client.search.query(
            index_id=library["index"],
            search_options=["visual"],
            query_text="test",
            page_limit=2,
            include_user_metadata=True,
        )
    )
    assert [h.rank for h in hits] == [1, 2, 3, 4]  # the pager followed next_page_token
    assert {h.video_id for h in hits} == {library["ocean"], library["city"], library["forest"]}
    first = client.search.create(
        index_id=library["index"], search_options=["visual"], query_text="blue ocean", page_limit=1
    )
    assert first.data[0].video_id == library["ocean"] and first.page_info.next_page_token
    page2 = client.search.retrieve(first.page_info.next_page_token, include_user_metadata=True)
    assert page2.data[0].rank == 2 and page2.page_info.prev_page_token
    assert page2.data[0].user_metadata == {"kind": "sea"}
    grouped = client.search.create(
        index_id=library["index"],
        search_options=["visual", "audio"],
        query_text="city",
        group_by="video",
        filter=json.dumps({"kind": "urban"}),
    )
    assert [g.id for g in grouped.data] == [library["city"]] and grouped.data[0].clips
    png = (samples / "media" / "still.png").read_bytes()
    images = list(
        client.search.query(
            index_id=library["index"],
            search_options=["visual"],
            query_media_type="image",
            query_media_files=[("a.png", png, "image/png"), ("b.png", png, "image/png")],
        )
    )
    assert images[0].video_id == library["ocean"] and len(images) == 4
