"""Imports without the stack: the request's validation, the ASL's structure, the notification schemas, and the
imports table's once-only writes (moto in-process)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from moto import mock_aws
from video_pipeline.imports.models import ImportNotification, ImportRun
from video_pipeline.imports.notifications import IMPORT_RULES, import_schema_for
from video_pipeline.imports.runs import InvalidImportRequestError, cause_message, request_run_id, validate_request
from video_pipeline.imports.store import ImportsStore

from tests.template.test_template import _load_template

REPO = Path(__file__).resolve().parents[2]
ASL = REPO / "statemachines" / "import_pipeline.asl.json"
DOCS = REPO / "docs" / "notifications"
MEDIA = "media-bucket"


# ---------------------------------------------------------------- the request


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ({"source": "s3", "prefix": 7, "colour": "red"}, ["prefix", "colour"]),
        ({"prefix": "videos/"}, ["source"]),
        ({"source": "ftp"}, ["source"]),
        ({"source": "s3", "max_items": 0}, ["max_items"]),
        (["s3"], ["JSON object"]),
        ({"source": "s3", "bucket": "someone-elses-bucket"}, ["bucket", "someone-elses-bucket", MEDIA]),
        ({"source": "integration"}, ["integration_id"]),
        ({"source": "integration", "integration_id": "i1", "prefix": "x/"}, ["prefix", "'s3'"]),
        ({"source": "integration", "integration_id": "i1", "incremental_import": "maybe"}, ["incremental_import"]),
        ({"source": "connection"}, ["connection_id", "source_ids"]),
        ({"source": "connection", "connection_id": "c1", "source_ids": []}, ["source_ids"]),
        ({"source": "connection", "connection_id": "c1", "source_ids": ["a", "a"]}, ["distinct"]),
        ({"source": "connection", "connection_id": "c1", "source_ids": ["a"], "prefix": "x/"}, ["prefix", "'s3'"]),
        ({"source": "s3", "connection_id": "c1"}, ["connection_id", "'connection'"]),
    ],
)
def test_a_bad_request_is_refused_naming_what_and_why(raw: Any, names: list[str]) -> None:
    with pytest.raises(InvalidImportRequestError) as refused:
        validate_request(raw, MEDIA)
    assert refused.value.code == "invalid_import_request"
    for name in names:
        assert name in refused.value.message


def test_a_good_request_is_for_the_media_bucket() -> None:
    assert validate_request({"source": "s3"}, MEDIA).bucket == MEDIA
    request = validate_request({"source": "s3", "bucket": MEDIA, "prefix": "library/", "max_items": 10}, MEDIA)
    assert (request.bucket, request.prefix, request.max_items) == (MEDIA, "library/", 10)


def test_a_request_file_is_one_run_per_content() -> None:
    first = request_run_id(MEDIA, "imports/a.json", "etag-1")
    assert first == request_run_id(MEDIA, "imports/a.json", "etag-1")  # a redelivered event: the same run
    assert first != request_run_id(MEDIA, "imports/a.json", "etag-2")  # the file edited: a new run
    assert re.fullmatch(r"import-[0-9a-f]{40}", first)  # a valid execution name (<= 80 chars)


def test_the_cause_of_a_lambda_error_is_its_message() -> None:
    payload = json.dumps({"errorType": "ClientError", "errorMessage": "AccessDenied: no", "stackTrace": []})
    assert cause_message(payload) == "AccessDenied: no"
    assert cause_message("plain words") == "plain words"
    assert cause_message(None) == ""


# ---------------------------------------------------------------- the state machine


def _states(machine: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in machine["States"].items():
        yield name, state
        if "ItemProcessor" in state:
            yield from _states(state["ItemProcessor"])


def test_substitutions_are_exactly_the_templates() -> None:
    text = ASL.read_text()
    given = _load_template()["Resources"]["ImportPipeline"]["Properties"]["DefinitionSubstitutions"]
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(given)


def test_jsonpath_only_and_nothing_moto_cannot_run() -> None:
    machine = json.loads(ASL.read_text())
    assert machine.get("QueryLanguage", "JSONPath") == "JSONPath" and machine["TimeoutSeconds"] > 0
    for name, state in _states(machine):
        assert "Assign" not in state and state.get("QueryLanguage", "JSONPath") == "JSONPath", name
        assert "startExecution" not in state.get("Resource", "") and "aws-sdk:" not in state.get("Resource", ""), name


def test_every_task_carries_a_shared_retry_policy_verbatim() -> None:
    policies = json.loads((REPO / "statemachines" / "retry_policies.json").read_text())
    shared = [policy for name, policy in policies.items() if name != "Comment"]
    machine = json.loads(ASL.read_text())
    tasks = [(name, state) for name, state in _states(machine) if state["Type"] == "Task"]
    assert len(tasks) == 6
    for name, state in tasks:
        assert state["Retry"] in shared, name
        assert any("RateLimitedError" in r["ErrorEquals"] for r in state["Retry"]), name  # 429s slow, not fail


def test_every_failure_is_recorded_and_each_object_gets_an_outcome() -> None:
    machine = json.loads(ASL.read_text())
    top = machine["States"]
    for name in ("Prepare", "Backfill", "Finish"):
        assert top[name]["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}]
    assert top["RecordFailure"]["Next"] == "Failed" and top["Failed"]["Type"] == "Fail"
    backfill = top["Backfill"]
    assert backfill["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert backfill["ItemReader"]["ReaderConfig"] == {"InputType": "JSON"}
    assert backfill["MaxConcurrencyPath"] == "$.run.max_concurrency"
    inner = backfill["ItemProcessor"]["States"]
    assert inner["IngestObject"]["Catch"][0]["Next"] == "RecordObjectFailure"
    assert inner["RecordObjectFailure"]["Parameters"]["Payload"]["error.$"] == "$.error"
    # Pacing: the slot of a started video waits (bounded, growing waits computed by import_item) for its first call.
    assert inner["Started?"]["Choices"][0]["Next"] == "WaitForStart"
    assert inner["WaitForStart"]["SecondsPath"] == "$.ingested.wait_seconds"
    assert inner["CheckStarted"]["Next"] == "Started?" and inner["CheckStarted"]["Catch"][0]["Next"] == "Done"


# ---------------------------------------------------------------- the notifications


@pytest.mark.parametrize("event_type", sorted(IMPORT_RULES))
def test_committed_schema_is_the_generated_one(event_type: str) -> None:
    committed = json.loads((DOCS / f"{event_type}.schema.json").read_text())
    assert committed == json.loads(json.dumps(import_schema_for(event_type))), (
        "docs/notifications is stale: run `python scripts/write_notification_schemas.py`"
    )


@pytest.mark.parametrize("event_type", sorted(IMPORT_RULES))
def test_example_is_a_valid_message_of_its_type_only(event_type: str) -> None:
    example = json.loads((DOCS / f"{event_type}.example.json").read_text())
    ImportNotification.model_validate(example)
    jsonschema.validate(example, import_schema_for(event_type))
    for other in set(IMPORT_RULES) - {event_type}:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(example, import_schema_for(other))


def test_a_completed_import_without_its_report_is_not_a_valid_message() -> None:
    example = json.loads((DOCS / "import.completed.example.json").read_text())
    del example["report"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(example, import_schema_for("import.completed"))


# ---------------------------------------------------------------- the imports table


@pytest.fixture()
def store() -> Iterator[ImportsStore]:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        table = dynamodb.create_table(
            TableName="imports",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "run_id", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "run_id", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        )
        yield ImportsStore(table)


def test_a_run_is_created_once(store: ImportsStore) -> None:
    created, run = store.create_run(ImportRun(run_id="r1", status="RUNNING", requested_by="command"))
    assert created and run.status == "RUNNING"
    again, stored = store.create_run(ImportRun(run_id="r1", status="REJECTED", requested_by="other"))
    assert not again and stored.status == "RUNNING" and stored.requested_by == "command"
    assert store.update_run("r1", {"status": "COMPLETED"}, only_if_status_in=("RUNNING",)) is not None
    assert store.update_run("r1", {"status": "FAILED"}, only_if_status_in=("RUNNING",)) is None
    assert store.get_run("r1") is not None and store.get_run("r1").status == "COMPLETED"  # type: ignore[union-attr]


def test_an_objects_outcome_is_written_once_and_counted_once(store: ImportsStore) -> None:
    marker = store.begin_item("r1", MEDIA, "a.mp4")
    assert store.begin_item("r1", MEDIA, "a.mp4")["started_at"] == marker["started_at"]  # a retry keeps the mark
    assert store.record_item("r1", MEDIA, "a.mp4", "new", "k" * 40, "started") == "new"
    assert store.record_item("r1", MEDIA, "a.mp4", "skipped", "k" * 40, "duplicate") == "new"  # a retried attempt
    store.record_item("r1", MEDIA, "b.mp4", "rejected", None, "not_a_video")
    store.record_item("r2", MEDIA, "a.mp4", "skipped", None, "")
    items = {i["key"]: i["outcome"] for i in store.items("r1")}
    assert items == {"a.mp4": "new", "b.mp4": "rejected"}
    assert store.get_run("r1") is None  # object items are not the run record


def test_one_classic_import_per_integration_at_a_time(store: ImportsStore) -> None:
    from video_pipeline.imports.store import IntegrationLock

    now = [1_000_000.0]
    lock = IntegrationLock(store._table, ttl_seconds=600, clock=lambda: now[0])
    assert lock.acquire("int-1", "run-a") == (True, None)
    assert lock.acquire("int-1", "run-a") == (True, None)  # a retried step keeps (and renews) its lock
    assert lock.acquire("int-1", "run-b") == (False, "run-a")  # the second request is told who holds it
    assert lock.acquire("int-2", "run-b") == (True, None)  # another integration is independent
    assert not lock.release("int-1", "run-b")  # only the holder releases
    assert lock.release("int-1", "run-a")
    assert lock.acquire("int-1", "run-b") == (True, None)
    assert not lock.release("int-1", "run-a")  # a late, retried release of the old holder is a no-op
    assert lock.holder("int-1")["holder"] == "run-b"  # type: ignore[index]
    now[0] += 601  # run-b stopped renewing (crashed, aborted): the next run takes over after the TTL
    assert lock.acquire("int-1", "run-c") == (True, None)
    assert store.get_run("lock#integration#int-1") is None  # the lock is no run record


def test_an_import_that_timed_out_is_closed_as_failed() -> None:
    from video_pipeline.imports.backfill import finish_input

    event = json.loads((REPO / "events" / "record_failure_execution_status.json").read_text())
    event["detail"]["name"] = "backfill-1"
    parsed = finish_input(event)
    assert parsed.run_id == "backfill-1" and parsed.error is not None
    assert (parsed.error.error, parsed.error.cause) == ("States.Timeout", "The execution timed out")
    assert finish_input({"run_id": "backfill-1"}).error is None


# ---------------------------------------------------------------- S3 Inventory reports


def _report(s3: Any, rows: list[list[str]], **manifest: Any) -> str:
    import csv
    import gzip
    import io

    s3.create_bucket(Bucket="inventory")
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL).writerows(rows)
    s3.put_object(
        Bucket="inventory", Key="media/daily/data/part-0.csv.gz", Body=gzip.compress(text.getvalue().encode())
    )
    body = {
        "sourceBucket": MEDIA,
        "destinationBucket": "arn:aws:s3:::inventory",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, ETag",
        "files": [{"key": "media/daily/data/part-0.csv.gz", "size": 1, "MD5checksum": "x"}],
        **manifest,
    }
    s3.put_object(Bucket="inventory", Key="media/daily/manifest.json", Body=json.dumps(body).encode())
    return "s3://inventory/media/daily/manifest.json"


def test_an_inventory_report_lists_the_current_objects_under_the_prefix() -> None:
    from video_pipeline.imports.inventory import inventory_objects, open_manifest

    rows = [
        [MEDIA, "library/a+b%C3%A9.mp4", "v2", "true", "false", "10", "e1"],  # "a bé.mp4", URL-encoded as AWS does
        [MEDIA, "library/old.mp4", "v1", "false", "false", "10", "e2"],  # an older version
        [MEDIA, "library/gone.mp4", "v3", "true", "true", "", ""],  # a delete marker
        [MEDIA, "library/imports/req.json", "v4", "true", "false", "5", "e3"],  # a request file
        [MEDIA, "elsewhere/c.mp4", "v5", "true", "false", "10", "e4"],  # outside the prefix
        [MEDIA, "library/c.mov", "v6", "true", "false", "20", "e5"],
    ]
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        uri = _report(s3, rows)
        manifest = open_manifest(s3, uri, media_bucket=MEDIA, allowed_bucket="inventory")
        found = list(inventory_objects(s3, manifest, MEDIA, "library/", ["library/imports/"], None))
        assert [(o.key, o.size, o.etag) for o in found] == [("library/a bé.mp4", 10, "e1"), ("library/c.mov", 20, "e5")]
        assert len(list(inventory_objects(s3, manifest, MEDIA, "library/", [], 1))) == 1  # max_items


@pytest.mark.parametrize(
    ("change", "allowed", "words"),
    [
        ({"fileFormat": "Parquet"}, "inventory", ["Parquet", "only CSV"]),
        ({"sourceBucket": "other"}, "inventory", ["other", "media bucket"]),
        ({"fileSchema": "Bucket, Key, Size"}, "inventory", ["ETag"]),
        ({}, "", ["ImportInventoryBucket"]),
        ({}, "another-bucket", ["another-bucket"]),
    ],
)
def test_an_unusable_inventory_report_refuses_the_request(
    change: dict[str, Any], allowed: str, words: list[str]
) -> None:
    from video_pipeline.imports.inventory import open_manifest

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        uri = _report(s3, [], **change)
        with pytest.raises(InvalidImportRequestError) as refused:
            open_manifest(s3, uri, media_bucket=MEDIA, allowed_bucket=allowed)
    for word in words:
        assert word in refused.value.message


# ---------------------------------------------------------------- outcomes and pacing (fake jobs store)


class _Jobs:
    def __init__(self, jobs: dict[str, Any]) -> None:
        self.jobs = jobs

    def get(self, job_key: str) -> Any:
        return self.jobs.get(job_key)


def _runtime(jobs: dict[str, Any]) -> Any:
    from types import SimpleNamespace

    store = _Jobs(jobs)
    return SimpleNamespace(store=SimpleNamespace(require_jobs=lambda: store))


def _job(status: str, created_at: str, kind: str = "video", error_code: str | None = None) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(status=status, created_at=created_at, kind=kind, error_code=error_code)


@pytest.mark.parametrize(
    ("outcome", "job", "expected"),
    [
        ("started", None, "new"),
        ("embedded", None, "new"),
        ("rejected", None, "rejected"),
        ("embedding_failed", None, "failed"),
        ("ignored", None, "skipped"),
        # a job that existed before this object's first attempt: processed earlier
        ("duplicate", _job("COMPLETED", "2026-12-01T10:00:00.000000Z"), "skipped"),
        ("duplicate", _job("REJECTED", "2026-12-01T10:00:00.000000Z", error_code="not_a_video"), "skipped"),
        # created after the first attempt began: that attempt claimed it, then failed before recording -> its outcome
        ("duplicate", _job("INDEXING", "2026-12-02T10:00:01.000000Z"), "new"),
        ("duplicate", _job("REJECTED", "2026-12-02T10:00:01.000000Z", error_code="empty_object"), "rejected"),
        ("duplicate", _job("FAILED", "2026-12-02T10:00:01.000000Z", kind="image", error_code="x"), "failed"),
    ],
)
def test_an_ingest_result_is_counted_as_this_runs_outcome(outcome: str, job: Any, expected: str) -> None:
    from video_pipeline.imports.backfill import _classify
    from video_pipeline.ingest import IngestResult

    result = IngestResult("k" * 40, outcome, "detail")  # type: ignore[arg-type]
    started_at = "2026-12-02T10:00:00.000000Z"
    assert _classify(result, started_at, _runtime({"k" * 40: job} if job else {}))[0] == expected


def test_pacing_holds_a_slot_with_growing_bounded_waits_until_the_video_started() -> None:
    from video_pipeline.imports.backfill import FOLLOW_MAX_POLLS, FOLLOW_MAX_SECONDS, follow_started
    from video_pipeline.imports.models import FollowState

    waiting = _runtime({"k" * 40: _job("RECEIVED", "2026-12-02T10:00:00.000000Z")})
    state, waits = FollowState(job_key="k" * 40), []
    while True:
        answer = follow_started(state, waiting)
        if not answer.follow:
            break
        waits.append(answer.wait_seconds)
        state = FollowState(job_key="k" * 40, polls=answer.polls, wait_seconds=answer.wait_seconds)
    assert answer.polls == FOLLOW_MAX_POLLS  # released after a bounded number of polls, never held forever
    assert waits[:5] == [2, 4, 8, 16, 30] and max(waits) == FOLLOW_MAX_SECONDS
    started = _runtime({"k" * 40: _job("INDEXING", "2026-12-02T10:00:00.000000Z")})
    assert not follow_started(FollowState(job_key="k" * 40), started).follow
    assert not follow_started(FollowState(job_key="k" * 40), _runtime({})).follow  # no job: nothing to wait for


# ---------------------------------------------------------------- the template


def test_imports_run_the_upload_path_with_its_settings_and_the_schedule_is_off_by_default() -> None:
    template = _load_template()
    resources, parameters = template["Resources"], template["Parameters"]
    ingest = resources["IngestFunction"]["Properties"]["Environment"]["Variables"]
    item = resources["ImportItemFunction"]["Properties"]["Environment"]["Variables"]
    # the same ingest, plus the imports table and the media bucket (an integration's files must be objects of it)
    assert {k: v for k, v in item.items() if k not in ("IMPORTS_TABLE", "MEDIA_BUCKET")} == ingest
    assert item["MEDIA_BUCKET"] == {"Ref": "MediaBucket"}
    assert {"Ref": "ImportRequestPrefix"} in ingest["IGNORE_PREFIXES"]["Fn::Join"][1]  # requests are not media
    assert parameters["ImportSchedule"]["Default"] == ""
    scheduled = resources["ImportPipeline"]["Properties"]["Events"]["Scheduled"]["Properties"]
    assert scheduled["State"] == {"Fn::If": ["HasImportSchedule", "ENABLED", "DISABLED"]}
    rule = resources["ImportRequestFunction"]["Properties"]["Events"]["RequestDropped"]["Properties"]
    assert rule["Pattern"]["detail"]["object"]["key"] == [{"prefix": {"Ref": "ImportRequestPrefix"}}]
    assert rule["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["ExecutionEventsDLQ", "Arn"]}


# -- entering video-pipeline after indexing (imports of videos TwelveLabs already holds) ------------------------
VIDEO_ASL = Path(__file__).resolve().parents[2] / "statemachines" / "video_pipeline.asl.json"


def _holds(rule: dict[str, Any], state: dict[str, Any]) -> bool:
    """The subset of Choice rules the video pipeline's first Choice uses (And, IsPresent, StringEquals)."""
    if "And" in rule:
        return all(_holds(r, state) for r in rule["And"])
    value: Any = state
    for part in rule["Variable"].removeprefix("$.").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if "IsPresent" in rule:
        return (value is not None) == rule["IsPresent"]
    return value == rule["StringEquals"]


def _first_state(execution_input: dict[str, Any]) -> str:
    machine = json.loads(VIDEO_ASL.read_text())
    choice = machine["States"][machine["StartAt"]]
    for rule in choice["Choices"]:
        if _holds(rule, execution_input):
            return str(rule["Next"])
    return str(choice["Default"])


def _execution_input(**fields: Any) -> dict[str, Any]:
    from video_pipeline.models.payloads import ExecutionInput

    base: dict[str, Any] = {"job_key": "j1", "run": 1, "index_id": "idx", "analyses": [], "embedding": {}}
    return ExecutionInput.model_validate({**base, **fields}).model_dump(mode="json")


def test_an_indexed_entry_skips_indexing_and_reuses_the_enrichment() -> None:
    machine = json.loads(VIDEO_ASL.read_text())
    ready = {"task_id": "t1", "video_id": "v1", "status": "ready"}
    classic = _execution_input(entry="indexed", indexed=ready, bucket="b", key="k.mp4")
    assert _first_state(classic) == "Indexed?"
    # ... which is the very Choice the upload flow reaches after its wait: ready -> the same Enrich state
    assert machine["States"]["Indexed?"]["Choices"][0]["Next"] == "Enrich"
    indexing = {"task_id": "ia1", "video_id": "ia1", "asset_id": "a1"}
    current = _execution_input(entry="indexed", surface="current", indexing=indexing)
    assert _first_state(current) == "EnrichAsset"
    # the upload flows are unchanged
    assert _first_state(_execution_input(bucket="b", key="k.mp4")) == "StartIndexing"
    assert _first_state(_execution_input(bucket="b", key="k.mp4", surface="current")) == "IndexAsset"
    # an asset-source job (connections import): no S3 object, the indexing state resumes from the job's asset
    assert _first_state(_execution_input(surface="current")) == "IndexAsset"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"entry": "indexed"}, "needs indexed"),
        ({"entry": "indexed", "indexed": {"task_id": "t", "status": "ready"}}, "needs indexed"),
        ({"entry": "indexed", "surface": "current"}, "needs indexing"),
        ({"entry": "indexed", "surface": "current", "indexing": {"task_id": "ia"}}, "needs indexing"),
        ({}, "needs bucket and key"),
        ({"entry": "later", "bucket": "b", "key": "k"}, "entry"),
    ],
)
def test_an_execution_input_that_cannot_enter_is_refused(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        _execution_input(**fields)


def test_the_command_builds_the_request_of_each_source() -> None:
    from video_pipeline.imports.cli import _request, default_run_id, parser

    def request(*argv: str) -> dict[str, Any]:
        built = _request(parser().parse_args(["start", *argv]))
        validate_request(dict(built), MEDIA)  # each is a valid request
        return built

    assert request("--prefix", "a/")["source"] == "s3"
    connection = request("--connection-id", "c1", "--source-id", "f1", "--source-id", "f2")
    assert connection["source"] == "connection" and connection["source_ids"] == ["f1", "f2"]
    integration = request("--integration-id", "i1", "--incremental")
    assert integration["source"] == "integration" and integration["incremental_import"] is True
    assert "retry_failed" not in integration and "prefix" not in integration
    assert default_run_id("integration").startswith("integration-") and default_run_id().startswith("backfill-")
