"""The command path of imports: start a run of the import pipeline, optionally wait for it, print its record.

    PYTHONPATH=shared python -m video_pipeline.imports start --stack STACK --prefix library/2019/ --wait
    PYTHONPATH=shared python -m video_pipeline.imports start --stack STACK --connection-id C --source-id F1
    PYTHONPATH=shared python -m video_pipeline.imports start --stack STACK --integration-id I --incremental --wait
    PYTHONPATH=shared python -m video_pipeline.imports status --stack STACK RUN_ID

AWS credentials and region come from the usual places (environment, profile); `--endpoint-url` (or
AWS_ENDPOINT_URL) points at the local stack (`make up` prints it). The request is validated by the state machine
itself (a bad one ends with import.rejected and the reason, printed by --wait).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any, TextIO

from video_pipeline.imports.store import ImportsStore

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class Stack:
    """The import pipeline's ARN and the imports table, from CloudFormation outputs or given directly."""

    def __init__(self, args: argparse.Namespace) -> None:
        import boto3

        self._session: Any = boto3.session.Session(region_name=args.region)
        self._endpoint_url: str | None = args.endpoint_url
        self._dynamodb = self._session.resource("dynamodb", endpoint_url=args.endpoint_url)
        self._outputs: dict[str, str] | None = None
        self._stack = args.stack
        self._given = {"ImportPipelineArn": args.state_machine_arn, "ImportsTableName": args.imports_table}

    def output(self, name: str) -> str:
        if self._given.get(name):
            return str(self._given[name])
        if not self._stack:
            raise SystemExit(f"give --stack (or the {name} output directly)")
        if self._outputs is None:
            described = self.client("cloudformation").describe_stacks(StackName=self._stack)["Stacks"][0]
            self._outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        if name not in self._outputs:
            raise SystemExit(f"stack {self._stack} has no output {name} (deployed before imports existed?)")
        return self._outputs[name]

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self._endpoint_url)

    def store(self) -> ImportsStore:
        return ImportsStore(self._dynamodb.Table(self.output("ImportsTableName")))


def default_run_id(source: str = "s3") -> str:
    kind = {"s3": "backfill"}.get(source, source)
    return f"{kind}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}"


def _request(args: argparse.Namespace) -> dict[str, Any]:
    """The request document of the options given (validated by the state machine, which names what is wrong)."""
    if args.connection_id:
        return {
            "source": "connection",
            "connection_id": args.connection_id,
            "source_ids": list(args.source_id or []),
            "requested_by": "command",
        }
    if args.integration_id:
        request: dict[str, Any] = {"source": "integration", "integration_id": args.integration_id}
        if args.index_id:
            request["index_id"] = args.index_id
        if args.incremental:
            request["incremental_import"] = True
        if args.retry_failed:
            request["retry_failed"] = True
        return {**request, "requested_by": "command"}
    request = {"source": "s3", "prefix": args.prefix, "requested_by": "command"}
    if args.max_items is not None:
        request["max_items"] = args.max_items
    if args.inventory_manifest:
        request["inventory_manifest"] = args.inventory_manifest
    return request


def _record(stack: Stack, run_id: str) -> dict[str, Any]:
    run = stack.store().get_run(run_id)
    return run.model_dump(mode="json", exclude={"notified"}) if run else {"run_id": run_id, "status": "UNKNOWN"}


def wait(stack: Stack, execution_arn: str, timeout: float, poll: float = 2.0) -> str:
    """The execution's final status (bounded wait)."""
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        status = str(sfn.describe_execution(executionArn=execution_arn)["status"])
        if status in TERMINAL:
            return status
        if time.monotonic() > deadline:
            raise SystemExit(f"{execution_arn} still RUNNING after {timeout:.0f} s (it goes on; check `status` later)")
        time.sleep(poll)


def start(args: argparse.Namespace, out: TextIO) -> int:
    stack = Stack(args)
    request = _request(args)
    run_id = args.run_id or default_run_id(request["source"])
    started = stack.client("stepfunctions").start_execution(
        stateMachineArn=stack.output("ImportPipelineArn"), name=run_id, input=json.dumps(request)
    )
    if not args.wait:
        out.write(json.dumps({"run_id": run_id, "execution_arn": started["executionArn"]}) + "\n")
        return 0
    status = wait(stack, started["executionArn"], args.timeout)
    record = _record(stack, run_id)
    out.write(json.dumps({"execution_status": status, **record}, indent=2) + "\n")
    return 0 if record.get("status") == "COMPLETED" else 1


def status(args: argparse.Namespace, out: TextIO) -> int:
    record = _record(Stack(args), args.run_id)
    out.write(json.dumps(record, indent=2) + "\n")
    return 0 if record.get("status") in ("COMPLETED", "RUNNING") else 1


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m video_pipeline.imports", description=__doc__.splitlines()[0])
    sub = main.add_subparsers(dest="command", required=True)
    for name in ("start", "status"):
        command = sub.add_parser(name)
        command.add_argument("--stack", help="CloudFormation stack name (outputs ImportPipelineArn, ImportsTableName)")
        command.add_argument("--state-machine-arn", help="instead of --stack")
        command.add_argument("--imports-table", help="instead of --stack")
        command.add_argument("--region")
        command.add_argument("--endpoint-url", help="e.g. the local stack's (default: AWS_ENDPOINT_URL or AWS)")
    begin = sub.choices["start"]
    begin.add_argument("--prefix", default="", help="key prefix of the media bucket (default: the whole bucket)")
    begin.add_argument("--max-items", type=int)
    begin.add_argument("--inventory-manifest", help="s3://<ImportInventoryBucket>/.../manifest.json")
    begin.add_argument("--connection-id", help="source connection (current surface): the connection ...")
    begin.add_argument("--source-id", action="append", help="... and a provider file id to import (repeat it)")
    begin.add_argument("--integration-id", help="source integration (classic surface): the integration to import")
    begin.add_argument("--index-id", help="integration: the index (default: the pipeline's)")
    begin.add_argument("--incremental", action="store_true", help="integration: incremental_import")
    begin.add_argument("--retry-failed", action="store_true", help="integration: retry_failed")
    begin.add_argument(
        "--run-id", help="execution name = run id (default: <backfill|connection|integration>-<UTC>-<random>)"
    )
    begin.add_argument("--wait", action="store_true", help="wait for the end and print the run record")
    begin.add_argument("--timeout", type=float, default=3600.0, help="seconds --wait waits at most")
    sub.choices["status"].add_argument("run_id")
    return main


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parser().parse_args(argv)
    return start(args, out) if args.command == "start" else status(args, out)
