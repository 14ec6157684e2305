"""`/embed` (synchronous, read-only: retried like a GET) and `/embed/tasks`.

Embedding tasks carry no user metadata, so duplicate detection matches the input instead:
the exact `video_url` (or uploaded filename) among tasks created since the attempt. With an
idempotency key the client also checks, before creating, for a non-failed task on the same input
(URL without its signature query, so a re-signed S3 presigned URL of the same object matches).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from ..encoding import form_fields, query_params
from ..idempotency import derive_idempotency_key
from ..models.common import Page
from ..models.embed import (
    DEFAULT_EMBED_MODEL,
    CreatedEmbeddingTask,
    EmbeddingMetadata,
    EmbeddingResponse,
    EmbeddingTask,
    EmbeddingTaskStatus,
    EmbeddingTaskStatusValue,
)
from ..pagination import iter_pages
from ..timeutil import format_time, parse_time
from ..uploads import FileSource, open_upload
from ._base import CLOCK_SKEW_SECONDS, LOOKUP_MAX_PAGES, LOOKUP_PAGE_LIMIT, ResourceBase

# Embedding task results are kept 7 days; an idempotency pre-check looks back at most this far.
EMBED_LOOKBACK_SECONDS = 24 * 3600.0


def _same_object(url: str) -> tuple[str, str, str, str | None]:
    """Identity of a URL's object: scheme, host, path and an S3 versionId; signatures ignored."""
    parts = urlsplit(url)
    version = dict(parse_qsl(parts.query)).get("versionId")
    return (parts.scheme, parts.netloc, parts.path, version)


def _same_parameters(meta: EmbeddingMetadata, clip_length: float | None, scopes: Sequence[str] | None) -> bool:
    if clip_length is not None and meta.video_clip_length is not None and meta.video_clip_length != clip_length:
        return False
    return not (scopes and meta.video_embedding_scope and set(meta.video_embedding_scope) != set(scopes))


class EmbedMixin(ResourceBase):
    def create_embedding(
        self,
        model_name: str = DEFAULT_EMBED_MODEL,
        *,
        text: str | None = None,
        text_truncate: str | None = None,
        image_url: str | None = None,
        image_file: FileSource | None = None,
        audio_url: str | None = None,
        audio_file: FileSource | None = None,
        audio_start_offset_sec: float | None = None,
    ) -> EmbeddingResponse:
        if not any(v is not None for v in (text, image_url, image_file, audio_url, audio_file)):
            raise ValueError("pass at least one of text, image_url, image_file, audio_url, audio_file")
        parts: list[Any] = form_fields(
            {
                "model_name": model_name,
                "text": text,
                "text_truncate": text_truncate,
                "image_url": image_url,
                "audio_url": audio_url,
                "audio_start_offset_sec": audio_start_offset_sec,
            }
        )
        with (
            open_upload(image_file, "image.jpg") if image_file is not None else nullcontext() as image,
            open_upload(audio_file, "audio.wav") if audio_file is not None else nullcontext() as audio,
        ):
            if image is not None:
                parts.append(("image_file", image.part()))
            if audio is not None:
                parts.append(("audio_file", audio.part()))
            response = self._transport.request("POST", "/embed", files=parts, upload=True)
        return self._parse(EmbeddingResponse, response)

    def create_embedding_task(
        self,
        model_name: str = DEFAULT_EMBED_MODEL,
        *,
        video_url: str | None = None,
        video_file: FileSource | None = None,
        video_start_offset_sec: float | None = None,
        video_end_offset_sec: float | None = None,
        video_clip_length: float | None = None,
        video_embedding_scope: Sequence[str] | None = None,
        idempotency_key: str | None = None,
    ) -> CreatedEmbeddingTask:
        if (video_url is None) == (video_file is None):
            raise ValueError("pass exactly one of video_url or video_file")
        fields = form_fields(
            {
                "model_name": model_name,
                "video_url": video_url,
                "video_start_offset_sec": video_start_offset_sec,
                "video_end_offset_sec": video_end_offset_sec,
                "video_clip_length": video_clip_length,
                "video_embedding_scope": list(video_embedding_scope) if video_embedding_scope else None,
            }
        )
        if idempotency_key is not None and video_url is not None:
            existing = self._find_embedding_task(
                self._transport.wall_clock() - EMBED_LOOKBACK_SECONDS,
                video_url,
                None,
                loose=True,
                clip_length=video_clip_length,
                scopes=video_embedding_scope,
            )
            if existing is not None:
                return existing
        header_key = derive_idempotency_key(idempotency_key, "POST /embed/tasks", model_name)
        if video_file is None:
            return self._create_embedding_task(
                fields, video_url, None, True, header_key, video_clip_length, video_embedding_scope
            )
        with open_upload(video_file, "video.mp4") as upload:
            parts: list[Any] = [*fields, ("video_file", upload.part())]
            return self._create_embedding_task(
                parts, None, upload.filename, upload.resendable, header_key, video_clip_length, video_embedding_scope
            )

    def _create_embedding_task(
        self,
        parts: list[Any],
        video_url: str | None,
        filename: str | None,
        resendable: bool,
        header_key: str | None,
        clip_length: float | None,
        scopes: Sequence[str] | None,
    ) -> CreatedEmbeddingTask:
        def recover(since: float) -> CreatedEmbeddingTask | None:
            # With a caller key, the same object version and parameters count (a re-run may have re-signed
            # the URL: same Idempotency-Key, other body); without one only the exact input.
            return self._find_embedding_task(
                since - CLOCK_SKEW_SECONDS,
                video_url,
                filename,
                loose=header_key is not None,
                clip_length=clip_length,
                scopes=scopes,
            )

        result = self._transport.create(
            "POST",
            "/embed/tasks",
            files=parts,
            upload=True,
            recover=recover,
            resendable=resendable,
            idempotency_key=header_key,
        )
        if isinstance(result, CreatedEmbeddingTask):
            return result
        assert isinstance(result, httpx.Response)
        return self._parse(CreatedEmbeddingTask, result)

    def _find_embedding_task(
        self,
        window_start: float,
        video_url: str | None,
        filename: str | None,
        *,
        loose: bool,
        clip_length: float | None = None,
        scopes: Sequence[str] | None = None,
    ) -> CreatedEmbeddingTask | None:
        """Newest task created after window_start whose metadata names the same input.

        `loose` (the idempotency pre-check): same object version, not failed, and the same clip
        length / scopes when both sides state them, since such a task yields the same embeddings.
        """
        for page_number in range(1, LOOKUP_MAX_PAGES + 1):
            page = self.list_embedding_tasks(
                started_at=format_time(window_start), page=page_number, page_limit=LOOKUP_PAGE_LIMIT
            )
            for task in page.data:
                created = parse_time(task.created_at)
                if created is not None and created < window_start:
                    continue
                meta = task.video_embedding.metadata if task.video_embedding else None
                if meta is None:
                    continue
                if loose and (
                    task.status == EmbeddingTaskStatusValue.FAILED or not _same_parameters(meta, clip_length, scopes)
                ):
                    continue  # a failed or differently-configured earlier run must not be reused
                if video_url is not None and meta.input_url is not None:
                    same = (
                        (_same_object(meta.input_url) == _same_object(video_url))
                        if loose
                        else meta.input_url == video_url
                    )
                    if same:
                        return CreatedEmbeddingTask.model_validate({"_id": task.id, "recovered": True})
                if filename is not None and meta.input_filename == filename:
                    return CreatedEmbeddingTask.model_validate({"_id": task.id, "recovered": True})
            if page.is_last():
                break
        return None

    def list_embedding_tasks(self, **filters: Any) -> Page[EmbeddingTaskStatus]:
        """GET /embed/tasks. Filters: started_at, ended_at (RFC 3339), status, page, page_limit."""
        return self._get("/embed/tasks", Page[EmbeddingTaskStatus], query_params(filters))

    def iter_embedding_tasks(self, **filters: Any) -> Iterator[EmbeddingTaskStatus]:
        start = int(filters.pop("page", 1))
        return iter_pages(lambda page: self.list_embedding_tasks(**filters, page=page), start)

    def get_embedding_task_status(self, task_id: str) -> EmbeddingTaskStatus:
        return self._get(f"/embed/tasks/{task_id}/status", EmbeddingTaskStatus)

    def get_embedding_task(self, task_id: str, embedding_option: str | Sequence[str] | None = None) -> EmbeddingTask:
        options = [embedding_option] if isinstance(embedding_option, str) else embedding_option
        return self._get(f"/embed/tasks/{task_id}", EmbeddingTask, query_params({"embedding_option": options}))
