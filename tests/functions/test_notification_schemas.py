"""The documented SNS schemas (docs/notifications) match the code, every example satisfies both, and the messages
`PipelineNotification.for_job` builds are the documented ones (run, version id and etag included)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import jsonschema
import pytest
from pydantic import ValidationError
from video_pipeline.job_keys import job_key_for
from video_pipeline.models.events import S3ObjectRef
from video_pipeline.models.jobs import JobItem
from video_pipeline.models.notifications import EventType, PipelineNotification
from video_pipeline.notifier import Notifier

from scripts.write_notification_schemas import RULES, schema_for

DOCS = Path(__file__).resolve().parents[2] / "docs" / "notifications"
EVENT_TYPES: tuple[str, ...] = get_args(EventType)


def _example(event_type: str) -> dict[str, Any]:
    return dict(json.loads((DOCS / f"{event_type}.example.json").read_text()))


def _job_of(example: dict[str, Any], **changes: Any) -> JobItem:
    """The `JobsTable` item the example's message was made from."""
    source, tl, error = example["source"], example["twelvelabs"], example["error"] or {}
    fields: dict[str, Any] = {
        "job_key": example["job_key"],
        "run": example["run"],
        "status": example["status"],
        "kind": example["kind"],
        "bucket": source["bucket"],
        "key": source["key"],
        "version_id": source["version_id"],
        "etag": source["etag"],
        "s3_uri": source["s3_uri"],
        "tl_index_id": tl["index_id"],
        "tl_task_id": tl["task_id"],
        "tl_video_id": tl["video_id"],
        "results": example["results"],
        "title": example["title"],
        "error_code": error.get("code"),
        "error_message": error.get("message"),
        "created_at": "2026-11-26T12:00:00.000000Z",
        "updated_at": "2026-11-26T12:00:00.000000Z",
    }
    return JobItem.model_validate(fields | changes)


def _message(event_type: str, job: JobItem) -> dict[str, Any]:
    """The SNS body exactly as `Notifier` serialises it."""
    return dict(json.loads(PipelineNotification.for_job(event_type, job).model_dump_json()))  # type: ignore[arg-type]


# ---------------------------------------------------------------- every event type is documented


def test_every_event_type_has_its_rules_and_nothing_else_does() -> None:
    assert sorted(RULES) == sorted(EVENT_TYPES), (
        "EventType and scripts/write_notification_schemas.py RULES differ: add the new type's rules, then run "
        "`python scripts/write_notification_schemas.py`"
    )


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_has_a_schema_and_an_example(event_type: str) -> None:
    for suffix in ("schema", "example"):
        path = DOCS / f"{event_type}.{suffix}.json"
        assert path.is_file(), f"{path} is missing: every EventType is documented by a schema and an example"


def test_no_documented_video_or_embedding_type_is_unknown_to_the_code() -> None:
    documented = {p.name.split(".schema.json")[0] for p in DOCS.glob("*.schema.json")}
    documented |= {p.name.split(".example.json")[0] for p in DOCS.glob("*.example.json")}
    pipeline = {name for name in documented if name.startswith(("video.", "embedding."))}
    assert pipeline == set(EVENT_TYPES)


@pytest.mark.parametrize("event_type", sorted(RULES))
def test_committed_schema_is_the_generated_one(event_type: str) -> None:
    committed = json.loads((DOCS / f"{event_type}.schema.json").read_text())
    assert committed == json.loads(json.dumps(schema_for(event_type))), (
        "docs/notifications is stale: run `python scripts/write_notification_schemas.py`"
    )


@pytest.mark.parametrize("event_type", sorted(RULES))
def test_example_is_a_valid_message_of_its_type(event_type: str) -> None:
    example = _example(event_type)
    PipelineNotification.model_validate(example)
    jsonschema.validate(example, schema_for(event_type))
    for other in set(RULES) - {event_type}:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(example, schema_for(other))


@pytest.mark.parametrize("event_type", sorted(RULES))
def test_example_job_key_is_the_content_identity_of_its_source(event_type: str) -> None:
    source = _example(event_type)["source"]
    obj = S3ObjectRef(bucket=source["bucket"], key=source["key"], etag=source["etag"], version_id=source["version_id"])
    assert _example(event_type)["job_key"] == job_key_for(obj)


def test_the_superseded_example_names_the_overwritten_version() -> None:
    example = _example("video.superseded")
    assert example["status"] == "SUPERSEDED" and example["run"] == 1
    assert example["source"]["version_id"] and example["source"]["etag"]
    assert example["twelvelabs"]["task_id"] and example["twelvelabs"]["video_id"]
    # Another version of the same key: the newer content is a job of its own.
    newer = _example("video.completed")
    assert newer["source"]["s3_uri"] == example["source"]["s3_uri"]
    assert newer["source"]["etag"] != example["source"]["etag"] and newer["job_key"] != example["job_key"]


# ---------------------------------------------------------------- what for_job builds


@pytest.mark.parametrize("event_type", sorted(RULES))
def test_for_job_builds_the_documented_example_from_its_item(event_type: str) -> None:
    example = _example(event_type)
    message = _message(event_type, _job_of(example))
    assert {k: v for k, v in message.items() if k != "occurred_at"} == {
        k: v for k, v in example.items() if k != "occurred_at"
    }
    jsonschema.validate(message, schema_for(event_type))


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_message_carries_run_version_id_and_etag(event_type: str) -> None:
    job = _job_of(_example(event_type), run=3, version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", etag="0a1b2c3d-4")
    message = _message(event_type, job)
    assert message["run"] == 3
    assert message["source"]["version_id"] == "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
    assert message["source"]["etag"] == "0a1b2c3d-4"
    jsonschema.validate(message, schema_for(event_type))


def test_the_published_sns_body_carries_run_version_id_and_etag() -> None:
    published: list[dict[str, Any]] = []

    class RecordingSns:
        def publish(self, **request: Any) -> dict[str, str]:
            published.append(request)
            return {"MessageId": f"m-{len(published)}"}

    job = _job_of(_example("video.superseded"), run=2)
    Notifier(RecordingSns(), "arn:aws:sns:us-east-1:123456789012:notifications").publish_job("video.superseded", job)
    (request,) = published
    body = json.loads(request["Message"])
    assert (body["run"], body["source"]["version_id"], body["source"]["etag"]) == (2, job.version_id, job.etag)
    assert request["MessageAttributes"]["status"]["StringValue"] == "SUPERSEDED"
    jsonschema.validate(body, schema_for("video.superseded"))


def test_an_unversioned_object_without_an_etag_gives_nulls_not_missing_keys() -> None:
    message = _message("video.completed", _job_of(_example("video.completed"), version_id=None, etag=None))
    assert message["source"]["version_id"] is None and message["source"]["etag"] is None
    jsonschema.validate(message, schema_for("video.completed"))


@pytest.mark.parametrize(
    ("event_type", "changes"),
    [
        # A run that had failed keeps its error when its object is later deleted or overwritten.
        ("video.deleted", {"error_code": "indexing_failed", "error_message": "video_resolution_too_low"}),
        ("video.superseded", {"error_code": "indexing_failed", "error_message": "video_resolution_too_low"}),
        # object_removed (and the overwrite path) retire image and audio jobs under the same event types.
        ("video.deleted", {"kind": "image", "tl_task_id": None, "tl_video_id": None}),
        ("video.superseded", {"kind": "audio", "tl_task_id": None, "tl_video_id": None}),
    ],
)
def test_a_retired_run_is_a_valid_message_whatever_it_was(event_type: str, changes: dict[str, Any]) -> None:
    jsonschema.validate(_message(event_type, _job_of(_example(event_type), **changes)), schema_for(event_type))


# ---------------------------------------------------------------- what is refused


@pytest.mark.parametrize("run", [0, -1])
def test_a_run_below_one_is_refused_by_the_model_and_the_schema(run: int) -> None:
    example = _example("video.completed")
    with pytest.raises(ValidationError, match="run"):
        PipelineNotification.for_job("video.completed", _job_of(example, run=run))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(example | {"run": run}, schema_for("video.completed"))


@pytest.mark.parametrize("event_type", sorted(RULES))
def test_a_message_without_run_is_not_valid(event_type: str) -> None:
    example = _example(event_type)
    del example["run"]
    with pytest.raises(jsonschema.ValidationError, match="run"):
        jsonschema.validate(example, schema_for(event_type))
    with pytest.raises(ValidationError, match="run"):
        PipelineNotification.model_validate(example)


def test_a_failure_without_its_error_is_not_a_valid_message() -> None:
    example = _example("video.failed")
    example["error"] = None
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(example, schema_for("video.failed"))


def test_a_completion_with_an_error_is_not_a_valid_message() -> None:
    example = _example("video.completed")
    example["error"] = {"code": "indexing_failed", "message": "x"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(example, schema_for("video.completed"))
