"""State machine `.waitForTaskToken` task: park the token, resolve at once if the task already ended."""

from __future__ import annotations

from typing import Any

from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.indexing import await_indexing
from video_pipeline.models.payloads import AwaitIndexingInput
from video_pipeline.settings import AwaitIndexingSettings

function = LambdaFunction(AwaitIndexingSettings)


@function.handler(AwaitIndexingInput)
def lambda_handler(event: AwaitIndexingInput, runtime: Runtime[AwaitIndexingSettings]) -> dict[str, Any]:
    return await_indexing(event, runtime)
