"""Video indexing tasks (classic surface; "will be removed" per SDK 1.3.1+), with duplicate-free creation.

`create_task(..., idempotency_key=K)` stores K as user_metadata["job_key"] and sends an
`Idempotency-Key` derived from K. Before creating it looks for a ready video carrying K; after an
ambiguous failure it looks for the task its lost attempt created (documented filters only: the
videos' user_metadata filter, GET /tasks by index_id + filename), so a lost answer, a retried
Lambda or a redelivered event does not pay for a second indexing task.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from ..encoding import form_fields, query_params
from ..errors import NotFoundError
from ..idempotency import derive_idempotency_key
from ..models.common import MetadataValue, Page
from ..models.tasks import CreatedTask, Task, TaskStatus
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
        fields = form_fields(
            {
                "index_id": index_id,
                "video_url": video_url,
                "enable_video_stream": enable_video_stream,
                "user_metadata": metadata or None,
            }
        )
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

        header_key = derive_idempotency_key(metadata.get(key) if key else None, "POST /tasks", index_id)
        result = self._transport.create(
            "POST",
            "/tasks",
            files=parts,
            upload=True,
            recover=recover,
            resendable=resendable,
            idempotency_key=header_key,
        )
        if isinstance(result, CreatedTask):
            return result
        assert isinstance(result, httpx.Response)
        return self._parse(CreatedTask, result)

    def find_task_by_metadata(self, index_id: str, key: str, value: MetadataValue) -> Task | None:
        """The task of `index_id` whose video has user_metadata[key] == value, or None.

        Documented means only: task objects carry no user_metadata, so this lists the index's videos
        filtered by `user_metadata[key]=value` (verified client-side) and finds that video's task by
        its filename. A video exists once its task is `ready`: a task still indexing is not found.
        """
        for video in self._videos_with_metadata(index_id, key, value):
            task = self._task_of_video(index_id, video)
            if task is not None:
                return task
        return None

    def _find_created_task(
        self,
        index_id: str,
        *,
        since: float,
        key: str | None,
        filename: str | None,
        sent_metadata: Mapping[str, Any] | None,
    ) -> Task | None:
        """After an ambiguous POST /tasks: the task that attempt created, or None.

        1. exact: a video carrying our key (find_task_by_metadata);
        2. `GET /tasks?index_id=&filename=` newest first, created since the attempt (minus clock skew):
           a `ready` one is checked through its video's user_metadata (exact yes/no); one not yet
           ready cannot be checked, and the oldest such candidate is taken (the likeliest to be our
           lost attempt). Without a filename nothing weak is matched.
        """
        value = sent_metadata.get(key) if key is not None and sent_metadata is not None else None
        if key is not None:
            found = self.find_task_by_metadata(index_id, key, value)
            if found is not None:
                return found
        if not filename:
            return None
        weak: Task | None = None
        for task in self._recent_tasks(index_id, since - CLOCK_SKEW_SECONDS, filename):
            verdict = self._video_matches(index_id, task, sent_metadata)
            if verdict is True:
                return task
            if verdict is None:
                weak = task  # newest-first scan: the last one kept is the oldest
        return weak

    def _video_matches(self, index_id: str, task: Task, sent_metadata: Mapping[str, Any] | None) -> bool | None:
        """Whether a task's video carries the metadata we sent: True/False, None when not knowable yet."""
        if task.status != TaskStatus.READY or not task.video_id:
            return None
        if not sent_metadata:
            return None  # nothing to compare: a same-filename task stays a weak candidate
        try:
            video = self.get_video(index_id, task.video_id)  # type: ignore[attr-defined]
        except NotFoundError:
            return False  # its video was deleted: not the one we just created
        meta = video.user_metadata or {}
        return all(meta.get(k) == v for k, v in sent_metadata.items())

    def _recent_tasks(self, index_id: str, window_start: float, filename: str) -> Iterator[Task]:
        """Newest-first tasks of the index with this filename, created at or after window_start."""
        for page_number in range(1, LOOKUP_MAX_PAGES + 1):
            page = self.list_tasks(
                index_id=index_id,
                filename=filename,
                sort_by="created_at",
                sort_option="desc",
                page=page_number,
                page_limit=LOOKUP_PAGE_LIMIT,
            )
            for task in page.data:
                created = parse_time(task.created_at)
                if created is not None and created < window_start:
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
