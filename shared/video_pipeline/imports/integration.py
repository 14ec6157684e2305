"""The `integration` source (classic surface): the cloud-to-cloud import of an integration into the index.

One run = one import (the API runs one per integration; `prepare` holds the integration's lock item for the run and
`finish` releases it). The manifest has a single entry, run by the backfill's Distributed Map like an object:
`start_import` POSTs the import once and records the files that will not be imported (with the API's reason);
the Map's pacing loop (growing, bounded waits) calls `follow_import`, which reads the import status until nothing
is pending: every video that became `ready` enters `video-pipeline` AFTER indexing (`entry` = `indexed`: the same
embeddings and analyses as an upload), every failed one is recorded with its reason; then the logs go to S3.

The embeddings of a classic video are made from its file by URL, so an imported file must be an object of the media
bucket (an integration on `s3://<media bucket>/...`, whose file names are `<bucket>/<key>`); a file elsewhere is
indexed by TwelveLabs but recorded `failed` (`outside_media_bucket`) here.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from video_pipeline.clients import Runtime
from video_pipeline.imports.models import FollowState, ItemOutput, ObjectEntry
from video_pipeline.imports.settings import ImportItemSettings
from video_pipeline.imports.store import ImportsStore
from video_pipeline.ingest import record_execution, start_job_execution
from video_pipeline.job_keys import execution_name, job_key_for
from video_pipeline.models.base import utc_now_iso
from video_pipeline.models.events import S3ObjectRef
from video_pipeline.models.jobs import JobItem
from video_pipeline.models.payloads import ExecutionInput, IndexingOutcome

logger = Logger(child=True)

IMPORT_KEY = "#import"  # the import's own item (its result), next to one item per file
PENDING = ("validating", "pending", "queued", "indexing")
# Following the import: 5, 10, 20 ... 120 s between status reads, at most FOLLOW_MAX_POLLS (~6.5 h); a video still
# pending then is recorded failed (import_wait_exceeded) so the run ends.
FOLLOW_FIRST_SECONDS = 5
FOLLOW_MAX_SECONDS = 120
FOLLOW_MAX_POLLS = 200


def source_bucket(integration_id: str) -> str:
    return f"integration:{integration_id}"


def manifest_entry(integration_id: str, index_id: str | None, incremental: bool, retry_failed: bool) -> ObjectEntry:
    return ObjectEntry(
        bucket=source_bucket(integration_id),
        key=IMPORT_KEY,
        integration_id=integration_id,
        index_id=index_id,
        incremental_import=incremental,
        retry_failed=retry_failed,
    )


def _store(runtime: Runtime[ImportItemSettings]) -> ImportsStore:
    return ImportsStore(runtime.clients.dynamodb.Table(runtime.settings.imports_table))


def start_import(run_id: str, entry: ObjectEntry, runtime: Runtime[ImportItemSettings]) -> ItemOutput:
    """POST the import once per run: its answer is kept on the run's import item, so a retried step never starts a
    second import (an answer lost in between is rebuilt by the client from the status and logs)."""
    integration_id = str(entry.integration_id)
    index_id = entry.index_id or runtime.settings.twelvelabs_index_id
    store, bucket = _store(runtime), source_bucket(integration_id)
    marker = store.begin_item(run_id, bucket, IMPORT_KEY)
    if not marker.get("videos_json"):
        result = runtime.twelvelabs.create_import(
            integration_id,
            index_id,
            incremental_import=bool(entry.incremental_import),
            retry_failed=bool(entry.retry_failed),
            user_metadata={"import_run": run_id},
        )
        videos = [{"video_id": v.video_id, "filename": v.filename} for v in result.videos if v.video_id]
        for failed in result.failed_files:
            name = failed.filename or "?"
            store.begin_item(run_id, bucket, name)
            store.record_item(run_id, bucket, name, "rejected", None, failed.error_message or "not imported")
        for video in videos:
            store.begin_item(run_id, bucket, str(video["filename"] or video["video_id"]))
            store.note_item(
                run_id, bucket, str(video["filename"] or video["video_id"]), {"video_id": video["video_id"]}
            )
        store.note_item(run_id, bucket, IMPORT_KEY, {"videos_json": json.dumps(videos)})
        logger.info(
            "integration import started",
            extra={"run_id": run_id, "videos": len(videos), "not_imported": len(result.failed_files)},
        )
    return follow_import(run_id, entry, FollowState(job_key=f"{integration_id}/{index_id}", polls=0), runtime)


def follow_import(
    run_id: str, entry: ObjectEntry, state: FollowState, runtime: Runtime[ImportItemSettings]
) -> ItemOutput:
    """One status read: ready videos enter video-pipeline after indexing, failed ones are recorded; `follow` while
    any is pending (bounded). When nothing is pending, the import's logs are written to S3."""
    integration_id = str(entry.integration_id)
    index_id = entry.index_id or runtime.settings.twelvelabs_index_id
    store, bucket = _store(runtime), source_bucket(integration_id)
    marker = store.get_item(run_id, bucket, IMPORT_KEY) or {}
    videos: list[dict[str, Any]] = json.loads(str(marker.get("videos_json") or "[]"))
    status = runtime.twelvelabs.get_import_status(integration_id, index_id)
    ready = {v.video_id for v in status.ready if v.video_id}
    pending_ids = {v.video_id for group in PENDING for v in getattr(status, group) if v.video_id}
    failed_by_name = {f.filename: f.error_message for f in status.failed if f.filename}
    polls = state.polls + 1
    pending = 0
    for video in videos:
        name, video_id = str(video["filename"] or video["video_id"]), str(video["video_id"])
        item = store.get_item(run_id, bucket, name) or {}
        if item.get("outcome"):
            continue
        if video_id in ready:
            outcome, job_key, detail = _enter_after_indexing(video_id, name, index_id, runtime)
            store.record_item(run_id, bucket, name, outcome, job_key, detail)
        elif video_id in pending_ids and polls < FOLLOW_MAX_POLLS:
            pending += 1
        elif video_id in pending_ids:
            store.record_item(run_id, bucket, name, "failed", None, f"import_wait_exceeded: {video_id} still pending")
        else:
            reason = failed_by_name.get(video["filename"]) or "indexing_failed"
            store.record_item(run_id, bucket, name, "failed", None, f"indexing_failed: {reason}")
    if not pending:
        _write_logs(run_id, integration_id, runtime)
    return ItemOutput(
        outcome="new",
        job_key=state.job_key,
        detail=f"{pending} videos pending" if pending else "nothing pending",
        follow=pending > 0,
        polls=polls,
        wait_seconds=min(max(state.wait_seconds * 2, FOLLOW_FIRST_SECONDS), FOLLOW_MAX_SECONDS),
    )


def _write_logs(run_id: str, integration_id: str, runtime: Runtime[ImportItemSettings]) -> None:
    logs = runtime.twelvelabs.get_import_logs(integration_id)
    body = json.dumps([log.model_dump(mode="json") for log in logs], ensure_ascii=False).encode()
    runtime.s3.put_object(
        Bucket=runtime.settings.results_bucket,
        Key=f"imports/{run_id}/integration-logs.json",
        Body=body,
        ContentType="application/json",
    )


def _enter_after_indexing(
    video_id: str, filename: str, index_id: str, runtime: Runtime[ImportItemSettings]
) -> tuple[Any, str | None, str]:
    """(outcome, job key, detail) of a ready video: a job for its media-bucket object, started into video-pipeline
    after indexing. The job key is the upload's (bucket, key, etag): content processed before is `skipped`."""
    settings = runtime.settings
    bucket, _, key = filename.partition("/")
    if bucket != settings.media_bucket or not key:
        return "failed", None, f"outside_media_bucket: {filename} is not an object of {settings.media_bucket}"
    try:
        head = runtime.s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        return "failed", None, f"object_unreadable: s3://{bucket}/{key}: {exc.response.get('Error', {}).get('Code')}"
    ref = S3ObjectRef(bucket=bucket, key=key, size=int(head.get("ContentLength", 0)), etag=head.get("ETag"))
    job_key = job_key_for(ref)
    jobs, now = runtime.store.require_jobs(), utc_now_iso()
    claim = jobs.claim(
        JobItem(
            job_key=job_key,
            bucket=bucket,
            key=key,
            etag=ref.etag,
            size=ref.size,
            s3_uri=f"s3://{bucket}/{key}",
            tl_index_id=index_id,
            tl_task_id=video_id,  # the import's video id doubles as its task id
            tl_video_id=video_id,
            status="ANALYZING",
            stages={"received_at": now, "indexed_at": now},
            created_at=now,
            updated_at=now,
        )
    )
    job = claim.job
    if not claim.claimed and (job.tl_video_id != video_id or job.execution_arn):
        return "skipped", job_key, f"already {job.status}"
    name = execution_name(job_key, job.run)
    execution_input = ExecutionInput(
        job_key=job_key,
        run=job.run,
        bucket=bucket,
        key=key,
        etag=ref.etag,
        size=ref.size,
        index_id=index_id,
        analyses=settings.analyses,
        embedding=settings.embedding_options,
        surface="classic",
        entry="indexed",
        indexed=IndexingOutcome(task_id=video_id, video_id=video_id, status="ready"),
    )
    execution_arn = start_job_execution(runtime.sfn, settings.state_machine_arn, name, execution_input)
    record_execution(job, execution_arn, runtime)  # stopped again if the job was retired since its claim
    logger.info("imported video entered video-pipeline", extra={"job_key": job_key, "video_id": video_id})
    return "new", job_key, f"video {video_id} ready"


def is_integration(entry: ObjectEntry) -> bool:
    return entry.integration_id is not None
