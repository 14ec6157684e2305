"""Models tolerate the API's evolution: unknown fields, unknown enum values, `_id`, `model_*`."""

from __future__ import annotations

import pytest
from twelvelabs_client.errors import ResponseValidationError
from twelvelabs_client.models import (
    EmbeddingResponse,
    EmbeddingTask,
    Index,
    Page,
    SearchPage,
    SummarizeResult,
    Task,
    TaskStatus,
    Video,
)

from tests.client.helpers import json_response


def test_id_alias_and_unknown_fields_are_kept() -> None:
    task = Task.model_validate({"_id": "t1", "status": "ready", "brand_new_field": {"x": 1}})
    assert task.id == "t1"
    assert task.brand_new_field == {"x": 1}  # type: ignore[attr-defined]
    assert task.is_terminal
    # populate_by_name: our own code can build models with `id=` too
    assert Task(id="t2").id == "t2"


def test_unknown_status_value_parses() -> None:
    task = Task.model_validate({"_id": "t1", "status": "transcoding_v2"})
    assert task.status == "transcoding_v2"
    assert not task.is_terminal
    assert TaskStatus.READY in TaskStatus.TERMINAL


def test_model_prefixed_fields_work_without_warnings(recwarn: pytest.WarningsRecorder) -> None:
    index = Index.model_validate(
        {
            "_id": "i1",
            "index_name": "n",
            "models": [{"model_name": "marengo3.0", "model_options": ["visual"]}],
            "expires_at": None,
        }
    )
    assert index.models[0].model_name == "marengo3.0"
    response = EmbeddingResponse.model_validate(
        {"model_name": "Marengo-retrieval-2.7", "text_embedding": {"segments": [{"float": [0.1, 0.2]}]}}
    )
    assert response.text_embedding is not None
    assert response.text_embedding.segments[0].float_ == [0.1, 0.2]
    assert response.model_dump(by_alias=True)["text_embedding"]["segments"][0]["float"] == [0.1, 0.2]
    assert not [w for w in recwarn if "protected namespace" in str(w.message)]


def test_page_envelope_tolerates_missing_page_info() -> None:
    page = Page[Video].model_validate({"data": [{"_id": "v1", "system_metadata": {"filename": "a.mp4", "extra": 1}}]})
    assert page.data[0].system_metadata is not None and page.data[0].system_metadata.filename == "a.mp4"
    assert page.page_info is None and not page.is_last()
    assert Page[Video].model_validate({"data": []}).is_last()
    full = Page[Video].model_validate({"data": [{"_id": "v"}], "page_info": {"page": 2, "total_page": 2}})
    assert full.is_last()


def test_search_hits_both_shapes() -> None:
    page = SearchPage.model_validate(
        {
            "data": [
                {"score": 84.1, "start": 1, "end": 2, "video_id": "v", "confidence": "extremely_low", "rank": 1},
                {"id": "v2", "clips": [{"start": 0, "end": 3, "video_id": "v2", "confidence": "high"}]},
            ],
            "page_info": {"limit_per_page": 10, "next_page_token": "tok"},
            "search_pool": {"total_count": 2, "index_id": "i"},
        }
    )
    assert page.next_page_token == "tok"
    assert page.data[0].confidence == "extremely_low"
    assert page.data[1].clips is not None and page.data[1].clips[0].video_id == "v2"


@pytest.mark.parametrize(
    "body,attr",
    [
        ({"summarize_type": "summary", "id": "s", "summary": "text"}, "summary"),
        ({"summarize_type": "chapter", "id": "s", "chapters": [{"chapter_number": 0, "start_sec": 0.0}]}, "chapters"),
        ({"summarize_type": "highlight", "id": "s", "highlights": [{"highlight": "h", "start": 1}]}, "highlights"),
    ],
)
def test_summarize_shapes(body: dict, attr: str) -> None:
    result = SummarizeResult.model_validate(body)
    assert getattr(result, attr)


def test_embedding_task_segments() -> None:
    task = EmbeddingTask.model_validate(
        {
            "_id": "e",
            "status": "brand_new",
            "video_embedding": {
                "metadata": {"input_url": "https://x/a.mp4", "video_clip_length": 6},
                "segments": [{"float": [0.0], "start_offset_sec": 0, "end_offset_sec": 6, "embedding_scope": "clip"}],
            },
        }
    )
    assert task.video_embedding is not None and task.video_embedding.segments[0].end_offset_sec == 6
    assert task.status == "brand_new" and not task.is_terminal


def test_body_missing_required_id_is_a_response_validation_error(make_client) -> None:
    client, _ = make_client(lambda r: json_response(200, {"index_name": "no id"}))
    with pytest.raises(ResponseValidationError) as info:
        client.get_index("i1")
    assert str(info.value).startswith("invalid_response: ")
    assert info.value.status_code == 200
