"""import-pipeline task: count the outcomes, write the report, close the run, announce import.completed/failed."""

from __future__ import annotations

from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.imports.backfill import finish
from video_pipeline.imports.models import FinishInput, ImportRun
from video_pipeline.imports.settings import ImportFinishSettings

function = LambdaFunction(ImportFinishSettings, calls_twelvelabs=False)


@function.handler(FinishInput)
def lambda_handler(event: FinishInput, runtime: Runtime[ImportFinishSettings]) -> ImportRun:
    run = finish(event, runtime)
    function.count(f"Imports_{run.status}")
    return run
