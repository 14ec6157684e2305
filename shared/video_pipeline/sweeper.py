"""`sweeper` (scheduled): jobs left in a non-terminal state beyond their bound are settled and announced.

- PURGING jobs (a retired run whose TwelveLabs resources could not all go yet, e.g. a classic task still indexing,
  or a resource a step created after its run was retired): the purge is tried again; once nothing is left the job
  becomes DELETED / SUPERSEDED with its one message.
- Active jobs (RECEIVED / INDEXING / ANALYZING) whose object version is no longer the key's current one (a newer
  upload's ingest could not see them: the by-source index is eventually consistent) are retired: SUPERSEDED when
  another version is current, DELETED when the key holds nothing.

Jobs whose token or execution-status event was lost are `reconcile`'s (it resumes the token, or fails the job whose
execution ended). Each run reads at most `sweep_max_jobs` per state, oldest first.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import Field

from video_pipeline.clients import Runtime
from video_pipeline.models.events import S3ObjectRef
from video_pipeline.models.jobs import JobItem, RetiredStatus
from video_pipeline.retirement import finish_purge, retire
from video_pipeline.settings import IndexIdSetting, JobsTableSetting, NotificationsSetting
from video_pipeline.store import ACTIVE_STATUSES

logger = Logger(child=True)


class SweeperSettings(JobsTableSetting, NotificationsSetting, IndexIdSetting):
    # An active job untouched this long has its object version checked (a running step updates it sooner).
    sweep_stale_after_seconds: int = Field(default=300, ge=10)
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


def _iso(moment: float) -> str:
    # The items' own format (utc_now_iso), so the string comparison on the index is chronological.
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sweep(runtime: Runtime[SweeperSettings], *, now: float | None = None) -> SweepReport:
    settings = runtime.settings
    jobs = runtime.store.require_jobs()
    moment = time.time() if now is None else now
    report = SweepReport()
    for job in jobs.not_updated_since(
        "PURGING", _iso(moment - settings.sweep_purge_after_seconds), settings.sweep_max_jobs
    ):
        report.checked += 1
        try:
            settled = finish_purge(job, runtime)
        except Exception:
            # One resource TwelveLabs will not answer for must not stop the sweep for the others (next run retries).
            logger.exception("sweeper could not purge", extra={"job_key": job.job_key})
            report.errors += 1
            continue
        if settled.status == "PURGING":
            report.still_purging += 1
        else:
            report.purged += 1
    before = _iso(moment - settings.sweep_stale_after_seconds)
    for status in ACTIVE_STATUSES:
        for job in jobs.not_updated_since(status, before, settings.sweep_max_jobs):
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
    logger.info("sweep done", extra=asdict(report))
    return report


def _retire_if_not_current(job: JobItem, runtime: Runtime[Any]) -> RetiredStatus | None:
    """Retire an active job whose object version is no longer the key's current object; None when it still is."""
    from video_pipeline.ingest import current_version_of
    from video_pipeline.removal import current_etag

    if not job.bucket:
        return None  # a connections-import job: no S3 object to compare with
    obj = S3ObjectRef(bucket=job.bucket, key=job.key)
    as_status: RetiredStatus
    if job.version_id and job.version_id != "null":
        current = current_version_of(obj, runtime)
        if current == job.version_id:
            return None
        as_status = "SUPERSEDED" if current else "DELETED"
        reason = f"{job.s3_uri}: version {job.version_id} is no longer current ({current or 'deleted'})"
    else:
        etag = current_etag(obj, runtime)
        if etag == job.etag:
            return None
        as_status = "SUPERSEDED" if etag else "DELETED"
        reason = f"{job.s3_uri}: the object {'changed' if etag else 'was deleted'} (etag {job.etag} is gone)"
    retire(job, as_status, reason, runtime)
    logger.warning("a job's object version is gone: retired", extra={"job_key": job.job_key, "as": as_status})
    return as_status
