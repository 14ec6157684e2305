"""Async analysis tasks (`/analyze/tasks`): queued -> processing -> ready | failed | canceled, with signed
`analyze.task.*` webhooks. The media is fetched and cut into content clips when the task is created (bad
input is a synchronous 400); the result is produced when the task finishes, after `processing_seconds`."""

from __future__ import annotations

import functools
import json
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from twelvelabs_emulator import analyze, generation, vectors
from twelvelabs_emulator.clock import new_id, notification_id, rfc3339, utcnow
from twelvelabs_emulator.errors import ApiError
from twelvelabs_emulator.models import ClipContent, MediaInfo, VideoRecord
from twelvelabs_emulator.runtime import Runtime
from twelvelabs_emulator.side_store import SideStore

Status = Literal["queued", "pending", "processing", "ready", "failed", "canceled"]
ACTIVE = ("queued", "pending", "processing")
TERMINAL = ("ready", "failed", "canceled")
MATCH_SIMILARITY = 0.15  # a clip belongs to a segment definition when its content is at least this close


class StoredImage(BaseModel):
    name: str
    tokens: dict[str, float]


class AnalyzeTaskRecord(BaseModel):
    id: str
    seq: int
    custom_id: str | None
    status: Status
    created_at: datetime
    completed_at: datetime | None = None
    model_name: str
    analysis_mode: Literal["general", "time_based_metadata"]
    video_source: dict[str, Any] | None  # as shown on the task (with system_metadata)
    request_params: dict[str, Any]
    prompt: str = ""
    info: MediaInfo | None = None
    clips: list[ClipContent] = Field(default_factory=list)
    content_hash: str = ""
    images: list[StoredImage] = Field(default_factory=list)
    prompt_images: list[StoredImage] = Field(default_factory=list)
    response_format: dict[str, Any] | None = None
    max_tokens: int | Literal["unlimited"] = analyze.DEFAULT_MAX_TOKENS
    input_tokens: int = 0
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    force_fail: bool = False


class AnalyzeTaskState(BaseModel):
    seq: int = 0
    tasks: dict[str, AnalyzeTaskRecord] = Field(default_factory=dict)


def _video(record: AnalyzeTaskRecord) -> VideoRecord:
    assert record.info is not None
    return VideoRecord(
        id=record.content_hash[:24] or record.id,
        seq=0,
        index_id="",
        task_id=record.id,
        created_at=record.created_at,
        updated_at=record.created_at,
        indexed_at=record.created_at,
        media=record.info,
        clips=record.clips,
        content_hash=record.content_hash,
        file_path="",
    )


def _inputs(record: AnalyzeTaskRecord) -> analyze.Inputs:
    video = None
    if record.info is not None:
        video = analyze.AnalysedVideo(
            source={},
            info=record.info,
            clips=record.clips,
            content_hash=record.content_hash,
            window=(0.0, record.info.duration),
        )
    return analyze.Inputs(
        video=video,
        images=[analyze.AnalysedImage(i.name, i.tokens) for i in record.images],
        prompt=record.prompt,
        prompt_images=[analyze.AnalysedImage(i.name, i.tokens) for i in record.prompt_images],
    )


# --- time_based_metadata ------------------------------------------------------------------------


def _definition_clips(record: AnalyzeTaskRecord, definition: dict[str, Any]) -> list[ClipContent]:
    """Clips whose content is close to the definition's description; a description naming nothing the
    footage shows (e.g. "scene", "shot") segments the whole window."""
    clips = record.clips
    ranges = definition.get("time_ranges") or []
    if ranges:
        clips = [c for c in clips if any(c.start < r["end_time"] and c.end > r["start_time"] for r in ranges)]
    query = vectors.embed_text(str(definition.get("description", "")))
    scored = [
        (
            c,
            max(
                vectors.cosine(query, vectors.embed_tokens(vectors.expand(c.visual) or {"still": 1.0})),
                vectors.cosine(query, vectors.embed_tokens(vectors.expand(c.audio) or {"silence": 1.0})),
            ),
        )
        for c in clips
    ]
    matching = [c for c, sim in scored if sim >= MATCH_SIMILARITY]
    return matching if matching else clips


def _field_value(field: dict[str, Any], clip: ClipContent, video: VideoRecord, time_format: str) -> object:
    kind = field.get("type")
    name = str(field.get("name", ""))
    if isinstance(field.get("enum"), list) and field["enum"]:
        return analyze._pick_enum(field["enum"], video, clip)
    if kind == "boolean":
        return analyze._boolean(video, name + " " + str(field.get("description", "")), clip)
    if kind == "integer":
        return round(clip.end - clip.start)
    if kind == "number":
        return round(clip.end - clip.start, 3)
    if kind == "timestamp":
        return analyze.format_time(clip.start, str(field.get("format") or "seconds"))
    if kind == "array":
        item_kind = (field.get("items") or {}).get("type", "string")
        colours = [t for t, _ in sorted(clip.visual.items(), key=lambda kv: -kv[1]) if t in generation.COLOURS]
        if item_kind == "string":
            return colours or ["muted"]
        if item_kind == "boolean":
            return [bool(colours)]
        return [round(clip.end - clip.start, 3)]
    if kind == "time_array":
        sub_fields = (field.get("items") or {}).get("fields") or []
        entry: dict[str, object] = {
            "start_time": analyze.format_time(clip.start, time_format),
            "end_time": analyze.format_time(clip.end, time_format),
        }
        for sub in sub_fields:
            entry[str(sub.get("name"))] = _field_value(sub, clip, video, time_format)
        return [entry]
    if "colou" in name.lower() or "color" in name.lower():
        return next(
            (t for t, _ in sorted(clip.visual.items(), key=lambda kv: -kv[1]) if t in generation.COLOURS), "muted"
        )
    return f"{generation.subject(video).capitalize()}: {generation.describe_clip(clip)}."


def segmentation_data(record: AnalyzeTaskRecord) -> str:
    fmt = record.response_format or {}
    time_format = str(fmt.get("segment_time_format") or "seconds")
    video = _video(record)
    out: dict[str, list[dict[str, object]]] = {}
    for definition in fmt.get("segment_definitions") or []:
        segments: list[dict[str, object]] = []
        for clip in _definition_clips(record, definition):
            metadata = {
                str(f["name"]): _field_value(f, clip, video, time_format) for f in definition.get("fields") or []
            }
            segments.append(
                {
                    "start_time": analyze.format_time(clip.start, time_format),
                    "end_time": analyze.format_time(clip.end, time_format),
                    "metadata": metadata,
                }
            )
        out[str(definition["id"])] = segments
    return json.dumps(out, separators=(", ", ": "))


# --- the runner -------------------------------------------------------------------------------------


class AnalyzeTaskRunner(SideStore[AnalyzeTaskState]):
    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt, "analyze_tasks.json", AnalyzeTaskState)
        self.resume()  # jobs queue up before the scheduler starts; they run once it does

    def resume(self) -> None:
        """After a restart, unfinished tasks run their remaining steps again."""
        with self._lock:
            ids = [t.id for t in self.state.tasks.values() if t.status in ACTIVE]
        for task_id in ids:
            self.rt.scheduler.call_later(self.rt.config.processing_seconds, functools.partial(self._finish, task_id))

    def create(self, record: AnalyzeTaskRecord) -> AnalyzeTaskRecord:
        with self._lock:
            self.state.seq += 1
            record.seq = self.state.seq
            record.id = new_id()
            record.force_fail = self.rt.faults.take_fail_analyze_task()
            self.state.tasks[record.id] = record
            self._save()
            snapshot = record.model_copy(deep=True)
        half = self.rt.config.processing_seconds / 2
        self.rt.scheduler.call_later(half, lambda: self._start(snapshot.id))
        return snapshot

    def get(self, task_id: str) -> AnalyzeTaskRecord | None:
        with self._lock:
            task = self.state.tasks.get(task_id)
            return task.model_copy(deep=True) if task else None

    def all(self) -> list[AnalyzeTaskRecord]:
        with self._lock:
            return [t.model_copy(deep=True) for t in self.state.tasks.values()]

    def _start(self, task_id: str) -> None:
        with self._lock:
            task = self.state.tasks.get(task_id)
            if task is None or task.status != "queued":
                return
            task.status = "processing"
            self._save()
        self.rt.scheduler.call_later(self.rt.config.processing_seconds / 2, lambda: self._finish(task_id))

    def _finish(self, task_id: str) -> None:
        with self._lock:
            task = self.state.tasks.get(task_id)
            if task is None or task.status not in ACTIVE:
                return
            if task.force_fail:
                task.status = "failed"
                task.error = {"message": "The analysis failed (injected emulator fault); create a new task to retry."}
            else:
                self._produce(task)
            task.completed_at = utcnow()
            self._save()
            snapshot = task.model_copy(deep=True)
        self._notify(snapshot)

    def _produce(self, task: AnalyzeTaskRecord) -> None:
        if task.analysis_mode == "time_based_metadata":
            text = segmentation_data(task)
            tokens = generation.count_tokens(text)
            if task.max_tokens != "unlimited" and tokens > task.max_tokens:
                # segmentation never reports `length`: a numeric max_tokens overflow fails the task
                task.status = "failed"
                task.error = {
                    "message": f"The segmentation output ({tokens} tokens) exceeds max_tokens "
                    f"({task.max_tokens}); raise max_tokens and create a new task."
                }
                return
            finish, warning = "stop", None
        else:
            rf = analyze.ResponseFormatIn.model_validate(task.response_format) if task.response_format else None
            limit = task.max_tokens if isinstance(task.max_tokens, int) else None
            text, finish, tokens = generation.truncate(analyze.generate_text(_inputs(task), rf), limit)
            warning = {"message": analyze.LENGTH_WARNING} if finish == "length" else None
        task.status = "ready"
        task.result = {
            "generation_id": str(uuid.uuid4()),
            "data": text,
            "finish_reason": finish,
            "usage": {"output_tokens": tokens, "input_tokens": task.input_tokens},
        }
        if warning is not None:
            task.error = warning

    def cancel(self, task_id: str) -> AnalyzeTaskRecord:
        with self._lock:
            task = self.state.tasks.get(task_id)
            if task is None:
                raise not_found(task_id)
            if task.status == "canceled":
                return task.model_copy(deep=True)  # a repeat cancel answers the same
            if task.status in TERMINAL:
                raise ApiError(
                    409,
                    "task_not_cancelable",
                    f"The analysis task {task_id} is {task.status}; only "
                    "queued, pending or processing tasks can be canceled.",
                    shape="wrapped",
                )
            task.status = "canceled"
            task.completed_at = utcnow()
            task.error = {"code": "user_canceled", "message": "The task was canceled by the user."}
            self._save()
            snapshot = task.model_copy(deep=True)
        self._notify(snapshot)
        return snapshot

    def delete(self, task_id: str) -> None:
        with self._lock:
            task = self.state.tasks.get(task_id)
            if task is None:
                raise not_found(task_id)
            if task.status in ACTIVE:
                raise ApiError(
                    409,
                    "task_in_progress",
                    f"The analysis task {task_id} is {task.status}; cancel it or "
                    "wait until it ends before deleting it.",
                    shape="wrapped",
                )
            del self.state.tasks[task_id]
            self._save()

    def _notify(self, task: AnalyzeTaskRecord) -> None:
        self.rt.webhooks.send(f"analyze.task.{task.status}", task.id, webhook_payload(task))


def not_found(task_id: str) -> ApiError:
    return ApiError(
        404, "resource_not_exist", f"Resource with id {task_id} does not exist in analyze tasks.", shape="wrapped"
    )


def webhook_payload(task: AnalyzeTaskRecord) -> dict[str, object]:
    """§7: no result, completed_at or request_params; `error` only as a ready warning or a failure reason."""
    data: dict[str, object] = {
        "id": task.id,
        "custom_id": task.custom_id,
        "created_at": rfc3339(task.created_at),
        "status": task.status,
    }
    if task.video_source is not None:
        data["video_source"] = task.video_source
    if task.error is not None and task.status != "canceled":
        data["error"] = {"message": task.error["message"]}
    return {
        "id": notification_id(),
        "created_at": rfc3339(utcnow()),
        "type": f"analyze.task.{task.status}",
        "data": data,
    }


def task_json(task: AnalyzeTaskRecord, deliveries: list[dict[str, object]] | None, listing: bool) -> dict[str, object]:
    """AnalyzeTaskResponse with exactly the documented fields (lists show the first 30 prompt characters)."""
    params = dict(task.request_params)
    if listing and isinstance(params.get("prompt"), str):
        params["prompt"] = params["prompt"][:30]
    body: dict[str, object] = {"task_id": task.id, "custom_id": task.custom_id}
    if task.video_source is not None:
        body["video_source"] = task.video_source
    body |= {"request_params": params, "status": task.status, "created_at": rfc3339(task.created_at)}
    if task.completed_at is not None and task.status in TERMINAL:
        body["completed_at"] = rfc3339(task.completed_at)
    if task.result is not None and task.status == "ready":
        body["result"] = task.result
    if task.error is not None:
        body["error"] = task.error
    if deliveries is not None:
        body["webhooks"] = deliveries
    return body
