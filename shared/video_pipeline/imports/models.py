"""What an import reads and writes: the request, the state machine payloads, the run record, the SNS message."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from video_pipeline.models.base import Lenient, Strict, utc_now_iso
from video_pipeline.models.notifications import ErrorInfo

ImportSource = Literal["s3", "integration", "connection"]
RunStatus = Literal["RUNNING", "COMPLETED", "FAILED", "REJECTED"]
ItemOutcome = Literal["new", "rejected", "skipped", "failed"]
ImportEventType = Literal["import.completed", "import.failed", "import.rejected"]
OUTCOMES: tuple[ItemOutcome, ...] = ("new", "rejected", "skipped", "failed")


def as_outcome(value: object, default: ItemOutcome = "failed") -> ItemOutcome:
    """A stored outcome string as an ItemOutcome (`default` for anything else)."""
    return next((outcome for outcome in OUTCOMES if value == outcome), default)


NOT_AVAILABLE: dict[str, str] = {}  # sources a version does not offer yet (a request naming one is refused)
S3_FIELDS = ("bucket", "prefix", "max_items", "inventory_manifest")
CONNECTION_FIELDS = ("connection_id", "source_ids")
INTEGRATION_FIELDS = ("integration_id", "index_id", "incremental_import", "retry_failed")
SOURCE_FIELDS = {"s3": S3_FIELDS, "connection": CONNECTION_FIELDS, "integration": INTEGRATION_FIELDS}
REQUIRED_FIELDS = {"s3": (), "connection": CONNECTION_FIELDS, "integration": ("integration_id",)}
MAX_CONNECTION_FILES = 10_000


class ImportRequest(Strict):
    """A request file's body, or the input of `aws stepfunctions start-execution` (docs/imports.md).

    `bucket` defaults to the media bucket; `prefix` narrows the backfill (empty = the whole bucket, the request
    prefix and the ignored prefixes excluded by the ingest path).
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    source: ImportSource
    bucket: str | None = Field(default=None, min_length=3, max_length=63)
    prefix: str = Field(default="", max_length=1024)
    max_items: int | None = Field(default=None, ge=1, le=10_000_000)
    # An S3 Inventory report (CSV) of the media bucket instead of a listing: s3://<ImportInventoryBucket>/.../manifest.json
    inventory_manifest: str | None = Field(default=None, pattern=r"^s3://[^/]+/.+manifest\.json$", max_length=2048)
    requested_by: str | None = Field(default=None, max_length=2048)
    # source `connection` (current surface): the connection and the provider's file ids to import (chunks of 100)
    connection_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,128}$")
    source_ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_CONNECTION_FILES)
    # source `integration` (classic surface): the integration, the index (default: the pipeline's), the API's options
    integration_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,128}$")
    index_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,128}$")
    incremental_import: bool | None = None
    retry_failed: bool | None = None

    @field_validator("source")
    @classmethod
    def _available(cls, value: ImportSource) -> ImportSource:
        if value in NOT_AVAILABLE:
            raise ValueError(NOT_AVAILABLE[value])
        return value

    @field_validator("source_ids")
    @classmethod
    def _distinct_ids(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        bad = [v for v in value if not 1 <= len(v) <= 1024]
        if bad:
            raise ValueError(f"a file id must be 1-1024 characters (got {len(bad)} that are not)")
        if len(set(value)) != len(value):
            raise ValueError("file ids must be distinct")
        return value

    @model_validator(mode="after")
    def _fields_of_the_source(self) -> ImportRequest:
        given = {f for f in self.model_fields_set if getattr(self, f) not in (None, "")}  # null / "" = not given
        missing = [f for f in REQUIRED_FIELDS[self.source] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"source {self.source!r} needs {' and '.join(missing)}")
        for other, fields in SOURCE_FIELDS.items():
            extra = [f for f in fields if f in given and f not in SOURCE_FIELDS[self.source]]
            if extra:
                raise ValueError(f"source {self.source!r} takes no {', '.join(extra)} (those are for {other!r})")
        return self


class PrepareInput(Lenient):
    """`import_prepare`: the execution's input as given (validated here, so a bad one is recorded and announced)."""

    run_id: str = Field(min_length=1, max_length=80)
    execution_arn: str | None = None
    request: object = None


class PrepareOutput(Strict):
    run_id: str
    rejected: bool
    manifest_bucket: str | None = None
    manifest_key: str | None = None
    total: int = 0
    max_concurrency: int = 1


class ObjectEntry(Lenient):
    """One manifest line: an object as listed."""

    bucket: str = Field(min_length=1)
    key: str = Field(min_length=1)
    size: int | None = Field(default=None, ge=0)
    etag: str | None = None
    # source `connection`: the entry is a chunk of file ids of this connection (bucket "connection:<id>")
    connection_id: str | None = None
    source_ids: list[str] | None = None
    # source `integration`: the entry is the run's one import (bucket "integration:<id>")
    integration_id: str | None = None
    index_id: str | None = None
    incremental_import: bool | None = None
    retry_failed: bool | None = None


class StepError(Lenient):
    """A Step Functions Catch result: `{"Error": ..., "Cause": ...}`."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    error: str = Field(alias="Error", default="States.Runtime")
    cause: str | None = Field(alias="Cause", default=None)


class FollowState(Lenient):
    """Pacing: the Map slot of an object whose video was started waits until the video's first TwelveLabs call is
    made (its job leaves RECEIVED), so MaxConcurrency bounds how many videos start talking to TwelveLabs at once."""

    job_key: str = Field(min_length=1)
    polls: int = Field(default=0, ge=0)
    wait_seconds: int = Field(default=1, ge=0, le=3600)


class ItemInput(Lenient):
    """`import_item`: one object of the manifest; `error` set when every attempt failed (record it as failed);
    `follow` set when the state machine asks whether the object's started video is under way (pacing)."""

    run_id: str = Field(min_length=1, max_length=80)
    object: ObjectEntry
    error: StepError | None = None
    follow: FollowState | None = None


class ItemOutput(Strict):
    outcome: ItemOutcome
    job_key: str | None = None
    detail: str = ""
    # Pacing: wait `wait_seconds`, then ask again (the state machine loops while `follow`).
    follow: bool = False
    polls: int = 0
    wait_seconds: int = 0


class FinishInput(Lenient):
    """`import_finish`: summarise the run, or (with `error`) record its failure."""

    run_id: str = Field(min_length=1, max_length=80)
    error: StepError | None = None


class Counts(Strict):
    """Objects per outcome: new (a job was created), rejected (screened out), skipped (already processed, or not
    media the pipeline takes), failed (every attempt failed); `total` = their sum."""

    new: int = Field(default=0, ge=0)
    rejected: int = Field(default=0, ge=0)
    skipped: int = Field(default=0, ge=0)
    failed: int = Field(default=0, ge=0)
    total: int = Field(default=0, ge=0)


class ItemProblem(Strict):
    """A rejected or failed object, with its reason."""

    key: str
    outcome: ItemOutcome
    reason: str


class RequestRef(Strict):
    """What was imported."""

    source: ImportSource | None = None
    bucket: str | None = None
    prefix: str | None = None
    s3_uri: str | None = None
    connection_id: str | None = None
    files: int | None = None  # connection: how many file ids were named
    integration_id: str | None = None
    index_id: str | None = None


class ImportRun(Lenient):
    """The run record (imports table, `sk` = "run")."""

    run_id: str
    status: RunStatus
    request: RequestRef = Field(default_factory=RequestRef)
    requested_by: str | None = None
    execution_arn: str | None = None
    counts: Counts = Field(default_factory=Counts)
    failures: list[ItemProblem] = Field(default_factory=list)
    failures_truncated: bool = False
    manifest: str | None = None
    report: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    notified: list[str] = Field(default_factory=list)
    created_at: str = Field(default_factory=utc_now_iso)
    updated_at: str = Field(default_factory=utc_now_iso)


class ImportNotification(Strict):
    """The SNS message of an import run: counts and pointers (the report in S3), never the list of objects."""

    schema_version: Literal["1"] = "1"
    event_type: ImportEventType
    run_id: str
    status: RunStatus
    source: ImportSource | None = None
    request: RequestRef
    requested_by: str | None = None
    counts: Counts
    report: str | None = None
    manifest: str | None = None
    error: ErrorInfo | None = None
    occurred_at: str = Field(default_factory=utc_now_iso)

    @classmethod
    def for_run(cls, event_type: ImportEventType, run: ImportRun) -> ImportNotification:
        error = ErrorInfo(code=run.error_code, message=run.error_message or "") if run.error_code else None
        return cls(
            event_type=event_type,
            run_id=run.run_id,
            status=run.status,
            source=run.request.source,
            request=run.request,
            requested_by=run.requested_by,
            counts=run.counts,
            report=run.report,
            manifest=run.manifest,
            error=error,
        )
