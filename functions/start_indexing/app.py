"""State machine task: create the TwelveLabs indexing task once (presigned URL)."""

from __future__ import annotations

from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.indexing import start_indexing
from video_pipeline.models.payloads import StartIndexingInput, StartIndexingOutput
from video_pipeline.settings import StartIndexingSettings

function = LambdaFunction(StartIndexingSettings)


@function.handler(StartIndexingInput)
def lambda_handler(event: StartIndexingInput, runtime: Runtime[StartIndexingSettings]) -> StartIndexingOutput:
    result = start_indexing(event, runtime)
    function.count("IndexingTasksStarted")
    return result
