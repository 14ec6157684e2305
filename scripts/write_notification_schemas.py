"""Write docs/notifications/<event_type>.schema.json: the JSON Schema of each SNS message type.

Generated from `video_pipeline.models.notifications.PipelineNotification` plus the rules each event type adds
(its status, its media kinds, whether `error` is set); tests/functions/test_notification_schemas.py fails when
they drift.

Usage: python scripts/write_notification_schemas.py [OUT_DIR]
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any, Literal

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "shared")]

from video_pipeline.imports.notifications import IMPORT_RULES, import_schema_for  # noqa: E402  (import.*)
from video_pipeline.models.notifications import PipelineNotification  # noqa: E402

ErrorRule = Literal["required", "null", "either"]

# event type -> (statuses, kinds, `error`, description). A retired run (deleted, superseded) keeps the kind it had and
# the error it failed with, if it failed before it was retired.
RULES: dict[str, tuple[list[str], list[str], ErrorRule, str]] = {
    "video.completed": (
        ["COMPLETED"],
        ["video"],
        "null",
        "A video was indexed, embedded and analysed; `results` points at every payload.",
    ),
    "video.failed": (
        ["FAILED"],
        ["video"],
        "required",
        "A video's pipeline failed; `error` carries the TwelveLabs (or our) code and message.",
    ),
    "video.rejected": (
        ["REJECTED"],
        ["video"],
        "required",
        "A video was screened out before any TwelveLabs call; `error` says why.",
    ),
    "video.deleted": (
        ["DELETED"],
        ["video", "image", "audio"],
        "either",
        "The source object was removed; what TwelveLabs held for the job (video, task) was deleted. Also sent for "
        "an image or audio job; `error` is the failure of a run that had failed before.",
    ),
    "video.superseded": (
        ["SUPERSEDED"],
        ["video", "image", "audio"],
        "either",
        "The source object was overwritten by a newer version (before or after this run finished): what "
        "TwelveLabs held for the job was deleted and its `results` are void; the newer version is a job of its "
        "own. `error` is the failure of a run that had failed before.",
    ),
    "embedding.completed": (
        ["COMPLETED"],
        ["image", "audio"],
        "null",
        "An image or audio file got its Marengo embedding (`results.embeddings`).",
    ),
    "embedding.failed": (
        ["REJECTED", "FAILED"],
        ["image", "audio"],
        "required",
        "An image or audio file was screened out (REJECTED) or refused by TwelveLabs (FAILED).",
    ),
}


def schema_for(event_type: str) -> dict[str, Any]:
    statuses, kinds, error_rule, description = RULES[event_type]
    schema = copy.deepcopy(PipelineNotification.model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = event_type
    schema["description"] = description + " Pointers only: payloads stay in S3."
    props = schema["properties"]
    props["event_type"] = {"const": event_type}
    props["status"] = {"enum": statuses}
    props["kind"] = {"enum": kinds}
    if error_rule == "required":
        props["error"] = {"$ref": "#/$defs/ErrorInfo"}
    elif error_rule == "null":
        props["error"] = {"type": "null"}
    else:
        props["error"] = {"anyOf": [{"$ref": "#/$defs/ErrorInfo"}, {"type": "null"}]}
    schema["required"] = sorted(
        set(schema.get("required", [])) | {"event_type", "status", "kind", "error", "schema_version"}
    )
    return schema


def write_all(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type in RULES:
        path = out / f"{event_type}.schema.json"
        path.write_text(json.dumps(schema_for(event_type), indent=2, sort_keys=True) + "\n")
        written.append(path)
    for event_type in IMPORT_RULES:  # import runs: their own message model (video_pipeline.imports)
        path = out / f"{event_type}.schema.json"
        path.write_text(json.dumps(import_schema_for(event_type), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "notifications"):
        print(p)
