"""`index_provisioner`: the `Custom::TwelveLabsIndex` CloudFormation custom resource (find or create by name)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from video_pipeline.clients import Runtime
from video_pipeline.settings import IndexProvisionerSettings

logger = Logger(child=True)

DEFAULT_MODELS: list[dict[str, Any]] = [
    {"model_name": "marengo2.7", "model_options": ["visual", "audio"]},
    {"model_name": "pegasus1.2", "model_options": ["visual", "audio"]},
]


class IndexModelSpec(BaseModel):
    model_config = ConfigDict(protected_namespaces=())
    model_name: str = Field(min_length=1)
    model_options: list[str] = Field(min_length=1)


class IndexProperties(BaseModel):
    model_config = ConfigDict(extra="ignore")
    IndexName: str = Field(min_length=1, max_length=200)
    Models: list[IndexModelSpec] = Field(default_factory=lambda: [IndexModelSpec(**m) for m in DEFAULT_MODELS])
    Addons: list[str] | None = None


class CustomResourceEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    RequestType: Literal["Create", "Update", "Delete"]
    ResponseURL: str | None = None
    StackId: str = ""
    RequestId: str = ""
    LogicalResourceId: str = ""
    PhysicalResourceId: str | None = None
    ResourceProperties: dict[str, Any] = Field(default_factory=dict)


def provision(event: CustomResourceEvent, runtime: Runtime[IndexProvisionerSettings]) -> dict[str, Any]:
    """Find or create the index; Delete never deletes (the index holds the customer's videos)."""
    if event.RequestType == "Delete":
        return {"PhysicalResourceId": event.PhysicalResourceId or "none", "Data": {}}
    props = IndexProperties.model_validate(event.ResourceProperties)
    client = runtime.twelvelabs
    existing = client.find_index_by_name(props.IndexName)
    if existing is not None:
        logger.info("index found", extra={"index_name": props.IndexName, "index_id": existing.id})
        index_id = existing.id
    else:
        created = client.get_or_create_index(props.IndexName, [m.model_dump() for m in props.Models], props.Addons)
        logger.info("index created", extra={"index_name": props.IndexName, "index_id": created.id})
        index_id = created.id
    return {"PhysicalResourceId": index_id, "Data": {"IndexId": index_id}}


def build_response(
    event: CustomResourceEvent,
    status: Literal["SUCCESS", "FAILED"],
    *,
    physical_id: str,
    data: dict[str, Any],
    reason: str = "",
) -> dict[str, Any]:
    return {
        "Status": status,
        "Reason": reason[:3000] or "see CloudWatch Logs",
        "PhysicalResourceId": physical_id,
        "StackId": event.StackId,
        "RequestId": event.RequestId,
        "LogicalResourceId": event.LogicalResourceId,
        "NoEcho": False,
        "Data": data,
    }


def send_response(response_url: str, response: dict[str, Any], timeout: float = 10.0) -> None:
    """PUT the result to CloudFormation's presigned S3 URL (no content type: the signature excludes it)."""
    body = json.dumps(response).encode()
    request = urllib.request.Request(
        response_url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        logger.info("custom resource response sent", extra={"status": reply.status})


def respond(event: CustomResourceEvent, runtime: Runtime[IndexProvisionerSettings]) -> dict[str, Any]:
    """Provision, then answer CloudFormation; every failure is reported FAILED (it would wait an hour otherwise)."""
    try:
        result = provision(event, runtime)
        response = build_response(event, "SUCCESS", physical_id=result["PhysicalResourceId"], data=result["Data"])
    except Exception as exc:
        logger.exception("custom resource failed")
        if not event.ResponseURL:
            raise
        response = build_response(
            event,
            "FAILED",
            physical_id=event.PhysicalResourceId or "failed",
            data={},
            reason=f"{type(exc).__name__}: {exc}",
        )
    if event.ResponseURL:
        send_response(event.ResponseURL, response)
    return response
