"""import-pipeline task: validate the request, record the run, write the manifest of objects to S3."""

from __future__ import annotations

from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.imports.backfill import prepare
from video_pipeline.imports.models import PrepareInput, PrepareOutput
from video_pipeline.imports.settings import ImportPrepareSettings

function = LambdaFunction(ImportPrepareSettings, calls_twelvelabs=False)


@function.handler(PrepareInput)
def lambda_handler(event: PrepareInput, runtime: Runtime[ImportPrepareSettings]) -> PrepareOutput:
    result = prepare(event, runtime)
    function.count("ImportsRejected" if result.rejected else "ImportsStarted")
    return result
