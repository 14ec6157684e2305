"""`start_embeddings`, `check_embeddings`, `store_embeddings`: the video embedding task, polled by the ASL."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from video_pipeline.clients import Runtime
from video_pipeline.errors import EmbeddingTaskFailedError, IndexingTaskFailedError
from video_pipeline.indexing import ensure_active_run, record_created, require_active_run
from video_pipeline.job_keys import execution_name
from video_pipeline.media_urls import presigned_get_url
from video_pipeline.models.jobs import JobItem
from video_pipeline.models.payloads import (
    CheckEmbeddingsInput,
    EmbeddingOptions,
    EmbeddingPoll,
    ResultPointer,
    StartEmbeddingsInput,
    StoreEmbeddingsInput,
)
from video_pipeline.results import record_results
from video_pipeline.settings import (
    CheckEmbeddingsSettings,
    EmbedPollSettings,
    StartEmbeddingsSettings,
    StoreEmbeddingsSettings,
)

logger = Logger(child=True)


def _first_poll(runtime: Runtime[EmbedPollSettings], task_id: str) -> EmbeddingPoll:
    settings = runtime.settings
    return EmbeddingPoll(
        task_id=task_id,
        status="processing",
        wait_seconds=settings.embed_poll_first_seconds,
        polls=0,
        max_polls=settings.embed_poll_max_attempts,
    )


def start_embeddings(request: StartEmbeddingsInput, runtime: Runtime[StartEmbeddingsSettings]) -> EmbeddingPoll:
    jobs = runtime.store.require_jobs()
    job = require_active_run(jobs, request.job_key, request.run)
    if job.tl_embedding_task_id:
        return _first_poll(runtime, job.tl_embedding_task_id)  # a retried state: never POST twice
    url = presigned_get_url(
        runtime.s3, request.bucket, request.key, request.version_id, runtime.settings.presign_video_seconds
    )
    created = runtime.twelvelabs.create_embedding_task(
        video_url=url,
        video_clip_length=request.embedding.clip_length,
        video_embedding_scope=list(request.embedding.scopes),
        idempotency_key=execution_name(request.job_key, request.run),
    )
    record_created(jobs, request.job_key, request.run, {"tl_embedding_task_id": created.id}, runtime)
    logger.info("embedding task created", extra={"job_key": request.job_key, "embedding_task_id": created.id})
    return _first_poll(runtime, created.id)


def next_wait(previous: int, first: int, cap: int) -> int:
    """Waits double from `first` up to `cap` (10, 20, 40, 80, 120, 120, ...)."""
    return min(cap, max(first, previous * 2))


def check_embeddings(request: CheckEmbeddingsInput, runtime: Runtime[CheckEmbeddingsSettings]) -> EmbeddingPoll:
    """Status + the next wait + the poll count. A failed task raises EmbeddingTaskFailedError (-> Catch)."""
    settings = runtime.settings
    status = runtime.twelvelabs.get_embedding_task_status(request.task_id)
    if status.status == "failed":
        extra = status.model_extra or {}
        raw_error = extra.get("error")
        error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
        code = str(error.get("code") or "embedding_task_failed")
        message = str(error.get("message") or f"TwelveLabs embedding task {request.task_id} failed")
        raise EmbeddingTaskFailedError(message, code=code)
    return EmbeddingPoll(
        task_id=request.task_id,
        status=status.status or "processing",
        wait_seconds=next_wait(
            request.wait_seconds, settings.embed_poll_first_seconds, settings.embed_poll_max_seconds
        ),
        polls=request.polls + 1,
        max_polls=settings.embed_poll_max_attempts,
    )


def store_embeddings(request: StoreEmbeddingsInput, runtime: Runtime[StoreEmbeddingsSettings]) -> ResultPointer:
    if request.indexed is not None:
        return store_indexed_embeddings(request, runtime)
    assert request.task_id is not None  # StoreEmbeddingsInput guarantees one of the two
    jobs = runtime.store.require_jobs()
    stored = _stored_embeddings(jobs.get(request.job_key), request.run)
    if stored is not None:
        return stored
    task = runtime.twelvelabs.get_embedding_task(request.task_id)
    if task.status != "ready":
        raise EmbeddingTaskFailedError(
            f"embedding task {request.task_id} is {task.status}, not ready", code="embedding_task_not_ready"
        )
    payload = task.model_dump(mode="json", by_alias=True, exclude_none=True)
    segments = len(task.video_embedding.segments) if task.video_embedding else 0
    uri = runtime.results.put_json(request.job_key, "embeddings", {"job_key": request.job_key, **payload})
    record_results(runtime, request.job_key, request.run, {"embeddings": uri})
    logger.info("embeddings stored", extra={"job_key": request.job_key, "segments": segments, "uri": uri})
    return ResultPointer(name="embeddings", uri=uri)


def _stored_embeddings(job: JobItem | None, run: int) -> ResultPointer | None:
    """This run's embeddings, if a previous attempt of the step stored them (nothing is read or bought again).
    RunSupersededError when the run is no longer active (nothing is written for it)."""
    if job is None:
        return None
    if "embeddings" in ensure_active_run(job, run).results:
        return ResultPointer(name="embeddings", uri=job.results["embeddings"])
    return None


# The indexed asset's embedding options worth reading: what a Marengo 3.0 index can produce.
INDEX_EMBEDDING_OPTIONS = ("visual", "audio", "transcription")


def store_indexed_embeddings(request: StoreEmbeddingsInput, runtime: Runtime[StoreEmbeddingsSettings]) -> ResultPointer:
    """current: the vectors the indexing already produced (no second Marengo pass), read from the indexed asset
    with `embedding_option` = the index's own options, written as classic writes them (`video_embedding.segments`).
    A failed indexing raises IndexingTaskFailedError (-> Catch -> FAILED with the reason)."""
    indexed, index_id = request.indexed, request.index_id
    assert indexed is not None and index_id is not None  # StoreEmbeddingsInput guarantees the pair
    stored = _stored_embeddings(runtime.store.require_jobs().get(request.job_key), request.run)
    if stored is not None:
        return stored
    if indexed.status != "ready":
        raise IndexingTaskFailedError(
            indexed.error_message or f"indexed asset {indexed.task_id} ended {indexed.status}",
            code=indexed.error_code or "indexing_failed",
        )
    client = runtime.twelvelabs
    index = client.get_index(index_id)
    produced = {o for m in index.models if m.model_name.startswith("marengo") for o in m.model_options}
    options = [o for o in INDEX_EMBEDDING_OPTIONS if o in produced] or ["visual"]
    asset = client.get_indexed_asset(index_id, indexed.task_id, embedding_option=options)
    embedding = asset.embedding.model_dump(mode="json", by_alias=True, exclude_none=True) if asset.embedding else {}
    segments = ((embedding.get("video_embedding") or {}).get("segments")) or []
    if not segments:
        raise EmbeddingTaskFailedError(
            f"indexed asset {indexed.task_id} carries no embedding for {options}", code="embedding_missing"
        )
    wanted = request.embedding
    if wanted is not None and other_segmentation(segments, wanted.clip_length):
        # The configured segmentation is not the index's: one embed-v2 task on the asset, with that segmentation.
        segments = _embed_v2_segments(request, runtime, str(asset.asset_id), options, wanted)
        embedding = {**embedding, "video_embedding": {**(embedding.get("video_embedding") or {}), "segments": segments}}
    payload = {"_id": asset.id, "status": asset.status, "created_at": asset.created_at, **embedding}
    uri = runtime.results.put_json(
        request.job_key, "embeddings", {"job_key": request.job_key, **{k: v for k, v in payload.items() if v}}
    )
    record_results(runtime, request.job_key, request.run, {"embeddings": uri})
    logger.info("embeddings stored", extra={"job_key": request.job_key, "segments": len(segments), "uri": uri})
    return ResultPointer(name="embeddings", uri=uri)


CLIP_LENGTH_TOLERANCE = 0.5  # seconds: a last, shorter clip or rounding is not another segmentation
EMBED_V2_MODEL = "marengo3.0"
EMBED_V2_FIRST_WAIT_SECONDS = 2.0
EMBED_V2_MAX_WAIT_SECONDS = 15.0
EMBED_V2_WAIT_SECONDS = 3600.0


def other_segmentation(segments: list[dict[str, Any]], clip_length: float) -> bool:
    """Whether the index cut the video into clips of another length than `clip_length`. A video no longer than one
    clip has a single, shorter clip whatever the length: that is the same segmentation (no second, billed pass)."""
    index_clip = clip_length_of(segments)
    if index_clip is None or abs(index_clip - clip_length) <= CLIP_LENGTH_TOLERANCE:
        return False
    clips = [s for s in segments if s.get("embedding_scope", "clip") == "clip"]
    single_short_clip = len({(s.get("start_offset_sec"), s.get("end_offset_sec")) for s in clips}) == 1
    return not (single_short_clip and index_clip < clip_length)


def clip_length_of(segments: list[dict[str, Any]]) -> float | None:
    """The clip length an index produced: the longest clip-scope segment (the last one may be shorter)."""
    lengths = [
        float(s["end_offset_sec"]) - float(s["start_offset_sec"])
        for s in segments
        if s.get("embedding_scope", "clip") == "clip"
        and s.get("start_offset_sec") is not None
        and s.get("end_offset_sec") is not None
    ]
    return max(lengths) if lengths else None


def _embed_v2_segments(
    request: StoreEmbeddingsInput,
    runtime: Runtime[StoreEmbeddingsSettings],
    asset_id: str,
    options: list[str],
    wanted: EmbeddingOptions,
) -> list[dict[str, Any]]:
    """An /embed-v2 task on the asset with fixed `clip_length` segments, waited for inside this invocation
    (bounded by its deadline; DeadlineExceededError is retried by the state, which finds the recorded task).
    Returned in the indexed asset's segment shape (scope `asset` named `video`, as classic)."""
    jobs = runtime.store.require_jobs()
    job = require_active_run(jobs, request.job_key, request.run)
    client = runtime.twelvelabs
    task_id = job.tl_embedding_task_id
    if not task_id:
        created = client.create_embed_v2_task(
            "video",
            model_name=EMBED_V2_MODEL,
            video={
                "media_source": {"asset_id": asset_id},
                "segmentation": {"strategy": "fixed", "fixed": {"duration_sec": wanted.clip_length}},
                "embedding_option": [o for o in options if o != "transcription"] or ["visual"],
                "embedding_scope": ["clip", "asset"] if "video" in wanted.scopes else ["clip"],
            },
            idempotency_key=execution_name(request.job_key, request.run),
        )
        task_id = created.id
        record_created(jobs, request.job_key, request.run, {"tl_embedding_task_id": task_id}, runtime)
        logger.info("embed-v2 task created", extra={"job_key": request.job_key, "embedding_task_id": task_id})
    task = client.wait_for_embed_v2_task(
        task_id,
        timeout=EMBED_V2_WAIT_SECONDS,
        initial_interval=EMBED_V2_FIRST_WAIT_SECONDS,
        max_interval=EMBED_V2_MAX_WAIT_SECONDS,
    )
    segments = []
    for item in task.data or []:
        segment = {
            "float": item.embedding,
            "start_offset_sec": item.start_sec,
            "end_offset_sec": item.end_sec,
            "embedding_option": item.embedding_option,
            "embedding_scope": "video" if item.embedding_scope == "asset" else item.embedding_scope,
        }
        segments.append({k: v for k, v in segment.items() if v is not None})
    return segments
