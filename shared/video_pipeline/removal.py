"""`object_removed`: an S3 object was deleted -> delete its TwelveLabs video and task, item DELETED."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pydantic import ValidationError

from video_pipeline.clients import Runtime
from video_pipeline.errors import InvalidEventError
from video_pipeline.models.events import S3ObjectRef, parse_s3_message_body
from video_pipeline.models.jobs import JobItem
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
    from video_pipeline.ingest import literal_keys

    results: list[RemovalResult] = []
    for obj, literal in zip(event.objects, literal_keys(body, len(event.objects)), strict=True):
        results.extend(remove_object(obj, runtime, literal_key=literal))
    return results


def remove_object(
    obj: S3ObjectRef, runtime: Runtime[ObjectRemovedSettings], *, literal_key: str | None = None
) -> list[RemovalResult]:
    """The jobs of the removed object, under either form of its key (ingest keeps the literal key when that is the
    one that exists: `a+b.mp4` may be the object's real name), retired as DELETED."""
    jobs = runtime.store.require_jobs()
    forms = [key for key in dict.fromkeys((literal_key, obj.key)) if key]
    found = [job for key in forms for job in jobs.find_by_source(f"s3://{obj.bucket}/{key}")]
    if obj.version_id:
        # A permanently deleted version only takes its own jobs (a delete marker names no job's version).
        same_version = [job for job in found if job.version_id == obj.version_id]
        found = same_version or found
    if not found:
        logger.info("no job for the removed object", extra={"s3_uri": obj.s3_uri})
        return []
    # Created and Deleted events travel through different queues: the key may hold new content by now, and its
    # job (claimed by an ingest that ran first) must not be purged by this older delete.
    live_etags = {key: current_etag(obj.model_copy(update={"key": key}), runtime) for key in {j.key for j in found}}
    kept: list[JobItem] = []
    for job in found:
        if job.status in ("REJECTED", "SUPERSEDED"):
            continue  # nothing in TwelveLabs (rejected), or already retired by a newer version
        live_etag = live_etags.get(job.key)
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
    return [_remove_job(job, obj, runtime) for job in kept]


def sequencer_after(candidate: str | None, reference: str | None) -> bool:
    """True when S3 sequencer `candidate` is later than `reference`. Sequencers are hex strings whose length may
    differ: compared after left-padding with zeros to equal length. False when either is missing."""
    if not candidate or not reference:
        return False
    width = max(len(candidate), len(reference))
    return candidate.upper().rjust(width, "0") > reference.upper().rjust(width, "0")


def current_etag(obj: S3ObjectRef, runtime: Runtime[Any]) -> str | None:
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


def _remove_job(job: JobItem, obj: S3ObjectRef, runtime: Runtime[ObjectRemovedSettings]) -> RemovalResult:
    """Retire the job's run as DELETED: its execution stops at whatever stage, TwelveLabs is purged (or the purge
    waits for the indexing to end, then the webhook or the sweeper finishes it), one `video.deleted` at the end."""
    from video_pipeline.retirement import retire

    job = retire(job, "DELETED", f"{obj.s3_uri} was deleted", runtime)
    logger.info("job deleted", extra={"job_key": job.job_key, "status": job.status})
    return RemovalResult(job_key=job.job_key, status=job.status, twelvelabs_deleted=bool(job.tl_purged))
