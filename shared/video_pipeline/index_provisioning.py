"""`index_provisioner`: the `Custom::TwelveLabsIndex` CloudFormation custom resource (find or create by name)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, field_validator

from video_pipeline.clients import Runtime
from video_pipeline.errors import ConfigurationError
from video_pipeline.settings import IndexProvisionerSettings

logger = Logger(child=True)

SurfaceName = Literal["current", "classic"]
DEFAULT_OPTIONS = ["visual", "audio"]
# The Marengo model each surface indexes with: new indexes refuse marengo2.7/pegasus1.2 on the current surface,
# where Pegasus needs no index (it analyses the asset); classic keeps both.
MARENGO_MODEL: dict[str, str] = {"current": "marengo3.0", "classic": "marengo2.7"}


def models_for(surface: SurfaceName, marengo_options: list[str], pegasus_options: list[str]) -> list[dict[str, Any]]:
    models = [{"model_name": MARENGO_MODEL[surface], "model_options": marengo_options}]
    if surface == "classic":
        models.append({"model_name": "pegasus1.2", "model_options": pegasus_options})
    return models


DEFAULT_MODELS: list[dict[str, Any]] = models_for("classic", DEFAULT_OPTIONS, DEFAULT_OPTIONS)


class IndexModelSpec(BaseModel):
    model_config = ConfigDict(protected_namespaces=())
    model_name: str = Field(min_length=1)
    model_options: list[str] = Field(min_length=1)


class IndexProperties(BaseModel):
    """The resource's properties. `Models` given explicitly wins; otherwise they follow `Surface` and the options."""

    model_config = ConfigDict(extra="ignore")
    IndexName: str = Field(min_length=1, max_length=200)
    Surface: SurfaceName = "classic"  # absent on stacks deployed before the surface existed: what they ran
    MarengoModelOptions: list[str] = Field(default_factory=lambda: list(DEFAULT_OPTIONS), min_length=1)
    PegasusModelOptions: list[str] = Field(default_factory=lambda: list(DEFAULT_OPTIONS), min_length=1)
    Models: list[IndexModelSpec] | None = None
    Addons: list[str] | None = None

    @field_validator("MarengoModelOptions", "PegasusModelOptions", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        # CloudFormation hands a CommaDelimitedList over as a list; a plain String parameter as "a,b".
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def models(self) -> list[IndexModelSpec]:
        if self.Models is not None:
            return self.Models
        specs = models_for(self.Surface, self.MarengoModelOptions, self.PegasusModelOptions)
        return [IndexModelSpec(**m) for m in specs]


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
    models = props.models()
    if existing is not None:
        _check_models(existing, models)
        logger.info("index found", extra={"index_name": props.IndexName, "index_id": existing.id})
        index_id = existing.id
    else:
        created = client.get_or_create_index(props.IndexName, [m.model_dump() for m in models], props.Addons)
        logger.info("index created", extra={"index_name": props.IndexName, "index_id": created.id})
        index_id = created.id
    return {"PhysicalResourceId": index_id, "Data": {"IndexId": index_id}}


def _check_models(index: Any, wanted: list[IndexModelSpec]) -> None:
    """An index found by name must carry the models this surface indexes with (a classic index cannot take
    indexed assets; a marengo3.0 index cannot serve the classic /gist, /summarize)."""
    have = {str(getattr(m, "model_name", "") or "") for m in (getattr(index, "models", None) or [])}
    missing = [m.model_name for m in wanted if m.model_name not in have]
    if missing:
        raise ConfigurationError(
            f"index {index.id!r} ({getattr(index, 'index_name', None)!r}) has models {sorted(have)}, not "
            f"{missing}: use another IndexName (or IndexId) for this TwelveLabsSurface",
            code="index_models_mismatch",
        )


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
