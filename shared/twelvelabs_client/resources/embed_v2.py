"""`/embed-v2` (sync, read-only: retried like a GET) and `/embed-v2/tasks` (current surface; 2026 §6).

Inputs are passed as the API's JSON objects (`video={"media_source": {"asset_id": ...},
"segmentation": {...}, "embedding_option": [...]}`); `text` may be a plain string. Embedding tasks
carry no user metadata: a lost create answer is matched by the exact input URL among tasks created
since the attempt; for asset or base64 sources there is no documented field to match, so the POST is
re-sent with the same Idempotency-Key (the server's documented dedupe mechanism, INFERRED semantics).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from ..encoding import query_params
from ..idempotency import derive_idempotency_key
from ..models.common import Page
from ..pagination import iter_pages
from ..timeutil import format_time, parse_time
from ._base import CLOCK_SKEW_SECONDS, LOOKUP_MAX_PAGES, LOOKUP_PAGE_LIMIT, ResourceBase

if TYPE_CHECKING:
    from ..models.embed_v2 import (
        CreatedEmbedV2Task,
        EmbedV2Response,
        EmbedV2Task,
        EmbedV2TaskSummary,
    )

# Same value as models.embed_v2.DEFAULT_EMBED_V2_MODEL (that module loads on first use, not at import).
DEFAULT_EMBED_V2_MODEL = "marengo3.0"

_SYNC_INPUTS = ("text", "image", "text_image", "audio", "video", "multi_input")
_TASK_INPUTS = ("audio", "video", "document", "image")
DEFAULT_EMBED_WAIT_SECONDS = 3600.0


def _embed_body(
    input_type: str, model_name: str, inputs: Mapping[str, Any], extra: Mapping[str, Any]
) -> dict[str, Any]:
    given = {k: v for k, v in inputs.items() if v is not None}
    if input_type not in given:
        raise ValueError(f"input_type {input_type!r} needs the {input_type!r} object")
    others = sorted(set(given) - {input_type})
    if others:
        raise ValueError(f"input_type {input_type!r} takes only the {input_type!r} object, not {others}")
    body: dict[str, Any] = {"input_type": input_type, "model_name": model_name}
    value = given[input_type]
    body[input_type] = {"input_text": value} if input_type == "text" and isinstance(value, str) else dict(value)
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _media_url(body: Mapping[str, Any]) -> str | None:
    block = body.get(str(body.get("input_type")))
    source = block.get("media_source") if isinstance(block, Mapping) else None
    url = source.get("url") if isinstance(source, Mapping) else None
    return str(url) if url else None


class EmbedV2Mixin(ResourceBase):
    def embed_v2(
        self,
        input_type: str,
        *,
        model_name: str = DEFAULT_EMBED_V2_MODEL,
        text: str | Mapping[str, Any] | None = None,
        image: Mapping[str, Any] | None = None,
        text_image: Mapping[str, Any] | None = None,
        audio: Mapping[str, Any] | None = None,
        video: Mapping[str, Any] | None = None,
        multi_input: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> EmbedV2Response:
        """POST /embed-v2: `{data: [{embedding (512 floats for marengo3.0), embedding_option, embedding_scope,
        start_sec, end_sec}], metadata?, usage?}`. `extra`: auto_truncate, embedding_uncertainty,
        embedding_dimension (Marengo 3.5)."""
        from ..models.embed_v2 import EmbedV2Response

        inputs = {
            "text": text,
            "image": image,
            "text_image": text_image,
            "audio": audio,
            "video": video,
            "multi_input": multi_input,
        }
        body = _embed_body(input_type, model_name, inputs, extra)
        return self._parse(EmbedV2Response, self._transport.request("POST", "/embed-v2", json=body))

    def create_embed_v2_task(
        self,
        input_type: str,
        *,
        model_name: str = DEFAULT_EMBED_V2_MODEL,
        video: Mapping[str, Any] | None = None,
        audio: Mapping[str, Any] | None = None,
        document: Mapping[str, Any] | None = None,
        image: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        **extra: Any,
    ) -> CreatedEmbedV2Task:
        """POST /embed-v2/tasks (202 `{_id, status}` + Location)."""
        from ..models.embed_v2 import CreatedEmbedV2Task

        body = _embed_body(
            input_type, model_name, {"video": video, "audio": audio, "document": document, "image": image}, extra
        )
        url = _media_url(body)

        def recover(since: float) -> CreatedEmbedV2Task | None:
            return self.find_embed_v2_task(url, since=since) if url else None

        result = self._transport.create(
            "POST",
            "/embed-v2/tasks",
            json=body,
            recover=recover,
            idempotency_key=derive_idempotency_key(idempotency_key, "POST /embed-v2/tasks", input_type),
        )
        if isinstance(result, CreatedEmbedV2Task):
            return result
        assert isinstance(result, httpx.Response)
        return self._parse_created(CreatedEmbedV2Task, result, location=result.headers.get("location"))

    def find_embed_v2_task(self, input_url: str, *, since: float) -> CreatedEmbedV2Task | None:
        """The oldest not-failed task on exactly this input URL created since `since` (minus clock skew)."""
        from ..models.embed_v2 import CreatedEmbedV2Task, EmbedV2TaskStatus

        window = since - CLOCK_SKEW_SECONDS
        match: CreatedEmbedV2Task | None = None
        for page_number in range(1, LOOKUP_MAX_PAGES + 1):
            page = self.list_embed_v2_tasks(
                started_at=format_time(window), page=page_number, page_limit=LOOKUP_PAGE_LIMIT
            )
            for task in page.data:
                created = parse_time(task.created_at)
                if created is not None and created < window:
                    continue
                if task.status != EmbedV2TaskStatus.FAILED and task.input_url() == input_url:
                    match = CreatedEmbedV2Task.model_validate(
                        {"_id": task.id, "status": task.status, "recovered": True}
                    )
            if page.is_last():
                break
        return match

    def list_embed_v2_tasks(self, **filters: Any) -> Page[EmbedV2TaskSummary]:
        """GET /embed-v2/tasks. Filters: started_at, ended_at (RFC 3339), status, page, page_limit (<=50)."""
        from ..models.embed_v2 import EmbedV2TaskSummary

        return self._get("/embed-v2/tasks", Page[EmbedV2TaskSummary], query_params(filters))

    def iter_embed_v2_tasks(self, **filters: Any) -> Iterator[EmbedV2TaskSummary]:
        start = int(filters.pop("page", 1))
        return iter_pages(lambda page: self.list_embed_v2_tasks(**filters, page=page), start)

    def get_embed_v2_task(self, task_id: str) -> EmbedV2Task:
        from ..models.embed_v2 import EmbedV2Task

        return self._get(f"/embed-v2/tasks/{task_id}", EmbedV2Task)

    def wait_for_embed_v2_task(
        self,
        task_id: str,
        *,
        timeout: float = DEFAULT_EMBED_WAIT_SECONDS,
        initial_interval: float = 2.0,
        max_interval: float = 30.0,
        factor: float = 1.5,
    ) -> EmbedV2Task:
        """Poll until ready (returned with `data`); failed raises ProcessingFailedError (bounded waits)."""
        from ..models.embed_v2 import EmbedV2TaskStatus

        return self._wait(
            lambda: self.get_embed_v2_task(task_id),
            status=lambda t: t.status,
            terminal=EmbedV2TaskStatus.TERMINAL,
            failed=frozenset({EmbedV2TaskStatus.FAILED}),
            what=f"embed-v2 task {task_id}",
            timeout=timeout,
            initial_interval=initial_interval,
            max_interval=max_interval,
            factor=factor,
            reason=lambda t: t.error.message if t.error else None,
        )
