"""State machine task: embedding task status + the next (growing, capped) wait + poll count."""

from __future__ import annotations

from video_pipeline.clients import Runtime
from video_pipeline.embeddings import check_embeddings
from video_pipeline.handler import LambdaFunction
from video_pipeline.models.payloads import CheckEmbeddingsInput, EmbeddingPoll
from video_pipeline.settings import CheckEmbeddingsSettings

function = LambdaFunction(CheckEmbeddingsSettings)


@function.handler(CheckEmbeddingsInput)
def lambda_handler(event: CheckEmbeddingsInput, runtime: Runtime[CheckEmbeddingsSettings]) -> EmbeddingPoll:
    return check_embeddings(event, runtime)
