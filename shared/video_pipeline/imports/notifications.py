"""The JSON Schema of each import.* SNS message (docs/notifications/import.*.schema.json, written by
scripts/write_notification_schemas.py; tests/functions/test_import_notifications.py fails when they drift)."""

from __future__ import annotations

import copy
from typing import Any

from video_pipeline.imports.models import ImportNotification

# event type -> (statuses, error present?, description)
IMPORT_RULES: dict[str, tuple[list[str], bool, str]] = {
    "import.completed": (
        ["COMPLETED"],
        False,
        "An import run ended: every object was handed to the pipeline (or skipped, rejected, failed); `counts` per "
        "outcome, `report` lists each object with its outcome.",
    ),
    "import.failed": (
        ["FAILED"],
        True,
        "An import run stopped before its end; `error` says why, `counts` and `report` cover what was done.",
    ),
    "import.rejected": (
        ["REJECTED"],
        True,
        "An import request was refused before anything started; `error.message` says what and why.",
    ),
}


def import_schema_for(event_type: str) -> dict[str, Any]:
    statuses, has_error, description = IMPORT_RULES[event_type]
    schema = copy.deepcopy(ImportNotification.model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = event_type
    schema["description"] = description + " Pointers only: the list of objects stays in S3."
    props = schema["properties"]
    props["event_type"] = {"const": event_type}
    props["status"] = {"enum": statuses}
    props["error"] = {"$ref": "#/$defs/ErrorInfo"} if has_error else {"type": "null"}
    if event_type == "import.completed":
        props["report"] = {"type": "string", "pattern": "^s3://"}
    required = {"event_type", "status", "error", "schema_version", "counts", "run_id", "request"}
    schema["required"] = sorted(set(schema.get("required", [])) | required | ({"report"} if not has_error else set()))
    return schema
