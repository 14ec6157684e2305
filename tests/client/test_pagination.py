"""Iterators: page numbers until an empty page or page >= total_page; search page tokens."""

from __future__ import annotations

import httpx

from tests.client.helpers import json_response


def test_iter_tasks_stops_at_total_page(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return json_response(
            200,
            {
                "data": [{"_id": f"t{page}a"}, {"_id": f"t{page}b"}],
                "page_info": {"page": page, "total_page": 3, "limit_per_page": 2},
            },
        )

    client, recorder = make_client(handler)
    assert [t.id for t in client.iter_tasks(index_id="i", page_limit=2)] == ["t1a", "t1b", "t2a", "t2b", "t3a", "t3b"]
    assert len(recorder.requests) == 3
    assert recorder.requests[0].url.params["index_id"] == "i"


def test_iter_stops_on_empty_page_without_page_info(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return json_response(200, {"data": [{"_id": f"i{page}"}] if page < 3 else []})

    client, recorder = make_client(handler)
    assert [i.id for i in client.iter_indexes()] == ["i1", "i2"]
    assert len(recorder.requests) == 3


def test_iter_videos_and_embedding_tasks_start_page(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return json_response(200, {"data": [{"_id": f"x{page}"}], "page_info": {"page": page, "total_page": 4}})

    client, _ = make_client(handler)
    assert [v.id for v in client.iter_videos("idx", page=3)] == ["x3", "x4"]
    assert [e.id for e in client.iter_embedding_tasks(status="ready")] == ["x1", "x2", "x3", "x4"]


def test_iter_search_follows_tokens(make_client) -> None:
    pages = {
        "t2": {"data": [{"video_id": "b"}], "page_info": {"next_page_token": "t3", "prev_page_token": "t1"}},
        "t3": {"data": [{"video_id": "c"}], "page_info": {"prev_page_token": "t2"}},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return json_response(200, {"data": [{"video_id": "a"}], "page_info": {"next_page_token": "t2"}})
        token = request.url.path.rsplit("/", 1)[-1]
        assert request.url.params["include_user_metadata"] == "true"
        return json_response(200, pages[token])

    client, recorder = make_client(handler)
    hits = list(client.iter_search("idx", search_options=["visual"], query_text="q", include_user_metadata=True))
    assert [h.video_id for h in hits] == ["a", "b", "c"]
    assert [r.url.path for r in recorder.requests] == ["/v1.3/search", "/v1.3/search/t2", "/v1.3/search/t3"]
