"""Every write to a job item belongs to one run: the fenced store API, and nothing in shared/video_pipeline writing
a job item any other way."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest
from video_pipeline.models.base import utc_now_iso
from video_pipeline.models.jobs import JobItem
from video_pipeline.store import JobsStore

from tests.functions.conftest import REPO, Stack

PIPELINE = REPO / "shared" / "video_pipeline"
# The data-access modules: the only ones that may call the DynamoDB write operations.
STORE_MODULES = {PIPELINE / "store.py", PIPELINE / "imports" / "store.py"}
RAW_WRITES = {"put_item", "update_item", "delete_item", "batch_writer", "batch_write_item", "transact_write_items"}


def _calls(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        (node.func.attr, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    ]


def test_no_module_but_the_stores_writes_dynamodb() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{line} {name}"
        for path in sorted(PIPELINE.rglob("*.py"))
        if path not in STORE_MODULES
        for name, line in _calls(path)
        if name in RAW_WRITES
    ]
    assert offenders == [], "job items are written through JobsStore (fenced on the run) only"


def test_every_job_write_of_the_store_names_its_run() -> None:
    # Every JobsStore method that changes an existing item takes the run it is fenced on (keyword, no default);
    # claim (create if absent) and its re-run (conditioned on the status and the sequencer) start a run.
    starts_a_run = {"claim", "_rerun"}
    writers = [
        name
        for name, member in inspect.getmembers(JobsStore, inspect.isfunction)
        if "update_item" in inspect.getsource(member) or "put_item" in inspect.getsource(member)
    ]
    assert set(writers) >= {"update", "mark_notified", "take_lease", "release_lease"}
    for name in set(writers) - starts_a_run:
        parameter = inspect.signature(getattr(JobsStore, name)).parameters.get("run")
        assert parameter is not None and parameter.default is inspect.Parameter.empty, name


def test_every_update_call_in_the_pipeline_passes_a_run() -> None:
    missing = []
    for path in sorted(PIPELINE.rglob("*.py")):
        if path in STORE_MODULES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in ("update", "mark_notified", "take_lease", "release_lease"):
                continue
            receiver = ast.unparse(node.func.value)
            if "jobs" not in receiver:
                continue  # dict.update and the like
            positional_run = node.func.attr != "update" and len(node.args) >= 2
            if not positional_run and not any(k.arg == "run" for k in node.keywords):
                missing.append(f"{path.relative_to(REPO)}:{node.lineno} {ast.unparse(node)[:80]}")
    assert missing == []


# ---------------------------------------------------------------- behaviour on a real table


@pytest.fixture
def jobs(stack: Stack) -> JobsStore:
    import boto3

    table = boto3.resource("dynamodb", region_name="us-east-1", endpoint_url=stack.endpoint).Table(stack.jobs_table)
    return JobsStore(table)


def _job(jobs: JobsStore, run: int = 2, status: str = "INDEXING") -> JobItem:
    now = utc_now_iso()
    job = JobItem(
        job_key="f" * 40,
        bucket="b",
        key="k.mp4",
        s3_uri="s3://b/k.mp4",
        run=run,
        status=status,  # type: ignore[arg-type]
        created_at=now,
        updated_at=now,
    )
    assert jobs.claim(job).claimed
    return job


def test_a_write_of_another_run_is_a_counted_no_op(jobs: JobsStore, caplog: Any) -> None:
    from aws_lambda_powertools import Metrics

    job = _job(jobs, run=2)
    Metrics().clear_metrics()
    assert jobs.update(job.job_key, run=1, status="COMPLETED", results={"gist": "s3://x"}) is None
    after = jobs.require(job.job_key)
    assert after.status == "INDEXING" and after.results == {} and after.run == 2
    assert Metrics().metric_set["SupersededWrites"]["Value"] == [1.0]
    assert jobs.update(job.job_key, run=2, status="ANALYZING") is not None
    assert not jobs.mark_notified(job.job_key, 1, "video.completed")
    assert jobs.require(job.job_key).notified == []
    assert jobs.mark_notified(job.job_key, 2, "video.completed")
    Metrics().clear_metrics()


def test_a_step_of_a_retired_run_writes_nothing(jobs: JobsStore) -> None:
    from aws_lambda_powertools import Metrics

    job = _job(jobs, run=1, status="PURGING")
    Metrics().clear_metrics()
    from video_pipeline.store import ACTIVE_STATUSES

    assert jobs.update(job.job_key, run=1, results={"gist": "s3://x"}, only_if_status_in=ACTIVE_STATUSES) is None
    assert jobs.require(job.job_key).results == {}
    assert Metrics().metric_set["SupersededWrites"]["Value"] == [1.0]
    Metrics().clear_metrics()


def test_the_media_lease_lets_one_delivery_call_at_a_time(jobs: JobsStore) -> None:
    job = _job(jobs, run=1, status="RECEIVED")
    now = [1_000_000.0]
    first = jobs.take_lease(job.job_key, 1, 180, clock=lambda: now[0])
    assert first is not None and first.lease_until == 1_000_180
    assert jobs.take_lease(job.job_key, 1, 180, clock=lambda: now[0] + 10) is None  # held
    assert jobs.take_lease(job.job_key, 2, 180, clock=lambda: now[0] + 500) is None  # another run: never
    assert jobs.take_lease(job.job_key, 1, 180, clock=lambda: now[0] + 181) is not None  # expired: taken over
    jobs.release_lease(job.job_key, 1)
    assert jobs.take_lease(job.job_key, 1, 180, clock=lambda: now[0] + 182) is not None
