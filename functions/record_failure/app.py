"""Failure path: from the state machine's Catch (the small state) or EventBridge execution status events."""

from __future__ import annotations

from typing import Any

from video_pipeline.clients import Runtime
from video_pipeline.failures import FailureRecord, record_failure
from video_pipeline.handler import LambdaFunction
from video_pipeline.settings import RecordFailureSettings

function = LambdaFunction(RecordFailureSettings, calls_twelvelabs=False)


@function.handler()
def lambda_handler(event: dict[str, Any], runtime: Runtime[RecordFailureSettings]) -> FailureRecord:
    record = record_failure(event, runtime)
    if record.announced:
        function.count("VideosFailed")
    return record
