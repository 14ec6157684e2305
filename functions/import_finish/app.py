"""import-pipeline task: count the outcomes, write the report, close the run, announce import.completed/failed.

Also the target of the import pipeline's execution status rule: a run that timed out or was aborted is closed
as FAILED and announced (a run already closed is left alone).
"""

from __future__ import annotations

from typing import Any

from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.imports.backfill import finish, finish_input
from video_pipeline.imports.models import ImportRun
from video_pipeline.imports.settings import ImportFinishSettings

function = LambdaFunction(ImportFinishSettings, calls_twelvelabs=False)


@function.handler()
def lambda_handler(event: dict[str, Any], runtime: Runtime[ImportFinishSettings]) -> ImportRun:
    run = finish(finish_input(event), runtime)
    function.count(f"Imports_{run.status}")
    return run
