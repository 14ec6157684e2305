"""State machine task: job COMPLETED, `video.completed` with every result URI."""

from __future__ import annotations

from video_pipeline.clients import Runtime
from video_pipeline.completion import finalize
from video_pipeline.handler import LambdaFunction
from video_pipeline.models.payloads import FinalizeInput, FinalizeOutput
from video_pipeline.settings import FinalizeSettings

function = LambdaFunction(FinalizeSettings, calls_twelvelabs=False)


@function.handler(FinalizeInput)
def lambda_handler(event: FinalizeInput, runtime: Runtime[FinalizeSettings]) -> FinalizeOutput:
    result = finalize(event, runtime)
    function.count("VideosCompleted")
    return result
