"""Base model and the shapes shared by several endpoints (page envelopes, usage)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

# JSON scalar values allowed in user_metadata.
MetadataValue = str | int | float | bool | None


class TLModel(BaseModel):
    """Tolerant base: unknown fields kept (extra="allow"), `model_*` fields allowed, aliases optional.

    defer_build keeps import time low: validators are built on first use, not at import.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        protected_namespaces=(),
        defer_build=True,
    )


class Request(BaseModel):
    """Base of request bodies: strict about our own mistakes (unknown fields are a bug here)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=(), defer_build=True)

    def to_body(self) -> dict[str, Any]:
        """JSON body without the unset optional fields (the API applies its own defaults)."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


class PageInfo(TLModel):
    page: int | None = None
    limit_per_page: int | None = None
    total_page: int | None = None
    total_results: int | None = None


T = TypeVar("T")


class Page(TLModel, Generic[T]):
    """`{data: [...], page_info: {...}}` of the page-number lists."""

    data: list[T] = Field(default_factory=list)
    page_info: PageInfo | None = None

    def is_last(self) -> bool:
        """True when no further page can hold items (empty page or page >= total_page)."""
        if not self.data:
            return True
        info = self.page_info
        if info is not None and info.page is not None and info.total_page is not None:
            return info.page >= info.total_page
        return False


class Usage(TLModel):
    output_tokens: int | None = None
    input_tokens: int | None = None
