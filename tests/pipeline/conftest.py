"""One local stack per session: the real template.yaml, the real ASL and handlers, moto and the emulator.

Each test uploads objects under its own keys and follows them to the user-visible outcome: the job item,
the S3 results, the SNS messages a subscriber queue received, and the TwelveLabs calls the emulator saw.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from local_stack import LocalStack, StackConfig

TERMINAL = {"COMPLETED", "FAILED", "REJECTED", "DELETED", "SUPERSEDED"}

FAST_PARAMETERS = {
    "EmbedPollFirstSeconds": "1",
    "EmbedPollMaxSeconds": "2",
    "EmbedPollMaxAttempts": "30",
    "ReconcileAfterSeconds": "3",
    "Analyses": json.dumps(
        [
            {"name": "gist", "kind": "gist", "types": ["title", "topic", "hashtag"]},
            {"name": "summary", "kind": "summary"},
            {"name": "chapters", "kind": "chapter"},
            {"name": "highlights", "kind": "highlight"},
            {"name": "safety", "kind": "analyze", "prompt": "Is there anything unsafe in this video?"},
        ]
    ),
}


@dataclass
class Pipeline:
    """What a test needs from the running stack, in the terms a user of the pipeline would use."""

    stack: LocalStack
    subscriber_url: str
    surface: str = "current"
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def bucket(self) -> str:
        return self.stack.outputs["MediaBucketName"]

    @property
    def table(self) -> Any:
        import boto3

        resource = boto3.resource(
            "dynamodb",
            endpoint_url=self.stack.moto_url,
            region_name=self.stack.config.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        return resource.Table(self.stack.outputs["JobsTableName"])

    def unique_key(self, name: str, prefix: str = "videos") -> str:
        return f"{prefix}/{uuid.uuid4().hex[:8]}/{name}"

    def upload(self, path: Path, key: str) -> str:
        self.stack.client("s3").upload_file(str(path), self.bucket, key)
        return key

    def put_bytes(self, data: bytes, key: str) -> str:
        self.stack.client("s3").put_object(Bucket=self.bucket, Key=key, Body=data)
        return key

    def items_for(self, key: str) -> list[dict[str, Any]]:
        uri = f"s3://{self.bucket}/{key}"
        found = self.table.scan(
            FilterExpression="s3_uri = :u", ExpressionAttributeValues={":u": uri}, ConsistentRead=True
        )
        return found["Items"]

    def wait_for(self, key: str, statuses: set[str] = TERMINAL, timeout: float = 90.0) -> dict[str, Any]:
        """The job item of `key` once its status is one of `statuses` (bounded wait)."""
        deadline = time.monotonic() + timeout
        items: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            items = self.items_for(key)
            if items and items[0]["status"] in statuses:
                return items[0]
            time.sleep(0.5)
        logs = {n: self.stack.function_log(n)[-1500:] for n in ("ingest", "start_indexing", "record_failure")}
        raise AssertionError(f"{key}: no item in {statuses} after {timeout}s; items={items}; logs={logs}")

    def wait_for_versions(self, key: str, count: int, timeout: float = 120.0) -> dict[str, dict[str, Any]]:
        """Every job of `key` (one per uploaded version) once there are `count` and all are terminal, by version id
        (bounded wait)."""
        deadline = time.monotonic() + timeout
        items: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            items = self.items_for(key)
            if len(items) >= count and all(i["status"] in TERMINAL for i in items):
                return {str(i.get("version_id")): i for i in items}
            time.sleep(0.5)
        raise AssertionError(f"{key}: not {count} terminal jobs after {timeout}s; items={items}")

    def current_version(self, key: str) -> str | None:
        try:
            return str(self.stack.client("s3").head_object(Bucket=self.bucket, Key=key)["VersionId"])
        except Exception:
            return None

    def settled(self, job_key: str, timeout: float = 60.0) -> None:
        """Bounded wait until nothing more can happen for `job_key`: its execution (if any) has ended and no S3 event
        is queued or in flight (ingest, removals). Every SNS message of the job has been published by then."""
        sfn, sqs = self.stack.client("stepfunctions"), self.stack.client("sqs")
        deployed = self.stack.deployed
        assert deployed is not None
        queues = [
            sqs.get_queue_url(QueueName=deployed.resources[name].rsplit("/", 1)[-1])["QueueUrl"]
            for name in ("IngestQueue", "RemovalsQueue")
        ]
        deadline = time.monotonic() + timeout
        while True:
            item = self.table.get_item(Key={"job_key": job_key}, ConsistentRead=True).get("Item") or {}
            arn = item.get("execution_arn")
            running = bool(arn) and sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
            queued = sum(
                int(v)
                for url in queues
                for v in sqs.get_queue_attributes(
                    QueueUrl=url,
                    AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
                )["Attributes"].values()
            )
            if not running and not queued:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{job_key}: still running={running}, queued={queued} after {timeout}s")
            time.sleep(0.2)

    def messages(self, job_key: str) -> list[dict[str, Any]]:
        """The SNS messages a subscriber received for `job_key`, once the job has settled (see `settled`)."""
        self.settled(job_key)
        sqs = self.stack.client("sqs")
        while True:
            batch = sqs.receive_message(QueueUrl=self.subscriber_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            for message in batch.get("Messages", []):
                self.received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.subscriber_url, ReceiptHandle=message["ReceiptHandle"])
            if not batch.get("Messages"):
                break
        return [m for m in self.received if m.get("job_key") == job_key]

    def read_result(self, uri: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return self.stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()

    # -- the emulator (TwelveLabs) -------------------------------------------------------------
    def faults(self, **faults: Any) -> None:
        httpx.post(f"{self.stack.emulator_admin_url}/faults", json=faults, timeout=10).raise_for_status()

    def clear_faults(self) -> None:
        httpx.delete(f"{self.stack.emulator_admin_url}/faults", timeout=10).raise_for_status()

    def tasks_for(self, job_key: str) -> list[dict[str, Any]]:
        """Every TwelveLabs indexing task that produced a video of this job (the task's `user_metadata` lands on the
        video it creates; the task object itself documents no metadata)."""
        headers = {"x-api-key": self.stack.twelvelabs.api_key}  # type: ignore[union-attr]
        index_id = self.stack.outputs["IndexId"]
        videos = {
            v["_id"]
            for v in self._pages(f"/indexes/{index_id}/videos", headers)
            if (v.get("user_metadata") or {}).get("job_key") == job_key
        }
        return [t for t in self._pages("/tasks", headers, index_id=index_id) if t.get("video_id") in videos]

    def _pages(self, path: str, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = httpx.get(
                f"{self.stack.emulator_base_url}{path}",
                headers=headers,
                timeout=10,
                params={"page": page, "page_limit": 50, **params},
            ).json()
            found += answer["data"]
            if page >= answer["page_info"]["total_page"]:
                return found
            page += 1

    def webhooks(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.stack.emulator_admin_url}/webhooks", timeout=10).json()

    # -- current surface: assets, indexed assets, analyze tasks ----------------------------------
    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"x-api-key": self.stack.twelvelabs.api_key}  # type: ignore[union-attr]
        return httpx.request(method, f"{self.stack.emulator_base_url}{path}", headers=headers, timeout=10, **kwargs)

    def assets_for(self, job_key: str) -> list[dict[str, Any]]:
        """Every TwelveLabs asset the pipeline made for this job (its user_metadata names the job)."""
        headers = {"x-api-key": self.stack.twelvelabs.api_key}  # type: ignore[union-attr]
        return [a for a in self._pages("/assets", headers) if (a.get("user_metadata") or {}).get("job_key") == job_key]

    def indexed_assets_for(self, job_key: str) -> list[dict[str, Any]]:
        headers = {"x-api-key": self.stack.twelvelabs.api_key}  # type: ignore[union-attr]
        assets = {a["_id"] for a in self.assets_for(job_key)}
        index_id = self.stack.outputs["IndexId"]
        return [i for i in self._pages(f"/indexes/{index_id}/indexed-assets", headers) if i.get("asset_id") in assets]

    def analyze_tasks_for(self, job_key: str) -> list[dict[str, Any]]:
        headers = {"x-api-key": self.stack.twelvelabs.api_key}  # type: ignore[union-attr]
        found: list[dict[str, Any]] = []
        for asset in self.assets_for(job_key):
            found += self._pages("/analyze/tasks", headers, asset_id=asset["_id"])
        return found

    def emulator_requests(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.stack.emulator_admin_url}/requests", timeout=10).json())

    def start_execution(
        self, path: Path, *, analyses: list[dict[str, Any]], embedding: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run the state machine on `path` with `analyses` instead of the stack's: the object goes under an ignored
        prefix (ingest skips it), the job item and the execution input are what ingest would write for a stack
        configured with these analyses. Returns the job item."""
        from video_pipeline.models.base import utc_now_iso
        from video_pipeline.models.jobs import JobItem
        from video_pipeline.models.payloads import ExecutionInput

        key = self.unique_key(path.name, prefix="_internal")
        self.upload(path, key)
        head = self.stack.client("s3").head_object(Bucket=self.bucket, Key=key)
        job_key = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        now = utc_now_iso()
        index_id = self.stack.outputs["IndexId"]
        job = JobItem(
            job_key=job_key,
            bucket=self.bucket,
            key=key,
            etag=head["ETag"].strip('"'),
            size=head["ContentLength"],
            s3_uri=f"s3://{self.bucket}/{key}",
            status="RECEIVED",
            stages={"received_at": now},
            tl_index_id=index_id,
            created_at=now,
            updated_at=now,
        )
        self.table.put_item(Item=job.model_dump(exclude_none=True))
        execution_input = ExecutionInput.model_validate(
            {
                "job_key": job_key,
                "run": 1,
                "bucket": self.bucket,
                "key": key,
                "etag": job.etag,
                "size": job.size,
                "index_id": index_id,
                "analyses": analyses,
                "embedding": embedding or {"clip_length": 6, "scopes": ["clip"]},
                "surface": self.surface,
            }
        )
        sfn = self.stack.client("stepfunctions")
        arn = sfn.start_execution(
            stateMachineArn=self.stack.outputs["VideoPipelineArn"],
            name=job_key,
            input=execution_input.model_dump_json(),
        )["executionArn"]
        self.table.update_item(
            Key={"job_key": job_key},
            UpdateExpression="SET execution_arn = :a",
            ExpressionAttributeValues={":a": arn},
        )
        return job.model_dump()

    def set_processing_seconds(self, seconds: float) -> None:
        httpx.post(
            f"{self.stack.emulator_admin_url}/config", json={"processing_seconds": seconds}, timeout=10
        ).raise_for_status()


PROCESSING_SECONDS = 0.5
SURFACE_PARAMETERS = {
    # The index's own clips (6 s): embeddings come from the indexed asset, no embed-v2 task.
    "current": {"EmbeddingClipLength": "6"},
    # Many segments per video: the >400 KB case comes from real data.
    "classic": {"EmbeddingClipLength": "2"},
}


def _pipeline(surface: str, state_dir: Path) -> Iterator[Pipeline]:
    config = StackConfig(
        stack_name=f"pipeline-tests-{surface}",
        parameters={**FAST_PARAMETERS, **SURFACE_PARAMETERS[surface], "TwelveLabsSurface": surface},
        emulator=True,
        processing_seconds=PROCESSING_SECONDS,
        schedule_seconds=2,
        state_dir=state_dir,
        echo_errors=False,
    )
    with LocalStack(config) as stack:
        sqs, sns = stack.client("sqs"), stack.client("sns")
        queue_url = sqs.create_queue(QueueName=f"pipeline-tests-{surface}-subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=stack.outputs["NotificationsTopicArn"],
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        yield Pipeline(stack, queue_url, surface=surface)


@pytest.fixture(scope="session")
def pipeline(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """The stack on the current surface (the template's default), emulator strict."""
    yield from _pipeline("current", tmp_path_factory.mktemp("local_stack_current"))


@pytest.fixture(scope="session")
def classic_pipeline(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """The stack on the classic surface, with the classic emulator."""
    yield from _pipeline("classic", tmp_path_factory.mktemp("local_stack_classic"))


@pytest.fixture(autouse=True)
def _no_faults_left(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    for name in ("pipeline", "classic_pipeline"):
        if name in request.fixturenames:
            request.getfixturevalue(name).clear_faults()
