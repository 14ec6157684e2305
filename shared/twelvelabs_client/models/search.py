"""Search (§9)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import TLModel


class SearchHit(TLModel):
    """A clip hit, or with group_by=video a video hit (`id` + `clips`)."""

    score: float | None = None
    start: float | None = None
    end: float | None = None
    video_id: str | None = None
    confidence: str | None = None
    rank: int | None = None
    thumbnail_url: str | None = None
    transcription: str | None = None
    user_metadata: dict[str, Any] | None = None
    id: str | None = None
    clips: list[SearchHit] | None = None


class SearchPageInfo(TLModel):
    limit_per_page: int | None = None
    total_results: int | None = None
    page_expires_at: str | None = None
    next_page_token: str | None = None
    prev_page_token: str | None = None
    total_inner_matches: int | None = None


class SearchPool(TLModel):
    total_count: int | None = None
    total_duration: float | None = None
    index_id: str | None = None


class SearchPage(TLModel):
    data: list[SearchHit] = Field(default_factory=list)
    page_info: SearchPageInfo | None = None
    search_pool: SearchPool | None = None

    @property
    def next_page_token(self) -> str | None:
        return self.page_info.next_page_token if self.page_info else None
