"""Fixtures of the function unit tests: moto in server mode (so presigned URLs are real, fetchable URLs), the
TwelveLabs emulator, the pipeline's AWS resources, and the handlers loaded from functions/<name>/app.py."""

from __future__ import annotations

import importlib.util
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"
WEBHOOK_SECRET = "whsec_test_secret"
API_KEY = "test-key"
ANALYSES = [
    {"name": "gist", "kind": "gist", "types": ["title", "topic", "hashtag"]},
    {"name": "summary", "kind": "summary"},
    {"name": "safety", "kind": "analyze", "prompt": "Is anything unsafe shown?"},
]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def tl_emulator() -> Iterator[Any]:
    from twelvelabs_emulator import Emulator, EmulatorConfig

    emu = Emulator(
        EmulatorConfig(
            api_key=API_KEY,
            port=0,
            processing_seconds=0.2,
            surface="classic",
            webhook_secret=WEBHOOK_SECRET,
            webhook_retry_base_seconds=0.1,
            webhook_max_attempts=2,
        )
    ).start()
    yield emu
    emu.stop()


class EmulatorAdmin:
    def __init__(self, emu: Any) -> None:
        self.emu = emu
        self.http = httpx.Client(base_url=emu.admin_url, timeout=10)

    def faults(self, **faults: Any) -> None:
        self.http.post("/faults", json=faults).raise_for_status()

    def config(self, **change: Any) -> None:
        self.http.post("/config", json=change).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        return list(self.http.get("/requests").json())

    def posts(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests() if r.get("method") == "POST" and str(r.get("path", "")).endswith(path)]

    def webhooks(self) -> list[dict[str, Any]]:
        return list(self.http.get("/webhooks").json())


@dataclass
class Stack:
    """The AWS side of one test: resources in moto + helpers a test needs."""

    endpoint: str
    media_bucket: str
    results_bucket: str
    jobs_table: str
    callbacks_table: str
    topic_arn: str
    notifications_queue_url: str
    state_machine_arn: str
    index_id: str
    emulator: EmulatorAdmin
    env: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)

    def job(self, job_key: str) -> dict[str, Any] | None:
        table = boto3.resource("dynamodb", region_name=REGION, endpoint_url=self.endpoint).Table(self.jobs_table)
        return table.get_item(Key={"job_key": job_key}).get("Item")

    def jobs(self) -> list[dict[str, Any]]:
        table = boto3.resource("dynamodb", region_name=REGION, endpoint_url=self.endpoint).Table(self.jobs_table)
        return list(table.scan()["Items"])

    def callbacks(self) -> list[dict[str, Any]]:
        table = boto3.resource("dynamodb", region_name=REGION, endpoint_url=self.endpoint).Table(self.callbacks_table)
        return list(table.scan()["Items"])

    def notifications(self) -> list[dict[str, Any]]:
        """Every SNS message published so far (raw delivery to an SQS queue), drained."""
        sqs = self.client("sqs")
        found: list[dict[str, Any]] = []
        while True:
            reply = sqs.receive_message(
                QueueUrl=self.notifications_queue_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            messages = reply.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                envelope = json.loads(message["Body"])  # SNS -> SQS envelope
                body = json.loads(envelope["Message"])
                body["_attributes"] = {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()}
                found.append(body)
                sqs.delete_message(QueueUrl=self.notifications_queue_url, ReceiptHandle=message["ReceiptHandle"])

    def executions(self) -> list[dict[str, Any]]:
        return list(self.client("stepfunctions").list_executions(stateMachineArn=self.state_machine_arn)["executions"])

    def put(self, key: str, body: bytes) -> dict[str, Any]:
        return dict(self.client("s3").put_object(Bucket=self.media_bucket, Key=key, Body=body))

    def wait_task(self, task_id: str, timeout: float = 15) -> str:
        client = self.tl()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = client.get_task(task_id).status
            if status in ("ready", "failed"):
                return str(status)
            time.sleep(0.05)
        raise AssertionError(f"task {task_id} did not finish")

    def video(self, video_id: str) -> dict[str, Any]:
        """The indexed video (`GET /indexes/{index}/videos/{id}`), as the API answers it."""
        reply = httpx.get(
            f"{self.emulator.emu.base_url}/indexes/{self.index_id}/videos/{video_id}",
            headers={"x-api-key": API_KEY},
            timeout=10,
        )
        reply.raise_for_status()
        return dict(reply.json())

    def tl(self) -> Any:
        from twelvelabs_client import TwelveLabsClient

        return TwelveLabsClient(api_key=API_KEY, base_url=self.emulator.emu.base_url)


def _create_resources(endpoint: str, suffix: str) -> dict[str, str]:
    session = boto3.Session(region_name=REGION)
    s3 = session.client("s3", endpoint_url=endpoint)
    ddb = session.client("dynamodb", endpoint_url=endpoint)
    sns = session.client("sns", endpoint_url=endpoint)
    sqs = session.client("sqs", endpoint_url=endpoint)
    sfn = session.client("stepfunctions", endpoint_url=endpoint)
    iam = session.client("iam", endpoint_url=endpoint)
    media, results = f"media-{suffix}", f"results-{suffix}"
    s3.create_bucket(Bucket=media)
    s3.create_bucket(Bucket=results)
    jobs, callbacks = f"jobs-{suffix}", f"callbacks-{suffix}"
    ddb.create_table(
        TableName=jobs,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"}
            for n in ("job_key", "status", "updated_at", "tl_task_id", "s3_uri")
        ],
        KeySchema=[{"AttributeName": "job_key", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-status",
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "updated_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by-task",
                "KeySchema": [{"AttributeName": "tl_task_id", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
            {
                "IndexName": "by-source",
                "KeySchema": [{"AttributeName": "s3_uri", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
    )
    ddb.create_table(
        TableName=callbacks,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "pending", "AttributeType": "S"},
            {"AttributeName": "created_epoch", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[  # as template.yaml: the sparse index of pending tokens, oldest first
            {
                "IndexName": "pending-by-age",
                "KeySchema": [
                    {"AttributeName": "pending", "KeyType": "HASH"},
                    {"AttributeName": "created_epoch", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    topic = sns.create_topic(Name=f"notifications-{suffix}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"notifications-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "false"})
    role = iam.create_role(RoleName=f"sfn-{suffix}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    machine = sfn.create_state_machine(name=f"video-pipeline-{suffix}", definition=definition, roleArn=role)
    return {
        "media": media,
        "results": results,
        "jobs": jobs,
        "callbacks": callbacks,
        "topic": topic,
        "queue_url": queue_url,
        "machine": machine["stateMachineArn"],
    }


@pytest.fixture
def stack(moto_endpoint: str, tl_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    from video_pipeline.clients import reset_runtimes

    suffix = uuid.uuid4().hex[:8]
    base_env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "TwelveLabsPipeline",
        "POWERTOOLS_SERVICE_NAME": "test",
        "POWERTOOLS_DEV": "0",
    }
    for name, value in base_env.items():
        monkeypatch.setenv(name, value)
    for name in ("TWELVELABS_SECRET_ARN",):
        monkeypatch.delenv(name, raising=False)
    resources = _create_resources(moto_endpoint, suffix)
    admin = EmulatorAdmin(tl_emulator)
    admin.http.delete("/faults").raise_for_status()
    admin.http.delete("/requests").raise_for_status()
    admin.http.delete("/webhooks").raise_for_status()
    from twelvelabs_client import TwelveLabsClient

    index = TwelveLabsClient(api_key=API_KEY, base_url=tl_emulator.base_url).create_index(
        f"idx-{suffix}",
        [
            {"model_name": "marengo2.7", "model_options": ["visual", "audio"]},
            {"model_name": "pegasus1.2", "model_options": ["visual", "audio"]},
        ],
    )
    env = {
        "TWELVELABS_BASE_URL": tl_emulator.base_url,
        "TWELVELABS_API_KEY": API_KEY,
        "TWELVELABS_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TWELVELABS_INDEX_ID": index.id,
        "JOBS_TABLE": resources["jobs"],
        "CALLBACKS_TABLE": resources["callbacks"],
        "RESULTS_BUCKET": resources["results"],
        "NOTIFICATIONS_TOPIC_ARN": resources["topic"],
        "STATE_MACHINE_ARN": resources["machine"],
        "TWELVELABS_SURFACE": "classic",
        "ANALYSES": json.dumps(ANALYSES),
        "IGNORE_PREFIXES": "results/,_internal/",
        "EMBED_CLIP_LENGTH": "6",
        "EMBED_SCOPES": "clip,video",
        "EMBED_POLL_FIRST_SECONDS": "1",
        "EMBED_POLL_MAX_SECONDS": "8",
        "EMBED_POLL_MAX_ATTEMPTS": "5",
        "WEBHOOK_TOLERANCE_SECONDS": "300",
        "RECONCILE_AFTER_SECONDS": "0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_runtimes()
    yield Stack(
        endpoint=moto_endpoint,
        media_bucket=resources["media"],
        results_bucket=resources["results"],
        jobs_table=resources["jobs"],
        callbacks_table=resources["callbacks"],
        topic_arn=resources["topic"],
        notifications_queue_url=resources["queue_url"],
        state_machine_arn=resources["machine"],
        index_id=index.id,
        emulator=admin,
        env=env,
    )
    reset_runtimes()


_HANDLERS: dict[str, ModuleType] = {}


@pytest.fixture
def handler(stack: Stack) -> Callable[[str], ModuleType]:
    """`handler("ingest")` -> the functions/ingest/app.py module (imported once, after the env is set)."""

    def load(name: str) -> ModuleType:
        if name not in _HANDLERS:
            path = REPO / "functions" / name / "app.py"
            spec = importlib.util.spec_from_file_location(f"function_{name}_app", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _HANDLERS[name] = module
        return _HANDLERS[name]

    return load


@dataclass
class FakeContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:test-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/test"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


EVENTS = REPO / "events"


def load_event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / f"{name}.json").read_text()))


_last_sequencer = 0


def next_sequencer() -> str:
    """A new S3 sequencer: hex, growing with each event like AWS's (object_removed compares them)."""
    global _last_sequencer
    _last_sequencer = max(_last_sequencer + 1, time.time_ns())
    return f"{_last_sequencer:018X}"


def s3_event(
    bucket: str,
    key: str,
    size: int,
    etag: str,
    *,
    detail_type: str = "Object Created",
    sequencer: str | None = None,
    version_id: str | None = None,
) -> dict[str, Any]:
    """An EventBridge S3 event shaped like events/ingest.json's first record body (key URL-encoded as AWS does)."""
    from urllib.parse import quote_plus

    event = (
        json.loads(load_event("ingest")["Records"][0]["body"])
        if detail_type == "Object Created"
        else json.loads(load_event("object_removed")["Records"][0]["body"])
    )
    event["id"] = str(uuid.uuid4())
    event["detail"]["bucket"]["name"] = bucket
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    obj = event["detail"]["object"]
    obj["key"] = quote_plus(key, safe="/")
    obj["sequencer"] = sequencer or next_sequencer()
    if detail_type == "Object Created":
        obj["size"] = size
        obj["etag"] = etag
    if version_id:
        obj["version-id"] = version_id
    else:
        obj.pop("version-id", None)
    return event


def sqs_batch(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    template = load_event("ingest")["Records"][0]
    records = []
    for body in bodies:
        record = json.loads(json.dumps(template))
        record["messageId"] = str(uuid.uuid4())
        record["body"] = body if isinstance(body, str) else json.dumps(body)
        records.append(record)
    return {"Records": records}


@dataclass
class SfnSpy:
    """Records SendTaskSuccess/Failure made through the runtime's real (moto) client; can make them fail."""

    successes: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    fail_with: str | None = None  # an SFN error code to raise instead (TaskTimedOut, ThrottlingException, ...)


@pytest.fixture
def sfn_spy(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> SfnSpy:
    from botocore.exceptions import ClientError
    from video_pipeline.clients import get_clients

    spy = SfnSpy()
    sfn = get_clients().sfn
    real_success, real_failure = sfn.send_task_success, sfn.send_task_failure

    def success(**kwargs: Any) -> Any:
        if spy.fail_with:
            raise ClientError({"Error": {"Code": spy.fail_with, "Message": "injected"}}, "SendTaskSuccess")
        spy.successes.append({"token": kwargs["taskToken"], "output": json.loads(kwargs["output"])})
        return real_success(**kwargs)

    def failure(**kwargs: Any) -> Any:
        spy.failures.append(kwargs)
        return real_failure(**kwargs)

    monkeypatch.setattr(sfn, "send_task_success", success)
    monkeypatch.setattr(sfn, "send_task_failure", failure)
    return spy


def ingest_video(
    stack: Stack, handler: Any, context: Any, sample: Path, key: str = "videos/clip.mp4"
) -> dict[str, Any]:
    """Upload + ingest one video; returns its job item (RECEIVED, execution started)."""
    data = sample.read_bytes()
    put = stack.put(key, data)
    event = s3_event(stack.media_bucket, key, len(data), put["ETag"].strip('"'))
    assert handler("ingest").lambda_handler(sqs_batch(event), context) == {"batchItemFailures": []}
    [job] = [j for j in stack.jobs() if j["key"] == key]
    return job


def start_indexing_payload(stack: Stack, job: dict[str, Any]) -> dict[str, Any]:
    return {
        "job_key": job["job_key"],
        "run": int(job.get("run", 1)),
        "bucket": job["bucket"],
        "key": job["key"],
        "version_id": job.get("version_id"),
        "index_id": stack.index_id,
    }
