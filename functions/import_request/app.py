"""EventBridge `Object Created` under the request prefix: validate the request file, start the import (or reject it)."""

from __future__ import annotations

from typing import Any

from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.imports.requests import handle_request_event
from video_pipeline.imports.settings import ImportRequestSettings

function = LambdaFunction(ImportRequestSettings, calls_twelvelabs=False)


@function.handler()
def lambda_handler(event: dict[str, Any], runtime: Runtime[ImportRequestSettings]) -> list[dict[str, Any]]:
    outcomes = handle_request_event(event, runtime)
    for outcome in outcomes:
        function.count(f"ImportRequest_{outcome.outcome}")
        function.logger.info("import request", extra=outcome.model_dump())
    return [outcome.model_dump(mode="json") for outcome in outcomes]
