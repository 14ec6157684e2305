"""Data connectors (`/connections…`, current surface; 2026 reference §13): OAuth connections to a
provider account (Google Drive), picker tokens, redirect URIs and file imports into assets.

Imports are safe to re-send: the platform dedupes per account and file (`action: skipped`), so a
retry after a lost answer returns the existing assets instead of fetching twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from ..encoding import query_params
from ..errors import ConflictError
from ..idempotency import derive_idempotency_key
from ..models.common import Page
from ..pagination import iter_pages
from ._base import LOOKUP_MAX_PAGES, LOOKUP_PAGE_LIMIT, ResourceBase

if TYPE_CHECKING:
    from ..models.connections import (
        AuthorizeResult,
        Connection,
        ConnectionImport,
        ConnectionImportResult,
        PickerToken,
        RedirectUri,
    )

MAX_IMPORT_ITEMS = 100


class ConnectionsMixin(ResourceBase):
    def authorize_connection(
        self, redirect_uri: str, *, provider: str = "google_drive", custom_id: str | None = None
    ) -> AuthorizeResult:
        """POST /connections:authorize -> `{authorize_url, state}`; send the user to authorize_url.
        Creates nothing until the user consents, so it is retried like a GET."""
        from ..models.connections import AuthorizeResult

        body: dict[str, Any] = {"provider": provider, "redirect_uri": redirect_uri}
        if custom_id is not None:
            body["custom_id"] = custom_id
        return self._parse(AuthorizeResult, self._transport.request("POST", "/connections:authorize", json=body))

    def list_connections(self, **filters: Any) -> Page[Connection]:
        from ..models.connections import Connection

        return self._get("/connections", Page[Connection], query_params(filters))

    def iter_connections(self, **filters: Any) -> Iterator[Connection]:
        start = int(filters.pop("page", 1))
        return iter_pages(lambda page: self.list_connections(**filters, page=page), start)

    def get_connection(self, connection_id: str) -> Connection:
        from ..models.connections import Connection

        return self._get(f"/connections/{connection_id}", Connection)

    def delete_connection(self, connection_id: str) -> None:
        """Revokes at the provider and deletes tokens; imported assets are kept."""
        self._send_no_content("DELETE", f"/connections/{connection_id}")

    def create_picker_token(self, connection_id: str) -> PickerToken:
        """POST …/picker-token (short-lived provider token for the file picker; ConflictError if not active)."""
        from ..models.connections import PickerToken

        return self._parse(PickerToken, self._transport.request("POST", f"/connections/{connection_id}/picker-token"))

    def create_redirect_uri(self, redirect_uri: str) -> RedirectUri:
        """POST /connections/redirect-uris (201). Registering an already registered URI (409, e.g. after a
        lost answer) returns the registered one (`recovered=True`)."""
        from ..models.connections import RedirectUri

        try:
            result = self._transport.create(
                "POST",
                "/connections/redirect-uris",
                json={"redirect_uri": redirect_uri},
                recover=lambda since: self._find_redirect_uri(redirect_uri),
            )
        except ConflictError:
            found = self._find_redirect_uri(redirect_uri)
            if found is None:
                raise
            return found
        if isinstance(result, RedirectUri):
            return result
        assert isinstance(result, httpx.Response)
        return self._parse(RedirectUri, result)

    def _find_redirect_uri(self, redirect_uri: str) -> RedirectUri | None:
        for page_number in range(1, LOOKUP_MAX_PAGES + 1):
            page = self.list_redirect_uris(page=page_number, page_limit=LOOKUP_PAGE_LIMIT)
            for item in page.data:
                if item.redirect_uri == redirect_uri:
                    return item.model_copy(update={"recovered": True})
            if page.is_last():
                break
        return None

    def list_redirect_uris(self, **filters: Any) -> Page[RedirectUri]:
        from ..models.connections import RedirectUri

        return self._get("/connections/redirect-uris", Page[RedirectUri], query_params(filters))

    def delete_redirect_uri(self, redirect_uri_id: str) -> None:
        self._send_no_content("DELETE", f"/connections/redirect-uris/{redirect_uri_id}")

    def create_connection_import(
        self, connection_id: str, source_ids: Sequence[str], *, idempotency_key: str | None = None
    ) -> ConnectionImportResult:
        """POST …/imports (202): 1-100 distinct provider file ids -> assets (per-item action/status/error)."""
        from ..models.connections import ConnectionImportResult

        ids = list(source_ids)
        if not 1 <= len(ids) <= MAX_IMPORT_ITEMS:
            raise ValueError(f"import 1-{MAX_IMPORT_ITEMS} files per call (got {len(ids)})")
        if len(set(ids)) != len(ids):
            raise ValueError("source_ids must be unique within one import")
        body = {"items": [{"source_id": s} for s in ids]}
        path = f"/connections/{connection_id}/imports"
        # Server-side dedupe per account and file makes a re-send return the same assets (`skipped`):
        # after an ambiguous failure it is re-sent (same Idempotency-Key) rather than looked up.
        result = self._transport.create(
            "POST",
            path,
            json=body,
            recover=lambda since: None,
            idempotency_key=derive_idempotency_key(idempotency_key, "POST " + path, *ids),
        )
        assert isinstance(result, httpx.Response)
        return self._parse(ConnectionImportResult, result)

    def list_connection_imports(self, connection_id: str, **filters: Any) -> Page[ConnectionImport]:
        from ..models.connections import ConnectionImport

        return self._get(f"/connections/{connection_id}/imports", Page[ConnectionImport], query_params(filters))

    def iter_connection_imports(self, connection_id: str, **filters: Any) -> Iterator[ConnectionImport]:
        start = int(filters.pop("page", 1))
        return iter_pages(lambda page: self.list_connection_imports(connection_id, **filters, page=page), start)

    def get_connection_import(self, connection_id: str, import_id: str) -> ConnectionImport:
        from ..models.connections import ConnectionImport

        return self._get(f"/connections/{connection_id}/imports/{import_id}", ConnectionImport)
