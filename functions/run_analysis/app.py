"""State machine Map item: run one analysis, result to S3, small fields on the item."""

from __future__ import annotations

from video_pipeline.analyses import run_analysis
from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.models.payloads import ResultPointer, RunAnalysisInput
from video_pipeline.settings import RunAnalysisSettings

function = LambdaFunction(RunAnalysisSettings)


@function.handler(RunAnalysisInput)
def lambda_handler(event: RunAnalysisInput, runtime: Runtime[RunAnalysisSettings]) -> ResultPointer:
    result = run_analysis(event, runtime)
    function.count("AnalysesCompleted")
    return result
