"""The `connection` source (current surface): named provider files -> TwelveLabs assets -> `video-pipeline`.

The run's manifest holds chunks of at most 100 file ids (one `POST /connections/{id}/imports` each); the backfill's
Distributed Map runs them like objects: `import_chunk` posts a chunk and records its rejected files, then the Map's
pacing loop (growing, bounded waits) calls `follow_chunk` until every asset of the chunk is `ready` (a job whose
source is the asset is claimed and its `video-pipeline` started: it goes straight to the indexed asset) or `failed`.
Connections imports send no webhooks: following the assets is the only way to learn their end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from aws_lambda_powertools import Logger

from video_pipeline.clients import Runtime
from video_pipeline.imports.models import FollowState, ItemOutput, ObjectEntry
from video_pipeline.imports.settings import ImportItemSettings
from video_pipeline.imports.store import ImportsStore
from video_pipeline.ingest import record_execution, start_job_execution
from video_pipeline.job_keys import execution_name
from video_pipeline.models.base import utc_now_iso
from video_pipeline.models.jobs import JobItem
from video_pipeline.models.payloads import ExecutionInput

logger = Logger(child=True)

CHUNK_ITEMS = 100  # the API's maximum per POST /connections/{id}/imports
# Following a chunk's assets: 2, 4, 8 ... 60 s between polls, at most FOLLOW_MAX_POLLS (~3 h); an asset still not
# terminal then is recorded failed (asset_wait_exceeded) so the run ends.
FOLLOW_FIRST_SECONDS = 2
FOLLOW_MAX_SECONDS = 60
FOLLOW_MAX_POLLS = 200


def source_bucket(connection_id: str) -> str:
    """The `bucket` of a connection's entries and outcome items (no S3 bucket is named like this: ':' is invalid)."""
    return f"connection:{connection_id}"


def chunks(connection_id: str, source_ids: list[str]) -> Iterator[ObjectEntry]:
    """The manifest entries of a connection run: chunks of at most CHUNK_ITEMS file ids, in the request's order."""
    for start in range(0, len(source_ids), CHUNK_ITEMS):
        part = source_ids[start : start + CHUNK_ITEMS]
        yield ObjectEntry(
            bucket=source_bucket(connection_id),
            key=f"chunk-{start // CHUNK_ITEMS:05d}",
            connection_id=connection_id,
            source_ids=part,
        )


def asset_job_key(asset_id: str) -> str:
    """One job per TwelveLabs asset (the API dedupes a provider file to one asset per account)."""
    return hashlib.sha256(f"twelvelabs-asset\n{asset_id}".encode()).hexdigest()[:40]


def _store(runtime: Runtime[ImportItemSettings]) -> ImportsStore:
    return ImportsStore(runtime.clients.dynamodb.Table(runtime.settings.imports_table))


def import_chunk(run_id: str, entry: ObjectEntry, runtime: Runtime[ImportItemSettings]) -> ItemOutput:
    """POST the chunk once (Idempotency-Key = run + chunk: a retried attempt gets the same answer), record each
    rejected file with its error code, note each accepted file's asset; then follow the chunk."""
    connection_id, ids = str(entry.connection_id), list(entry.source_ids or [])
    store, bucket = _store(runtime), source_bucket(connection_id)
    result = runtime.twelvelabs.create_connection_import(connection_id, ids, idempotency_key=f"{run_id}/{entry.key}")
    by_id = {item.source_id: item for item in result.items if item.source_id}
    for source_id in ids:
        store.begin_item(run_id, bucket, source_id)
        item = by_id.get(source_id)
        if item is None:
            store.record_item(run_id, bucket, source_id, "failed", None, "missing_item: not in the import's answer")
        elif item.action == "rejected" or not item.asset_id:
            code = (item.error.code if item.error else None) or "rejected"
            message = (item.error.message if item.error else None) or ""
            store.record_item(run_id, bucket, source_id, "rejected", None, f"{code}: {message}".rstrip(": "))
        else:
            store.note_item(run_id, bucket, source_id, {"asset_id": item.asset_id, "import_id": result.id})
    logger.info(
        "connection import posted",
        extra={"run_id": run_id, "chunk": entry.key, "import_id": result.id, "items": len(ids)},
    )
    return follow_chunk(run_id, entry, FollowState(job_key=result.id, polls=0, wait_seconds=0), runtime)


def follow_chunk(
    run_id: str, entry: ObjectEntry, state: FollowState, runtime: Runtime[ImportItemSettings]
) -> ItemOutput:
    """One look at every asset of the chunk without an outcome: ready -> a job and its video-pipeline (`new`),
    failed -> `failed` with the asset's reason; `follow` while any is still processing (bounded)."""
    connection_id = str(entry.connection_id)
    store, bucket = _store(runtime), source_bucket(connection_id)
    polls = state.polls + 1
    pending = 0
    for source_id in entry.source_ids or []:
        item = store.get_item(run_id, bucket, source_id) or {}
        if item.get("outcome") or not item.get("asset_id"):
            continue
        asset_id = str(item["asset_id"])
        asset = runtime.twelvelabs.get_asset(asset_id)
        if asset.status == "ready":
            job_key, created_at = start_asset_job(asset_id, connection_id, source_id, asset.filename, runtime)
            # A job created since this file's first attempt is this run's (a retried attempt may find its own claim).
            if created_at >= str(item.get("started_at", "")):
                store.record_item(run_id, bucket, source_id, "new", job_key, f"asset {asset_id} ready")
            else:
                store.record_item(run_id, bucket, source_id, "skipped", job_key, f"asset {asset_id} imported before")
        elif asset.status == "failed":
            # The asset documents a message only: our own code says what happened.
            message = (asset.error.message if asset.error else None) or f"asset {asset_id} failed without a reason"
            store.record_item(run_id, bucket, source_id, "failed", None, f"asset_failed: {message}")
        elif polls >= FOLLOW_MAX_POLLS:
            reason = f"asset_wait_exceeded: asset {asset_id} still {asset.status} after {polls} polls"
            store.record_item(run_id, bucket, source_id, "failed", None, reason)
        else:
            pending += 1
    return ItemOutput(
        outcome="new",
        job_key=state.job_key,
        detail=f"{pending} assets processing" if pending else "every asset ended",
        follow=pending > 0,
        polls=polls,
        wait_seconds=min(max(state.wait_seconds * 2, FOLLOW_FIRST_SECONDS), FOLLOW_MAX_SECONDS),
    )


def start_asset_job(
    asset_id: str, connection_id: str, source_id: str, filename: str | None, runtime: Runtime[ImportItemSettings]
) -> tuple[str, str]:
    """Claim the job of a ready asset (`tl_asset_id` set at claim: no bucket, no upload) and start its
    `video-pipeline` execution once; StartIndexing (current) goes straight to the indexed asset.
    (job key, when the job was created)."""
    settings, jobs = runtime.settings, runtime.store.require_jobs()
    job_key = asset_job_key(asset_id)
    now = utc_now_iso()
    claim = jobs.claim(
        JobItem(
            job_key=job_key,
            bucket="",  # not an S3 object: its source is the asset (s3_uri says where it came from)
            key=filename or source_id,
            s3_uri=f"connection://{connection_id}/{source_id}",
            tl_asset_id=asset_id,
            tl_index_id=settings.twelvelabs_index_id,
            status="RECEIVED",
            stages={"received_at": now},
            created_at=now,
            updated_at=now,
        )
    )
    job = claim.job
    if not claim.claimed and (job.status != "RECEIVED" or job.execution_arn):
        return job_key, job.created_at  # imported before (this run retried, or another run): one job per asset
    name = execution_name(job_key, job.run)
    execution_input = ExecutionInput(
        job_key=job_key,
        run=job.run,
        index_id=job.tl_index_id or settings.twelvelabs_index_id,
        analyses=settings.analyses,
        embedding=settings.embedding_options,
        surface="current",
    )
    execution_arn = start_job_execution(runtime.sfn, settings.state_machine_arn, name, execution_input)
    record_execution(job, execution_arn, runtime)  # stopped again if the job was retired since its claim
    logger.info("asset job started", extra={"job_key": job_key, "asset_id": asset_id, "source_id": source_id})
    return job_key, job.created_at


def is_chunk(entry: ObjectEntry) -> bool:
    return entry.connection_id is not None
