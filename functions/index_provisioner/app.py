"""CloudFormation custom resource `Custom::TwelveLabsIndex`: find or create the index by name (never deletes)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from video_pipeline.clients import get_runtime
from video_pipeline.handler_support import invocation_deadline, parse_event
from video_pipeline.index_provisioning import CustomResourceEvent, build_response, provision, send_response

logger = Logger()
tracer = Tracer()

REQUIRED_ENV: tuple[str, ...] = ()
get_runtime(*REQUIRED_ENV)  # cold start: an invalid setting fails here, naming the variable


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
# 12 s kept after the client gives up: a failure must still be PUT to CloudFormation (10 s timeout).
@invocation_deadline(reserve_seconds=12)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(CustomResourceEvent, event)
    try:
        result = provision(request, get_runtime(*REQUIRED_ENV))
        response = build_response(request, "SUCCESS", physical_id=result["PhysicalResourceId"], data=result["Data"])
    except Exception as exc:
        # CloudFormation waits up to an hour for an answer: every failure must be reported as FAILED.
        logger.exception("custom resource failed")
        if not request.ResponseURL:
            raise
        response = build_response(request, "FAILED", physical_id=request.PhysicalResourceId or "failed",
                                  data={}, reason=f"{type(exc).__name__}: {exc}")
    if request.ResponseURL:
        send_response(request.ResponseURL, response)
    return response
