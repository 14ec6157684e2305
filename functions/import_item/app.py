"""import-pipeline Distributed Map iteration: one object through the upload's ingest path, its outcome recorded."""

from __future__ import annotations

from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.imports.backfill import import_object
from video_pipeline.imports.models import ItemInput, ItemOutput
from video_pipeline.imports.settings import ImportItemSettings

function = LambdaFunction(ImportItemSettings)  # images and audio are embedded here (TwelveLabs /embed)


@function.handler(ItemInput)
def lambda_handler(event: ItemInput, runtime: Runtime[ImportItemSettings]) -> ItemOutput:
    result = import_object(event, runtime)
    function.count(f"ImportObject_{result.outcome}")
    return result
