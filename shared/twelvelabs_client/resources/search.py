"""Search (multipart POST, read-only so retried like a GET) and token-paged follow-up pages."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..encoding import form_fields, query_params
from ..models.search import SearchHit, SearchPage
from ..pagination import iter_search_hits
from ..uploads import FileSource, open_upload
from ._base import ResourceBase


class SearchMixin(ResourceBase):
    def search(
        self,
        index_id: str,
        *,
        search_options: Sequence[str],
        query_text: str | None = None,
        query_media_type: str | None = None,
        query_media_url: str | None = None,
        query_media_file: FileSource | None = None,
        group_by: str | None = None,
        operator: str | None = None,
        threshold: str | None = None,
        page_limit: int | None = None,
        filter: Mapping[str, Any] | str | None = None,
        include_user_metadata: bool | None = None,
        sort_option: str | None = None,
        adjust_confidence_level: float | None = None,
        transcription_options: Sequence[str] | None = None,
        query_media_urls: Sequence[str] | None = None,
    ) -> SearchPage:
        """POST /search (multipart). Both surfaces: `threshold`, `sort_option`, `adjust_confidence_level`
        are classic only (removed in SDK 1.2.2: leave them None against the current API); current adds
        search option `transcription` with `transcription_options` (lexical, semantic) and up to 10 image
        queries (`query_media_urls`, repeated form field). Current hits carry `rank` (1 = best), no score."""
        if not search_options:
            raise ValueError("search_options must name at least one option (visual, audio, transcription)")
        urls = [*([query_media_url] if query_media_url is not None else []), *(query_media_urls or [])]
        if len(urls) + (query_media_file is not None) > 10:
            raise ValueError("at most 10 query images")
        if query_text is None and not urls and query_media_file is None:
            raise ValueError("pass query_text or a query media (url or file)")
        if transcription_options and "transcription" not in search_options:
            raise ValueError("transcription_options need the transcription search option")
        if (urls or query_media_file is not None) and query_media_type is None:
            query_media_type = "image"  # the only media type the API knows
        parts: list[Any] = form_fields(
            {
                "index_id": index_id,
                "search_options": list(search_options),
                "query_text": query_text,
                "query_media_type": query_media_type,
                "query_media_url": urls or None,
                "transcription_options": list(transcription_options) if transcription_options else None,
                "group_by": group_by,
                "operator": operator,
                "threshold": threshold,
                "page_limit": page_limit,
                # filter is a stringified JSON text part
                "filter": json.dumps(filter, separators=(",", ":")) if isinstance(filter, Mapping) else filter,
                "include_user_metadata": include_user_metadata,
                "sort_option": sort_option,
                "adjust_confidence_level": adjust_confidence_level,
            }
        )
        if query_media_file is None:
            response = self._transport.request("POST", "/search", files=parts)
        else:
            with open_upload(query_media_file, "query.jpg") as upload:
                parts.append(("query_media_file", upload.part()))
                response = self._transport.request("POST", "/search", files=parts, upload=True)
        return self._parse(SearchPage, response)

    def get_search_page(self, page_token: str, include_user_metadata: bool | None = None) -> SearchPage:
        """GET /search/{token}; an expired token raises PageTokenExpiredError."""
        params = query_params({"include_user_metadata": include_user_metadata})
        return self._get(f"/search/{page_token}", SearchPage, params)

    def iter_search(self, index_id: str, **kwargs: Any) -> Iterator[SearchHit]:
        """All hits of a search, following next_page_token (same arguments as `search`)."""
        first = self.search(index_id, **kwargs)
        include = kwargs.get("include_user_metadata")
        return iter_search_hits(first, lambda token: self.get_search_page(token, include))
