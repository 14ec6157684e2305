"""Indexed assets: an asset indexed into an index (current surface; 2026 reference §3).

Creation answers 202 + Location. Duplicate-free: the POST carries an Idempotency-Key derived from
the caller's key; with a key the client first looks for an indexed asset of the same asset in the
index (list items carry `asset_id`, documented), and after an ambiguous failure for one created
since the attempt, before any re-send.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from ..encoding import query_params
from ..idempotency import derive_idempotency_key
from ..models.common import MetadataValue, Page
from ..pagination import iter_pages
from ..timeutil import parse_time
from ._base import CLOCK_SKEW_SECONDS, LOOKUP_MAX_PAGES, LOOKUP_PAGE_LIMIT, ResourceBase

if TYPE_CHECKING:
    from ..models.assets import CreatedIndexedAsset, IndexedAsset

DEFAULT_INDEXING_WAIT_SECONDS = 3600.0


class IndexedAssetsMixin(ResourceBase):
    def create_indexed_asset(
        self,
        index_id: str,
        asset_id: str,
        *,
        enable_video_stream: bool | None = None,
        user_metadata: Mapping[str, MetadataValue] | None = None,
        idempotency_key: str | None = None,
    ) -> CreatedIndexedAsset:
        """POST /indexes/{id}/indexed-assets (the asset must be `ready`). Returns `{id, asset_id, location}`."""
        from ..models.assets import CreatedIndexedAsset

        if not asset_id:
            raise ValueError("asset_id is required")
        if idempotency_key is not None:
            existing = self.find_indexed_asset(index_id, asset_id)
            if existing is not None:
                return existing
        body: dict[str, Any] = {"asset_id": asset_id}
        if enable_video_stream is not None:
            body["enable_video_stream"] = enable_video_stream
        if user_metadata:
            body["user_metadata"] = dict(user_metadata)

        def recover(since: float) -> CreatedIndexedAsset | None:
            return self.find_indexed_asset(index_id, asset_id, since=since)

        path = f"/indexes/{index_id}/indexed-assets"
        result = self._transport.create(
            "POST",
            path,
            json=body,
            recover=recover,
            idempotency_key=derive_idempotency_key(idempotency_key, "POST " + path, asset_id),
        )
        if isinstance(result, CreatedIndexedAsset):
            return result
        assert isinstance(result, httpx.Response)
        return self._parse_created(CreatedIndexedAsset, result, location=result.headers.get("location"))

    def find_indexed_asset(
        self, index_id: str, asset_id: str, *, since: float | None = None
    ) -> CreatedIndexedAsset | None:
        """The (not failed) indexed asset of `asset_id` in the index, newest first; with `since` only one
        created after it (minus clock skew), the oldest such."""
        from ..models.assets import CreatedIndexedAsset, IndexedAssetStatus

        window = since - CLOCK_SKEW_SECONDS if since is not None else None
        match: CreatedIndexedAsset | None = None
        for page_number in range(1, LOOKUP_MAX_PAGES + 1):
            page = self.list_indexed_assets(
                index_id, sort_by="created_at", sort_option="desc", page=page_number, page_limit=LOOKUP_PAGE_LIMIT
            )
            for item in page.data:
                created = parse_time(item.created_at)
                if window is not None and created is not None and created < window:
                    return match
                if item.asset_id != asset_id or item.status == IndexedAssetStatus.FAILED:
                    continue
                found = CreatedIndexedAsset.model_validate(
                    {"_id": item.id, "asset_id": item.asset_id, "recovered": True}
                )
                if window is None:
                    return found
                match = found
            if page.is_last():
                break
        return match

    def list_indexed_assets(self, index_id: str, **filters: Any) -> Page[IndexedAsset]:
        """GET /indexes/{id}/indexed-assets. Filters: page, page_limit, sort_by, sort_option, status (list),
        filename, duration/fps/width/height/size ({"gte":..,"lte":..}), created_at, updated_at, and
        user_metadata={key: value} (sent as user_metadata[key]=value)."""
        from ..models.assets import IndexedAsset

        return self._get(f"/indexes/{index_id}/indexed-assets", Page[IndexedAsset], query_params(filters))

    def iter_indexed_assets(self, index_id: str, **filters: Any) -> Iterator[IndexedAsset]:
        start = int(filters.pop("page", 1))
        return iter_pages(lambda page: self.list_indexed_assets(index_id, **filters, page=page), start)

    def get_indexed_asset(
        self,
        index_id: str,
        indexed_asset_id: str,
        embedding_option: str | Sequence[str] | None = None,
        transcription: bool = False,
    ) -> IndexedAsset:
        from ..models.assets import IndexedAsset

        options = [embedding_option] if isinstance(embedding_option, str) else embedding_option
        params = query_params({"embedding_option": options, "transcription": True if transcription else None})
        return self._get(f"/indexes/{index_id}/indexed-assets/{indexed_asset_id}", IndexedAsset, params)

    def update_indexed_asset(
        self, index_id: str, indexed_asset_id: str, user_metadata: Mapping[str, MetadataValue]
    ) -> None:
        """PATCH: merges keys; a None value deletes that key."""
        self._send_no_content(
            "PATCH", f"/indexes/{index_id}/indexed-assets/{indexed_asset_id}", {"user_metadata": dict(user_metadata)}
        )

    def delete_indexed_asset(self, index_id: str, indexed_asset_id: str) -> None:
        self._send_no_content("DELETE", f"/indexes/{index_id}/indexed-assets/{indexed_asset_id}")

    def wait_for_indexed_asset(
        self,
        index_id: str,
        indexed_asset_id: str,
        *,
        timeout: float = DEFAULT_INDEXING_WAIT_SECONDS,
        initial_interval: float = 2.0,
        max_interval: float = 30.0,
        factor: float = 1.5,
    ) -> IndexedAsset:
        """Poll until `ready` (returned) or `failed` (ProcessingFailedError); bounded like wait_for_asset."""
        from ..models.assets import IndexedAssetStatus

        return self._wait(
            lambda: self.get_indexed_asset(index_id, indexed_asset_id),
            status=lambda a: a.status,
            terminal=IndexedAssetStatus.TERMINAL,
            failed=frozenset({IndexedAssetStatus.FAILED}),
            what=f"indexed asset {indexed_asset_id}",
            timeout=timeout,
            initial_interval=initial_interval,
            max_interval=max_interval,
            factor=factor,
        )
