"""`/analyze/tasks`: asynchronous analysis (current surface; 2026 reference §5).

Duplicate-free creation: with an idempotency key the task gets `custom_id` = the key (or a hash of
it when the key is not a valid custom_id) and the POST an Idempotency-Key derived from it. Before
creating, and after an ambiguous failure, the client lists tasks by the documented filters
(`asset_id` / `video_url`) and matches `custom_id` (echoed on every task), so a re-run or a lost
answer does not pay for a second analysis.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import ValidationError

from ..encoding import query_params
from ..idempotency import custom_id_for, derive_idempotency_key
from ..models.common import Page
from ..pagination import iter_pages
from ..timeutil import parse_time
from ._base import CLOCK_SKEW_SECONDS, LOOKUP_MAX_PAGES, LOOKUP_PAGE_LIMIT, ResourceBase
from .generate import analysis_fields

if TYPE_CHECKING:
    from ..models.analyze import (
        AnalyzeTask,
        CanceledAnalyzeTask,
        CreatedAnalyzeTask,
    )
    from .generate import ImageArg, PromptV2Arg, VideoArg

DEFAULT_ANALYSIS_WAIT_SECONDS = 3600.0
_NOT_REUSABLE = frozenset({"failed", "canceled"})  # AnalyzeTaskStatus.FAILED, .CANCELED


class AnalyzeTasksMixin(ResourceBase):
    def create_analyze_task(
        self,
        *,
        video: VideoArg | None = None,
        image: ImageArg | None = None,
        prompt: str | None = None,
        prompt_v2: PromptV2Arg | None = None,
        model_name: str | None = None,
        temperature: float | None = None,
        response_format: Mapping[str, Any] | None = None,
        max_tokens: int | str | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
        custom_id: str | None = None,
        analysis_mode: str | None = None,
        min_segment_duration: float | None = None,
        max_segment_duration: float | None = None,
        idempotency_key: str | None = None,
    ) -> CreatedAnalyzeTask:
        """POST /analyze/tasks (202 `{task_id, status}`). max_tokens: int or "unlimited"."""
        from ..models.analyze import AnalyzeTaskCreateRequest, CreatedAnalyzeTask

        if idempotency_key is not None and custom_id is None:
            custom_id = custom_id_for(idempotency_key)
        try:
            fields = analysis_fields(
                model_name=model_name,
                video=video,
                image=image,
                prompt=prompt,
                prompt_v2=prompt_v2,
                temperature=temperature,
                response_format=response_format,
                max_tokens=max_tokens,
                start_time=start_time,
                end_time=end_time,
            )
            request = AnalyzeTaskCreateRequest.model_validate(
                {
                    **fields,
                    "custom_id": custom_id,
                    "analysis_mode": analysis_mode,
                    "min_segment_duration": min_segment_duration,
                    "max_segment_duration": max_segment_duration,
                }
            )
        except ValidationError as exc:
            raise ValueError(f"invalid analyze task: {exc.errors(include_url=False)}") from exc
        body = request.to_body()
        body.pop("stream", None)
        filters = _source_filters(body)
        if idempotency_key is not None and custom_id is not None:
            existing = self._find_analyze_task(custom_id, filters, since=None)
            if existing is not None:
                return existing

        def recover(since: float) -> CreatedAnalyzeTask | None:
            if not custom_id:
                return None
            found = self._find_analyze_task(custom_id, filters, since=since)
            if found is None and "video_url" in filters:
                # A re-signed URL (same key, new body) is not the exact video_url filter: scan unfiltered.
                found = self._find_analyze_task(custom_id, {}, since=since)
            return found

        result = self._transport.create(
            "POST",
            "/analyze/tasks",
            json=body,
            recover=recover,
            idempotency_key=derive_idempotency_key(idempotency_key, "POST /analyze/tasks", custom_id),
        )
        if isinstance(result, CreatedAnalyzeTask):
            return result
        assert isinstance(result, httpx.Response)
        return self._parse(CreatedAnalyzeTask, result)

    def _find_analyze_task(
        self, custom_id: str, filters: dict[str, str], *, since: float | None
    ) -> CreatedAnalyzeTask | None:
        """Newest task with this custom_id (not failed/canceled), by the documented list filters."""
        from ..models.analyze import CreatedAnalyzeTask

        window = since - CLOCK_SKEW_SECONDS if since is not None else None
        match: CreatedAnalyzeTask | None = None
        for page_number in range(1, LOOKUP_MAX_PAGES + 1):
            page = self.list_analyze_tasks(**filters, page=page_number, page_limit=LOOKUP_PAGE_LIMIT)
            for task in page.data:
                created = parse_time(task.created_at)
                if window is not None and created is not None and created < window:
                    return match
                if task.custom_id != custom_id or task.status in _NOT_REUSABLE:
                    continue
                found = CreatedAnalyzeTask(task_id=task.task_id, status=task.status, recovered=True)
                if window is None:
                    return found
                match = found  # in a recovery window the oldest is our lost attempt
            if page.is_last():
                break
        return match

    def list_analyze_tasks(self, **filters: Any) -> Page[AnalyzeTask]:
        """GET /analyze/tasks. Filters: page, page_limit (<=50), status, video_url (exact), asset_id,
        analysis_mode."""
        from ..models.analyze import AnalyzeTask

        return self._get("/analyze/tasks", Page[AnalyzeTask], query_params(filters))

    def iter_analyze_tasks(self, **filters: Any) -> Iterator[AnalyzeTask]:
        start = int(filters.pop("page", 1))
        return iter_pages(lambda page: self.list_analyze_tasks(**filters, page=page), start)

    def get_analyze_task(self, task_id: str) -> AnalyzeTask:
        from ..models.analyze import AnalyzeTask

        return self._get(f"/analyze/tasks/{task_id}", AnalyzeTask)

    def cancel_analyze_task(self, task_id: str) -> CanceledAnalyzeTask:
        """POST …/cancel: idempotent (a repeat cancel answers 200 `canceled` too), so it is retried."""
        from ..models.analyze import CanceledAnalyzeTask

        return self._parse(CanceledAnalyzeTask, self._transport.request("POST", f"/analyze/tasks/{task_id}/cancel"))

    def delete_analyze_task(self, task_id: str) -> None:
        """DELETE: ConflictError (409) while the task is being processed."""
        self._send_no_content("DELETE", f"/analyze/tasks/{task_id}")

    def wait_for_analyze_task(
        self,
        task_id: str,
        *,
        timeout: float = DEFAULT_ANALYSIS_WAIT_SECONDS,
        initial_interval: float = 2.0,
        max_interval: float = 30.0,
        factor: float = 1.5,
    ) -> AnalyzeTask:
        """Poll until ready (returned); failed/canceled raise ProcessingFailedError (bounded waits)."""
        from ..models.analyze import AnalyzeTaskStatus

        return self._wait(
            lambda: self.get_analyze_task(task_id),
            status=lambda t: t.status,
            terminal=AnalyzeTaskStatus.TERMINAL,
            failed=_NOT_REUSABLE,
            what=f"analyze task {task_id}",
            timeout=timeout,
            initial_interval=initial_interval,
            max_interval=max_interval,
            factor=factor,
            reason=lambda t: t.error.message if t.error else None,
        )


def _source_filters(body: Mapping[str, Any]) -> dict[str, str]:
    """The documented list filter that narrows to this task's input (asset_id or exact video_url)."""
    video = body.get("video")
    if isinstance(video, Mapping):
        if video.get("type") == "asset_id" and video.get("asset_id"):
            return {"asset_id": str(video["asset_id"])}
        if video.get("type") == "url" and video.get("url"):
            return {"video_url": str(video["url"])}
    return {}
