"""Failure path: from the state machine's Catch (the small state) or EventBridge execution status events.

Invoked asynchronously by EventBridge: an error is retried by Lambda, then the event goes to the on-failure
destination (ExecutionEventsDLQ, alarmed). An event that can never succeed (not one of ours) goes there at once.
"""

from __future__ import annotations

import json
from typing import Any

from video_pipeline.clients import Runtime
from video_pipeline.errors import InvalidEventError
from video_pipeline.failures import FailureRecord, RecordFailureFunctionSettings, dead_letter, record_failure
from video_pipeline.handler import LambdaFunction

function = LambdaFunction(RecordFailureFunctionSettings, calls_twelvelabs=False)


@function.handler()
def lambda_handler(event: dict[str, Any], runtime: Runtime[RecordFailureFunctionSettings]) -> FailureRecord | None:
    try:
        record = record_failure(event, runtime)
    except InvalidEventError as exc:
        queue_url = runtime.settings.failure_dead_letter_queue_url
        if queue_url is None:
            raise
        dead_letter(queue_url, json.dumps(event), str(exc), source="record_failure")
        function.count("RecordFailurePoison")
        return None
    if record.announced:
        function.count("VideosFailed")
    return record
