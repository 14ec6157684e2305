"""Stored records -> the JSON objects the API answers (`_id` fields, RFC 3339 timestamps)."""

from __future__ import annotations

from twelvelabs_emulator.clock import rfc3339
from twelvelabs_emulator.models import (
    EMBED_MODEL_NAME,
    EmbedTaskRecord,
    IndexRecord,
    Segment,
    State,
    TaskRecord,
    VideoRecord,
)


def index_json(st: State, index: IndexRecord) -> dict[str, object]:
    videos = [v for v in st.videos.values() if v.index_id == index.id]
    return {
        "_id": index.id,
        "index_name": index.index_name,
        "models": [m.model_dump() for m in index.models],
        "addons": list(index.addons),
        "video_count": len(videos),
        "total_duration": round(sum(v.media.duration for v in videos), 3),
        "created_at": rfc3339(index.created_at),
        "updated_at": rfc3339(index.updated_at),
        "expires_at": None,
    }


def hls_json(public_url: str, video_id: str, ready: bool, updated: str) -> dict[str, object]:
    return {
        "video_url": f"{public_url}/_emulator/media/{video_id}" if ready else None,
        "thumbnail_urls": [],
        "status": "COMPLETE" if ready else "PROCESSING",
        "updated_at": updated,
    }


def video_json(
    video: VideoRecord, public_url: str, detail: bool, embedding_options: list[str] | None = None
) -> dict[str, object]:
    m = video.media
    body: dict[str, object] = {
        "_id": video.id,
        "created_at": rfc3339(video.created_at),
        "updated_at": rfc3339(video.updated_at),
        "indexed_at": rfc3339(video.indexed_at),
        "system_metadata": {
            "filename": m.filename,
            "duration": m.duration,
            "fps": m.fps,
            "width": m.width,
            "height": m.height,
            "size": m.size,
        },
        "user_metadata": dict(video.user_metadata),
    }
    if video.asset_id is not None:  # videos made from indexed assets (current surface)
        body["asset_id"] = video.asset_id
    if detail and video.enable_video_stream:
        body["hls"] = hls_json(public_url, video.id, True, rfc3339(video.indexed_at))
    if embedding_options:
        segments = [segment_json(s) for s in video.segments if s.embedding_option in embedding_options]
        body["embedding"] = {"model_name": EMBED_MODEL_NAME, "video_embedding": {"segments": segments}}
    return body


def segment_json(seg: Segment) -> dict[str, object]:
    return {
        "start_offset_sec": seg.start_offset_sec,
        "end_offset_sec": seg.end_offset_sec,
        "embedding_option": seg.embedding_option,
        "embedding_scope": seg.embedding_scope,
        "float": seg.vector,
    }


def task_json(task: TaskRecord, public_url: str, detail: bool, lenient: bool = False) -> dict[str, object]:
    """The documented task object; `lenient` adds the emulator's old extras `user_metadata` and `error`."""
    meta: dict[str, object] = {"filename": task.filename}
    if task.media:
        meta |= {"duration": task.media.duration, "width": task.media.width, "height": task.media.height}
    body: dict[str, object] = {
        "_id": task.id,
        "index_id": task.index_id,
        "video_id": task.video_id,
        "status": task.status,
        "created_at": rfc3339(task.created_at),
        "updated_at": rfc3339(task.updated_at),
        "system_metadata": meta,
    }
    if lenient:
        body["user_metadata"] = dict(task.user_metadata)
        if task.error:
            body["error"] = task.error.model_dump()
    if detail and task.enable_video_stream:
        ready = task.status == "ready" and not task.video_deleted
        body["hls"] = hls_json(public_url, task.video_id, ready, rfc3339(task.updated_at))
    return body


def embed_metadata(task: EmbedTaskRecord) -> dict[str, object]:
    meta: dict[str, object] = {"video_clip_length": task.clip_length, "video_embedding_scope": list(task.scopes)}
    if task.input_url:
        meta["input_url"] = task.input_url
    else:
        meta["input_filename"] = task.input_filename
    if task.duration is not None:
        meta["duration"] = task.duration
    return meta


def embed_task_json(
    task: EmbedTaskRecord, segments: bool, options: list[str] | None = None, lenient: bool = False
) -> dict[str, object]:
    """The documented embed task object; `lenient` adds the emulator's old extra `error` (v1.3 documents none)."""
    body: dict[str, object] = {
        "_id": task.id,
        "model_name": task.model_name,
        "status": task.status,
        "created_at": rfc3339(task.created_at),
        "updated_at": rfc3339(task.updated_at),
        "video_embedding": {"metadata": embed_metadata(task)},
    }
    if task.error and lenient:
        body["error"] = task.error.model_dump()
    if segments and task.status == "ready":
        chosen = [s for s in task.segments if options is None or s.embedding_option in options]
        body["video_embedding"]["segments"] = [segment_json(s) for s in chosen]  # type: ignore[index]
    return body
