"""What the import tests need from the running stack: start an import, wait for its end, read its record and news."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.pipeline.conftest import Pipeline


def drain(pipeline: Pipeline) -> None:
    """Move every message the subscriber queue holds now into `pipeline.received`."""
    sqs = pipeline.stack.client("sqs")
    while True:
        batch = sqs.receive_message(QueueUrl=pipeline.subscriber_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        for message in batch.get("Messages", []):
            pipeline.received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=pipeline.subscriber_url, ReceiptHandle=message["ReceiptHandle"])
        if not batch.get("Messages"):
            return


def import_messages(pipeline: Pipeline, run_id: str) -> list[dict[str, Any]]:
    drain(pipeline)
    return [m for m in pipeline.received if m.get("run_id") == run_id]


def wait_for_import_message(pipeline: Pipeline, run_id: str, timeout: float = 240.0) -> dict[str, Any]:
    """The first import.* message of `run_id` (bounded wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = import_messages(pipeline, run_id)
        if found:
            return found[0]
        time.sleep(0.3)
    logs = {n: pipeline.stack.function_log(n)[-2000:] for n in ("import_request", "import_prepare", "import_finish")}
    raise AssertionError(f"no import message for {run_id} after {timeout}s; logs={logs}")


def wait_for_log(pipeline: Pipeline, function: str, text: str, timeout: float = 120.0) -> None:
    """Bounded wait until `function`'s log mentions `text` (an invocation about it has run)."""
    deadline = time.monotonic() + timeout
    while text not in pipeline.stack.function_log(function):
        if time.monotonic() > deadline:
            raise AssertionError(f"{function} never logged {text!r} in {timeout}s")
        time.sleep(0.3)


def pipeline_arn(pipeline: Pipeline) -> str:
    return pipeline.stack.outputs["ImportPipelineArn"]


def execution_arn(pipeline: Pipeline, run_id: str) -> str:
    machine = pipeline_arn(pipeline)
    prefix, _, name = machine.rpartition(":stateMachine:")
    return f"{prefix}:execution:{name}:{run_id}"


def wait_for_execution(pipeline: Pipeline, run_id: str, timeout: float = 300.0) -> dict[str, Any]:
    """The import execution `run_id` once it has ended (bounded wait)."""
    sfn = pipeline.stack.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn(pipeline, run_id))
        if described["status"] != "RUNNING":
            return dict(described)
        if time.monotonic() > deadline:
            raise AssertionError(f"import {run_id} still running after {timeout}s")
        time.sleep(0.5)


def start_import(pipeline: Pipeline, run_id: str, request: dict[str, Any]) -> None:
    """The README's command path: aws stepfunctions start-execution --name <run id> --input <request>."""
    pipeline.stack.client("stepfunctions").start_execution(
        stateMachineArn=pipeline_arn(pipeline), name=run_id, input=json.dumps(request)
    )


def run_command(pipeline: Pipeline, monkeypatch: Any, *args: str) -> tuple[int, dict[str, Any]]:
    """`python -m video_pipeline.imports <args>` against the local stack (in-process): exit code, printed JSON."""
    import io

    from video_pipeline.imports.cli import main

    from local_stack.moto_server import FAKE_CREDENTIALS

    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    stack = [
        "--state-machine-arn",
        pipeline_arn(pipeline),
        "--imports-table",
        pipeline.stack.outputs["ImportsTableName"],
        "--endpoint-url",
        pipeline.stack.moto_url,
        "--region",
        pipeline.stack.config.region,
    ]
    code = main([args[0], *stack, *args[1:]], out=out)
    return code, json.loads(out.getvalue())


def import_executions(pipeline: Pipeline) -> list[str]:
    sfn = pipeline.stack.client("stepfunctions")
    names: list[str] = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=pipeline_arn(pipeline)):
        names += [e["name"] for e in page["executions"]]
    return names


def run_record(pipeline: Pipeline, run_id: str) -> dict[str, Any] | None:
    imports = _dynamodb(pipeline).Table(pipeline.stack.outputs["ImportsTableName"])
    return imports.get_item(Key={"run_id": run_id, "sk": "run"}, ConsistentRead=True).get("Item")


def _dynamodb(pipeline: Pipeline) -> Any:
    import boto3

    return boto3.resource(
        "dynamodb",
        endpoint_url=pipeline.stack.moto_url,
        region_name=pipeline.stack.config.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def jobs_under(pipeline: Pipeline, prefix: str) -> list[dict[str, Any]]:
    """Every job item whose source is under `prefix` of the media bucket."""
    uri = f"s3://{pipeline.bucket}/{prefix}"
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "FilterExpression": "begins_with(s3_uri, :u)",
        "ExpressionAttributeValues": {":u": uri},
        "ConsistentRead": True,
    }
    while True:
        page = pipeline.table.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@contextmanager
def existing_library(pipeline: Pipeline) -> Iterator[None]:
    """Objects put inside this block were in the bucket before the pipeline watched it: the upload rule is off."""
    deployed = pipeline.stack.deployed
    assert deployed is not None
    events = pipeline.stack.client("events")
    rule = deployed.resources["ObjectCreatedRule"].split("|")[-1]
    events.disable_rule(Name=rule)
    try:
        yield
    finally:
        events.enable_rule(Name=rule)
