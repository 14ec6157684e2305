"""CloudFormation custom resource `Custom::TwelveLabsIndex`: find or create the index by name (never deletes)."""

from __future__ import annotations

from typing import Any

from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.index_provisioning import CustomResourceEvent, respond
from video_pipeline.settings import IndexProvisionerSettings

# 12 s kept after the client gives up: a failure must still be PUT to CloudFormation (10 s timeout).
function = LambdaFunction(IndexProvisionerSettings, reserve_seconds=12)


@function.handler(CustomResourceEvent)
def lambda_handler(event: CustomResourceEvent, runtime: Runtime[IndexProvisionerSettings]) -> dict[str, Any]:
    return respond(event, runtime)
