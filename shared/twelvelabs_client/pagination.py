"""Iterators over the page-number lists and the token-paged search results."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from .models.common import Page
from .models.search import SearchHit, SearchPage

T = TypeVar("T")

# Hard stop against a server that never returns an empty page nor a total_page.
MAX_PAGES = 10_000


def iter_pages(fetch: Callable[[int], Page[T]], start_page: int = 1) -> Iterator[T]:
    """Yield items page by page; stop on an empty page or when page >= total_page."""
    page_number = start_page
    for _ in range(MAX_PAGES):
        page = fetch(page_number)
        yield from page.data
        if page.is_last():
            return
        page_number += 1


def iter_search_hits(first: SearchPage, fetch: Callable[[str], SearchPage]) -> Iterator[SearchHit]:
    """Yield hits of the first page, then follow next_page_token until it is absent."""
    page = first
    seen: set[str] = set()
    while True:
        yield from page.data
        token = page.next_page_token
        if not token or token in seen or not page.data:
            return
        seen.add(token)  # a repeated token would loop forever
        page = fetch(token)
