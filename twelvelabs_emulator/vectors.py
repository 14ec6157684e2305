"""The embedding space: deterministic 1024-float vectors derived from content tokens.

Every token (a word, a colour name, "tone", ...) maps to a fixed pseudo-random unit vector seeded by the
sha256 of the token. A media segment's vector is the L2-normalised weighted sum of its tokens' vectors
plus a small component seeded by the segment's content hash (so different clips differ); a text's vector
is the same sum over its lower-cased words. Text, image, audio and video therefore share one space and
cosine similarity ranks the blue video's clips first for "blue ocean".
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

DIMENSIONS = 1024  # Marengo 2.7 (classic /embed, /embed/tasks, index segments)
MARENGO3_DIMENSIONS = 512  # Marengo 3.0 answers (/embed-v2, /embed and indexed assets on the current surface)
CONTENT_SALT_WEIGHT = 0.15

# Colour tokens pull in a few related words at a lower weight, so "ocean" finds blue footage.
RELATED = {
    "blue": ("ocean", "sea", "water", "sky", "waves"),
    "green": ("forest", "trees", "grass", "nature", "park"),
    "grey": ("city", "street", "road", "concrete", "traffic"),
    "yellow": ("sun", "light", "taxi", "gold"),
    "white": ("snow", "clouds", "light"),
    "black": ("night", "dark", "shadow"),
    "red": ("fire", "red", "warning"),
    "orange": ("sunset", "fire", "autumn"),
    "brown": ("wood", "earth", "soil"),
    "tone": ("music", "sound", "beep", "audio"),
    "silence": ("quiet", "silent", "mute"),
    "moving": ("motion", "movement", "action"),
    "still": ("static", "calm"),
}
RELATED_WEIGHT = 0.35
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "and",
        "or",
        "with",
        "for",
        "from",
        "by",
        "is",
        "are",
        "was",
        "be",
        "this",
        "that",
        "it",
        "its",
        "as",
        "into",
        "over",
        "under",
        "show",
        "shows",
        "showing",
        "video",
        "clip",
        "scene",
        "me",
        "find",
    ]
)
WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=8192)
def _seeded_unit(seed_text: str, dims: int = DIMENSIONS) -> tuple[float, ...]:
    rng = random.Random(hashlib.sha256(seed_text.encode("utf-8")).digest())
    raw = [rng.gauss(0.0, 1.0) for _ in range(dims)]
    norm = math.sqrt(sum(x * x for x in raw))
    return tuple(x / norm for x in raw)


def token_vector(token: str, dims: int = DIMENSIONS) -> tuple[float, ...]:
    return _seeded_unit("token:" + token, dims)


def normalise(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0:
        return vector
    return [x / norm for x in vector]


def words(text: str) -> list[str]:
    """Lower-cased content words of a text (stopwords dropped)."""
    return [w for w in WORD.findall(text.lower()) if w not in STOPWORDS]


def expand(tokens: Mapping[str, float]) -> dict[str, float]:
    """Add the related words of colour/sound tokens at a lower weight."""
    out = dict(tokens)
    for token, weight in tokens.items():
        for related in RELATED.get(token, ()):
            out[related] = out.get(related, 0.0) + weight * RELATED_WEIGHT
    return out


def embed_tokens(tokens: Mapping[str, float], salt: str | None = None, dims: int = DIMENSIONS) -> list[float]:
    """Normalised weighted sum of token vectors, plus a small content-seeded component when `salt` is given."""
    acc = [0.0] * dims
    for token, weight in tokens.items():
        if weight == 0:
            continue
        vec = token_vector(token, dims)
        for i in range(dims):
            acc[i] += weight * vec[i]
    acc = normalise(acc)
    if salt is not None:
        extra = _seeded_unit("salt:" + salt, dims)
        acc = normalise([a + CONTENT_SALT_WEIGHT * e for a, e in zip(acc, extra, strict=True)])
    return acc


def text_tokens(text: str) -> dict[str, float]:
    tokens: dict[str, float] = {}
    for word in words(text):
        tokens[word] = tokens.get(word, 0.0) + 1.0
    return tokens


def embed_text(text: str, dims: int = DIMENSIONS) -> list[float]:
    tokens = text_tokens(text)
    if not tokens:  # only stopwords/punctuation: still a deterministic vector
        return list(_seeded_unit("text:" + text, dims))
    return embed_tokens(tokens, dims=dims)


def mean_vector(vectors: Iterable[list[float]]) -> list[float]:
    acc: list[float] = []
    count = 0
    for vec in vectors:
        if not acc:
            acc = [0.0] * len(vec)
        count += 1
        for i in range(len(vec)):
            acc[i] += vec[i]
    return normalise(acc) if count else [0.0] * DIMENSIONS


def cosine(a: list[float], b: list[float]) -> float:
    """Both vectors are unit length, so the dot product is the cosine."""
    return sum(x * y for x, y in zip(a, b, strict=True))


def rounded(vector: list[float]) -> list[float]:
    return [round(x, 6) for x in vector]


def marengo3(vector: list[float]) -> list[float]:
    """A Marengo 3.0 (512-d) vector: the 1024-d content vector folded in half and re-normalised. Every 512-d
    answer (embed v1/v2, indexed assets, videos) uses this one map, so they all share one space."""
    if len(vector) <= MARENGO3_DIMENSIONS:
        return vector
    half = MARENGO3_DIMENSIONS
    return rounded(normalise([vector[i] + vector[i + half] for i in range(half)]))
