"""The state machine's payloads: the execution input, and each task's input and output (pointers only).

`AnalysisSpec` and `EmbeddingOptions` are configured in `ingest`'s environment and travel in the execution input.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from video_pipeline.models.base import Lenient, Strict
from video_pipeline.models.jobs import JobStatus

AnalysisKind = Literal["gist", "summary", "chapter", "highlight", "analyze"]


class AnalysisSpec(Lenient):
    """One configured analysis (env `ANALYSES`, then one Map item in the state machine)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    kind: AnalysisKind
    types: list[Literal["title", "topic", "hashtag"]] | None = None
    prompt: str | None = Field(default=None, max_length=8000)
    temperature: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=2, le=4096)

    @model_validator(mode="after")
    def _check_kind_fields(self) -> AnalysisSpec:
        if self.kind == "analyze" and not self.prompt:
            raise ValueError(f"analysis {self.name!r}: kind 'analyze' needs a prompt")
        if self.kind == "gist" and not self.types:
            self.types = ["title", "topic", "hashtag"]
        return self

    @property
    def result_name(self) -> str:
        """The key in the item's `results` map and the S3 object name."""
        return f"analysis-{self.name}" if self.kind == "analyze" else self.name


class EmbeddingOptions(Lenient):
    clip_length: float = Field(default=6, ge=2, le=10)
    scopes: list[Literal["clip", "video"]] = Field(default_factory=lambda: list[Literal["clip", "video"]](["clip"]))


class ExecutionInput(Lenient):
    """The `video-pipeline` execution input written by `ingest`."""

    job_key: str
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    index_id: str
    analyses: list[AnalysisSpec]
    embedding: EmbeddingOptions


class StartIndexingInput(Lenient):
    job_key: str
    bucket: str
    key: str
    version_id: str | None = None
    index_id: str


class StartIndexingOutput(Strict):
    task_id: str
    video_id: str | None = None


class AwaitIndexingInput(Lenient):
    task_token: str = Field(min_length=1)
    job_key: str
    task_id: str


class IndexingOutcome(Strict):
    """What `SendTaskSuccess` hands to the state machine: the task, always with the error fields (maybe null)."""

    task_id: str
    video_id: str | None = None
    status: str
    error_code: str | None = None
    error_message: str | None = None


class StartEmbeddingsInput(Lenient):
    job_key: str
    bucket: str
    key: str
    version_id: str | None = None
    embedding: EmbeddingOptions = Field(default_factory=EmbeddingOptions)


class EmbeddingPoll(Strict):
    """The embeddings poll state: also the output of start/check (the Wait reads `wait_seconds`)."""

    task_id: str
    status: str
    wait_seconds: int
    polls: int
    max_polls: int


class CheckEmbeddingsInput(Lenient):
    job_key: str
    task_id: str
    polls: int = 0
    wait_seconds: int = 0


class StoreEmbeddingsInput(Lenient):
    job_key: str
    task_id: str


class ResultPointer(Strict):
    name: str
    uri: str


class RunAnalysisInput(Lenient):
    job_key: str
    video_id: str
    index_id: str | None = None
    analysis: AnalysisSpec


class FinalizeInput(Lenient):
    job_key: str
    execution_arn: str | None = None


class FinalizeOutput(Strict):
    job_key: str
    status: JobStatus
    results: dict[str, str]


class CaughtError(Lenient):
    """`$.error` as written by a Catch: `{"Error": "<errorType>", "Cause": "<Lambda error payload JSON or text>"}`."""

    error: str = Field(alias="Error")
    cause: str | None = Field(default=None, alias="Cause")


class RecordFailureInput(Lenient):
    """From the state machine's failure path: the job key, the execution and the whole (small) state."""

    job_key: str
    execution_arn: str | None = None
    state: dict[str, Any] = Field(default_factory=dict)
