"""Runs never trample each other (real template, ASL and handlers; emulator on the current surface).

The media bucket is versioned: every upload is its own job. A newer version retires the key's older jobs
(SUPERSEDED), a delete retires them (DELETED), at whatever stage they are: the execution stops, TwelveLabs is
purged, one message per job. Each test follows the jobs to what a user sees: the items and their run, the one
terminal message per job, what TwelveLabs created (the emulator's request log) and what is left in the index.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.conftest import Pipeline
from tests.pipeline.race_helpers import (
    FINAL,
    RETIRED_EVENT,
    analyze_task_status,
    assets_named,
    clear_request_log,
    created,
    current_version,
    delete_key,
    deleted_ok,
    function_logs,
    indexed_assets_by_job,
    indexed_assets_named,
    job_by_version,
    put_version,
    sample_bytes,
    slow_processing,
    wait_until,
    wait_version,
)

pytestmark = pytest.mark.pipeline

# Slow enough that the second event (overwrite, delete) lands while the first version is still being indexed (or
# analysed), whatever the load: each of the four indexing steps takes a quarter of it.
SLOW_SECONDS = 20.0
# The indexing pace once the analyze tasks (created at SLOW_SECONDS) run: indexing ends well before them.
INDEX_AFTER_ANALYSES_SECONDS = 4.0
# A retired run whose purge had to wait is finished by the sweeper (60 s after its last update) + its schedule.
RETIRE_TIMEOUT = 180.0
VIDEOS = ("ocean-waves.mp4", "forest-walk.mp4", "city-traffic.mov")


def _name(label: str) -> str:
    # A basename no other test uses: the assets TwelveLabs holds for the key are found by filename.
    return f"race-{label}-{uuid.uuid4().hex[:8]}.mp4"


RETIRING = {"PURGING", "DELETED", "SUPERSEDED"}


def _hold_in_stage(pipeline: Pipeline, key: str, version_id: str, stage: str) -> dict[str, Any]:
    """The job of `version_id` once it is in `stage` with TwelveLabs still at work on it (processing is slow).

    INDEXING: its indexed asset exists and is being indexed. ANALYZING: indexed, its two analyze tasks still running
    (they were created slow; the indexing is then sped up so that it ends first)."""
    if stage == "INDEXING":
        return wait_version(
            pipeline, key, version_id, lambda i: i["status"] == "INDEXING" and bool(i.get("tl_indexed_asset_id")), 120
        )
    wait_version(pipeline, key, version_id, lambda i: len(i.get("tl_analyze_tasks") or {}) == 2, 120, interval=0.2)
    pipeline.set_processing_seconds(INDEX_AFTER_ANALYSES_SECONDS)
    return wait_version(pipeline, key, version_id, lambda i: i["status"] == "ANALYZING", 120)


def _retiring(pipeline: Pipeline, key: str, version_id: str) -> dict[str, Any]:
    """The job of `version_id` as soon as its retirement began (polled closely: the processing pace is restored
    right after, before the newer version's indexing starts)."""
    return wait_version(pipeline, key, version_id, lambda i: i["status"] in RETIRING, RETIRE_TIMEOUT, interval=0.1)


def _messages(pipeline: Pipeline, job: dict[str, Any], event_types: list[str]) -> list[dict[str, Any]]:
    """The job's messages are exactly `event_types`, each naming the job's run, version and etag."""
    messages = pipeline.messages(job["job_key"])
    summary = [(m["event_type"], m.get("error")) for m in messages]
    assert [m["event_type"] for m in messages] == event_types, (summary, job.get("stages"), job.get("error_code"))
    for message in messages:
        assert message["run"] == job["run"] == 1, message
        assert message["source"]["version_id"] == job["version_id"], message
        assert message["source"]["etag"] == job["etag"], message
    assert messages[-1]["status"] == job["status"], messages[-1]
    return messages


def _assert_retired(
    pipeline: Pipeline,
    job: dict[str, Any],
    status: str,
    requests: list[dict[str, Any]],
    held: dict[str, Any],
    *,
    tasks_were_running: bool = True,
) -> None:
    """`job` ended `status` (DELETED/SUPERSEDED) in its own run, announced once, and TwelveLabs holds nothing of it.
    A job retired after it completed keeps its results and its video.completed before the retirement message.
    `tasks_were_running`: its analyze tasks were still at work when it was retired (slow processing), so the purge
    must have canceled them; otherwise they may have ended first."""
    assert job["status"] == status and job["retired_as"] == status and job["run"] == 1, job
    stage = "deleted_at" if status == "DELETED" else "superseded_at"
    assert stage in job["stages"], job["stages"]
    if "completed_at" in job["stages"]:
        _messages(pipeline, job, ["video.completed", RETIRED_EVENT[status]])
    elif "failed_at" in job["stages"]:
        # It failed on its own first (e.g. a step that ran out of retries on a loaded machine: the error is in its
        # video.failed), then a newer version or a delete retired it: both messages belong to its run.
        _messages(pipeline, job, ["video.failed", RETIRED_EVENT[status]])
    else:
        _messages(pipeline, job, [RETIRED_EVENT[status]])
    assert held.get(job["job_key"], []) == [], f"the retired job still has indexed assets: {held[job['job_key']]}"
    index_id = pipeline.stack.outputs["IndexId"]
    if job.get("tl_indexed_asset_id"):
        path = f"/indexes/{index_id}/indexed-assets/{job['tl_indexed_asset_id']}"
        assert deleted_ok(requests, path), f"the retired job's indexed asset was not deleted: {job}"
        assert pipeline.api("GET", path).status_code == 404
    if job.get("tl_asset_id"):
        assert deleted_ok(requests, f"/assets/{job['tl_asset_id']}"), f"the retired job's asset was not deleted: {job}"
        assert pipeline.api("GET", f"/assets/{job['tl_asset_id']}").status_code == 404
    for name, task_id in (job.get("tl_analyze_tasks") or {}).items():
        # The purge asked TwelveLabs to cancel each recorded task that may still run; one may have ended on its own
        # between the retirement and the cancel (then 409, already ended): either way it runs no more.
        if tasks_were_running and "completed_at" not in job["stages"]:
            cancel = f"/v1.3/analyze/tasks/{task_id}/cancel"
            assert any(r["method"] == "POST" and r["path"] == cancel for r in requests), (name, task_id, job)
        assert analyze_task_status(pipeline, task_id) in ("canceled", "gone", "ready", "failed"), (name, task_id)


def _result_objects(pipeline: Pipeline, job_key: str) -> dict[str, str]:
    """The job's objects under results/ and when each was written."""
    bucket = pipeline.stack.outputs["ResultsBucketName"]
    listing = pipeline.stack.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"results/{job_key}/")
    return {f"s3://{bucket}/{o['Key']}": o["LastModified"].isoformat() for o in listing.get("Contents", [])}


def _assert_no_orphan_results(pipeline: Pipeline, jobs: list[dict[str, Any]]) -> None:
    """Results a run stored before its retirement stay recorded on its item; a step still running when the run was
    retired leaves nothing it could not record (no orphan under results/<job_key>/). Checked last: the other
    outcomes of a test are reported first."""
    orphans = {}
    for job in jobs:
        recorded = set((job.get("results") or {}).values())
        written = {uri: at for uri, at in _result_objects(pipeline, job["job_key"]).items() if uri not in recorded}
        if written:
            orphans[job["job_key"]] = {"written_at": written, "stages": job["stages"]}
    assert not orphans, f"results written after the run was retired, recorded nowhere: {orphans}"


def _assert_completed(pipeline: Pipeline, job: dict[str, Any], held: dict[str, Any]) -> None:
    assert job["status"] == "COMPLETED" and job["run"] == 1, job
    assert "retired_as" not in job and "retired_at" not in job["stages"], job
    [message] = _messages(pipeline, job, ["video.completed"])
    # Read again once settled (the publication is recorded after it is sent): this run's one message, no other's.
    settled = pipeline.table.get_item(Key={"job_key": job["job_key"]}, ConsistentRead=True)["Item"]
    assert settled["notified"] == ["video.completed"] and settled["run"] == 1, settled
    assert message["twelvelabs"]["video_id"] == job["tl_indexed_asset_id"]
    assert [i["_id"] for i in held.get(job["job_key"], [])] == [job["tl_indexed_asset_id"]]


@pytest.mark.parametrize("stage", ["INDEXING", "ANALYZING"])
def test_an_overwrite_supersedes_the_version_in_flight(pipeline: Pipeline, samples: Path, stage: str) -> None:
    name = _name("overwrite")
    key = pipeline.unique_key(name)
    clear_request_log(pipeline)
    with slow_processing(pipeline, SLOW_SECONDS):
        v1 = put_version(pipeline, key, sample_bytes(samples, "ocean-waves.mp4"))
        _hold_in_stage(pipeline, key, v1, stage)
        v2 = put_version(pipeline, key, sample_bytes(samples, "forest-walk.mp4"))  # new content, same key
        _retiring(pipeline, key, v1)
    first = wait_version(pipeline, key, v1, lambda i: i["status"] in FINAL, timeout=RETIRE_TIMEOUT)
    second = wait_version(pipeline, key, v2, lambda i: i["status"] in FINAL, timeout=180)
    pipeline.settled(first["job_key"])
    pipeline.settled(second["job_key"])
    requests = pipeline.emulator_requests()
    held = indexed_assets_by_job(pipeline, [first["job_key"], second["job_key"]])

    assert sorted(i["job_key"] for i in pipeline.items_for(key)) == sorted([first["job_key"], second["job_key"]])
    _assert_retired(pipeline, first, "SUPERSEDED", requests, held)
    # Superseded in flight: no analysis of v1 was stored (its tasks were canceled); once indexed, its embeddings
    # may have been stored before the overwrite came (recorded on its item, so not orphans).
    allowed = set() if stage == "INDEXING" else {"embeddings"}
    assert set(first["results"]) <= allowed, first["results"]
    _assert_completed(pipeline, second, held)
    # One asset and one indexed asset per version; analyze tasks (they start with the indexing): v2's two, and
    # v1's that its run had created (recorded on its item, canceled above), none after it was retired.
    first_tasks = first.get("tl_analyze_tasks") or {}
    if stage == "ANALYZING":
        assert len(first_tasks) == 2, first
    assert created(requests) == Counter(asset=2, indexed_asset=2, analyze_task=2 + len(first_tasks)), requests
    # The key's live content is all TwelveLabs holds: one asset under its name.
    assert [a["_id"] for a in assets_named(pipeline, name)] == [second["tl_asset_id"]]
    assert [i["_id"] for i in indexed_assets_named(pipeline, name)] == [second["tl_indexed_asset_id"]]
    _assert_no_orphan_results(pipeline, [first, second])


def test_a_delete_while_indexing_retires_the_job_and_purges_twelvelabs(pipeline: Pipeline, samples: Path) -> None:
    name = _name("delete")
    key = pipeline.unique_key(name)
    clear_request_log(pipeline)
    with slow_processing(pipeline, SLOW_SECONDS):
        v1 = put_version(pipeline, key, sample_bytes(samples, "ocean-waves.mp4"))
        _hold_in_stage(pipeline, key, v1, "INDEXING")
        delete_key(pipeline, key)
        _retiring(pipeline, key, v1)
    job = wait_version(pipeline, key, v1, lambda i: i["status"] in FINAL, timeout=RETIRE_TIMEOUT)
    pipeline.settled(job["job_key"])
    requests = pipeline.emulator_requests()
    held = indexed_assets_by_job(pipeline, [job["job_key"]])

    assert [i["job_key"] for i in pipeline.items_for(key)] == [job["job_key"]]
    _assert_retired(pipeline, job, "DELETED", requests, held)
    # The analyses start with the indexing: those created before the delete are recorded (and were canceled, see
    # above); none was created after it.
    analyses = job.get("tl_analyze_tasks") or {}
    assert created(requests) == Counter(asset=1, indexed_asset=1, analyze_task=len(analyses)), requests
    assert assets_named(pipeline, name) == [] and indexed_assets_named(pipeline, name) == []
    # Deleted while indexing (its analyses still running): no result was written, before or after the delete.
    assert job["results"] == {} and _result_objects(pipeline, job["job_key"]) == {}


def test_delete_then_the_same_bytes_again_gives_two_jobs_that_never_touch(pipeline: Pipeline, samples: Path) -> None:
    name = _name("reupload")
    key = pipeline.unique_key(name)
    data = sample_bytes(samples, "city-traffic.mov")
    clear_request_log(pipeline)
    with slow_processing(pipeline, SLOW_SECONDS):
        v1 = put_version(pipeline, key, data)
        _hold_in_stage(pipeline, key, v1, "INDEXING")
        delete_key(pipeline, key)
        v2 = put_version(pipeline, key, data)
        _retiring(pipeline, key, v1)
    first = wait_version(pipeline, key, v1, lambda i: i["status"] in FINAL, timeout=RETIRE_TIMEOUT)
    second = wait_version(pipeline, key, v2, lambda i: i["status"] in FINAL, timeout=180)
    pipeline.settled(first["job_key"])
    pipeline.settled(second["job_key"])
    requests = pipeline.emulator_requests()
    held = indexed_assets_by_job(pipeline, [first["job_key"], second["job_key"]])

    assert first["job_key"] != second["job_key"], "the same bytes uploaded again are a new version: a new job"
    assert first["etag"] == second["etag"]
    # Whichever event came first (the delete, or the new version's ingest), v1's run is retired, v2's is its own.
    assert first["status"] in ("DELETED", "SUPERSEDED"), first
    _assert_retired(pipeline, first, first["status"], requests, held)
    _assert_completed(pipeline, second, held)
    assert set(second["stages"]) >= {"received_at", "completed_at"}
    assert not {"retired_at", "deleted_at", "superseded_at"} & set(second["stages"]), second["stages"]
    first_tasks = first.get("tl_analyze_tasks") or {}
    assert created(requests) == Counter(asset=2, indexed_asset=2, analyze_task=2 + len(first_tasks)), requests
    assert [a["_id"] for a in assets_named(pipeline, name)] == [second["tl_asset_id"]]
    assert [i["_id"] for i in indexed_assets_named(pipeline, name)] == [second["tl_indexed_asset_id"]]
    _assert_no_orphan_results(pipeline, [first, second])


OPERATIONS = 20
KEYS = 5
TOTAL_SECONDS = 600.0


def test_random_interleavings_of_uploads_overwrites_and_deletes_settle_consistently(
    pipeline: Pipeline, samples: Path
) -> None:
    rng = random.Random(1234)
    names = [_name(f"mix{k}") for k in range(KEYS)]
    keys = [pipeline.unique_key(n) for n in names]
    data = {v: sample_bytes(samples, v) for v in VIDEOS}
    uploaded: dict[str, list[str]] = {k: [] for k in keys}  # key -> version ids, oldest first
    exists = dict.fromkeys(keys, False)
    clear_request_log(pipeline)
    started = time.monotonic()
    plan: list[str] = []
    for _ in range(OPERATIONS):
        key = rng.choice(keys)
        if exists[key] and rng.random() < 0.3:
            delete_key(pipeline, key)
            exists[key] = False
            plan.append(f"delete {key}")
        else:
            video = rng.choice(VIDEOS)
            uploaded[key].append(put_version(pipeline, key, data[video]))
            plan.append(f"{'overwrite' if exists[key] else 'upload'} {key} with {video}")
            exists[key] = True
        time.sleep(rng.uniform(0.0, 1.5))

    deadline = started + TOTAL_SECONDS
    jobs: dict[str, list[dict[str, Any]]] = {}
    for key in keys:

        def all_final(key: str = key) -> list[dict[str, Any]] | None:
            items = pipeline.items_for(key)
            found = [job_by_version(items, v) for v in uploaded[key]]
            if all(i is not None and i["status"] in FINAL for i in found):
                return [i for i in found if i is not None]
            return None

        jobs[key] = wait_until(
            f"every job of {key} terminal",
            all_final,
            max(deadline - time.monotonic(), 1.0),
            lambda key=key: {"plan": plan, "items": pipeline.items_for(key), "logs": function_logs(pipeline)},  # type: ignore[misc]
        )
        for job in jobs[key]:
            pipeline.settled(job["job_key"], timeout=max(deadline - time.monotonic(), 1.0))
    requests = pipeline.emulator_requests()
    every_job = [job for key in keys for job in jobs[key]]
    held = indexed_assets_by_job(pipeline, [j["job_key"] for j in every_job])
    for key, name in zip(keys, names, strict=True):
        assert len(pipeline.items_for(key)) == len(uploaded[key]), "one job per uploaded version, no other"
        live = current_version(pipeline, key)
        assert (live is not None) == exists[key], (key, live, plan)
        for job in jobs[key]:
            context = {"plan": plan, "jobs": jobs[key]}
            if job["version_id"] == live:
                assert job["status"] == "COMPLETED", context
                _assert_completed(pipeline, job, held)
                assert [a["_id"] for a in assets_named(pipeline, name)] == [job["tl_asset_id"]], context
                assert [i["_id"] for i in indexed_assets_named(pipeline, name)] == [job["tl_indexed_asset_id"]]
            else:
                assert job["status"] in ("SUPERSEDED", "DELETED"), context
                _assert_retired(pipeline, job, job["status"], requests, held, tasks_were_running=False)
        if live is None:
            assert assets_named(pipeline, name) == [] and indexed_assets_named(pipeline, name) == [], (key, plan)
    live_jobs = {j["job_key"] for j in every_job if j["status"] == "COMPLETED"}
    assert {k for k, indexed in held.items() if indexed} == live_jobs
    # What was created is what the items record: one asset / indexed asset per job at most, nothing unrecorded.
    assert created(requests) == Counter(
        asset=sum(1 for j in every_job if j.get("tl_asset_id")),
        indexed_asset=sum(1 for j in every_job if j.get("tl_indexed_asset_id")),
        analyze_task=sum(len(j.get("tl_analyze_tasks") or {}) for j in every_job),
    ), f"{len(requests)} requests logged (the log keeps 2000): {requests}"
    _assert_no_orphan_results(pipeline, every_job)
