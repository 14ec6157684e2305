"""Embed API v2 (Marengo 3.0, 512-d): request models, segment math (§6.1), content-derived vectors, and the
async task store (`/embed-v2/tasks`: processing -> ready | failed, kept 7 days, no webhooks)."""

from __future__ import annotations

import functools
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import av
import av.error
from pydantic import BaseModel, ConfigDict, Field

from twelvelabs_emulator import analyze, content, media, vectors
from twelvelabs_emulator.clock import new_id, utcnow
from twelvelabs_emulator.errors import ApiError, MediaProblem, invalid, not_provided
from twelvelabs_emulator.models import ClipContent, MediaInfo
from twelvelabs_emulator.runtime import Runtime
from twelvelabs_emulator.side_store import SideStore

if TYPE_CHECKING:
    from twelvelabs_emulator.services import Services

MODEL = "marengo3.0"
TEXT_TOKEN_LIMIT = 500
IMAGE_MAX_BYTES = 32 * 1024 * 1024
IMAGE_MIN_SIDE = 128
SYNC_MAX_SECONDS = 600.0  # sync audio/video: 10 minutes (Marengo 3.0)
TASK_MIN_SECONDS, TASK_MAX_SECONDS = 4.0, 4 * 3600.0
TASK_MAX_BYTES = 4 * 1024**3
DYNAMIC_DEFAULT, FIXED_DEFAULT = 4, 6
DYNAMIC_MAX_SEGMENT = 10.0  # merged scene segments stop growing here
RETENTION = timedelta(days=7)
FAILED_MESSAGE = "The embedding task failed. Please try again later."


class In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MediaSourceIn(In):
    url: str | None = None
    base64_string: str | None = None
    asset_id: str | None = None


class Fixed(In):
    duration_sec: int = Field(ge=2, le=10)


class Dynamic(In):
    min_duration_sec: int = Field(ge=2, le=5)


class SegmentationIn(In):
    strategy: Literal["fixed", "dynamic"]
    fixed: Fixed | None = None
    dynamic: Dynamic | None = None


class TextIn(In):
    input_text: str = Field(min_length=1)


class ImageIn(In):
    media_source: MediaSourceIn


class TextImageIn(In):
    media_source: MediaSourceIn
    input_text: str = Field(min_length=1)


class TimedIn(In):
    media_source: MediaSourceIn
    start_sec: float | None = Field(default=None, ge=0)
    end_sec: float | None = Field(default=None, gt=0)
    segmentation: SegmentationIn | None = None
    embedding_option: list[Literal["visual", "audio", "transcription"]] | None = Field(default=None, min_length=1)
    embedding_scope: list[Literal["clip", "asset", "local"]] | None = Field(default=None, min_length=1)
    embedding_type: list[Literal["separate_embedding", "fused_embedding"]] | None = Field(default=None, min_length=1)


class MultiSourceIn(In):
    name: str | None = None
    media_type: Literal["image", "video", "audio", "document"]
    url: str | None = None
    base64_string: str | None = None
    asset_id: str | None = None


class MultiIn(In):
    input_text: str | None = None
    media_sources: list[MultiSourceIn] | None = Field(default=None, max_length=10)


class EmbedIn(In):
    input_type: Literal["text", "image", "text_image", "audio", "video", "multi_input"]
    model_name: str
    text: TextIn | None = None
    image: ImageIn | None = None
    text_image: TextImageIn | None = None
    audio: TimedIn | None = None
    video: TimedIn | None = None
    multi_input: MultiIn | None = None


class EmbedTaskIn(In):
    input_type: Literal["audio", "video", "document", "image"]
    model_name: str
    audio: TimedIn | None = None
    video: TimedIn | None = None


def check_model(name: str, extras: dict[str, Any]) -> None:
    if name == "marengo3.5":
        raise invalid("model_name", "marengo3.5 is not emulated; use marengo3.0.")
    if name != MODEL:
        raise invalid("model_name", f"{name!r} is not one of marengo3.0, marengo3.5.")
    for key in ("auto_truncate", "embedding_uncertainty", "embedding_dimension"):
        if extras.get(key) is not None:
            raise invalid(key, "it is supported by marengo3.5 only.")


def _source(
    s: Services, src: MediaSourceIn | MultiSourceIn, field: str, scratch: Path, limit: int
) -> tuple[Path, dict[str, str]]:
    given = [(k, getattr(src, k)) for k in ("url", "base64_string", "asset_id") if getattr(src, k) is not None]
    if len(given) != 1:
        raise invalid(field, "give exactly one of url, base64_string, asset_id.")
    kind, value = given[0]
    if not value:
        raise invalid(f"{field}.{kind}", "it is empty.")
    path, filename = analyze.fetch_source(s, kind, value, field, scratch, limit)
    meta = {"input_url": value} if kind == "url" else {"input_filename": filename} if kind == "asset_id" else {}
    return path, meta


def _image_vector(path: Path, field: str) -> list[float]:
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise invalid(field, "it is not a decodable image.")
            ctx = container.streams.video[0].codec_context
            if min(ctx.width, ctx.height) < IMAGE_MIN_SIDE:
                raise invalid(
                    field, f"the image is {ctx.width}x{ctx.height}; the minimum is {IMAGE_MIN_SIDE}x{IMAGE_MIN_SIDE}."
                )
    except av.error.FFmpegError as exc:
        raise invalid(field, f"it is not a decodable image ({exc}).") from exc
    try:
        tokens = media.image_file_tokens(path, field)
    except MediaProblem as problem:
        raise invalid(field, problem.message) from problem
    return vectors.embed_tokens(vectors.expand(tokens))


def _text_vector(text: str, field: str) -> list[float]:
    if not text.strip():
        raise invalid(field, "it is empty.")
    if generation_tokens(text) > TEXT_TOKEN_LIMIT:
        raise invalid(field, f"it is longer than {TEXT_TOKEN_LIMIT} tokens.")
    return vectors.embed_text(text)


def generation_tokens(text: str) -> int:
    from twelvelabs_emulator.generation import count_tokens

    return count_tokens(text)


def entry(
    vec: list[float],
    option: str | None = None,
    scope: str | None = None,
    start: float | None = None,
    end: float | None = None,
) -> dict[str, object]:
    return {
        "embedding": vectors.marengo3(vec),
        "embedding_option": option,
        "embedding_scope": scope,
        "start_sec": start,
        "end_sec": end,
    }


# --- segment math (§6.1) --------------------------------------------------------------------------


def fixed_bounds(start: float, end: float, length: float) -> list[tuple[float, float]]:
    """Equal segments over [start, end); the final one may be shorter and is kept."""
    bounds: list[tuple[float, float]] = []
    t = start
    while t < end - 1e-6:
        bounds.append((round(t, 3), round(min(t + length, end), 3)))
        t += length
    return bounds


def _signature(clip: ClipContent) -> tuple[frozenset[str], frozenset[str]]:
    visual = frozenset(t for t, w in clip.visual.items() if w >= 0.2)
    return visual, frozenset(clip.audio)


def dynamic_clips(clips: list[ClipContent], min_len: float) -> list[ClipContent]:
    """Scene segments: consecutive `min_len` pieces showing the same content merge (up to 10 s); a segment
    shorter than `min_len` survives only as the final one."""
    merged: list[ClipContent] = []
    for clip in clips:
        if merged:
            last = merged[-1]
            same = _signature(last) == _signature(clip)
            short_tail = clip.end - clip.start < min_len and same
            if (same and clip.end - last.start <= DYNAMIC_MAX_SEGMENT + 1e-6) or short_tail:
                merged[-1] = ClipContent(start=last.start, end=clip.end, visual=last.visual, audio=last.audio)
                continue
        merged.append(clip)
    return merged


class Plan(BaseModel):
    """A resolved audio/video request."""

    options: list[str]
    scopes: list[str]
    fused: bool
    separate: bool
    strategy: Literal["fixed", "dynamic"]
    length: int
    start: float | None
    end: float | None


def plan(req: TimedIn, kind: Literal["audio", "video"], is_task: bool) -> Plan:
    default_options = ["visual", "audio", "transcription"] if kind == "video" else ["audio", "transcription"]
    options = list(dict.fromkeys(req.embedding_option or default_options))
    if kind == "audio" and "visual" in options:
        raise invalid("audio.embedding_option", "audio takes audio and transcription only.")
    scopes = list(dict.fromkeys(req.embedding_scope or ["clip", "asset"]))
    if "local" in scopes and not is_task:
        raise invalid(f"{kind}.embedding_scope", "local is an async (task) scope; use clip.")
    scopes = ["clip" if x == "local" else x for x in scopes]
    types = req.embedding_type or ["separate_embedding"]
    if req.embedding_type is not None and len(options) < 2:
        raise invalid(f"{kind}.embedding_type", "it applies only when embedding_option has at least two values.")
    seg = req.segmentation
    if seg is None:
        strategy: Literal["fixed", "dynamic"] = "dynamic" if kind == "video" else "fixed"
        length = DYNAMIC_DEFAULT if strategy == "dynamic" else FIXED_DEFAULT
    elif seg.strategy == "fixed":
        if seg.fixed is None:
            raise not_provided(f"{kind}.segmentation.fixed")
        strategy, length = "fixed", seg.fixed.duration_sec
    else:
        if kind == "audio":
            raise invalid("audio.segmentation.strategy", "audio supports the fixed strategy only.")
        if seg.dynamic is None:
            raise not_provided("video.segmentation.dynamic")
        strategy, length = "dynamic", seg.dynamic.min_duration_sec
    if req.start_sec is not None and req.end_sec is not None and req.end_sec <= req.start_sec:
        raise invalid(f"{kind}.end_sec", "it must be greater than start_sec.")
    return Plan(
        options=options,
        scopes=scopes,
        fused="fused_embedding" in types,
        separate="separate_embedding" in types,
        strategy=strategy,
        length=length,
        start=req.start_sec,
        end=req.end_sec,
    )


def _window(p: Plan, duration: float, kind: str) -> tuple[float, float]:
    start = p.start or 0.0
    end = duration if p.end is None else min(p.end, duration)
    if start >= duration:
        raise invalid(f"{kind}.start_sec", f"it must be less than the duration ({duration} s).")
    if end <= start:
        raise invalid(f"{kind}.end_sec", "it must be greater than start_sec.")
    return start, end


def _audio_duration(path: Path, field: str) -> float:
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise invalid(field, "it has no audio stream.")
            return round(container.duration / av.time_base, 3) if container.duration else 0.0
    except av.error.FFmpegError as exc:
        raise invalid(field, f"it is not decodable audio ({exc}).") from exc


def embed_media(
    path: Path, kind: Literal["audio", "video"], p: Plan, name: str, max_seconds: float, min_seconds: float = 1.0
) -> tuple[list[dict[str, object]], float]:
    """(EmbeddingData entries, media duration). MediaProblem for content that breaks a requirement."""
    salt = analyze.head_digest(path)
    if kind == "video":
        info = media.probe_video(path, name)
        duration = info.duration
    else:
        duration = _audio_duration(path, "audio.media_source")
        info = MediaInfo(
            filename=name, duration=duration, width=0, height=0, fps=0.0, size=path.stat().st_size, has_audio=True
        )
    if duration > max_seconds + 1e-3:
        raise MediaProblem(
            "parameter_invalid", f"The {kind} is {duration:.1f} s long; the maximum here is {max_seconds:.0f} s."
        )
    if duration < min_seconds:
        raise MediaProblem(
            "parameter_invalid", f"The {kind} is {duration:.1f} s long; the minimum is {min_seconds:.0f} s."
        )
    start, end = _window(p, duration, kind)
    bounds = fixed_bounds(start, end, float(p.length))
    if kind == "video":
        clips = media.analyze_clips(path, info, bounds)
        if p.strategy == "dynamic":
            clips = dynamic_clips(clips, float(p.length))
    else:
        clips = []
        for lo, hi in bounds:
            tokens, _, _ = media.audio_file_tokens(path, "audio.media_source", lo, hi - lo)
            clips.append(ClipContent(start=lo, end=hi, visual={}, audio=tokens))
    per_option: dict[str, list[list[float]]] = {o: [] for o in p.options if o != "transcription"}
    data: list[dict[str, object]] = []
    for n, clip in enumerate(clips):
        vecs: list[list[float]] = []
        for option in per_option:
            tokens = content.visual_tokens(clip, name) if option == "visual" else content.audio_tokens(clip, name)
            vec = vectors.embed_tokens(tokens, salt=f"{salt}:{option}:{n}")
            per_option[option].append(vec)
            vecs.append(vec)
            if "clip" in p.scopes and p.separate:
                data.append(entry(vec, option, "clip", clip.start, clip.end))
        if "clip" in p.scopes and p.fused and vecs:
            data.append(entry(vectors.mean_vector(vecs), "fused", "clip", clip.start, clip.end))
    if "asset" in p.scopes and clips:
        means = []
        for option, vecs_ in per_option.items():
            mean = vectors.mean_vector(vecs_)
            means.append(mean)
            if p.separate:
                data.append(entry(mean, option, "asset", start, end))
        if p.fused and means:
            data.append(entry(vectors.mean_vector(means), "fused", "asset", start, end))
    return data, duration


def timed_metadata(
    kind: str, source_meta: dict[str, str], p: Plan, duration: float, scopes_as_sent: list[str]
) -> dict[str, object]:
    meta: dict[str, object] = {"input_type": kind, **source_meta}
    if kind == "video" and p.strategy == "fixed":
        meta["clip_length"] = p.length
    meta |= {"embedding_scopes": scopes_as_sent, "embedding_options": list(p.options), "duration": duration}
    if p.start is not None:
        meta["start_offset_sec"] = p.start
    if p.end is not None:
        meta["end_offset_sec"] = min(p.end, duration)
    return meta


def sync_embed(s: Services, body: EmbedIn) -> dict[str, object]:
    kind = body.input_type
    with tempfile.TemporaryDirectory(dir=s.rt.upload_dir) as scratch_dir:
        scratch = Path(scratch_dir)
        if kind == "text":
            if body.text is None:
                raise not_provided("text")
            return {"data": [entry(_text_vector(body.text.input_text, "text.input_text"))]}
        if kind == "image":
            if body.image is None:
                raise not_provided("image")
            path, meta = _source(s, body.image.media_source, "image.media_source", scratch, IMAGE_MAX_BYTES)
            return {
                "data": [entry(_image_vector(path, "image.media_source"))],
                "metadata": {"input_type": "image", **meta},
            }
        if kind == "text_image":
            if body.text_image is None:
                raise not_provided("text_image")
            path, meta = _source(s, body.text_image.media_source, "text_image.media_source", scratch, IMAGE_MAX_BYTES)
            vec = vectors.mean_vector(
                [
                    _text_vector(body.text_image.input_text, "text_image.input_text"),
                    _image_vector(path, "text_image.media_source"),
                ]
            )
            return {"data": [entry(vec)], "metadata": {"input_type": "text_image", **meta}}
        if kind == "multi_input":
            mi = body.multi_input
            if mi is None:
                raise not_provided("multi_input")
            parts: list[list[float]] = []
            if mi.input_text is not None:
                parts.append(_text_vector(mi.input_text, "multi_input.input_text"))
            for n, src in enumerate(mi.media_sources or []):
                field = f"multi_input.media_sources[{n}]"
                if src.media_type != "image":
                    raise invalid(f"{field}.media_type", "marengo3.0 takes images only in multi_input.")
                path, _ = _source(s, src, field, scratch, IMAGE_MAX_BYTES)
                parts.append(_image_vector(path, field))
            if not parts:
                raise not_provided("multi_input.input_text or multi_input.media_sources")
            return {"data": [entry(vectors.mean_vector(parts))], "metadata": {"input_type": "multi_input"}}
        req = body.audio if kind == "audio" else body.video
        if req is None:
            raise not_provided(kind)
        p = plan(req, kind, is_task=False)
        path, meta = _source(s, req.media_source, f"{kind}.media_source", scratch, s.rt.config.max_video_bytes)
        name = meta.get("input_filename") or meta.get("input_url", kind).rsplit("/", 1)[-1]
        try:
            data, duration = embed_media(path, kind, p, name, SYNC_MAX_SECONDS)
        except MediaProblem as problem:
            raise ApiError(400, "parameter_invalid", problem.message) from problem
    scopes = list(dict.fromkeys(req.embedding_scope or ["clip", "asset"]))
    return {"data": data, "metadata": timed_metadata(kind, meta, p, duration, scopes)}


# --- tasks ---------------------------------------------------------------------------------------


class EmbedV2TaskRecord(BaseModel):
    id: str
    seq: int
    model_name: str
    input_type: Literal["audio", "video"]
    status: Literal["processing", "ready", "failed"]
    created_at: datetime
    updated_at: datetime
    source_meta: dict[str, str]
    plan: Plan
    scopes_as_sent: list[str]
    duration: float | None = None
    data: list[dict[str, Any]] | None = None
    error: str | None = None


class EmbedV2State(BaseModel):
    seq: int = 0
    tasks: dict[str, EmbedV2TaskRecord] = Field(default_factory=dict)


class EmbedV2TaskRunner(SideStore[EmbedV2State]):
    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt, "embed_v2_tasks.json", EmbedV2State)
        for task in self._state.tasks.values():  # results were computed at creation: only the flip is pending
            if task.status == "processing":
                self.rt.scheduler.call_later(
                    self.rt.config.processing_seconds, functools.partial(self._finish, task.id)
                )

    def create(self, s: Services, body: EmbedTaskIn) -> EmbedV2TaskRecord:
        kind = body.input_type
        if kind not in ("audio", "video"):
            raise invalid("input_type", f"{kind} needs marengo3.5, which this emulator does not emulate.")
        req = body.audio if kind == "audio" else body.video
        if req is None:
            raise not_provided(kind)
        p = plan(req, kind, is_task=True)
        now = utcnow()
        data: list[dict[str, Any]] | None = None
        duration: float | None = None
        error: str | None = None
        with tempfile.TemporaryDirectory(dir=s.rt.upload_dir) as scratch_dir:
            path, meta = _source(s, req.media_source, f"{kind}.media_source", Path(scratch_dir), TASK_MAX_BYTES)
            name = meta.get("input_filename") or meta.get("input_url", kind).rsplit("/", 1)[-1]
            try:
                data, duration = embed_media(path, kind, p, name, TASK_MAX_SECONDS, TASK_MIN_SECONDS)
            except MediaProblem:
                error = FAILED_MESSAGE  # content problems surface as a failed task, as the service reports them
        with self._lock:
            self.state.seq += 1
            task = EmbedV2TaskRecord(
                id=new_id(),
                seq=self.state.seq,
                model_name=body.model_name,
                input_type=kind,
                status="processing",
                created_at=now,
                updated_at=now,
                source_meta=meta,
                plan=p,
                scopes_as_sent=list(dict.fromkeys(req.embedding_scope or ["clip", "asset"])),
                duration=duration,
                data=data,
                error=error,
            )
            self.state.tasks[task.id] = task
            self._save()
        self.rt.scheduler.call_later(self.rt.config.processing_seconds, lambda: self._finish(task.id))
        return task.model_copy(deep=True)

    def _finish(self, task_id: str) -> None:
        with self._lock:
            task = self.state.tasks.get(task_id)
            if task is None or task.status != "processing":
                return
            task.status = "failed" if task.error else "ready"
            task.updated_at = utcnow()
            self._save()

    def live(self) -> list[EmbedV2TaskRecord]:
        """Tasks within the 7-day retention."""
        cutoff = utcnow() - RETENTION
        with self._lock:
            return [t.model_copy(deep=True) for t in self.state.tasks.values() if t.created_at >= cutoff]

    def get(self, task_id: str) -> EmbedV2TaskRecord | None:
        return next((t for t in self.live() if t.id == task_id), None)


def metadata_of(task: EmbedV2TaskRecord) -> dict[str, object]:
    return timed_metadata(task.input_type, task.source_meta, task.plan, task.duration or 0.0, task.scopes_as_sent)


def task_json(task: EmbedV2TaskRecord) -> dict[str, object]:
    """EmbeddingTaskResponse: {_id, status, created_at, updated_at, data|null, metadata?, error?}."""
    from twelvelabs_emulator.clock import rfc3339

    body: dict[str, object] = {
        "_id": task.id,
        "status": task.status,
        "created_at": rfc3339(task.created_at),
        "updated_at": rfc3339(task.updated_at),
        "data": task.data if task.status == "ready" else None,
    }
    if task.status == "ready":
        body["metadata"] = metadata_of(task)
    if task.status == "failed" and task.error:
        body["error"] = {"message": task.error}
    return body


def list_item_json(task: EmbedV2TaskRecord) -> dict[str, object]:
    """MediaEmbeddingTask (list item)."""
    from twelvelabs_emulator.clock import rfc3339

    body: dict[str, object] = {
        "_id": task.id,
        "model_name": task.model_name,
        "status": task.status,
        "created_at": rfc3339(task.created_at),
        "updated_at": rfc3339(task.updated_at),
    }
    meta: dict[str, object] = dict(task.source_meta)
    p = task.plan
    if task.input_type == "video":
        if p.strategy == "fixed":
            meta["video_clip_length"] = p.length
        meta |= {"video_embedding_scope": task.scopes_as_sent, "video_embedding_option": p.options}
    else:
        meta |= {"audio_embedding_option": p.options, "audio_embedding_scope": task.scopes_as_sent}
    if task.duration is not None:
        meta["duration"] = task.duration
    if task.input_type == "audio":
        if p.start is not None:
            meta["start_offset_sec"] = p.start
        if p.end is not None:
            meta["end_offset_sec"] = p.end
    body[f"{task.input_type}_embedding"] = {"metadata": meta}
    return body
