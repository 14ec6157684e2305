"""Search: rank an index's clips by cosine similarity to a text or image query; token-paginated results."""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from twelvelabs_emulator import vectors
from twelvelabs_emulator.clock import rfc3339
from twelvelabs_emulator.errors import ApiError
from twelvelabs_emulator.models import State, VideoRecord

CONFIDENCE_BOUNDS = (("high", 35.0), ("medium", 20.0), ("low", 8.0))
THRESHOLD_ORDER = {"high": 3, "medium": 2, "low": 1, "none": 0}
CONFIDENCE_ORDER = {"high": 3, "medium": 2, "low": 1, "extremely_low": 0}
SYSTEM_FILTER_FIELDS = {"duration", "width", "height", "size", "fps", "filename"}
# Marengo ranks every clip of the index for any query (retrieval is top-k, not a cut-off on an absolute
# similarity): a clip with no shared content (cosine ~0) still scores just above the "low" bound, so the
# default threshold keeps it, below every clip that does share content. Strongly anti-correlated clips fall
# under "low". Ordering is always the cosine's.
SCORE_FLOOR = 12.0


@dataclass(frozen=True)
class SearchQuery:
    index_id: str
    options: list[str]  # visual / audio
    vector: list[float]
    media_query: bool
    operator: str = "or"
    group_by: str = "clip"
    threshold: str = "low"
    adjust_confidence_level: float = 0.5
    sort_option: str = "score"
    page_limit: int = 10
    filter: dict[str, object] = field(default_factory=dict)
    surface: str = "classic"  # "current": no threshold, hits carry rank but no score/confidence


def parse_filter(raw: str | None) -> dict[str, object]:
    if raw is None or raw.strip() == "":
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApiError(400, "search_filter_invalid", f"The filter parameter is not valid JSON: {exc.msg}.") from exc
    if not isinstance(parsed, dict):
        raise ApiError(400, "search_filter_invalid", "The filter parameter must be a JSON object.")
    for key, cond in parsed.items():
        if key == "id":
            ok = isinstance(cond, str) or (isinstance(cond, list) and all(isinstance(v, str) for v in cond))
            if not ok:
                raise ApiError(400, "search_filter_invalid", "filter.id must be a video id or a list of video ids.")
        elif isinstance(cond, dict):
            bad = [k for k in cond if k not in ("gte", "lte", "gt", "lt")]
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in cond.values())
            if bad or not cond or not numeric:
                raise ApiError(
                    400,
                    "search_filter_invalid",
                    f"filter.{key} must be a value or an object of numeric gte/lte/gt/lt bounds.",
                )
        elif not isinstance(cond, (str, int, float, bool)):
            raise ApiError(400, "search_filter_invalid", f"filter.{key} must be a string, number, boolean or range.")
    return parsed


def _field_value(video: VideoRecord, key: str) -> object:
    if key in SYSTEM_FILTER_FIELDS:
        return getattr(video.media, key)
    return video.user_metadata.get(key)


def matches_filter(video: VideoRecord, flt: dict[str, object]) -> bool:
    for key, cond in flt.items():
        if key == "id":
            ids = [cond] if isinstance(cond, str) else cond
            if video.id not in ids:  # type: ignore[operator]
                return False
            continue
        value = _field_value(video, key)
        if isinstance(cond, dict):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return False
            for op, bound in cond.items():
                if (
                    (op == "gte" and value < bound)
                    or (op == "lte" and value > bound)
                    or (op == "gt" and value <= bound)
                    or (op == "lt" and value >= bound)
                ):
                    return False
        elif value != cond or isinstance(value, bool) != isinstance(cond, bool):
            return False
    return True


def confidence(score: float, adjust: float) -> str:
    # adjust_confidence_level 0.5 is neutral; higher is stricter (bounds scale up), lower is laxer.
    scale = 0.5 + adjust
    for name, bound in CONFIDENCE_BOUNDS:
        if score >= bound * scale:
            return name
    return "extremely_low"


def calibrated_score(sim: float) -> float:
    """0..100, monotonic in the cosine: SCORE_FLOOR at 0, 100 at 1, towards 0 for anti-correlated clips."""
    if sim >= 0:
        return round(SCORE_FLOOR + (100.0 - SCORE_FLOOR) * min(sim, 1.0), 2)
    return round(SCORE_FLOOR * max(0.0, 1.0 + sim), 2)


def rank(st: State, query: SearchQuery) -> tuple[list[dict[str, object]], int | None]:
    """All hits best first (clips, or videos with their clips), and total_inner_matches when grouped."""
    # transcription: the emulator's media carry no speech, so that option never matches anything.
    option_map = {"visual": "visual-text", "audio": "audio", "transcription": "transcription"}
    wanted = [option_map[o] for o in query.options]
    current = query.surface == "current"
    clip_hits: list[tuple[float, int, dict[str, object]]] = []
    for video in st.videos.values():
        if video.index_id != query.index_id or not matches_filter(video, query.filter):
            continue
        by_clip: dict[tuple[float, float], dict[str, float]] = {}
        for seg in video.segments:
            if seg.embedding_scope == "clip" and seg.embedding_option in wanted:
                key = (seg.start_offset_sec, seg.end_offset_sec)
                by_clip.setdefault(key, {})[seg.embedding_option] = vectors.cosine(query.vector, seg.vector)
        for (start, end), sims in by_clip.items():
            if query.operator == "and" and len(sims) < len(wanted):
                continue
            sim = min(sims.values()) if query.operator == "and" else max(sims.values())
            if current:
                clip_hits.append((sim, video.seq, {"start": start, "end": end, "video_id": video.id}))
                continue
            score = calibrated_score(sim)
            conf = confidence(score, query.adjust_confidence_level)
            if CONFIDENCE_ORDER[conf] < THRESHOLD_ORDER[query.threshold]:
                continue
            clip_hits.append(
                (sim, video.seq, {"score": score, "start": start, "end": end, "video_id": video.id, "confidence": conf})
            )
    clip_hits.sort(key=lambda h: (-h[0], h[1], h[2]["start"]))
    if query.group_by == "clip":
        return [dict(hit, rank=n) for n, (_, _, hit) in enumerate(clip_hits, start=1)], None
    grouped: dict[str, list[dict[str, object]]] = {}
    for _, _, hit in clip_hits:
        grouped.setdefault(str(hit["video_id"]), []).append(hit)
    order = list(grouped)
    if query.sort_option == "clip_count" and not current:
        order.sort(key=lambda vid: -len(grouped[vid]))
    videos: list[dict[str, object]] = [
        {"id": vid, "clips": [dict(c, rank=n) for n, c in enumerate(grouped[vid], start=1)]} for vid in order
    ]
    return videos, len(clip_hits)


@dataclass
class SearchSession:
    index_id: str
    hits: list[dict[str, object]]
    page_limit: int
    expires_at: float
    search_pool: dict[str, object]
    total_inner_matches: int | None
    grouped: bool
    page_tokens: list[str] = field(default_factory=list)


class SearchSessions:
    """Opaque page tokens (one per page) that expire after the configured TTL."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._pages: dict[str, tuple[SearchSession, int]] = {}
        self.clock = clock  # epoch seconds; tests swap in a fake clock to expire tokens without sleeping

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def create(
        self,
        index_id: str,
        hits: list[dict[str, object]],
        page_limit: int,
        pool: dict[str, object],
        total_inner_matches: int | None,
        grouped: bool,
    ) -> tuple[SearchSession, int]:
        session = SearchSession(
            index_id, hits, page_limit, self.clock() + self._ttl, pool, total_inner_matches, grouped
        )
        pages = max(1, -(-len(hits) // page_limit))
        session.page_tokens = [str(uuid.uuid4()) for _ in range(pages)]
        with self._lock:
            self._purge()
            for n, token in enumerate(session.page_tokens):
                self._pages[token] = (session, n)
        return session, 0

    def lookup(self, token: str) -> tuple[SearchSession, int]:
        with self._lock:
            found = self._pages.get(token)
        if found is None or found[0].expires_at <= self.clock():
            raise ApiError(
                400,
                "search_page_token_expired",
                f"The page token {token} has expired or is not valid; run the search again.",
            )
        return found

    def _purge(self) -> None:
        now = self.clock()
        for token in [t for t, (s, _) in self._pages.items() if s.expires_at <= now]:
            del self._pages[token]


def render_page(
    st: State, session: SearchSession, page: int, include_user_metadata: bool, with_prev: bool
) -> dict[str, object]:
    start = page * session.page_limit
    hits = copy.deepcopy(session.hits[start : start + session.page_limit])  # the session's hits stay untouched
    if include_user_metadata:
        for hit in hits:
            video = st.videos.get(str(hit.get("video_id") or hit.get("id")))
            meta = dict(video.user_metadata) if video else {}
            hit["user_metadata"] = meta
            clips = hit.get("clips", [])
            for clip in clips if isinstance(clips, list) else []:
                clip["user_metadata"] = meta
    page_info: dict[str, object] = {
        "limit_per_page": session.page_limit,
        "total_results": len(session.hits),
        "page_expires_at": rfc3339(datetime.fromtimestamp(session.expires_at, tz=UTC)),
    }
    if session.total_inner_matches is not None:
        page_info["total_inner_matches"] = session.total_inner_matches
    if page + 1 < len(session.page_tokens):
        page_info["next_page_token"] = session.page_tokens[page + 1]
    if with_prev and page > 0:
        page_info["prev_page_token"] = session.page_tokens[page - 1]
    return {"search_pool": session.search_pool, "data": hits, "page_info": page_info}


def search_pool(st: State, index_id: str) -> dict[str, object]:
    videos = [v for v in st.videos.values() if v.index_id == index_id]
    return {
        "total_count": len(videos),
        "total_duration": round(sum(v.media.duration for v in videos), 3),
        "index_id": index_id,
    }


__all__ = ["SearchQuery", "SearchSessions", "parse_filter", "rank", "render_page", "search_pool"]
