"""State machine task: create the video embedding task once."""

from __future__ import annotations

from video_pipeline.clients import Runtime
from video_pipeline.embeddings import start_embeddings
from video_pipeline.handler import LambdaFunction
from video_pipeline.models.payloads import EmbeddingPoll, StartEmbeddingsInput
from video_pipeline.settings import StartEmbeddingsSettings

function = LambdaFunction(StartEmbeddingsSettings)


@function.handler(StartEmbeddingsInput)
def lambda_handler(event: StartEmbeddingsInput, runtime: Runtime[StartEmbeddingsSettings]) -> EmbeddingPoll:
    result = start_embeddings(event, runtime)
    function.count("EmbeddingTasksStarted")
    return result
