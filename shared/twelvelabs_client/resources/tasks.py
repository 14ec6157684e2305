"""Video indexing tasks, with duplicate-free creation.

`create_task(..., idempotency_key=K)` stores K as user_metadata["job_key"]. Before creating, and
after any ambiguous failure, it looks for the task K already produced (find_task_by_metadata), so
a lost answer, a retried Lambda or a redelivered event never pays for a second indexing task.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import httpx

from ..encoding import form_fields, query_params
from ..models.common import MetadataValue, Page
from ..models.tasks import CreatedTask, Task
from ..models.videos import Video
from ..pagination import iter_pages
from ..timeutil import parse_time
from ..uploads import FileSource, filename_from_url, open_upload
from ._base import CLOCK_SKEW_SECONDS, LOOKUP_MAX_PAGES, LOOKUP_PAGE_LIMIT, ResourceBase

JOB_KEY = "job_key"
ALT_KEY = "idempotency_key"


class TasksMixin(ResourceBase):
    def list_tasks(self, **filters: Any) -> Page[Task]:
        """GET /tasks. Filters: page, page_limit, sort_by, sort_option, index_id, status (str or list),
        filename, duration, width, height, created_at, updated_at."""
        return self._get("/tasks", Page[Task], query_params(filters))

    def iter_tasks(self, **filters: Any) -> Iterator[Task]:
        start = int(filters.pop("page", 1))
        return iter_pages(lambda page: self.list_tasks(**filters, page=page), start)

    def get_task(self, task_id: str) -> Task:
        return self._get(f"/tasks/{task_id}", Task)

    def delete_task(self, task_id: str) -> None:
        """Only ready/failed tasks; for ready ones delete the video first (else ConflictError)."""
        self._send_no_content("DELETE", f"/tasks/{task_id}")

    def create_task(
        self,
        index_id: str,
        *,
        video_url: str | None = None,
        video_file: FileSource | None = None,
        user_metadata: Mapping[str, MetadataValue] | None = None,
        enable_video_stream: bool | None = None,
        idempotency_key: str | None = None,
    ) -> CreatedTask:
        """POST /tasks (multipart). `video_file` is a path or a binary file object, streamed from disk."""
        if (video_url is None) == (video_file is None):
            raise ValueError("pass exactly one of video_url or video_file")
        metadata: dict[str, Any] = dict(user_metadata or {})
        key_field: str | None = None
        if idempotency_key is not None:
            # K goes to user_metadata["job_key"]; a caller who already uses job_key for something
            # else keeps it, and K goes to "idempotency_key" instead (deterministic per call shape).
            key_field = JOB_KEY if metadata.get(JOB_KEY, idempotency_key) == idempotency_key else ALT_KEY
            metadata[key_field] = idempotency_key
            existing = self.find_task_by_metadata(index_id, key_field, idempotency_key)
            if existing is not None:
                return _created(existing)
        fields = form_fields({
            "index_id": index_id,
            "video_url": video_url,
            "enable_video_stream": enable_video_stream,
            "user_metadata": metadata or None,
        })
        if video_file is None:
            assert video_url is not None
            return self._create_task(index_id, fields, filename_from_url(video_url), key_field, metadata, True)
        with open_upload(video_file, default_name="video.mp4") as upload:
            parts: list[Any] = [*fields, ("video_file", upload.part())]
            return self._create_task(index_id, parts, upload.filename, key_field, metadata, upload.resendable)

    def _create_task(
        self,
        index_id: str,
        parts: list[Any],
        filename: str | None,
        key: str | None,
        metadata: dict[str, Any],
        resendable: bool,
    ) -> CreatedTask:
        def recover(since: float) -> CreatedTask | None:
            found = self._find_created_task(index_id, since=since, key=key, filename=filename, sent_metadata=metadata)
            return _created(found) if found is not None else None

        result = self._transport.create(
            "POST", "/tasks", files=parts, upload=True, recover=recover, resendable=resendable
        )
        if isinstance(result, CreatedTask):
            return result
        assert isinstance(result, httpx.Response)
        return self._parse(CreatedTask, result)

    def find_task_by_metadata(self, index_id: str, key: str, value: MetadataValue) -> Task | None:
        """The task of `index_id` whose user_metadata[key] == value, or None.

        (a) newest tasks (up to 150) when task objects carry user_metadata (the emulator's do; the
        real API's may not); (b) videos filtered by user_metadata[key]=value, then their task.
        """
        return self._find_created_task(index_id, since=None, key=key, filename=None, sent_metadata=None, value=value)

    def _find_created_task(
        self,
        index_id: str,
        *,
        since: float | None,
        key: str | None,
        filename: str | None,
        sent_metadata: Mapping[str, Any] | None,
        value: MetadataValue = None,
    ) -> Task | None:
        if key is not None and value is None and sent_metadata is not None:
            value = sent_metadata.get(key)
        window = since - CLOCK_SKEW_SECONDS if since is not None else None
        # Weak matches (same filename / same metadata inside our window) are only a fallback after
        # the exact key lookups; the oldest in the window is the likeliest to be our lost attempt.
        weak: Task | None = None
        for task in self._recent_tasks(index_id, window):
            if task.user_metadata is not None and key is not None:
                if task.user_metadata.get(key) == value:
                    return task
                continue
            if since is None:
                if task.user_metadata is None:
                    break  # this API's task objects carry no metadata: only the videos filter can tell
                continue  # outside a recovery window only the exact key counts
            if _weak_match(task, filename, sent_metadata):
                weak = task  # newest-first scan: the last one kept is the oldest
        if key is not None:
            for video in self._videos_with_metadata(index_id, key, value):
                task = self._task_of_video(index_id, video)
                if task is not None:
                    return task
        return weak

    def _recent_tasks(self, index_id: str, window_start: float | None) -> Iterator[Task]:
        """Newest-first tasks of the index, bounded by pages and (when given) by creation time."""
        for page_number in range(1, LOOKUP_MAX_PAGES + 1):
            page = self.list_tasks(index_id=index_id, sort_by="created_at", sort_option="desc",
                                   page=page_number, page_limit=LOOKUP_PAGE_LIMIT)
            for task in page.data:
                created = parse_time(task.created_at)
                if window_start is not None and created is not None and created < window_start:
                    return
                yield task
            if page.is_last():
                return

    def _videos_with_metadata(self, index_id: str, key: str, value: MetadataValue) -> list[Video]:
        page = self.list_videos(index_id, user_metadata={key: value}, page_limit=LOOKUP_PAGE_LIMIT)  # type: ignore[attr-defined]
        # Verify client-side: a server that ignored the filter must not give us someone else's video.
        return [v for v in page.data if v.user_metadata is not None and v.user_metadata.get(key) == value]

    def _task_of_video(self, index_id: str, video: Video) -> Task | None:
        filename = video.system_metadata.filename if video.system_metadata else None
        for page_number in range(1, LOOKUP_MAX_PAGES + 1):
            page = self.list_tasks(index_id=index_id, filename=filename, page=page_number, page_limit=LOOKUP_PAGE_LIMIT)
            for task in page.data:
                if task.video_id == video.id:
                    return task
            if page.is_last():
                return None
        return None


def _created(task: Task) -> CreatedTask:
    return CreatedTask.model_validate({"_id": task.id, "video_id": task.video_id, "recovered": True})


def _weak_match(task: Task, filename: str | None, sent_metadata: Mapping[str, Any] | None) -> bool:
    """Same filename (and, when the task shows it, the same user metadata) as what we sent."""
    if sent_metadata and task.user_metadata is not None:
        if any(task.user_metadata.get(k) != v for k, v in sent_metadata.items()):
            return False
        if not filename:
            return True
    task_name = task.system_metadata.filename if task.system_metadata else None
    return bool(filename) and task_name == filename
