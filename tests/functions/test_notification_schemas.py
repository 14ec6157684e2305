"""The documented SNS schemas (docs/notifications) match the code, and every example satisfies both."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from video_pipeline.models.notifications import PipelineNotification

from scripts.write_notification_schemas import RULES, schema_for

DOCS = Path(__file__).resolve().parents[2] / "docs" / "notifications"


@pytest.mark.parametrize("event_type", sorted(RULES))
def test_committed_schema_is_the_generated_one(event_type: str) -> None:
    committed = json.loads((DOCS / f"{event_type}.schema.json").read_text())
    assert committed == json.loads(json.dumps(schema_for(event_type))), (
        "docs/notifications is stale: run `python scripts/write_notification_schemas.py`"
    )


@pytest.mark.parametrize("event_type", sorted(RULES))
def test_example_is_a_valid_message_of_its_type(event_type: str) -> None:
    example = json.loads((DOCS / f"{event_type}.example.json").read_text())
    PipelineNotification.model_validate(example)
    jsonschema.validate(example, schema_for(event_type))
    for other in set(RULES) - {event_type}:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(example, schema_for(other))


def test_a_failure_without_its_error_is_not_a_valid_message() -> None:
    example = json.loads((DOCS / "video.failed.example.json").read_text())
    example["error"] = None
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(example, schema_for("video.failed"))
