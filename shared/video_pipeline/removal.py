"""`object_removed`: an S3 object was deleted -> delete its TwelveLabs video and task, item DELETED."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from video_pipeline.clients import Runtime
from video_pipeline.errors import InvalidEventError
from video_pipeline.models import JobItem, S3ObjectRef, parse_s3_message_body
from video_pipeline.notifier import announce_once

logger = Logger(child=True)


@dataclass(frozen=True)
class RemovalResult:
    job_key: str
    status: str
    twelvelabs_deleted: bool


def process_removal_body(body: str, runtime: Runtime) -> list[RemovalResult]:
    try:
        event = parse_s3_message_body(body)
    except (ValueError, ValidationError) as exc:
        raise InvalidEventError(f"not an S3 Object Deleted event: {exc}") from exc
    if event.action == "test":
        return []
    if event.action != "removed":
        raise InvalidEventError(f"object_removed got an object {event.action} event")
    results: list[RemovalResult] = []
    for obj in event.objects:
        results.extend(remove_object(obj, runtime))
    return results


def remove_object(obj: S3ObjectRef, runtime: Runtime) -> list[RemovalResult]:
    jobs = runtime.store.require_jobs()
    found = jobs.find_by_source(obj.s3_uri)
    if obj.version_id:
        # A permanently deleted version only takes its own jobs (a delete marker names no job's version).
        same_version = [job for job in found if job.version_id == obj.version_id]
        found = same_version or found
    if not found:
        logger.info("no job for the removed object", extra={"s3_uri": obj.s3_uri})
    return [_remove_job(job, runtime) for job in found if job.status != "REJECTED"]


def _remove_job(job: JobItem, runtime: Runtime) -> RemovalResult:
    from twelvelabs_client.errors import NotFoundError

    jobs = runtime.store.require_jobs()
    # DELETED first: a pipeline still running for this job can no longer complete it.
    updated = jobs.update(job.job_key, status="DELETED", stage="deleted_at", unless_status_in=("DELETED",))
    job = updated or jobs.require(job.job_key)
    if not job.tl_purged:
        client = runtime.twelvelabs
        index_id = job.tl_index_id or runtime.settings.twelvelabs_index_id
        if job.tl_video_id and index_id:
            try:
                client.delete_video(index_id, job.tl_video_id)
            except NotFoundError:
                logger.info("TwelveLabs video already gone", extra={"video_id": job.tl_video_id})
        if job.tl_task_id:
            try:
                # ConflictError (task still running) propagates: the message is retried later, then DLQ.
                client.delete_task(job.tl_task_id)
            except NotFoundError:
                logger.info("TwelveLabs task already gone", extra={"task_id": job.tl_task_id})
        job = jobs.update(job.job_key, set_fields={"tl_purged": True}) or job
    announce_once(runtime.notifier, jobs, "video.deleted", job)
    logger.info("job deleted", extra={"job_key": job.job_key})
    return RemovalResult(job_key=job.job_key, status=job.status, twelvelabs_deleted=bool(job.tl_purged))
