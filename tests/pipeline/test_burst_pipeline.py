"""A burst under pressure (issue 12): 20 uploads at once while TwelveLabs answers 429s and its webhooks arrive late.

The stack here is its own, with ReconcileAfterSeconds far beyond the test: the reconciler runs on its schedule but
can rescue nothing, so a job whose task token was lost (a webhook that found no token, a token overwritten or
deleted by a racing resolver) never completes and the bounded wait fails with the job's state and its tokens.

- 429s: while the burst runs, at most one TwelveLabs request in five is answered 429 (about one in eight measured: an
  injected fault re-armed after every `RATE_LIMIT_EVERY` answered requests; see RateLimitStorm), whichever function
  makes it.
- Slow webhooks: the emulator has no setting that delays its deliveries, so its webhook URL (admin `/config`) points
  at a relay in this process that holds every delivery for a while, then forwards it unchanged (body and
  TL-Signature) to the webhook Function URL and hands the receiver's answer back, so the emulator's retries apply.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from local_stack import LocalStack, StackConfig
from local_stack.moto_server import FAKE_CREDENTIALS
from tests.pipeline.conftest import FAST_PARAMETERS, PROCESSING_SECONDS, SURFACE_PARAMETERS, TERMINAL, Pipeline

pytestmark = pytest.mark.pipeline

UPLOADS = 20
BURST_TIMEOUT = 600.0  # the whole burst, on a loaded 2-core machine
# A day: far beyond the test, so reconcile (which still runs every 2 s) never resolves a token here.
RECONCILE_AFTER_SECONDS = 86_400
RATE_LIMIT_EVERY = 4  # one 429 after every 4 answered requests: at most 1 request in 5 is refused
WEBHOOK_DELAY_SECONDS = (1.0, 3.0)  # each delivery is held for a time in this range (seeded), so they also reorder
SAMPLES = ("videos/ocean-waves.mp4", "videos/forest-walk.mp4", "videos/city-traffic.mov")


@dataclass
class Relayed:
    type: str
    data_id: str
    held_seconds: float
    status: int | None
    answer: str


class _RelayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, relay: SlowWebhooks) -> None:
        super().__init__(("127.0.0.1", 0), _RelayHandler)
        self.relay = relay


class _RelayHandler(BaseHTTPRequestHandler):
    server: _RelayServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, answer = self.server.relay.forward(body, self.headers.get("TL-Signature"))
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except (BrokenPipeError, ConnectionResetError):
            # The emulator gave up on this attempt (its webhook timeout) and retries it: what a sender does.
            self.server.relay.abandoned += 1

    def log_message(self, format: str, *args: Any) -> None:
        return  # the relay's own record is `SlowWebhooks.relayed`


class SlowWebhooks:
    """Holds each webhook delivery, then forwards it to `target` and answers with the receiver's answer."""

    def __init__(self, target: str, delays: tuple[float, float], seed: int = 12) -> None:
        self._target = target
        self._delays = delays
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.relayed: list[Relayed] = []
        self.abandoned = 0  # deliveries whose sender had hung up when the receiver's answer came back
        self._server = _RelayServer(self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="slow-webhooks", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> SlowWebhooks:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=30)

    def forward(self, body: bytes, signature: str | None) -> tuple[int, bytes]:
        with self._lock:
            held = self._random.uniform(*self._delays)
        time.sleep(held)  # the late delivery itself (fault injection, not a wait in the test)
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["TL-Signature"] = signature
        status: int | None = None
        try:
            answer = httpx.post(self._target, content=body, headers=headers, timeout=60)
            status, text = answer.status_code, answer.text
        except httpx.HTTPError as exc:  # the receiver did not answer: the emulator sees a 502 and retries
            text = f"{type(exc).__name__}: {exc}"
        event = json.loads(body)
        with self._lock:
            self.relayed.append(Relayed(str(event.get("type")), str(event["data"]["id"]), held, status, text))
        return (status or 502), text.encode()


class RateLimitStorm:
    """Makes the emulator answer 429 to at most one API request in `every` + 1 while it runs, spread over the burst.

    Each time the emulator's request log shows `every` answered requests since the last arming, one injected 429 is
    armed (`rate_limit_next`: the next API request gets it, whichever function makes it). Never more than one is
    pending and none is owed from busier moments, so a caller left alone is never refused twice in a row, as a
    real per-minute limit would not do either once its window turned over."""

    def __init__(self, admin_url: str, every: int, poll_seconds: float = 0.2) -> None:
        self._admin = admin_url
        self._every = every
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._armed = 0
        self._answered = 0  # answered (non-429) requests since the last arming
        self.requests: list[dict[str, Any]] = []  # the request log, moved here (the emulator keeps the last 2000)
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="rate-limit-storm", daemon=True)

    def _pending(self) -> int:
        return int(httpx.get(f"{self._admin}/faults", timeout=10).json()["rate_limit_next"])

    def _arm(self, count: int) -> None:
        httpx.post(f"{self._admin}/faults", json={"rate_limit_next": count}, timeout=10).raise_for_status()

    def _drain_log(self) -> list[dict[str, Any]]:
        # A request logged between the read and the clear is not seen: the count of answers is a lower bound.
        entries = list(httpx.get(f"{self._admin}/requests", timeout=10).json())
        httpx.delete(f"{self._admin}/requests", timeout=10).raise_for_status()
        self.requests += entries
        return entries

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            try:
                self._answered += sum(1 for r in self._drain_log() if r["status"] != 429)
                if self._answered >= self._every and self._pending() == 0:
                    self._arm(1)
                    self._armed += 1
                    self._answered = 0
            except httpx.HTTPError as exc:  # reported by the test: a storm that stopped early proves less
                self.errors.append(f"{type(exc).__name__}: {exc}")
                return

    def start(self) -> RateLimitStorm:
        httpx.delete(f"{self._admin}/requests", timeout=10).raise_for_status()
        self._arm(1)  # the burst's first request is refused too
        self._armed += 1
        self._thread.start()
        return self

    def stop(self) -> int:
        """Stop arming, drop what is still pending; the number of injected 429s that were served."""
        self._stop.set()
        self._thread.join(timeout=30)
        left = self._pending()
        self._arm(0)
        self._drain_log()
        return self._armed - left


@pytest.fixture(scope="module")
def burst_pipeline(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """The current surface (the template's default) as conftest builds it, but reconcile can rescue nothing."""
    parameters = {
        **FAST_PARAMETERS,
        **SURFACE_PARAMETERS["current"],
        "TwelveLabsSurface": "current",
        "ReconcileAfterSeconds": str(RECONCILE_AFTER_SECONDS),
    }
    config = StackConfig(
        stack_name="pipeline-tests-burst",
        parameters=parameters,
        emulator=True,
        processing_seconds=PROCESSING_SECONDS,
        schedule_seconds=2,
        state_dir=tmp_path_factory.mktemp("local_stack_burst"),
        echo_errors=False,
    )
    with LocalStack(config) as stack:
        sqs, sns = stack.client("sqs"), stack.client("sns")
        queue_url = sqs.create_queue(QueueName="pipeline-tests-burst-subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=stack.outputs["NotificationsTopicArn"],
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        yield Pipeline(stack, queue_url, surface="current")


def _jobs(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    """Every job item by its S3 key (consistent reads, all pages)."""
    found: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = pipeline.table.scan(**kwargs)
        for item in page["Items"]:
            found[str(item["key"])] = item
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _tokens(pipeline: Pipeline) -> list[dict[str, Any]]:
    """Every task token parked in the callbacks table."""
    table = pipeline.table.meta.client  # the resource's client: items come back as Python values
    name = pipeline.stack.outputs["CallbacksTableName"]
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
    while True:
        page = table.scan(**kwargs)
        found += [item for item in page["Items"] if str(item["pk"]).startswith("TOKEN#")]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _where_it_waits(pipeline: Pipeline, item: dict[str, Any]) -> dict[str, Any]:
    """What a stuck job is doing: its execution's status and last events."""
    arn = item.get("execution_arn")
    if not arn:
        return {"execution": None}
    sfn = pipeline.stack.client("stepfunctions")
    status = sfn.describe_execution(executionArn=arn)["status"]
    events = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=6)["events"]
    return {"execution": status, "last_events": [(e["type"], e.get("stateEnteredEventDetails", {})) for e in events]}


def _wait_until_terminal(
    pipeline: Pipeline, keys: list[str], relay: SlowWebhooks, timeout: float
) -> dict[str, dict[str, Any]]:
    """The job items of `keys` once every one is terminal (bounded wait); on timeout, why each other one is not."""
    deadline = time.monotonic() + timeout
    jobs: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        jobs = _jobs(pipeline)
        if all(key in jobs and jobs[key]["status"] in TERMINAL for key in keys):
            return {key: jobs[key] for key in keys}
        time.sleep(1.0)
    tokens = _tokens(pipeline)
    stuck = {}
    for key in keys:
        item = jobs.get(key)
        if item is not None and item["status"] in TERMINAL:
            continue
        ids = {str(item.get(n)) for n in ("tl_asset_id", "tl_indexed_asset_id", "tl_task_id")} if item else set()
        stuck[key] = {
            "status": item and item["status"],
            "item": item,
            **(_where_it_waits(pipeline, item) if item else {}),
            "tokens": [t for t in tokens if item and t.get("job_key") == item["job_key"]],
            "webhooks_relayed": [r for r in relay.relayed if r.data_id in ids],
        }
    logs = {n: pipeline.stack.function_log(n)[-3000:] for n in ("webhook", "reconcile", "await_indexing")}
    raise AssertionError(f"{len(stuck)} of {len(keys)} jobs not terminal after {timeout}s: {stuck}; logs={logs}")


def _wait_until(what: str, predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.5)


def test_a_burst_under_429s_and_slow_webhooks_completes_without_reconcile(
    burst_pipeline: Pipeline, samples: Path
) -> None:
    pipeline = burst_pipeline
    admin = pipeline.stack.emulator_admin_url
    assert admin is not None
    relay = SlowWebhooks(pipeline.stack.webhook_url, WEBHOOK_DELAY_SECONDS).start()
    try:
        httpx.post(f"{admin}/config", json={"webhook_url": relay.url}, timeout=10).raise_for_status()
        keys = [pipeline.unique_key(f"burst-{i:02d}{Path(SAMPLES[i % 3]).suffix}") for i in range(UPLOADS)]
        s3 = boto3.client(
            "s3",
            endpoint_url=pipeline.stack.moto_url,
            region_name=pipeline.stack.config.region,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            # One connection per upload thread; put_object returns once moto has run the S3 -> ingest chain inline.
            config=Config(max_pool_connections=UPLOADS, read_timeout=900, retries={"max_attempts": 2}),
        )
        storm = RateLimitStorm(admin, RATE_LIMIT_EVERY).start()
        try:
            start = threading.Barrier(UPLOADS)

            def upload(i: int) -> None:
                start.wait(timeout=60)
                s3.upload_file(str(samples / SAMPLES[i % 3]), pipeline.bucket, keys[i])

            with ThreadPoolExecutor(max_workers=UPLOADS) as pool:
                list(pool.map(upload, range(UPLOADS)))
            jobs = _wait_until_terminal(pipeline, keys, relay, BURST_TIMEOUT)
        finally:
            served = storm.stop()  # nothing pending is left for the reads below
        requests = storm.requests
        # A job may complete before its (late) indexing webhook arrives: wait for those, so the relay's record is
        # complete for the checks below.
        indexed = {str(item["tl_indexed_asset_id"]) for item in jobs.values() if item.get("tl_indexed_asset_id")}
        _wait_until(
            "every indexing webhook relayed",
            lambda: indexed <= {r.data_id for r in relay.relayed if r.status is not None},
            timeout=120,
        )
    finally:
        relay.stop()

    # The pressure was real: 429s were served to the pipeline, and its webhooks went through the slow relay.
    assert not storm.errors, storm.errors
    rate_limited = [r for r in requests if r["status"] == 429]
    assert served >= UPLOADS and rate_limited, (served, len(rate_limited))
    deliveries = pipeline.webhooks()
    assert deliveries and {d["url"] for d in deliveries} == {relay.url}, deliveries[:3]
    # Executions did park their tokens and wait for those late webhooks (not only find their work already done).
    resumed = [r for r in relay.relayed if r.status == 200 and _message(r.answer) == "resumed"]
    assert resumed, relay.relayed

    # All 20 completed, none through reconcile (it cannot within a day), each once in TwelveLabs and announced once.
    not_completed = {k: (i["status"], i.get("error_code"), i.get("error_message")) for k, i in jobs.items()}
    not_completed = {k: v for k, v in not_completed.items() if v[0] != "COMPLETED"}
    assert not not_completed, not_completed
    assert len({item["job_key"] for item in jobs.values()}) == UPLOADS
    for item in jobs.values():
        job_key = item["job_key"]
        assert [a["_id"] for a in pipeline.assets_for(job_key)] == [item["tl_asset_id"]], item
        assert [i["_id"] for i in pipeline.indexed_assets_for(job_key)] == [item["tl_indexed_asset_id"]], item
        assert [m["event_type"] for m in pipeline.messages(job_key)] == ["video.completed"], job_key
    left = [t for t in _tokens(pipeline) if t.get("job_key") in {i["job_key"] for i in jobs.values()}]
    assert not left, left
    assert "token resolved" not in pipeline.stack.function_log("reconcile")
    assert "reconcile done" in pipeline.stack.function_log("reconcile")  # it ran on its schedule, rescuing nothing
    answers = Counter((r.status, _message(r.answer)) for r in relay.relayed)
    print(f"burst: {served} injected 429s served; {len(rate_limited)} 429s in {len(requests)} logged requests; ")
    paths = Counter(f"{r['method']} {re.sub('[0-9a-f]{24}', '{id}', str(r['path']))}" for r in rate_limited)
    print(f"429s by operation: {dict(paths)}")
    print(f"webhook deliveries relayed: {len(relay.relayed)} ({relay.abandoned} after the emulator had hung up)")
    print(f"receiver answers: {dict(answers)}")


def _message(answer: str) -> str:
    try:
        return str(json.loads(answer).get("message"))
    except ValueError:
        return answer[:80]
