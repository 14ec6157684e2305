"""State machine `.waitForTaskToken` Map item (current surface): create one /analyze/tasks task on the asset, park
the token for its analyze.task.* webhook, resolve at once if the task already ended."""

from __future__ import annotations

from typing import Any

from video_pipeline.analyses import start_analysis
from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.models.payloads import StartAnalysisInput
from video_pipeline.settings import StartAnalysisSettings

function = LambdaFunction(StartAnalysisSettings)


@function.handler(StartAnalysisInput)
def lambda_handler(event: StartAnalysisInput, runtime: Runtime[StartAnalysisSettings]) -> dict[str, Any]:
    result = start_analysis(event, runtime)
    function.count("AnalysisTasksStarted")
    return result
