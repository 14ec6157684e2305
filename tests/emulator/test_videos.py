"""Videos in an index: list filters (system, ranges, user metadata in both encodings), retrieve, update, delete."""

from __future__ import annotations

from pathlib import Path

import httpx
from helpers import MARENGO_ONLY, PEGASUS_ONLY, create_index, index_video


def test_list_retrieve_update_delete(api: httpx.Client, samples: Path) -> None:
    index_id = create_index(api)
    ocean = index_video(api, index_id, samples / "videos" / "ocean-waves.mp4", '{"category": "sea", "n": 1}')
    forest = index_video(api, index_id, samples / "videos" / "forest-walk.mp4", '{"category": "woods", "ok": true}')
    city = index_video(api, index_id, samples / "videos" / "city-traffic.mov", '{"category": "sea", "n": 2}')

    def ids(**params: object) -> list[str]:
        r = api.get(f"/indexes/{index_id}/videos", params=params)
        assert r.status_code == 200, r.text
        return [v["_id"] for v in r.json()["data"]]

    assert ids() == [city["video_id"], forest["video_id"], ocean["video_id"]]
    assert ids(sort_option="asc") == [ocean["video_id"], forest["video_id"], city["video_id"]]
    assert ids(filename="forest-walk.mp4") == [forest["video_id"]]
    assert ids(**{"duration[gte]": 6}) == [city["video_id"], ocean["video_id"]]
    assert ids(**{"duration[gte]": 6, "duration[lte]": 7}) == [city["video_id"]]
    assert ids(duration=5) == [forest["video_id"]]
    assert ids(width=480, height=480) == [forest["video_id"]]
    assert ids(category="sea") == [city["video_id"], ocean["video_id"]]
    assert ids(**{"user_metadata[category]": "sea", "user_metadata[n]": "2"}) == [city["video_id"]]
    assert ids(ok="true") == [forest["video_id"]]
    assert ids(category="desert") == []
    page = api.get(f"/indexes/{index_id}/videos", params={"page_limit": 2, "page": 2}).json()
    assert page["page_info"] == {"page": 2, "limit_per_page": 2, "total_page": 2, "total_results": 3}

    listed = api.get(f"/indexes/{index_id}/videos", params={"filename": "ocean-waves.mp4"}).json()["data"][0]
    assert listed["system_metadata"] == {
        "filename": "ocean-waves.mp4",
        "duration": 8.0,
        "fps": 10.0,
        "width": 640,
        "height": 360,
        "size": (samples / "videos" / "ocean-waves.mp4").stat().st_size,
    }
    got = api.get(f"/indexes/{index_id}/videos/{ocean['video_id']}").json()
    assert got["_id"] == ocean["video_id"] and got["user_metadata"] == {"category": "sea", "n": 1}
    assert got["indexed_at"] and "embedding" not in got

    r = api.patch(
        f"/indexes/{index_id}/videos/{ocean['video_id']}",
        json={"user_metadata": {"category": "ocean", "n": None, "score": 0.5}},
    )
    assert r.status_code == 204 and r.content == b""
    got = api.get(f"/indexes/{index_id}/videos/{ocean['video_id']}").json()
    assert got["user_metadata"] == {"category": "ocean", "score": 0.5}
    assert got["updated_at"] > got["indexed_at"]
    assert (
        api.put(f"/indexes/{index_id}/videos/{ocean['video_id']}", json={"user_metadata": {"x": True}}).status_code
        == 204
    )
    got = api.get(f"/indexes/{index_id}/videos/{ocean['video_id']}").json()
    assert got["user_metadata"] == {"category": "ocean", "score": 0.5, "x": True}  # PUT merges too

    assert api.delete(f"/indexes/{index_id}/videos/{ocean['video_id']}").status_code == 204
    assert api.get(f"/indexes/{index_id}/videos/{ocean['video_id']}").status_code == 404
    assert api.get(f"/indexes/{index_id}").json()["video_count"] == 2


def test_embedding_option(api: httpx.Client, samples: Path) -> None:
    index_id = create_index(api)
    video = index_video(api, index_id, samples / "videos" / "ocean-waves.mp4")
    url = f"/indexes/{index_id}/videos/{video['video_id']}"
    got = api.get(url, params={"embedding_option": ["visual-text", "audio"]}).json()
    segments = got["embedding"]["video_embedding"]["segments"]
    assert got["embedding"]["model_name"] == "Marengo-retrieval-2.7"
    assert {(s["embedding_option"], s["embedding_scope"]) for s in segments} == {
        ("visual-text", "clip"),
        ("visual-text", "video"),
        ("audio", "clip"),
        ("audio", "video"),
    }
    clips = [s for s in segments if s["embedding_scope"] == "clip" and s["embedding_option"] == "visual-text"]
    assert [(c["start_offset_sec"], c["end_offset_sec"]) for c in clips] == [(0.0, 6.0), (6.0, 8.0)]
    assert all(len(s["float"]) == 1024 for s in segments)
    assert abs(sum(x * x for x in segments[0]["float"]) - 1.0) < 1e-3
    assert clips[0]["float"] != clips[1]["float"]  # content-seeded: clips differ
    only_audio = api.get(url, params={"embedding_option": "audio"}).json()["embedding"]["video_embedding"]["segments"]
    assert {s["embedding_option"] for s in only_audio} == {"audio"}
    r = api.get(url, params={"embedding_option": "smell"})
    assert (
        r.status_code == 400 and r.json()["code"] == "parameter_invalid" and "embedding_option" in r.json()["message"]
    )

    visual_only = create_index(api, "vis", [{"model_name": "marengo2.7", "model_options": ["visual"]}])
    v2 = index_video(api, visual_only, samples / "videos" / "forest-walk.mp4")
    r = api.get(f"/indexes/{visual_only}/videos/{v2['video_id']}", params={"embedding_option": "audio"})
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid"
    pegasus = create_index(api, "peg", PEGASUS_ONLY)
    v3 = index_video(api, pegasus, samples / "videos" / "forest-walk.mp4")
    r = api.get(f"/indexes/{pegasus}/videos/{v3['video_id']}", params={"embedding_option": "visual-text"})
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid"


def test_errors(api: httpx.Client, samples: Path) -> None:
    index_id = create_index(api, "a", MARENGO_ONLY)
    other = create_index(api, "b", MARENGO_ONLY)
    video = index_video(api, index_id, samples / "videos" / "forest-walk.mp4")
    missing = "0" * 24
    assert api.get(f"/indexes/{missing}/videos").status_code == 404
    r = api.get(f"/indexes/{other}/videos/{video['video_id']}")  # a video of another index
    assert (
        r.status_code == 404
        and r.json()["message"] == f"Resource with id {video['video_id']} does not exist in videos."
    )
    r = api.patch(f"/indexes/{index_id}/videos/{video['video_id']}", json={"user_metadata": {"a": [1]}})
    assert r.status_code == 400 and r.json()["code"] == "parameter_invalid" and "user_metadata.a" in r.json()["message"]
    r = api.patch(f"/indexes/{index_id}/videos/{video['video_id']}", json={})
    assert (
        r.status_code == 400 and r.json()["code"] == "parameter_not_provided" and "user_metadata" in r.json()["message"]
    )
    assert api.patch(f"/indexes/{index_id}/videos/{missing}", json={"user_metadata": {}}).status_code == 404
    assert api.delete(f"/indexes/{index_id}/videos/{missing}").status_code == 404
    r = api.get(f"/indexes/{index_id}/videos", params={"duration[gte]": "x"})
    assert r.status_code == 400 and "duration[gte]" in r.json()["message"]
