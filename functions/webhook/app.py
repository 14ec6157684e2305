"""Lambda Function URL (payload 2.0): TwelveLabs webhook, `TL-Signature` verified (fails closed), deduplicated."""

from __future__ import annotations

from typing import Any

from video_pipeline.callbacks import handle_webhook
from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.settings import WebhookSettings

function = LambdaFunction(WebhookSettings)


@function.handler()  # not parsed here: a request that is not a Function URL one gets a 400, not an error
def lambda_handler(event: dict[str, Any], runtime: Runtime[WebhookSettings]) -> dict[str, Any]:
    response = handle_webhook(event, runtime)
    function.count(f"Webhook_{response.statusCode}")
    return response.model_dump()
