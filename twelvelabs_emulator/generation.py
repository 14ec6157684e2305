"""Deterministic "generated" text (gist, summaries, chapters, highlights, open-ended analysis) built from a
video's real metadata and content tokens, and JSON that conforms to a requested JSON schema."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from pathlib import PurePosixPath

from twelvelabs_emulator.clock import rfc3339
from twelvelabs_emulator.errors import invalid
from twelvelabs_emulator.models import ClipContent, VideoRecord

COLOURS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "grey")
TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    return len(TOKEN.findall(text))


def subject(video: VideoRecord) -> str:
    stem = PurePosixPath(video.media.filename).stem
    words = [w for w in re.split(r"[^A-Za-z0-9]+", stem) if w and not w.isdigit()]
    return " ".join(words) if words else "the footage"


def _top(tokens: dict[str, float], pool: tuple[str, ...]) -> list[str]:
    return [t for t, _ in sorted(tokens.items(), key=lambda kv: -kv[1]) if t in pool]


def describe_clip(clip: ClipContent) -> str:
    colours = _top(clip.visual, COLOURS) or ["muted"]
    light = "bright" if "bright" in clip.visual else "dark" if "dark" in clip.visual else "evenly lit"
    motion = "with movement" if "moving" in clip.visual else "mostly still"
    if "silence" in clip.audio:
        sound = "in silence"
    else:
        sound = f"over a {'low' if 'low' in clip.audio else 'high'}-pitched tone"
    return f"{' and '.join(colours[:2])} {light} imagery {motion} {sound}"


def dominant_colours(video: VideoRecord) -> list[str]:
    totals: dict[str, float] = {}
    for clip in video.clips:
        for token, weight in clip.visual.items():
            if token in COLOURS:
                totals[token] = totals.get(token, 0.0) + weight
    return _top(totals, COLOURS) or ["muted"]


def title(video: VideoRecord) -> str:
    return f"{subject(video).title()} in {dominant_colours(video)[0].title()}"


def topics(video: VideoRecord) -> list[str]:
    return [subject(video).title(), f"{dominant_colours(video)[0].title()} Visuals"]


def hashtags(video: VideoRecord) -> list[str]:
    tags = ["#" + w.lower() for w in subject(video).split()] + ["#" + dominant_colours(video)[0]]
    return list(dict.fromkeys(tags))


def summary(video: VideoRecord, prompt: str | None) -> str:
    m = video.media
    parts = [f"This {m.duration:.1f}-second {m.width}x{m.height} video ({m.filename}) shows {subject(video)}."]
    parts += [f"From {c.start:.1f} s to {c.end:.1f} s it shows {describe_clip(c)}." for c in video.clips]
    if prompt:
        parts.append(f"Requested focus: {prompt.strip()}")
    return " ".join(parts)


def _sections(video: VideoRecord) -> list[ClipContent]:
    return video.clips or [ClipContent(start=0.0, end=video.media.duration, visual={}, audio={})]


def chapters(video: VideoRecord) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for n, clip in enumerate(_sections(video)):
        start, end = round(clip.start, 3), round(min(clip.end, video.media.duration), 3)
        out.append(
            {
                "chapter_number": n,
                "start_sec": start,
                "end_sec": end,
                "start": int(start),
                "end": int(end),
                "chapter_title": f"Part {n + 1}: {describe_clip(clip).split(' imagery')[0].title()}",
                "chapter_summary": f"{subject(video).capitalize()}: {describe_clip(clip)}.",
            }
        )
    return out


def highlights(video: VideoRecord) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for clip in _sections(video):
        middle = (clip.start + clip.end) / 2
        start, end = round(max(clip.start, middle - 1.0), 3), round(min(clip.end, middle + 1.0), 3)
        out.append(
            {
                "start_sec": start,
                "end_sec": end,
                "start": int(start),
                "end": int(end),
                "highlight": f"{subject(video).title()} at {start:.1f} s",
                "highlight_summary": f"A moment of {describe_clip(clip)}.",
            }
        )
    return out


def answer(video: VideoRecord, prompt: str) -> str:
    return f'In response to "{prompt.strip()}": {summary(video, None)}'


def truncate(text: str, max_tokens: int | None) -> tuple[str, str, int]:
    """(text, finish_reason, output_tokens) with the text cut at `max_tokens` tokens."""
    tokens = count_tokens(text)
    if max_tokens is None or tokens <= max_tokens:
        return text, "stop", tokens
    spans = [m.end() for m in TOKEN.finditer(text)]
    return text[: spans[max_tokens - 1]], "length", max_tokens


# --- JSON schema (best effort over the documented subset) ---------------------------------------------


def check_schema(schema: object, path: str = "json_schema") -> None:
    """Reject keywords the API rejects (minLength/maxLength) and non-object schemas."""
    if isinstance(schema, dict):
        for banned in ("minLength", "maxLength"):
            if banned in schema:
                raise invalid("response_format", f"{path}.{banned} is not supported.")
        for key, value in schema.items():
            check_schema(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for n, value in enumerate(schema):
            check_schema(value, f"{path}[{n}]")


def schema_value(
    schema: dict[str, object], video: VideoRecord, name: str, root: dict[str, object], depth: int = 0
) -> object:
    if depth > 12:
        return None
    if "$ref" in schema:
        ref = str(schema["$ref"])
        target: object = root
        for part in ref.lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return schema_value(target if isinstance(target, dict) else {}, video, name, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]  # type: ignore[index]
    for combo in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combo)
        if isinstance(options, list) and options and isinstance(options[0], dict):
            return schema_value(options[0], video, name, root, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {
            key: schema_value(sub if isinstance(sub, dict) else {}, video, key, root, depth + 1)
            for key, sub in (props.items() if isinstance(props, dict) else [])
        }
    if kind == "array":
        items = schema.get("items", {})
        items = items if isinstance(items, dict) else {}
        if items.get("type") == "string" and not items.get("enum") and not items.get("format"):
            return hashtags(video) if "tag" in name.lower() else [subject(video), dominant_colours(video)[0]]
        return [schema_value(items, video, name, root, depth + 1)]
    if kind in ("integer", "number"):
        return _number(schema, video, name, kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, video, name)


def _number(schema: dict[str, object], video: VideoRecord, name: str, integer: bool) -> float | int:
    lowered = name.lower()
    value: float = (
        video.media.duration
        if "duration" in lowered or "length" in lowered
        else video.media.width
        if "width" in lowered
        else video.media.height
        if "height" in lowered
        else float(len(video.clips) or 1)
    )
    lo = schema.get("minimum", schema.get("exclusiveMinimum"))
    hi = schema.get("maximum", schema.get("exclusiveMaximum"))
    if isinstance(lo, (int, float)):
        value = max(value, lo + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0))
    if isinstance(hi, (int, float)):
        value = min(value, hi - (1 if "exclusiveMaximum" in schema and "maximum" not in schema else 0))
    return int(value) if integer else round(float(value), 3)


def _string(schema: dict[str, object], video: VideoRecord, name: str) -> str:
    fmt = schema.get("format")
    if fmt == "uuid":
        return str(uuid.UUID(hashlib.md5(video.id.encode()).hexdigest()))
    if fmt == "date-time":
        return rfc3339(video.indexed_at)
    if fmt == "date":
        return video.indexed_at.date().isoformat()
    if fmt == "time":
        return video.indexed_at.strftime("%H:%M:%S")
    lowered = name.lower()
    if "title" in lowered or "name" in lowered:
        return title(video)
    if "topic" in lowered or "category" in lowered:
        return topics(video)[0]
    if "colou" in lowered or "color" in lowered:
        return dominant_colours(video)[0]
    if "file" in lowered:
        return video.media.filename
    return summary(video, None)


def structured(video: VideoRecord, response_format: dict[str, object]) -> str:
    schema = response_format.get("json_schema")
    if not isinstance(schema, dict):
        raise invalid("response_format", "json_schema must be a JSON schema object.")
    check_schema(schema)
    return json.dumps(schema_value(schema, video, "result", schema))
