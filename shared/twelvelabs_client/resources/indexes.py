"""Indexes: list, create (with lost-answer recovery by name), retrieve, rename, delete."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from ..encoding import query_params
from ..errors import ConflictError
from ..models.common import Page
from ..models.indexes import CreatedIndex, CreateIndexRequest, Index, IndexModel, UpdateIndexRequest
from ..pagination import iter_pages
from ..timeutil import parse_time
from ._base import CLOCK_SKEW_SECONDS, ResourceBase


def _index_filters(filters: dict[str, Any]) -> list[tuple[str, str]]:
    options = filters.get("model_options")
    if isinstance(options, (list, tuple)):
        filters = {**filters, "model_options": ",".join(options)}  # documented as comma-separated
    return query_params(filters)


class IndexesMixin(ResourceBase):
    def list_indexes(self, **filters: Any) -> Page[Index]:
        """GET /indexes. Filters: page, page_limit, sort_by, sort_option, index_name, model_options,
        model_family, created_at, updated_at."""
        return self._get("/indexes", Page[Index], _index_filters(filters))

    def iter_indexes(self, **filters: Any) -> Iterator[Index]:
        start = int(filters.pop("page", 1))
        return iter_pages(lambda page: self.list_indexes(**filters, page=page), start)

    def create_index(
        self, index_name: str, models: Sequence[IndexModel | dict[str, Any]], addons: Sequence[str] | None = None
    ) -> CreatedIndex:
        """POST /indexes. A lost answer is resolved by looking the name up (names are unique)."""
        body = CreateIndexRequest(
            index_name=index_name,
            models=[m if isinstance(m, IndexModel) else IndexModel.model_validate(m) for m in models],
            addons=list(addons) if addons is not None else None,
        ).model_dump(mode="json", exclude_none=True)
        # IndexModel allows extras; keep only what the API takes.
        body["models"] = [{"model_name": m["model_name"], "model_options": m["model_options"]} for m in body["models"]]

        def recover(since: float) -> CreatedIndex | None:
            found = self.find_index_by_name(index_name)
            if found is None:
                return None
            created = parse_time(found.created_at)
            if created is not None and created < since - CLOCK_SKEW_SECONDS:
                return None  # an older index of that name: not ours (create will raise the conflict)
            return CreatedIndex.model_validate({"_id": found.id, "recovered": True})

        result = self._transport.create("POST", "/indexes", json=body, recover=recover)
        if isinstance(result, CreatedIndex):
            return result
        assert isinstance(result, httpx.Response)
        return self._parse(CreatedIndex, result)

    def get_or_create_index(
        self, index_name: str, models: Sequence[IndexModel | dict[str, Any]], addons: Sequence[str] | None = None
    ) -> CreatedIndex:
        """create_index, but an existing index of that name is returned instead of raising the conflict."""
        try:
            return self.create_index(index_name, models, addons)
        except ConflictError as exc:
            if exc.code != "index_name_already_exists":
                raise
            found = self.find_index_by_name(index_name)
            if found is None:
                raise
            return CreatedIndex.model_validate({"_id": found.id})

    def find_index_by_name(self, index_name: str) -> Index | None:
        """The index with exactly this name (the filter may be a substring match server-side)."""
        for index in self.iter_indexes(index_name=index_name, page_limit=50):
            if index.index_name == index_name:
                return index
        return None

    def get_index(self, index_id: str) -> Index:
        return self._get(f"/indexes/{index_id}", Index)

    def update_index(self, index_id: str, index_name: str) -> None:
        """PUT /indexes/{id}: only the name is mutable."""
        self._send_no_content("PUT", f"/indexes/{index_id}", UpdateIndexRequest(index_name=index_name).to_body())

    def delete_index(self, index_id: str) -> None:
        """DELETE /indexes/{id} (removes all its videos)."""
        self._send_no_content("DELETE", f"/indexes/{index_id}")
