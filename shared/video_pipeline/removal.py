"""`object_removed`: an S3 object was deleted -> delete its TwelveLabs video and task, item DELETED."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pydantic import ValidationError

from video_pipeline.clients import Runtime
from video_pipeline.errors import InvalidEventError
from video_pipeline.models.events import S3ObjectRef, parse_s3_message_body
from video_pipeline.models.jobs import JobItem
from video_pipeline.notifier import announce_once
from video_pipeline.settings import ObjectRemovedSettings

logger = Logger(child=True)

# HeadObject has no body: a missing key is a bare 404 ("404" / "NoSuchKey"); a delete marker is a 404 too.
_GONE_CODES = {"404", "NoSuchKey", "NotFound"}


@dataclass(frozen=True)
class RemovalResult:
    job_key: str
    status: str
    twelvelabs_deleted: bool


def process_removal_body(body: str, runtime: Runtime[ObjectRemovedSettings]) -> list[RemovalResult]:
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


def remove_object(obj: S3ObjectRef, runtime: Runtime[ObjectRemovedSettings]) -> list[RemovalResult]:
    jobs = runtime.store.require_jobs()
    found = jobs.find_by_source(obj.s3_uri)
    if obj.version_id:
        # A permanently deleted version only takes its own jobs (a delete marker names no job's version).
        same_version = [job for job in found if job.version_id == obj.version_id]
        found = same_version or found
    if not found:
        logger.info("no job for the removed object", extra={"s3_uri": obj.s3_uri})
        return []
    # Created and Deleted events travel through different queues: the key may hold new content by now, and its
    # job (claimed by an ingest that ran first) must not be purged by this older delete.
    live_etag = _current_etag(obj, runtime)
    kept: list[JobItem] = []
    for job in found:
        if job.status == "REJECTED":
            continue
        if live_etag is not None and job.etag == live_etag:
            logger.info(
                "kept: the object exists again with this job's content",
                extra={"job_key": job.job_key, "s3_uri": obj.s3_uri, "etag": live_etag},
            )
            continue
        if sequencer_after(job.sequencer, obj.sequencer):
            logger.info(
                "kept: the job was claimed by an upload newer than this delete",
                extra={"job_key": job.job_key, "job_sequencer": job.sequencer, "delete_sequencer": obj.sequencer},
            )
            continue
        kept.append(job)
    return [_remove_job(job, runtime) for job in kept]


def sequencer_after(candidate: str | None, reference: str | None) -> bool:
    """True when S3 sequencer `candidate` is later than `reference`. Sequencers are hex strings whose length may
    differ: compared after left-padding with zeros to equal length. False when either is missing."""
    if not candidate or not reference:
        return False
    width = max(len(candidate), len(reference))
    return candidate.upper().rjust(width, "0") > reference.upper().rjust(width, "0")


def _current_etag(obj: S3ObjectRef, runtime: Runtime[ObjectRemovedSettings]) -> str | None:
    """The etag of the key's current object; None when there is none (404, also for a current delete marker: the
    delete stands). The current object, not the deleted version: content that is still (or again) live under the
    key keeps its job, whichever version carries it."""
    try:
        head = runtime.s3.head_object(Bucket=obj.bucket, Key=obj.key)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404 or error.get("Code") in _GONE_CODES:
            return None
        if status == 403 or error.get("Code") in ("403", "AccessDenied", "Forbidden"):
            # Without s3:ListBucket S3 answers a missing key with 403, not 404 (s3:GetObject alone lets us see an
            # existing object): treated as gone, i.e. the delete stands as before this check.
            logger.warning(
                "HeadObject refused (403): treated as gone; grant s3:ListBucket for an explicit 404",
                extra={"s3_uri": obj.s3_uri},
            )
            return None
        raise  # throttling / 5xx: the record is retried rather than purging a possibly live object
    if head.get("DeleteMarker"):
        return None
    etag = head.get("ETag")
    return str(etag).strip('"') if etag else None


def _remove_job(job: JobItem, runtime: Runtime[ObjectRemovedSettings]) -> RemovalResult:
    jobs = runtime.store.require_jobs()
    # DELETED first: a pipeline still running for this job can no longer complete it.
    updated = jobs.update(job.job_key, status="DELETED", stage="deleted_at", unless_status_in=("DELETED",))
    job = updated or jobs.require(job.job_key)
    if not job.tl_purged:
        if job.tl_asset_id or job.tl_indexed_asset_id:
            _purge_current(job, runtime)
        else:
            _purge_classic(job, runtime)
        job = jobs.update(job.job_key, set_fields={"tl_purged": True}) or job
    announce_once(runtime.notifier, jobs, "video.deleted", job)
    logger.info("job deleted", extra={"job_key": job.job_key})
    return RemovalResult(job_key=job.job_key, status=job.status, twelvelabs_deleted=bool(job.tl_purged))


def _delete_if_present(delete: Callable[[], object], what: str, resource_id: str) -> None:
    """Run a TwelveLabs delete; a resource already gone is fine, any other error propagates (the record is
    retried, then DLQ)."""
    from twelvelabs_client.errors import NotFoundError

    try:
        delete()
    except NotFoundError:
        logger.info(f"TwelveLabs {what} already gone", extra={"resource_id": resource_id})


def _purge_classic(job: JobItem, runtime: Runtime[ObjectRemovedSettings]) -> None:
    """classic surface: the video, then the task (ConflictError while it still runs propagates: retried later)."""
    client = runtime.twelvelabs
    index_id = job.tl_index_id or runtime.settings.twelvelabs_index_id
    if job.tl_video_id and index_id:
        video_id = job.tl_video_id
        _delete_if_present(lambda: client.delete_video(index_id, video_id), "video", video_id)
    if job.tl_task_id:
        task_id = job.tl_task_id
        _delete_if_present(lambda: client.delete_task(task_id), "task", task_id)


def _purge_current(job: JobItem, runtime: Runtime[ObjectRemovedSettings]) -> None:
    """current surface: the indexed asset first (an asset in use answers 409), then the asset."""
    client = runtime.twelvelabs
    index_id = job.tl_index_id or runtime.settings.twelvelabs_index_id
    if job.tl_indexed_asset_id and index_id:
        indexed_asset_id = job.tl_indexed_asset_id
        _delete_if_present(
            lambda: client.delete_indexed_asset(index_id, indexed_asset_id), "indexed asset", indexed_asset_id
        )
    if job.tl_asset_id:
        asset_id = job.tl_asset_id
        _delete_if_present(lambda: client.delete_asset(asset_id), "asset", asset_id)
