"""Units of the current-surface logic that the emulator cannot provoke end to end: what the structured analysis
asks for, and how an answer that cannot be used becomes a recorded failure (never a half-written result)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from video_pipeline.analyses import run_analysis, structured_schema
from video_pipeline.clients import Clients, Runtime
from video_pipeline.errors import AnalysisFailedError
from video_pipeline.models.payloads import AnalysisSpec, ExecutionInput, IndexingOutcome, RunAnalysisInput
from video_pipeline.settings import RunAnalysisSettings

ANALYSES = [
    {"name": "gist", "kind": "gist", "types": ["title", "topic"]},
    {"name": "summary", "kind": "summary"},
    {"name": "chapters", "kind": "chapter"},
    {"name": "highlights", "kind": "highlight"},
    {"name": "safety", "kind": "analyze", "prompt": "Anything unsafe?", "max_tokens": 600},
]


def test_one_structured_task_answers_gist_summary_chapters_highlights_and_one_task_per_prompt() -> None:
    execution = ExecutionInput.model_validate(
        {
            "job_key": "k",
            "run": 1,
            "bucket": "b",
            "key": "v.mp4",
            "index_id": "i",
            "analyses": ANALYSES,
            "embedding": {},
        }
    )
    structured, prompt = execution.analysis_tasks
    assert structured.kind == "structured" and [o.name for o in structured.outputs] == [
        "gist",
        "summary",
        "chapters",
        "highlights",
    ]
    assert prompt.kind == "analyze" and prompt.analysis is not None and prompt.analysis.max_tokens == 600
    schema = structured_schema(structured.outputs)
    assert schema["required"] == ["title", "topics", "summary", "chapters", "highlights"]  # no hashtags: not asked
    text = json.dumps(schema)
    for refused in ("minLength", "maxLength", "additionalProperties", "uniqueItems", "maxItems"):
        assert refused not in text  # the API answers these with 422
    assert execution.surface == "classic"  # an input without a surface keeps the flow it always had


class _Result:
    def __init__(self, data: str | None, finish_reason: str = "stop") -> None:
        self.data, self.finish_reason, self.generation_id, self.usage = data, finish_reason, "gen", None


class _Task:
    def __init__(self, data: str | None, finish_reason: str = "stop") -> None:
        self.result = _Result(data, finish_reason)
        self.error = None


class _FakeTwelveLabs:
    def __init__(self, data: str | None, finish_reason: str = "stop") -> None:
        self.task = _Task(data, finish_reason)
        self.calls: list[str] = []

    def get_analyze_task(self, task_id: str) -> Any:
        self.calls.append(task_id)
        return self.task


def _runtime(fake: _FakeTwelveLabs) -> Runtime[RunAnalysisSettings]:
    settings = RunAnalysisSettings(twelvelabs_base_url="https://x", jobs_table="jobs", results_bucket="results")
    runtime = Runtime(settings, Clients(settings, twelvelabs=fake))  # type: ignore[arg-type]

    class _NoWrites:
        def put_json(self, *args: Any) -> str:
            raise AssertionError("nothing may be written for an unusable answer")

    runtime.__dict__["results"] = _NoWrites()
    return runtime


def _request(status: str = "ready", code: str | None = None, message: str | None = None) -> RunAnalysisInput:
    outputs = [AnalysisSpec.model_validate(a) for a in ANALYSES[:4]]
    return RunAnalysisInput.model_validate(
        {
            "job_key": "k",
            "run": 1,
            "video_id": "v",
            "task": {"name": "structured", "kind": "structured", "outputs": [o.model_dump() for o in outputs]},
            "outcome": IndexingOutcome(task_id="t1", status=status, error_code=code, error_message=message),
        }
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ('{"title": "x", "topics": ["a"], "summary": "s", "chapters": [{"start_time": 0}]', "not the JSON"),
        (
            '{"title": "x", "topics": ["a"], "summary": "s", "chapters": [{"start_time": 0}], "highlights": []}',
            "chapters",
        ),
        ('{"title": "x", "topics": ["a"], "chapters": [], "highlights": []}', "summary"),
    ],
)
def test_an_answer_that_is_not_the_schemas_json_is_a_failure_with_its_reason(data: str, reason: str) -> None:
    fake = _FakeTwelveLabs(data)
    with pytest.raises(AnalysisFailedError) as failed:
        run_analysis(_request(), _runtime(fake))
    assert failed.value.code == "analysis_invalid_json"
    assert str(failed.value).startswith("analysis_invalid_json: analysis 'structured': ")
    assert reason in str(failed.value) or "JSON schema" in str(failed.value)


def test_a_truncated_answer_is_a_failure_even_if_its_json_parses() -> None:
    complete = '{"title": "x", "topics": [], "summary": "s", "chapters": [], "highlights": []}'
    with pytest.raises(AnalysisFailedError) as failed:
        run_analysis(_request(), _runtime(_FakeTwelveLabs(complete, finish_reason="length")))
    assert failed.value.code == "analysis_truncated" and "finish_reason=length" in str(failed.value)


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        ("failed", None, "the model failed", "analysis_failed"),
        ("canceled", "user_canceled", None, "user_canceled"),
    ],
)
def test_a_failed_or_canceled_task_is_a_failure_without_reading_an_answer(
    status: str, code: str | None, message: str | None, expected: str
) -> None:
    fake = _FakeTwelveLabs(None)
    with pytest.raises(AnalysisFailedError) as failed:
        run_analysis(_request(status, code, message), _runtime(fake))
    assert failed.value.code == expected
    assert fake.calls == []  # the outcome says it all: no request
    if message:
        assert message in str(failed.value)


@pytest.mark.parametrize(
    ("clips", "clip_length", "other"),
    [
        ([(0, 6), (6, 12), (12, 14)], 6, False),  # the index's clips are the configured ones (last one shorter)
        ([(0, 5)], 6, False),  # a video shorter than one clip: a single shorter clip, the same segmentation
        ([(0, 2), (2, 4), (4, 5)], 6, True),  # 2 s clips: another segmentation, one embed-v2 pass
        ([(0, 10)], 6, True),  # one clip longer than the configured length
    ],
)
def test_a_second_embedding_pass_only_for_another_segmentation(
    clips: list[tuple[float, float]], clip_length: float, other: bool
) -> None:
    from video_pipeline.embeddings import other_segmentation

    segments = [{"start_offset_sec": a, "end_offset_sec": b, "embedding_scope": "clip"} for a, b in clips]
    segments.append({"start_offset_sec": 0, "end_offset_sec": clips[-1][1], "embedding_scope": "video"})
    assert other_segmentation(segments, clip_length) is other
