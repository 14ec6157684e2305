"""Video embedding tasks (`/embed/tasks`): processing -> ready | failed."""

from __future__ import annotations

import functools
from pathlib import Path

from twelvelabs_emulator import content, media
from twelvelabs_emulator.clock import new_id, utcnow
from twelvelabs_emulator.errors import MediaProblem
from twelvelabs_emulator.models import EMBED_MODEL_NAME, MARENGO, EmbedTaskRecord, ErrorInfo, Segment
from twelvelabs_emulator.requirements import check_video
from twelvelabs_emulator.runtime import Runtime

EMBED_OPTIONS = ["visual-text", "audio"]


class EmbedTaskRunner:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def create(
        self,
        *,
        file_path: Path,
        content_hash: str,
        input_url: str | None,
        input_filename: str | None,
        clip_length: float,
        scopes: list[str],
        start: float | None,
        end: float | None,
        model_name: str = EMBED_MODEL_NAME,
    ) -> EmbedTaskRecord:
        now = utcnow()
        with self.rt.store.mutate() as st:
            task = EmbedTaskRecord(
                id=new_id(),
                seq=st.next_seq(),
                model_name=model_name,
                status="processing",
                created_at=now,
                updated_at=now,
                input_url=input_url,
                input_filename=input_filename,
                file_path=str(file_path),
                content_hash=content_hash,
                clip_length=clip_length,
                scopes=scopes,
                start_offset=start,
                end_offset=end,
            )
            st.embed_tasks[task.id] = task
        self.rt.scheduler.call_later(self.rt.config.processing_seconds, lambda: self._process(task.id))
        return task

    def resume(self) -> None:
        with self.rt.store.read() as st:
            ids = [t.id for t in st.embed_tasks.values() if t.status == "processing"]
        for task_id in ids:
            self.rt.scheduler.call_later(self.rt.config.processing_seconds, functools.partial(self._process, task_id))

    def _process(self, task_id: str) -> None:
        with self.rt.store.read() as st:
            task = st.embed_tasks.get(task_id)
            if task is None or task.status != "processing":
                return
            snapshot = task.model_copy()
        name = snapshot.input_filename or snapshot.input_url or "video"
        try:
            if snapshot.file_path is None:
                raise MediaProblem("video_file_broken", f"The video file {name} is missing.")
            path = Path(snapshot.file_path)
            info = media.probe_video(path, name)
            check_video(info, [MARENGO], self.rt.config.max_video_bytes)
            start = snapshot.start_offset or 0.0
            end = snapshot.end_offset if snapshot.end_offset is not None else info.duration
            if end > info.duration + 1e-3:
                raise MediaProblem(
                    "parameter_invalid",
                    f"video_end_offset_sec {end} is beyond the video's duration ({info.duration} s).",
                )
            if start > max(0.0, info.duration - snapshot.clip_length) + 1e-3:
                raise MediaProblem(
                    "parameter_invalid",
                    f"video_start_offset_sec {start} must be at most duration "
                    f"({info.duration} s) minus video_clip_length ({snapshot.clip_length} s).",
                )
            clips = content.analyse(path, info, snapshot.clip_length, start, end)
            segments = content.build_segments(clips, name, snapshot.content_hash, EMBED_OPTIONS, snapshot.scopes)
        except MediaProblem as problem:
            self._finish(task_id, None, [], ErrorInfo(code=problem.code, message=problem.message))
            return
        self._finish(task_id, info.duration, segments, None)

    def _finish(self, task_id: str, duration: float | None, segments: list[Segment], error: ErrorInfo | None) -> None:
        with self.rt.store.mutate() as st:
            task = st.embed_tasks.get(task_id)
            if task is None or task.status != "processing":
                return
            task.status = "failed" if error else "ready"
            task.error = error
            task.duration = duration
            task.segments = segments
            task.updated_at = utcnow()
            # The vectors are kept; the media is not needed any more.
            self.rt.remove_file(task.file_path, True)
            task.file_path = None
