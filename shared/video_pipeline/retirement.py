"""Retiring a run: its object was deleted, or overwritten by a newer version. The run's execution is stopped, what
TwelveLabs holds for it is purged at whatever stage it is, and the job ends DELETED or SUPERSEDED with one message.

A purge that cannot finish yet (a classic indexing task cannot be deleted before it ends, and its video appears only
when it is ready) leaves the job PURGING: the `index.task.*` webhook of that task, a stale token answer, or the
sweeper finish it. Nothing is retried in a loop and nothing is left in the index.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from video_pipeline.clients import Runtime
from video_pipeline.models.base import iso_at
from video_pipeline.models.jobs import JobItem, RetiredStatus
from video_pipeline.models.notifications import EventType
from video_pipeline.notifier import announce_once
from video_pipeline.settings import JobsTableSetting
from video_pipeline.store import RETIRED_STATUSES

logger = Logger(child=True)

RETIRED_EVENTS: dict[RetiredStatus, EventType] = {"DELETED": "video.deleted", "SUPERSEDED": "video.superseded"}
# Purge-then-settle rounds when the item changes under the purge (a late resource recorded); then the sweeper's.
PURGE_ATTEMPTS = 3
# A retired run whose final transition is older than this and still not announced lost its finisher: announce it.
ANNOUNCE_GRACE_SECONDS = 60


# Classic task statuses after which the task can be deleted (and its video, if any, exists).
_ENDED_TASK_STATUSES = {"ready", "failed"}


def retire(job: JobItem, as_status: RetiredStatus, reason: str, runtime: Runtime[Any]) -> JobItem:
    """Retire `job`'s run (idempotent: a repeat finishes what an earlier call started). REJECTED jobs hold nothing
    in TwelveLabs and stay as they are; another run of the item is never touched."""
    jobs = runtime.store.require_jobs()
    marked = jobs.update(
        job.job_key,
        run=job.run,
        status="PURGING",
        stage="retired_at",
        set_fields={"retired_as": as_status, "retire_reason": reason[:500]},
        unless_status_in=(*RETIRED_STATUSES, "REJECTED"),
    )
    if marked is None:
        current = jobs.require(job.job_key)
        if current.run != job.run or current.status == "REJECTED":
            return current
        marked = current  # retired already (a redelivered event): finish it
    if marked.status in ("DELETED", "SUPERSEDED"):
        # Its finisher announces it. Only a finisher gone for ANNOUNCE_GRACE_SECONDS (killed between its final
        # write and its publish) is stood in for here: a concurrent retirer (the sweeper and object_removed seeing
        # the same delete) must not publish a second message before the finisher records its own.
        if marked.updated_at < iso_at(time.time() - ANNOUNCE_GRACE_SECONDS):
            _announce(marked, runtime)
        return marked
    stop_execution(marked, reason, runtime)
    logger.info("run retired", extra={"job_key": marked.job_key, "run": marked.run, "as": marked.retired_as})
    return finish_purge(marked, runtime)


def stop_execution(job: JobItem, reason: str, runtime: Runtime[Any]) -> None:
    """Stop the run's execution so it bills nothing more (a finished one, or one already stopped, is fine)."""
    if not job.execution_arn:
        return
    try:
        runtime.sfn.stop_execution(executionArn=job.execution_arn, error="RunRetired", cause=reason[:32768])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("ExecutionDoesNotExist", "ExecutionNotRunning"):
            raise


def finish_purge(job: JobItem, runtime: Runtime[Any]) -> JobItem:
    """Purge a PURGING job; when TwelveLabs holds nothing more of it, it becomes `retired_as` and is announced once.
    Returns the job as it now is (still PURGING when the purge has to wait)."""
    jobs = runtime.store.require_jobs()
    run = job.run
    for _ in range(PURGE_ATTEMPTS):
        if job.status != "PURGING" or job.retired_as is None:
            break
        if not purge_twelvelabs(job, runtime):
            logger.info("purge waits for TwelveLabs", extra={"job_key": job.job_key, "run": job.run})
            return job
        # Only if the item is as it was read: a step that recorded a late resource meanwhile (record_late_resource)
        # changed it, and that resource must be purged first.
        final = jobs.update(
            job.job_key,
            run=job.run,
            status=job.retired_as,
            stage="deleted_at" if job.retired_as == "DELETED" else "superseded_at",
            set_fields={"tl_purged": True},
            only_if_status_in=("PURGING",),
            if_updated_at=job.updated_at,
        )
        if final is not None:
            # This call made the final transition, so it (and only it) announces: a concurrent finisher that lost
            # the race must not publish while the winner's `notified` is not recorded yet.
            _announce(final, runtime)
            return final
        job = jobs.require(job.job_key)
        if job.run != run:
            return job
    return job


def finish_purge_of(job_key: str, runtime: Runtime[Any]) -> JobItem | None:
    """`finish_purge` for a job known by key (a webhook or a stale token named it); None when there is no item."""
    if runtime.store.jobs is None:
        return None
    job = runtime.store.jobs.get(job_key)
    if job is None or job.status != "PURGING" or not getattr(runtime.settings, "notifications_topic_arn", None):
        return job  # a function that cannot announce leaves the purge to the webhook, reconcile or the sweeper
    return finish_purge(job, runtime)


def finish_purges_waiting_for(task_id: str, runtime: Runtime[Any]) -> list[JobItem]:
    """The indexing task (or indexed asset) `task_id` ended and no execution waits for it: a retired run whose purge
    waited for it (its execution was stopped before it parked a token) is finished now, not by the sweeper."""
    if runtime.store.jobs is None or not getattr(runtime.settings, "notifications_topic_arn", None):
        return []
    return [finish_purge(job, runtime) for job in runtime.store.jobs.find_by_task(task_id) if job.status == "PURGING"]


def record_late_resource(
    job_key: str,
    run: int,
    fields: dict[str, Any],
    runtime: Runtime[Any],
    *,
    set_in: dict[str, dict[str, Any]] | None = None,
) -> None:
    """A step created a TwelveLabs resource after its run was retired (its record write was refused): record it on
    the retired item (PURGING again) and purge it now, so nothing the run created is left behind."""
    jobs = runtime.store.require_jobs()
    reopened = jobs.update(
        job_key,
        run=run,
        status="PURGING",
        set_fields=fields,
        set_in=set_in,
        only_if_status_in=RETIRED_STATUSES,
        remove_fields=("tl_purged",),
    )
    if reopened is None:
        return  # another run by now, or the run is active again (not retired): nothing to purge for it
    logger.warning("a resource created after the run was retired: purged", extra={"job_key": job_key, **fields})
    # Purged here; the job's final DELETED/SUPERSEDED (announced once: it may have been already) is the sweeper's.
    purge_twelvelabs(reopened, runtime)


def _announce(job: JobItem, runtime: Runtime[Any]) -> None:
    status = job.status
    if status == "DELETED" or status == "SUPERSEDED":
        announce_once(runtime.notifier, runtime.store.require_jobs(), RETIRED_EVENTS[status], job)


# ---------------------------------------------------------------- what TwelveLabs holds


def purge_twelvelabs(job: JobItem, runtime: Runtime[Any]) -> bool:
    """Delete (or cancel) everything TwelveLabs holds for the run. True when nothing is left; False when a resource
    cannot go yet (it is still being made). Already-gone resources are fine; other errors propagate."""
    if job.tl_asset_id or job.tl_indexed_asset_id or job.tl_analyze_tasks:
        return _purge_current(job, runtime)
    return _purge_classic(job, runtime)


def _index_id(job: JobItem, runtime: Runtime[Any]) -> str | None:
    settings: JobsTableSetting = runtime.settings
    return job.tl_index_id or getattr(settings, "twelvelabs_index_id", None)


def _gone_or_done(call: Callable[[], object], what: str, resource_id: str) -> bool:
    """Run a delete/cancel. True: done or already gone. False: TwelveLabs refuses it for now (400/409: the resource
    is still being made). Rate limits and 5xx propagate (the caller's retry, or the sweeper, comes back)."""
    from twelvelabs_client.errors import ConflictError, InvalidParameterError, NotFoundError

    try:
        call()
    except NotFoundError:
        logger.info(f"TwelveLabs {what} already gone", extra={"resource_id": resource_id})
    except (ConflictError, InvalidParameterError) as exc:
        if exc.retryable:
            raise
        logger.info(f"TwelveLabs {what} cannot go yet", extra={"resource_id": resource_id, "code": exc.code})
        return False
    return True


def _purge_current(job: JobItem, runtime: Runtime[Any]) -> bool:
    """Analyze tasks are canceled (what they bill stops), then the indexed asset (its indexing stops, its video
    goes) and the asset."""
    client = runtime.twelvelabs
    done = True
    for task_id in job.tl_analyze_tasks.values():
        done = _cancel_analyze_task(client, task_id) and done
    index_id = _index_id(job, runtime)
    if job.tl_indexed_asset_id and index_id:
        indexed_id = job.tl_indexed_asset_id
        if not _gone_or_done(lambda: client.delete_indexed_asset(index_id, indexed_id), "indexed asset", indexed_id):
            return False
    if job.tl_asset_id and job.bucket:  # a connections-import asset (no bucket) belongs to the import's source
        asset_id = job.tl_asset_id
        done = _gone_or_done(lambda: client.delete_asset(asset_id), "asset", asset_id) and done
    return done


def _cancel_analyze_task(client: Any, task_id: str) -> bool:
    from twelvelabs_client.errors import ConflictError, NotFoundError

    try:
        client.cancel_analyze_task(task_id)
    except NotFoundError:
        return True
    except ConflictError as exc:
        if exc.retryable:
            raise
        return True  # 409 task_not_cancelable: it already ended (ready/failed/canceled)
    return True


def _purge_classic(job: JobItem, runtime: Runtime[Any]) -> bool:
    """The video (once the task is ready it exists), then the task. A task still indexing cannot be deleted: the
    purge waits for it to end (its webhook, or the sweeper)."""
    from twelvelabs_client.errors import NotFoundError

    client = runtime.twelvelabs
    index_id = _index_id(job, runtime)
    video_id = job.tl_video_id
    if job.tl_task_id:
        try:
            task = client.get_task(job.tl_task_id)
        except NotFoundError:
            task = None
        if task is not None:
            if task.status not in _ENDED_TASK_STATUSES:
                return False
            video_id = video_id or task.video_id
    if video_id and index_id:
        vid = video_id
        if not _gone_or_done(lambda: client.delete_video(index_id, vid), "video", vid):
            return False
    if job.tl_task_id:
        task_id = job.tl_task_id
        return _gone_or_done(lambda: client.delete_task(task_id), "task", task_id)
    return True
