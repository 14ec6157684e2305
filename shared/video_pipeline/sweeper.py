"""`sweeper` (scheduled): jobs left in a non-terminal state beyond their bound are settled and announced.

- PURGING jobs (a retired run whose TwelveLabs resources could not all go yet, e.g. a classic task still indexing,
  or a resource a step created after its run was retired): the execution is stopped (again: idempotent) and the
  purge tried again; once nothing is left the job becomes DELETED / SUPERSEDED with its one message. A purge that
  still has to wait is touched, so the next run reaches the PURGING jobs behind it.
- Active jobs (RECEIVED / INDEXING / ANALYZING) untouched for `sweep_stale_after_seconds`, and jobs that ended
  (COMPLETED / FAILED) in the last `sweep_recent_seconds`, whose object version is no longer the key's current one
  (a newer upload's ingest could not see them: the by-source index is eventually consistent) are retired:
  SUPERSEDED when another version is current, DELETED when the key holds nothing. Walked with a saved cursor per
  status, so every job is checked within a bounded number of runs, however many there are.

Jobs whose token or execution-status event was lost are `reconcile`'s (it resumes the token, or fails the job whose
execution ended). Each run reads at most `sweep_max_jobs` per walk, oldest first.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import Field

from video_pipeline.clients import Runtime
from video_pipeline.models.base import iso_at
from video_pipeline.models.jobs import JobItem, JobStatus, RetiredStatus
from video_pipeline.retirement import finish_purge, retire, stop_execution
from video_pipeline.settings import CallbacksTableSetting, IndexIdSetting, JobsTableSetting, NotificationsSetting
from video_pipeline.store import ACTIVE_STATUSES

logger = Logger(child=True)

EPOCH_ISO = "1970-01-01T00:00:00.000000Z"


class SweeperSettings(JobsTableSetting, CallbacksTableSetting, NotificationsSetting, IndexIdSetting):
    """The jobs table (walked by status), the callbacks table (where each walk's cursor is kept), the topic."""

    # An active job untouched this long has its object version checked (a running step updates it sooner).
    sweep_stale_after_seconds: int = Field(default=300, ge=10)
    # A job that ended this recently has its object version checked too (a fast run the eventual index hid).
    sweep_recent_seconds: int = Field(default=1800, ge=60)
    # A PURGING job untouched this long is purged again (object_removed or the webhook are usually quicker).
    sweep_purge_after_seconds: int = Field(default=30, ge=1)
    sweep_max_jobs: int = Field(default=50, ge=1, le=1000)


@dataclass
class SweepReport:
    purged: int = 0
    still_purging: int = 0
    superseded: int = 0
    deleted: int = 0
    checked: int = 0
    errors: int = 0


def sweep(runtime: Runtime[SweeperSettings], *, now: float | None = None) -> SweepReport:
    settings = runtime.settings
    moment = time.time() if now is None else now
    report = SweepReport()
    _sweep_purging(runtime, iso_at(moment - settings.sweep_purge_after_seconds), report)
    stale_before = iso_at(moment - settings.sweep_stale_after_seconds)
    walks: list[tuple[JobStatus, str, str]] = [(status, EPOCH_ISO, stale_before) for status in ACTIVE_STATUSES]
    recent_after = iso_at(moment - settings.sweep_recent_seconds)
    walks += [(status, recent_after, iso_at(moment)) for status in ("COMPLETED", "FAILED")]
    for status, after, before in walks:
        _sweep_versions(runtime, status, after, before, report)
    logger.info("sweep done", extra=asdict(report))
    return report


def _sweep_purging(runtime: Runtime[SweeperSettings], before: str, report: SweepReport) -> None:
    jobs = runtime.store.require_jobs()
    for job in jobs.not_updated_since("PURGING", before, runtime.settings.sweep_max_jobs):
        report.checked += 1
        try:
            stop_execution(job, job.retire_reason or "run retired", runtime)  # a retire cut short may not have
            settled = finish_purge(job, runtime)
            if settled.status == "PURGING":
                # Still waiting: touched (fenced, still PURGING) so the next run starts with the jobs behind it.
                jobs.update(job.job_key, run=job.run, only_if_status_in=("PURGING",))
                report.still_purging += 1
            else:
                report.purged += 1
        except Exception:
            # One resource TwelveLabs will not answer for must not stop the sweep for the others (next run retries).
            logger.exception("sweeper could not purge", extra={"job_key": job.job_key})
            report.errors += 1


def _sweep_versions(
    runtime: Runtime[SweeperSettings], status: JobStatus, after: str, before: str, report: SweepReport
) -> None:
    jobs, callbacks = runtime.store.require_jobs(), runtime.store.require_callbacks()
    name = f"sweeper#{status}"
    cursor = callbacks.load_cursor(name)
    if cursor is not None and not after <= str(cursor.get("updated_at", "")) < before:
        cursor = None  # the window moved past it: start from the window's oldest
    page, next_cursor = jobs.status_page(status, after, before, runtime.settings.sweep_max_jobs, cursor)
    for job in page:
        report.checked += 1
        try:
            outcome = _retire_if_not_current(job, runtime)
        except Exception:
            logger.exception("sweeper could not check the job's object", extra={"job_key": job.job_key})
            report.errors += 1
            continue
        if outcome == "SUPERSEDED":
            report.superseded += 1
        elif outcome == "DELETED":
            report.deleted += 1
    callbacks.save_cursor(next_cursor, name)  # after the page's work: a killed run redoes its page


def _current_object(job: JobItem, runtime: Runtime[Any]) -> tuple[str | None, str | None] | None:
    """(version id, etag) of the key's current object; None when the key holds nothing (404, or a delete marker).
    Any other answer (a 403 is a permission fault: s3:ListBucket is granted) raises: nothing is retired on it."""
    from video_pipeline.ingest import head_current, version_of

    head = head_current(job.bucket, job.key, runtime)
    if head is None:
        return None
    etag = head.get("ETag")
    return version_of(head), str(etag).strip('"') if etag else None


def _retire_if_not_current(job: JobItem, runtime: Runtime[Any]) -> RetiredStatus | None:
    """Retire a job whose object version is no longer the key's current object; None when it still is."""
    if not job.bucket:
        return None  # a connections-import job: no S3 object to compare with
    current = _current_object(job, runtime)
    versioned = bool(job.version_id and job.version_id != "null")
    if current is not None and (current[0] == job.version_id if versioned else current[1] == job.etag):
        return None
    as_status: RetiredStatus = "SUPERSEDED" if current is not None else "DELETED"
    what = f"version {job.version_id}" if versioned else f"etag {job.etag}"
    reason = f"{job.s3_uri}: {what} is no longer the key's current object ({'replaced' if current else 'deleted'})"
    retire(job, as_status, reason, runtime)
    logger.warning("a job's object version is gone: retired", extra={"job_key": job.job_key, "as": as_status})
    return as_status
