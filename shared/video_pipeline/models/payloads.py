"""The state machine's payloads: the execution input, and each task's input and output (pointers only).

`AnalysisSpec` and `EmbeddingOptions` are configured in `ingest`'s environment and travel in the execution input.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from video_pipeline.models.base import Lenient, Strict
from video_pipeline.models.jobs import JobStatus

AnalysisKind = Literal["gist", "summary", "chapter", "highlight", "analyze"]
Surface = Literal["current", "classic"]
# What a parked task token waits for: a classic indexing task, an indexed asset, or an analyze task (current).
TokenKind = Literal["index_task", "indexed_asset", "analyze_task"]
# The kinds the current surface answers with ONE structured /analyze/tasks task (response_format json_schema).
STRUCTURED_KINDS = ("gist", "summary", "chapter", "highlight")


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


class AnalysisTaskSpec(Lenient):
    """One `/analyze/tasks` task of the current surface (a Map item of the state machine).

    `structured`: the gist/summary/chapter/highlight analyses configured in `ANALYSES`, answered by one task whose
    JSON schema returns them all (`outputs` are those specs: each becomes the S3 document classic writes).
    `analyze`: one custom prompt (`analysis` is its spec; its result is `analysis-<name>`, as on classic).
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    kind: Literal["structured", "analyze"]
    outputs: list[AnalysisSpec] = Field(default_factory=list)
    analysis: AnalysisSpec | None = None

    @model_validator(mode="after")
    def _check(self) -> AnalysisTaskSpec:
        if self.kind == "structured" and not self.outputs:
            raise ValueError("a structured analysis task needs at least one output")
        if self.kind == "analyze" and (self.analysis is None or not self.analysis.prompt):
            raise ValueError(f"analysis task {self.name!r}: kind 'analyze' needs its analysis (with a prompt)")
        return self


def analysis_tasks_for(analyses: list[AnalysisSpec]) -> list[AnalysisTaskSpec]:
    """The current surface's tasks for the configured analyses: one structured task for every gist / summary /
    chapter / highlight analysis, then one task per custom prompt."""
    structured = [a for a in analyses if a.kind in STRUCTURED_KINDS]
    tasks = [AnalysisTaskSpec(name="structured", kind="structured", outputs=structured)] if structured else []
    tasks += [AnalysisTaskSpec(name=a.name, kind="analyze", analysis=a) for a in analyses if a.kind == "analyze"]
    return tasks


class ExecutionInput(Lenient):
    """The `video-pipeline` execution input written by `ingest` (and by imports). `surface` picks the flow (the first
    Choice of the state machine); `analysis_tasks` (current) is derived from `analyses` when not given.

    `entry` = `indexed` (imports of videos TwelveLabs already indexed) enters after indexing: classic needs `indexed`
    (the ready task/video: straight to the embeddings and analyses), current needs `indexing` (the indexed asset and
    its asset: straight to the enrichment). A job whose source is a TwelveLabs asset (connections import) has no
    bucket/key: its `tl_asset_id` is on the job, and `start_indexing` (current) goes straight to the indexed asset."""

    job_key: str
    run: int = Field(ge=1)  # the job item's run this execution belongs to: every write it makes is fenced on it
    bucket: str | None = None
    key: str | None = None
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    index_id: str
    analyses: list[AnalysisSpec]
    embedding: EmbeddingOptions
    surface: Surface = "classic"  # what every execution ran before the surface existed
    analysis_tasks: list[AnalysisTaskSpec] = Field(default_factory=list)
    entry: Literal["upload", "indexed"] = "upload"
    indexed: IndexingOutcome | None = None
    indexing: StartIndexingOutput | None = None

    @model_validator(mode="after")
    def _derive_tasks(self) -> ExecutionInput:
        if not self.analysis_tasks and self.analyses:
            self.analysis_tasks = analysis_tasks_for(self.analyses)
        if self.entry == "indexed":
            if self.surface == "classic" and (self.indexed is None or not self.indexed.video_id):
                raise ValueError("entry 'indexed' (classic) needs indexed: the ready task with its video_id")
            if self.surface == "current" and (self.indexing is None or not self.indexing.asset_id):
                raise ValueError("entry 'indexed' (current) needs indexing: the indexed asset and its asset_id")
        elif self.surface == "classic" and not (self.bucket and self.key):
            raise ValueError("a classic upload entry needs bucket and key (the object to index)")
        return self


class StartIndexingInput(Lenient):
    """`bucket`/`key` are absent for a job whose source is a TwelveLabs asset (`tl_asset_id` set at claim)."""

    job_key: str
    run: int = Field(ge=1)
    bucket: str | None = None
    key: str | None = None
    version_id: str | None = None
    index_id: str
    surface: Surface = "classic"


class StartIndexingOutput(Strict):
    """classic: the indexing task (and its video). current: `task_id` = `video_id` = the indexed asset id (the
    id `index.task.*` webhooks carry, and the video's id once indexed), `asset_id` = the asset."""

    task_id: str
    video_id: str | None = None
    asset_id: str | None = None


class AwaitIndexingInput(Lenient):
    task_token: str = Field(min_length=1)
    job_key: str
    run: int = Field(ge=1)
    task_id: str
    kind: TokenKind = "index_task"
    index_id: str | None = None  # the indexed asset's index (kind indexed_asset)

    @model_validator(mode="after")
    def _index_for_indexed_assets(self) -> AwaitIndexingInput:
        if self.kind == "indexed_asset" and not self.index_id:
            raise ValueError("kind 'indexed_asset' needs index_id")
        return self


class StartAnalysisInput(Lenient):
    """`start_analysis` (current, `.waitForTaskToken`): create one analyze task on the asset and park the token."""

    task_token: str = Field(min_length=1)
    job_key: str
    run: int = Field(ge=1)
    asset_id: str = Field(min_length=1)
    task: AnalysisTaskSpec


class IndexingOutcome(Strict):
    """What `SendTaskSuccess` hands to the state machine: the task (indexing task, indexed asset or analyze task),
    always with the error fields (maybe null)."""

    task_id: str
    video_id: str | None = None
    status: str
    error_code: str | None = None
    error_message: str | None = None


class StartEmbeddingsInput(Lenient):
    job_key: str
    run: int = Field(ge=1)
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
    """classic: the embedding task `task_id`. current: the indexed asset's outcome (`indexed`) in `index_id`."""

    job_key: str
    run: int = Field(ge=1)
    task_id: str | None = None
    index_id: str | None = None
    indexed: IndexingOutcome | None = None
    embedding: EmbeddingOptions | None = None  # current: the configured segmentation (embed-v2 when it differs)

    @model_validator(mode="after")
    def _one_source(self) -> StoreEmbeddingsInput:
        if (self.task_id is None) == (self.indexed is None):
            raise ValueError("pass exactly one of task_id (classic) or indexed (current)")
        if self.indexed is not None and not self.index_id:
            raise ValueError("indexed (current) needs index_id")
        return self


class ResultPointer(Strict):
    name: str
    uri: str


class RunAnalysisInput(Lenient):
    """classic: run `analysis` on `video_id`. current: store the finished analyze task `outcome` of `task`."""

    job_key: str
    run: int = Field(ge=1)
    video_id: str | None = None
    index_id: str | None = None
    analysis: AnalysisSpec | None = None
    task: AnalysisTaskSpec | None = None
    outcome: IndexingOutcome | None = None

    @model_validator(mode="after")
    def _one_mode(self) -> RunAnalysisInput:
        classic = self.analysis is not None and self.video_id is not None
        current = self.task is not None and self.outcome is not None
        if classic == current:
            raise ValueError("pass analysis + video_id (classic) or task + outcome (current)")
        return self


class FinalizeInput(Lenient):
    job_key: str
    run: int = Field(ge=1)
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


ExecutionInput.model_rebuild()  # its `indexed` / `indexing` types are defined below it
