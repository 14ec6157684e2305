"""State machine task: retrieve the embeddings, write them to S3, record the URI."""

from __future__ import annotations

from video_pipeline.clients import Runtime
from video_pipeline.embeddings import store_embeddings
from video_pipeline.handler import LambdaFunction
from video_pipeline.models.payloads import ResultPointer, StoreEmbeddingsInput
from video_pipeline.settings import StoreEmbeddingsSettings

function = LambdaFunction(StoreEmbeddingsSettings)


@function.handler(StoreEmbeddingsInput)
def lambda_handler(event: StoreEmbeddingsInput, runtime: Runtime[StoreEmbeddingsSettings]) -> ResultPointer:
    return store_embeddings(event, runtime)
