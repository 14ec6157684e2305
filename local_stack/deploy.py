"""Deploy a SAM template into moto: package, translate offline, fix, create_stack, read Outputs."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
from samtranslator.translator.transform import transform

from local_stack.moto_patches import fix_translated_template
from local_stack.packaging import package

ARTIFACTS_BUCKET = "local-stack-artifacts"


class DeployedStack(BaseModel):
    stack_name: str
    stack_id: str
    outputs: dict[str, str]
    # logical id -> physical id, and logical id -> type
    resources: dict[str, str]
    resource_types: dict[str, str]
    function_log_names: dict[str, str]  # physical function name -> log name
    template: dict[str, Any]  # the translated, fixed template that was deployed


class DeployError(RuntimeError):
    pass


class _BundledPolicyLoader:
    """The translator's ManagedPolicyLoader pages IAM ListPolicies; offline we use its bundled map."""

    def load(self) -> dict[str, str]:
        return get_bundled_managed_policy_map("aws")


def translate(template: dict[str, Any], parameters: dict[str, str], region: str) -> dict[str, Any]:
    # The translator takes the partition from the boto3 session's region.
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    return transform(template, dict(parameters), _BundledPolicyLoader())  # type: ignore[arg-type]


def deploy(
    template_path: Path,
    stack_name: str,
    parameters: dict[str, str],
    clients: Any,
    region: str,
    timeout: float = 120.0,
) -> DeployedStack:
    """`clients(service)` returns a boto3 client bound to moto."""
    s3 = clients("s3")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if ARTIFACTS_BUCKET not in existing:
        s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    packaged = package(template_path, s3, ARTIFACTS_BUCKET)
    translated = fix_translated_template(translate(packaged.template, parameters, region))
    declared = set((translated.get("Parameters") or {}).keys())
    cfn = clients("cloudformation")
    try:
        created = cfn.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(translated),
            Parameters=[{"ParameterKey": k, "ParameterValue": str(v)} for k, v in parameters.items() if k in declared],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
    except cfn.exceptions.ClientError as exc:
        raise DeployError(f"create_stack {stack_name} failed: {exc}") from exc
    stack_id = created["StackId"]
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        status = stack["StackStatus"]
        if status == "CREATE_COMPLETE":
            break
        if status.endswith("FAILED") or status.startswith("ROLLBACK"):
            raise DeployError(f"stack {stack_name} ended {status}: {stack.get('StackStatusReason')}")
        if time.monotonic() > deadline:
            raise DeployError(f"stack {stack_name} still {status} after {timeout:.0f} s")
        time.sleep(0.2)
    outputs = {o["OutputKey"]: str(o.get("OutputValue")) for o in stack.get("Outputs", [])}
    resources: dict[str, str] = {}
    types: dict[str, str] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id):
        for r in page["StackResourceSummaries"]:
            resources[r["LogicalResourceId"]] = r.get("PhysicalResourceId", "")
            types[r["LogicalResourceId"]] = r["ResourceType"]
    log_names = {resources[lid]: name for lid, name in packaged.function_log_names.items() if lid in resources}
    return DeployedStack(
        stack_name=stack_name,
        stack_id=stack_id,
        outputs=outputs,
        resources=resources,
        resource_types=types,
        function_log_names=log_names,
        template=translated,
    )
