"""End to end on the fixture SAM app: deploy with local_stack's own deploy code, then drive every mechanism."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from local_stack import LocalStack, StackConfig

FIXTURE = Path(__file__).parent / "fixture_app"
REPO = Path(__file__).resolve().parents[2]


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 20.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    config = StackConfig(
        template=FIXTURE / "template.yaml",
        stack_name="fixture",
        emulator=False,  # the fixture app never calls TwelveLabs
        schedule_seconds=1,
        state_dir=tmp_path_factory.mktemp("local_stack"),
        layer_dirs=[REPO / "shared", FIXTURE / "layer" / "python"],
        echo_errors=False,
    )
    with LocalStack(config) as running:
        yield running


def item(stack: LocalStack, pk: str) -> dict[str, Any] | None:
    table = stack.outputs["StateTableName"]
    return stack.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": pk}}).get("Item")


def executions(stack: LocalStack) -> list[dict[str, Any]]:
    return stack.client("stepfunctions").list_executions(stateMachineArn=stack.outputs["PipelineArn"])["executions"]


def execution_for(stack: LocalStack, key: str) -> dict[str, Any] | None:
    sfn = stack.client("stepfunctions")
    for ex in executions(stack):
        if json.loads(sfn.describe_execution(executionArn=ex["executionArn"])["input"])["key"] == key:
            return sfn.describe_execution(executionArn=ex["executionArn"])
    return None


def subscriber_messages(stack: LocalStack) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    got = sqs.receive_message(QueueUrl=stack.outputs["SubscriberQueueUrl"], MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def test_deploy_outputs_include_custom_resource_data(stack: LocalStack) -> None:
    out = stack.outputs
    assert out["IndexId"] == "idx-fixture-index"
    assert out["WebhookUrl"] == stack.webhook_url and out["WebhookUrl"].startswith("http://127.0.0.1:")
    assert "response sent 200" in stack.function_log("provisioner")


def test_upload_runs_the_pipeline_to_success(stack: LocalStack) -> None:
    key = "videos/clip one.mp4"
    stack.client("s3").put_object(Bucket=stack.outputs["MediaBucketName"], Key=key, Body=b"video")
    wait_for("the parked task token", lambda: item(stack, f"TOKEN#{key}"))
    body = json.dumps({"key": key, "result": "indexed"}).encode()
    request = urllib.request.Request(
        stack.webhook_url + "hooks/tl?attempt=1", data=body, method="POST", headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        assert response.headers["x-fixture"] == "yes"
        assert json.loads(response.read()) == {"resolved": key}
    done = wait_for("SUCCEEDED", lambda: (e := execution_for(stack, key)) and e["status"] != "RUNNING" and e)
    assert done["status"] == "SUCCEEDED", done
    messages = wait_for("the SNS message", lambda: [m for m in subscriber_messages(stack) if m.get("key") == key])
    message = messages[0]
    assert message["outcome"] == "completed"
    assert message["callback"] == {"result": "indexed", "path": "/hooks/tl", "query": "attempt=1"}
    # Retry on the custom errorType: the first attempt raised FlakyError, the second succeeded.
    assert message["work"]["work"] == {
        "index_id": "idx-fixture-index",
        "attempts": 2,
        "function": stack.function_name("work"),
    }
    assert "FlakyError" in stack.function_log("work")


def test_prefix_filter_ignores_other_keys(stack: LocalStack) -> None:
    # moto runs S3 -> EventBridge -> SQS -> ingest inside PutObject: when the put returns, a delivery has happened.
    bucket = stack.outputs["MediaBucketName"]
    before = stack.function_log("ingest").count("START RequestId")
    stack.client("s3").put_object(Bucket=bucket, Key="other/clip.mp4", Body=b"x")
    assert stack.function_log("ingest").count("START RequestId") == before
    assert execution_for(stack, "other/clip.mp4") is None
    # Control: a key under the prefix is delivered within its put, so the check above could have failed.
    stack.client("s3").put_object(Bucket=bucket, Key="videos/prefix-control.mp4", Body=b"x")
    assert stack.function_log("ingest").count("START RequestId") == before + 1
    assert execution_for(stack, "videos/prefix-control.mp4") is not None


def test_failure_is_caught_notified_and_reaches_the_status_rule(stack: LocalStack) -> None:
    key = "videos/fail.mp4"
    stack.client("s3").put_object(Bucket=stack.outputs["MediaBucketName"], Key=key, Body=b"video")
    done = wait_for("FAILED", lambda: (e := execution_for(stack, key)) and e["status"] != "RUNNING" and e)
    assert done["status"] == "FAILED" and done["error"] == "PipelineFailed"
    failed = wait_for("the failure message", lambda: [m for m in subscriber_messages(stack) if m.get("key") == key])
    assert failed[0]["outcome"] == "failed" and failed[0]["error"]["Error"] == "Boom"
    record = wait_for("the status-change target", lambda: item(stack, f"STATUS#{done['name']}"))
    assert record["status"]["S"] == "FAILED"
    assert record["source"]["S"] == "aws.states"
    assert record["detail_type"]["S"] == "Step Functions Execution Status Change"


def test_schedule_runs_the_scheduled_function(stack: LocalStack) -> None:
    tick = wait_for("a scheduled run", lambda: item(stack, "TICK"), timeout=10)
    assert tick["greeting"]["S"] == "hello from the layer"
    assert tick["event_source"]["S"] == "aws.events"
    assert stack.run_schedules() == 1


def test_lambda_timeout_is_reported_as_sandbox_timedout(stack: LocalStack) -> None:
    lam = stack.client("lambda")
    response = lam.invoke(FunctionName=stack.outputs["SlowFunctionName"], Payload=b'{"sleep": 10}')
    assert response.get("FunctionError")
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]
    log = stack.function_log("slow")
    assert "remaining" in log and payload["errorMessage"] in log
    # The killed environment is replaced: the next invocation is a cold start that works.
    again = lam.invoke(FunctionName=stack.outputs["SlowFunctionName"], Payload=b'{"sleep": 0}')
    assert not again.get("FunctionError") and json.loads(again["Payload"].read()) == "woke up"
    assert stack.function_log("slow").split("Task timed out")[-1].count("INIT_START") == 1


def test_functions_stay_warm_between_invocations(stack: LocalStack) -> None:
    lam = stack.client("lambda")
    for _ in range(2):
        response = lam.invoke(FunctionName=stack.outputs["SlowFunctionName"], Payload=b'{"sleep": 0}')
        assert not response.get("FunctionError")
    reports = [line for line in stack.function_log("slow").splitlines() if line.startswith("REPORT")]
    assert "Init Duration" not in reports[-1]


def test_handler_exception_error_type_is_the_class_name(stack: LocalStack) -> None:
    response = stack.client("lambda").invoke(FunctionName=stack.outputs["SlowFunctionName"], Payload=b'{"raise": true}')
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "CustomFailure" and payload["errorMessage"] == "asked to fail"
    assert "CustomFailure: asked to fail" in stack.function_log("SlowFunction")


def test_exit_stops_everything(tmp_path: Path) -> None:
    config = StackConfig(
        template=FIXTURE / "template.yaml",
        stack_name="short",
        emulator=False,
        state_dir=tmp_path,
        layer_dirs=[REPO / "shared", FIXTURE / "layer" / "python"],
        echo_errors=False,
    )
    with LocalStack(config) as running:
        moto_pid = running.server.pid  # type: ignore[union-attr]
        urls = [running.moto_url, running.webhook_url]
        # The deploy ran the custom resource: its warm worker is alive until the stack stops.
        worker_pids = [int(pid) for pid in re.findall(r"local worker pid (\d+)", running.function_log("provisioner"))]
        assert worker_pids
        for pid in worker_pids:
            os.kill(pid, 0)
    for pid in [moto_pid, *worker_pids]:
        with pytest.raises(ProcessLookupError):
            for _ in range(50):
                os.kill(pid, 0)
                time.sleep(0.1)
    for url in urls:
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url, timeout=2)
