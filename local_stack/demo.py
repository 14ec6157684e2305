"""`python -m local_stack demo`: upload videos, follow each job through its stages, print the results."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from boto3.dynamodb.types import TypeDeserializer

from local_stack.config import REPO_ROOT, StackConfig
from local_stack.emulator import use_emulator
from local_stack.stack import LocalStack

TERMINAL = {"COMPLETED", "FAILED", "REJECTED", "DELETED"}
DEFAULT_VIDEOS = REPO_ROOT / "build" / "samples" / "videos"
# Where to look first when a job stops in a given status.
SUSPECTS = {
    None: ["ingest"],
    "RECEIVED": ["ingest", "start_indexing"],
    "INDEXING": ["start_indexing", "await_indexing", "start_analysis", "webhook", "reconcile"],
    "ANALYZING": [
        "start_embeddings",
        "check_embeddings",
        "store_embeddings",
        "start_analysis",
        "run_analysis",
        "webhook",
        "finalize",
    ],
    "FAILED": ["record_failure"],
    "REJECTED": ["ingest"],
}
_deser = TypeDeserializer()
DEMO_PROCESSING_SECONDS = 2.0
# The template's first embeddings poll (10 s) is tuned for the real API; the emulator finishes an embedding task
# in DEMO_PROCESSING_SECONDS, so the demo polls on that rhythm instead of idling (as the tests and bench do).
DEMO_EMULATOR_PARAMETERS = {"EmbedPollFirstSeconds": "2", "EmbedPollMaxSeconds": "4"}


class DemoError(RuntimeError):
    pass


def plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deser.deserialize(v) for k, v in item.items()}


def default_videos() -> list[Path]:
    return sorted(p for p in DEFAULT_VIDEOS.glob("*") if p.suffix.lower() in (".mp4", ".mov"))


class Demo:
    def __init__(self, stack: LocalStack, out: TextIO = sys.stdout) -> None:
        self.stack = stack
        self.out = out
        self.started = time.monotonic()
        self.upload_started: dict[str, float] = {}  # key -> monotonic time its upload began

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {text}", file=self.out, flush=True)

    # -- steps ------------------------------------------------------------------------------
    def subscribe(self) -> str:
        sqs, sns = self.stack.client("sqs"), self.stack.client("sns")
        url = sqs.create_queue(QueueName="demo-notifications")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        topic = self.stack.outputs.get("NotificationsTopicArn")
        if not topic:
            raise DemoError("the stack has no NotificationsTopicArn output")
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        return url

    def upload(self, videos: list[Path]) -> tuple[dict[str, Path], threading.Thread, list[BaseException]]:
        """Upload in the background: moto runs S3 -> EventBridge -> SQS -> ingest inside each put, and
        the progress display should not wait for that."""
        bucket = self.stack.outputs["MediaBucketName"]
        keys = {f"videos/{video.name}": video for video in videos}
        errors: list[BaseException] = []

        def run() -> None:
            try:
                for key, video in keys.items():
                    self.say(f"{video.name}: uploading to s3://{bucket}/{key}")
                    self.upload_started[key] = time.monotonic()
                    self.stack.client("s3").upload_file(str(video), bucket, key)
            except Exception as exc:  # handed to the main thread, which raises it
                errors.append(exc)

        thread = threading.Thread(target=run, name="demo-upload", daemon=True)
        thread.start()
        return keys, thread, errors

    def jobs(self) -> dict[str, dict[str, Any]]:
        """Latest job item per source key (the jobs table is small locally: a scan is fine)."""
        table = self.stack.outputs.get("JobsTableName")
        if not table:
            raise DemoError("the stack has no JobsTableName output")
        items: dict[str, dict[str, Any]] = {}
        for page in self.stack.client("dynamodb").get_paginator("scan").paginate(TableName=table):
            for raw in page["Items"]:
                item = plain(raw)
                key = str(item.get("key", ""))
                if key not in items or str(item.get("updated_at", "")) >= str(items[key].get("updated_at", "")):
                    items[key] = item
        return items

    def follow(
        self,
        keys: dict[str, Path],
        timeout: float,
        every: float = 0.5,
        upload_errors: list[BaseException] | None = None,
    ) -> dict[str, dict[str, Any]]:
        seen: dict[str, str | None] = dict.fromkeys(keys)
        deadline = time.monotonic() + timeout
        while True:
            if upload_errors:
                raise DemoError(f"upload failed: {upload_errors[0]!r}")
            jobs = self.jobs()
            for key, video in keys.items():
                job = jobs.get(key)
                status = job.get("status") if job else None
                if status != seen[key]:
                    seen[key] = status
                    took = ""
                    if status in TERMINAL and key in self.upload_started:
                        took = f" - {time.monotonic() - self.upload_started[key]:.1f} s after its upload"
                    self.say(f"{video.name}: {status}{self._detail(job)}{took}")
            if all(seen[k] in TERMINAL for k in keys):
                return {k: jobs[k] for k in keys}
            if time.monotonic() > deadline:
                stuck = {keys[k].name: seen[k] for k in keys if seen[k] not in TERMINAL}
                logs = sorted({s for k in keys if seen[k] not in TERMINAL for s in SUSPECTS.get(seen[k], [])})
                raise DemoError(
                    f"timed out after {timeout:.0f} s; not finished: {stuck}. "
                    f"Look at {', '.join(str(self.stack.logs_dir / f'{n}.log') for n in logs)}"
                )
            time.sleep(every)

    @staticmethod
    def _detail(job: dict[str, Any] | None) -> str:
        if not job:
            return ""
        parts = []
        for field in ("tl_task_id", "tl_video_id", "error_code", "error_message"):
            if job.get(field):
                parts.append(f"{field}={job[field]}")
        return f" ({', '.join(parts)})" if parts else ""

    def backfill(self, prefix: str, timeout: float, every: float = 0.5) -> dict[str, Any]:
        """Start an import run (source s3) of `prefix`, which already holds the uploaded videos, the way the README's
        command does, and wait (bounded) for its run record to end: each object is skipped by its job key."""
        arn = self.stack.outputs.get("ImportPipelineArn")
        table = self.stack.outputs.get("ImportsTableName")
        if not arn or not table:
            raise DemoError("the stack has no ImportPipelineArn / ImportsTableName output")
        run_id = f"demo-backfill-{int(time.time())}"
        self.say(f"backfill of s3://{self.stack.outputs['MediaBucketName']}/{prefix} (import run {run_id})")
        self.stack.client("stepfunctions").start_execution(
            stateMachineArn=arn,
            name=run_id,
            input=json.dumps({"source": "s3", "prefix": prefix, "requested_by": "command"}),
        )
        deadline = time.monotonic() + timeout
        dynamodb = self.stack.client("dynamodb")
        while True:
            got = dynamodb.get_item(TableName=table, Key={"run_id": {"S": run_id}, "sk": {"S": "run"}})
            run = plain(got["Item"]) if "Item" in got else {}
            if run.get("status") in ("COMPLETED", "FAILED", "REJECTED"):
                counts = {k: int(v) for k, v in (run.get("counts") or {}).items()}
                self.say(f"import {run_id}: {run['status']} counts={counts} report={run.get('report')}")
                return run
            if time.monotonic() > deadline:
                raise DemoError(
                    f"import {run_id} not finished after {timeout:.0f} s (status {run.get('status')}); "
                    f"look at {self.stack.logs_dir / 'import_prepare.log'} and import_item.log"
                )
            time.sleep(every)

    # -- report -----------------------------------------------------------------------------
    def read_s3_json(self, uri: str | None) -> Any:
        if not uri or not str(uri).startswith("s3://"):
            return None
        bucket, _, key = str(uri)[5:].partition("/")
        body = self.stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        try:
            return json.loads(body)
        except ValueError:
            return body.decode("utf-8", errors="replace")

    @staticmethod
    def _text(value: Any, names: tuple[str, ...]) -> Any:
        """Dig the interesting field out of a stored result, whatever its wrapping."""
        if isinstance(value, dict):
            for name in names:
                if name in value:
                    return value[name]
            for inner in ("result", "data", "response"):
                if inner in value:
                    return Demo._text(value[inner], names)
        return value

    def report(self, keys: dict[str, Path], jobs: dict[str, dict[str, Any]], queue_url: str) -> list[str]:
        failures = []
        p = lambda text="": print(text, file=self.out)  # noqa: E731
        p("\n=== results ===")
        for key, video in keys.items():
            job = jobs[key]
            results = job.get("results") or {}
            p(f"\n{video.name}  [{job.get('status')}]  job {job.get('job_key')}")
            if job.get("status") != "COMPLETED":
                failures.append(
                    f"{video.name} ended {job.get('status')}: {job.get('error_code')}: {job.get('error_message')}"
                )
                continue
            p(f"  title     : {job.get('title')}")
            p(f"  topics    : {', '.join(map(str, job.get('topics') or []))}")
            p(f"  hashtags  : {', '.join(map(str, job.get('hashtags') or []))}")
            summary = self._text(self.read_s3_json(results.get("summary")), ("summary", "text"))
            p(f"  summary   : {summary}")
            chapters = self._text(self.read_s3_json(results.get("chapters")), ("chapters",))
            if isinstance(chapters, list):
                p("  chapters  :")
                for ch in chapters:
                    if isinstance(ch, dict):
                        start, end = ch.get("start_sec", ch.get("start")), ch.get("end_sec", ch.get("end"))
                        p(f"    {start}-{end}s {ch.get('chapter_title') or ch.get('title') or ''}")
            else:
                p(f"  chapters  : {chapters}")
            p(f"  embeddings: {results.get('embeddings')}")
            others = {k: v for k, v in results.items() if k not in ("summary", "chapters", "embeddings")}
            for name, uri in sorted(others.items()):
                p(f"  {name:<10}: {uri}")
        p("\n=== SNS messages received by the subscriber queue ===")
        sqs = self.stack.client("sqs")
        for _ in range(20):  # bounded drain
            got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = got.get("Messages", [])
            if not messages:
                break
            for m in messages:
                try:
                    body = json.loads(m["Body"])
                    if str(body.get("event_type", "")).startswith("import."):
                        run, counts = body.get("run_id"), body.get("counts")
                        p(f"  {body.get('event_type')} {body.get('status')} run={run} {counts}")
                        continue
                    key = body.get("source", {}).get("key")
                    p(f"  {body.get('event_type')} {body.get('status')} {key} job={body.get('job_key')}")
                except ValueError:
                    p(f"  {m['Body'][:200]}")
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        return failures


def run_demo(
    videos: list[Path],
    timeout: float = 300.0,
    config: StackConfig | None = None,
    out: TextIO = sys.stdout,
    on_ready: Callable[[LocalStack], None] | None = None,
) -> int:
    """Returns the process exit code (0: every video COMPLETED)."""
    if not videos:
        print(f"no videos to upload (looked in {DEFAULT_VIDEOS}; run `make samples`)", file=sys.stderr)
        return 2
    missing = [v for v in videos if not v.is_file()]
    if missing:
        print(f"not a file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    config = config or StackConfig(processing_seconds=DEMO_PROCESSING_SECONDS, schedule_seconds=10)
    if use_emulator(config.emulator) and not config.parameters:
        config = config.model_copy(update={"parameters": DEMO_EMULATOR_PARAMETERS})
    print("starting the local stack (moto + TwelveLabs emulator + template.yaml) ...", file=out, flush=True)
    with LocalStack(config) as stack:
        demo = Demo(stack, out)
        surface = config.parameters.get("TwelveLabsSurface", "current")
        demo.say(
            f"stack up in {stack.timings['total']:.1f} s (TwelveLabs surface: {surface}); moto {stack.moto_url}; "
            f"logs in {stack.logs_dir}"
        )
        if on_ready:
            on_ready(stack)
        queue_url = demo.subscribe()
        keys, uploader, upload_errors = demo.upload(videos)
        try:
            jobs = demo.follow(keys, timeout, upload_errors=upload_errors)
        except DemoError as exc:
            print(f"\nERROR: {exc}", file=sys.stderr)
            return 1
        finally:
            uploader.join(timeout=60)
        try:
            # The prefix already holds the videos just processed: a backfill of it creates nothing again.
            run = demo.backfill("videos/", timeout=120.0)
        except DemoError as exc:
            print(f"\nERROR: {exc}", file=sys.stderr)
            return 1
        failures = demo.report(keys, jobs, queue_url)
        counts = run.get("counts") or {}
        if run.get("status") != "COMPLETED" or int(counts.get("skipped", 0)) != len(keys) or int(counts.get("new", 0)):
            failures.append(f"the backfill of videos/ ended {run.get('status')} with counts {counts}")
        if failures:
            for f in failures:
                print(f"\nERROR: {f}", file=sys.stderr)
            print(
                f"Look at {stack.logs_dir / 'record_failure.log'} and the other logs in {stack.logs_dir}",
                file=sys.stderr,
            )
            return 1
        demo.say(f"all {len(keys)} videos COMPLETED")
    return 0
