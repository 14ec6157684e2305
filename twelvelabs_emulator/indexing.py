"""Video indexing tasks: validating -> pending -> queued -> indexing -> ready | failed, paced by the scheduler."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from twelvelabs_emulator import content, media
from twelvelabs_emulator.clock import new_id, utcnow
from twelvelabs_emulator.errors import MediaProblem, not_found
from twelvelabs_emulator.models import (
    TERMINAL,
    ClipContent,
    ErrorInfo,
    Segment,
    StoredMetadataValue,
    TaskRecord,
    VideoRecord,
)
from twelvelabs_emulator.requirements import check_video
from twelvelabs_emulator.runtime import Runtime


def embedding_options(index_options: set[str]) -> list[str]:
    return [opt for opt, needed in (("visual-text", "visual"), ("audio", "audio")) if needed in index_options]


class Indexer:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def create_task(
        self,
        *,
        index_id: str,
        file_path: Path,
        filename: str,
        content_hash: str,
        owns_file: bool,
        user_metadata: Mapping[str, StoredMetadataValue],
        enable_video_stream: bool = True,
        import_id: str | None = None,
        video_id_is_task_id: bool = False,
        asset_id: str | None = None,
        upload_asset_id: str | None = None,
    ) -> TaskRecord:
        """A `/tasks` task, or (with `asset_id`) an indexed asset: its id is also the id of the video it becomes."""
        now = utcnow()
        with self.rt.store.mutate() as st:
            if index_id not in st.indexes:
                raise not_found(index_id, "indexes")
            task_id = new_id()
            task = TaskRecord(
                id=task_id,
                seq=st.next_seq(),
                index_id=index_id,
                video_id=task_id if video_id_is_task_id else new_id(),
                status="validating",
                created_at=now,
                updated_at=now,
                filename=filename,
                file_path=str(file_path),
                owns_file=owns_file,
                content_hash=content_hash,
                user_metadata=user_metadata,
                enable_video_stream=enable_video_stream,
                force_fail=self.rt.faults.take_fail_task(),
                import_id=import_id,
                asset_id=asset_id,
                upload_asset_id=upload_asset_id,
            )
            st.tasks[task.id] = task
        self.rt.scheduler.call_later(self.rt.step_seconds, lambda: self._validate(task.id))
        return task

    def resume(self) -> None:
        """After a restart: unfinished tasks start over from `validating`."""
        with self.rt.store.mutate() as st:
            pending = [t for t in st.tasks.values() if t.status not in TERMINAL]
            for task in pending:
                task.status = "validating"
                task.updated_at = utcnow()
        for task in pending:
            self.rt.scheduler.call_later(self.rt.step_seconds, lambda tid=task.id: self._validate(tid))

    def _set_status(self, task_id: str, status: str) -> bool:
        with self.rt.store.mutate() as st:
            task = st.tasks.get(task_id)
            if task is None or task.status in TERMINAL:
                return False
            task.status = status
            task.updated_at = utcnow()
            return True

    def _validate(self, task_id: str) -> None:
        with self.rt.store.read() as st:
            task = st.tasks.get(task_id)
            index = st.indexes.get(task.index_id) if task else None
            if task is None or index is None or task.status in TERMINAL:
                return
            path, filename, force_fail, models = task.file_path, task.filename, task.force_fail, index.model_names()
        try:
            if path is None:
                raise MediaProblem("video_file_broken", f"The video file {filename} is missing.")
            info = media.probe_video(Path(path), filename)
            check_video(info, models, self.rt.config.max_video_bytes)
            if force_fail:
                raise MediaProblem("video_file_broken", f"The video file {filename} is broken (injected fault).")
        except MediaProblem as problem:
            self._fail(task_id, problem.code, problem.message)
            return
        with self.rt.store.mutate() as st:
            task = st.tasks.get(task_id)
            if task is None or task.status in TERMINAL:
                return
            task.media = info
            task.status = "pending"
            task.updated_at = utcnow()
        self.rt.scheduler.call_later(self.rt.step_seconds, lambda: self._queue(task_id))

    def _queue(self, task_id: str) -> None:
        if self._set_status(task_id, "queued"):
            self.rt.scheduler.call_later(self.rt.step_seconds, lambda: self._index(task_id))

    def _index(self, task_id: str) -> None:
        if not self._set_status(task_id, "indexing"):
            return
        with self.rt.store.read() as st:
            task = st.tasks.get(task_id)
            index = st.indexes.get(task.index_id) if task else None
            if task is None or index is None or task.media is None or task.file_path is None:
                return
            path, info, content_hash = Path(task.file_path), task.media, task.content_hash
            options = embedding_options(index.options("marengo"))
        try:
            clips = content.analyse(path, info)
        except MediaProblem as problem:
            self._fail(task_id, problem.code, problem.message)
            return
        segments = content.build_segments(clips, info.filename, content_hash, options, ["clip", "video"])
        self.rt.scheduler.call_later(self.rt.step_seconds, lambda: self._finish(task_id, clips, segments))

    def _finish(self, task_id: str, clips: list[ClipContent], segments: list[Segment]) -> None:
        now = utcnow()
        with self.rt.store.mutate() as st:
            task = st.tasks.get(task_id)
            if task is None or task.status in TERMINAL or task.media is None or task.file_path is None:
                return
            index = st.indexes.get(task.index_id)
            if index is None:
                return
            st.videos[task.video_id] = VideoRecord(
                id=task.video_id,
                seq=st.next_seq(),
                index_id=task.index_id,
                task_id=task.id,
                created_at=task.created_at,
                updated_at=now,
                indexed_at=now,
                media=task.media,
                user_metadata=dict(task.user_metadata),
                clips=clips,
                segments=segments,
                content_hash=task.content_hash,
                file_path=task.file_path,
                enable_video_stream=task.enable_video_stream,
                asset_id=task.asset_id or task.upload_asset_id,
            )
            task.status = "ready"
            task.updated_at = now
            index.updated_at = now
            snapshot, index_snapshot = task.model_copy(deep=True), index.model_copy(deep=True)
        self.rt.webhooks.notify("index.task.ready", snapshot, index_snapshot)

    def _fail(self, task_id: str, code: str, message: str) -> None:
        with self.rt.store.mutate() as st:
            task = st.tasks.get(task_id)
            if task is None or task.status in TERMINAL:
                return
            task.status = "failed"
            task.error = ErrorInfo(code=code, message=message)
            task.updated_at = utcnow()
            # A failed task's media is of no further use; files read in place from an integration are never touched.
            self.rt.remove_file(task.file_path, task.owns_file)
            if task.owns_file:
                task.file_path = None
            snapshot = task.model_copy(deep=True)
            index = st.indexes.get(task.index_id)
            index_snapshot = index.model_copy(deep=True) if index else None
        self.rt.webhooks.notify("index.task.failed", snapshot, index_snapshot)
