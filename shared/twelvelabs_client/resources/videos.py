"""Videos in an index: list, retrieve, partial update of user metadata, delete."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..encoding import query_params
from ..models.common import MetadataValue, Page
from ..models.videos import UpdateVideoRequest, Video
from ..pagination import iter_pages
from ._base import ResourceBase


class VideosMixin(ResourceBase):
    def list_videos(self, index_id: str, **filters: Any) -> Page[Video]:
        """GET /indexes/{id}/videos. Filters: page, page_limit, sort_by, sort_option, filename, duration,
        fps, width, height, size (scalars or {"gte":..,"lte":..}), created_at, updated_at, and
        user_metadata={key: value} (sent as user_metadata[key]=value, as the generated SDK does)."""
        return self._get(f"/indexes/{index_id}/videos", Page[Video], query_params(filters))

    def iter_videos(self, index_id: str, **filters: Any) -> Iterator[Video]:
        start = int(filters.pop("page", 1))
        return iter_pages(lambda page: self.list_videos(index_id, **filters, page=page), start)

    def get_video(
        self,
        index_id: str,
        video_id: str,
        embedding_option: str | Sequence[str] | None = None,
        transcription: bool = False,
    ) -> Video:
        options = [embedding_option] if isinstance(embedding_option, str) else embedding_option
        params = query_params({"embedding_option": options, "transcription": True if transcription else None})
        return self._get(f"/indexes/{index_id}/videos/{video_id}", Video, params)

    def update_video(self, index_id: str, video_id: str, user_metadata: Mapping[str, MetadataValue]) -> None:
        """PATCH: merges keys; a None value deletes that key."""
        body = UpdateVideoRequest(user_metadata=dict(user_metadata)).to_body()
        self._send_no_content("PATCH", f"/indexes/{index_id}/videos/{video_id}", body)

    def delete_video(self, index_id: str, video_id: str) -> None:
        self._send_no_content("DELETE", f"/indexes/{index_id}/videos/{video_id}")
