"""Pegasus 1.5/1.6 analysis of the current surface (sync `/analyze` and `/analyze/tasks` share this):
request models, media sources (url / asset_id / base64_string, images), the documented input and
`response_format` rules, and content-derived output (reusing generation.py's texts)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.wrappers import Request

from twelvelabs_emulator import content, generation, media, requirements, vectors
from twelvelabs_emulator.clock import utcnow
from twelvelabs_emulator.downloads import download, url_filename
from twelvelabs_emulator.errors import ApiError, MediaProblem, invalid, not_provided
from twelvelabs_emulator.httpkit import validation_error
from twelvelabs_emulator.models import ClipContent, MediaInfo, VideoRecord

if TYPE_CHECKING:
    from twelvelabs_emulator.services import Services

MODELS = ("pegasus1.5", "pegasus1.6")
MAX_TOKENS_RANGE = (512, 98_304)
DEFAULT_MAX_TOKENS = 4096
DEFAULT_TEMPERATURE = 0.2
BASE64_MAX_BYTES = 36 * 1024 * 1024
BODY_LIMIT = 52 * 1024 * 1024  # 36 MB of media as base64 (x 4/3) plus the rest of the request
IMAGE_MAX_BYTES = 20 * 1024 * 1024
IMAGE_MAX_PIXELS = 16_777_216
MAX_LONG, MAX_SHORT = 5184, 2160  # the short side's minimum is requirements.MIN_SIDE (360)
MAX_ASPECT = 2.4
SYNC_MAX_SECONDS = 3600.0
MIN_WINDOW_SECONDS = 1.0
ANALYZE_CLIP_SECONDS = 6.0
NAME = re.compile(r"^[A-Za-z0-9_]+$")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
PLACEHOLDER = re.compile(r"<@([^>]*)>")
TIMESTAMP_FORMATS = ("seconds", "hh:mm:ss", "hh:mm:ss.fff")
UNSUPPORTED_422 = {
    "minLength": "String length constraints (minLength) are not supported.",
    "maxLength": "String length constraints (maxLength) are not supported.",
    "additionalProperties": "The additionalProperties keyword is not supported.",
    "uniqueItems": "The uniqueItems keyword is not supported.",
    "maxItems": "The maxItems keyword is not supported.",
}


class In(BaseModel):
    # Fields newer SDKs send that this emulator does not model are ignored, like the real API does.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class VideoSourceIn(In):
    type: Literal["url", "asset_id", "base64_string"]
    url: str | None = None
    asset_id: str | None = None
    base64_string: str | None = None


class ImageIn(In):
    name: str = Field(min_length=1)
    url: str | None = None
    asset_id: str | None = None
    base64_string: str | None = None


class MediaSourceIn(In):
    name: str = Field(min_length=1)
    media_type: Literal["image"]
    url: str | None = None
    asset_id: str | None = None
    base64_string: str | None = None


class PromptV2In(In):
    input_text: str = Field(min_length=1)
    media_sources: list[MediaSourceIn] | None = Field(default=None, max_length=4)


class ResponseFormatIn(In):
    type: Literal["json_schema", "segment_definitions"]
    json_schema: dict[str, Any] | None = None
    segment_definitions: list[dict[str, Any]] | None = None
    segment_time_format: Literal["seconds", "hh:mm:ss", "hh:mm:ss.fff"] | None = None


class AnalyzeIn(In):
    """Fields shared by `POST /analyze` and `POST /analyze/tasks`."""

    model_name: Literal["pegasus1.5", "pegasus1.6"] = "pegasus1.5"
    video: VideoSourceIn | None = None
    image: list[ImageIn] | None = Field(default=None, min_length=1, max_length=20)
    prompt: str | None = None
    prompt_v2: PromptV2In | None = None
    temperature: float = Field(default=DEFAULT_TEMPERATURE, ge=0, le=1)
    response_format: ResponseFormatIn | None = None
    start_time: float | None = Field(default=None, ge=0)
    end_time: float | None = Field(default=None, gt=0)


class SyncAnalyzeIn(AnalyzeIn):
    max_tokens: int | None = None
    stream: bool = True


def read_json_object(request: Request) -> dict[str, Any]:
    """The JSON object body. Base64 media (<= 36 MB decoded) make these bodies large: up to BODY_LIMIT."""
    if request.content_length is not None and request.content_length > BODY_LIMIT:
        raise ApiError(
            413,
            "request_too_large",
            f"The request body is {request.content_length} bytes; the maximum "
            f"is {BODY_LIMIT} bytes (base64 media up to {BASE64_MAX_BYTES} bytes decoded).",
        )
    raw = request.get_data(cache=False)
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise invalid("body", f"the request body is not valid JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise invalid("body", "the request body must be a JSON object.")
    return data


def check_removed(data: dict[str, Any]) -> None:
    """`video_id` and `pegasus1.2` left the API in SDK 1.3.2."""
    if "video_id" in data:
        raise invalid(
            "video_id",
            "it is no longer supported (removed with Pegasus 1.2); send "
            "video: {type: asset_id|url|base64_string} instead.",
        )
    if data.get("model_name") == "pegasus1.2":
        raise invalid("model_name", "pegasus1.2 is no longer supported; use pegasus1.5 or pegasus1.6.")
    if "model_name" in data and data["model_name"] not in MODELS:
        raise invalid("model_name", f"{data['model_name']!r} is not one of {', '.join(MODELS)}.")


def validate(model: type[Any], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from exc


# --- media -------------------------------------------------------------------------------------


@dataclass
class AnalysedVideo:
    """A video source resolved, probed and cut into content clips (the file itself is not kept)."""

    source: dict[str, object]  # video_source as the task object shows it (no system_metadata)
    info: MediaInfo
    clips: list[ClipContent]
    content_hash: str
    window: tuple[float, float]

    def record(self) -> VideoRecord:
        """The clips as a VideoRecord, so generation.py's texts apply unchanged."""
        now = utcnow()
        return VideoRecord(
            id=self.content_hash[:24],
            seq=0,
            index_id="",
            task_id="",
            created_at=now,
            updated_at=now,
            indexed_at=now,
            media=self.info,
            clips=self.clips,
            content_hash=self.content_hash,
            file_path="",
        )


@dataclass
class AnalysedImage:
    name: str
    tokens: dict[str, float]
    source: dict[str, object] = field(default_factory=dict)  # {name, media_type, url?|asset_id?}


def _exactly_one(obj: BaseModel, field_name: str) -> tuple[str, str]:
    given = [(k, getattr(obj, k)) for k in ("url", "asset_id", "base64_string") if getattr(obj, k) is not None]
    if len(given) != 1:
        raise invalid(field_name, "give exactly one of url, asset_id, base64_string.")
    key, value = given[0]
    if not value:
        raise invalid(f"{field_name}.{key}", "it is empty.")
    return key, value


def _asset_media(s: Services, asset_id: str) -> tuple[Path, str]:
    """(path, filename) of a `ready` asset, through the assets module (404/400 when missing or not ready)."""
    from twelvelabs_emulator.assets import ready_asset_media  # deferred: assets imports the services graph

    found = ready_asset_media(s, asset_id)
    return Path(found.path), found.filename


def _decode_base64(value: str, field_name: str, limit: int, target: Path) -> None:
    text = value.split(",", 1)[1] if value.startswith("data:") and "," in value else value
    text = re.sub(r"\s+", "", text)
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid(field_name, "it is not valid base64.") from exc
    if len(raw) > limit:
        raise invalid(field_name, f"the decoded file is {len(raw)} bytes; the maximum is {limit}.")
    target.write_bytes(raw)


def fetch_source(s: Services, kind: str, value: str, field_name: str, scratch: Path, limit: int) -> tuple[Path, str]:
    """A url / asset_id / base64_string media source as a local file; returns (path, filename)."""
    if kind == "url":
        path, _, _ = download(
            value,
            f"{field_name}.url",
            scratch,
            limit,
            s.rt.config.download_timeout_seconds,
            too_large_code="parameter_invalid",
        )
        return path, url_filename(value)
    if kind == "asset_id":
        return _asset_media(s, value)
    target = scratch / f"base64-{hashlib.sha256(value[:4096].encode()).hexdigest()[:12]}"
    _decode_base64(value, f"{field_name}.base64_string", min(limit, BASE64_MAX_BYTES), target)
    return target, "video.mp4"


def head_digest(path: Path, limit: int = 8 * 1024 * 1024) -> str:
    """sha256 of the first `limit` bytes: a content key for the vectors' salt without reading a huge file whole."""
    with path.open("rb") as fh:
        return hashlib.sha256(fh.read(limit)).hexdigest()


def check_analyze_video(info: MediaInfo, max_seconds: float) -> None:
    """Pegasus 1.5/1.6 input requirements: 1 s .. max, 360x360 .. 5184x2160, aspect 1:2.4 .. 2.4:1."""
    requirements.check_resolution(info, MAX_LONG, MAX_SHORT)
    w, h = info.width, info.height
    if max(w, h) / min(w, h) > MAX_ASPECT + 1e-6:
        raise MediaProblem(
            "video_resolution_invalid_aspect_ratio",
            f"The aspect ratio of {info.filename} ({w}x{h}) is outside 1:2.4 .. 2.4:1.",
        )
    if info.duration < MIN_WINDOW_SECONDS:
        raise MediaProblem(
            "video_duration_too_short",
            f"The video {info.filename} is {info.duration:.2f} s long; the minimum is {MIN_WINDOW_SECONDS:.0f} s.",
        )
    if info.duration > max_seconds:
        raise MediaProblem(
            "video_duration_too_long",
            f"The video {info.filename} is {info.duration:.2f} s long; the maximum is {max_seconds:.0f} s.",
        )


def window(info: MediaInfo, start: float | None, end: float | None) -> tuple[float, float]:
    lo = 0.0 if start is None else start
    hi = info.duration if end is None else end
    if start is not None and start >= info.duration:
        raise invalid("start_time", f"it must be less than the video duration ({info.duration} s).")
    if end is not None and end > info.duration + 1e-3:
        raise invalid("end_time", f"it must be at most the video duration ({info.duration} s).")
    if hi <= lo:
        raise invalid("end_time", "it must be greater than start_time.")
    if hi - lo < MIN_WINDOW_SECONDS:
        raise invalid("end_time", f"the window (end_time - start_time) must be at least {MIN_WINDOW_SECONDS:.0f} s.")
    return lo, min(hi, info.duration)


def analyse_video(
    s: Services,
    source: VideoSourceIn,
    start: float | None,
    end: float | None,
    max_seconds: float,
    clip_seconds: float = ANALYZE_CLIP_SECONDS,
) -> AnalysedVideo:
    kind, value = _exactly_one(source, "video")
    if kind != source.type:
        raise invalid("video", f"type is {source.type} but the source given is {kind}.")
    with tempfile.TemporaryDirectory(dir=s.rt.upload_dir) as scratch_dir:
        path, filename = fetch_source(s, kind, value, "video", Path(scratch_dir), s.rt.config.max_video_bytes)
        try:
            info = media.probe_video(path, filename)
            check_analyze_video(info, max_seconds)
            lo, hi = window(info, start, end)
            clips = content.analyse(path, info, clip_seconds, lo, hi)
        except MediaProblem as problem:
            raise ApiError(
                400, problem.code if problem.code.startswith("video_") else "parameter_invalid", problem.message
            ) from problem
        digest = head_digest(path)
    shown: dict[str, object] = {"type": kind}
    if kind != "base64_string":
        shown[kind] = value
    return AnalysedVideo(source=shown, info=info, clips=clips, content_hash=digest, window=(lo, hi))


def analyse_image(s: Services, image: ImageIn | MediaSourceIn, field_name: str, scratch: Path) -> AnalysedImage:
    kind, value = _exactly_one(image, field_name)
    if kind == "url":
        parts = urlsplit(value)
        # The service rejects HTTP image URLs. Loopback hosts (which the real service could never reach anyway)
        # may use http, so tests and the local stack need no TLS server.
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
            raise invalid(f"{field_name}.url", "it must be an HTTPS URL (HTTP image URLs are rejected).")
    path, _ = fetch_source(s, kind, value, field_name, scratch, IMAGE_MAX_BYTES)
    try:
        tokens = media.image_file_tokens(path, field_name)
    except MediaProblem as problem:
        raise invalid(field_name, problem.message) from problem
    shown: dict[str, object] = {"name": image.name, "media_type": "image"}
    if kind != "base64_string":
        shown[kind] = value
    return AnalysedImage(name=image.name, tokens=tokens, source=shown)


def check_placeholders(text: str, names: list[str], field_name: str) -> None:
    """`<@name>` must name declared images, and reference all of them or none."""
    used = set(PLACEHOLDER.findall(text))
    unknown = used - set(names)
    if unknown:
        raise invalid(field_name, f"it references undeclared images: {', '.join(sorted(unknown))}.")
    if used and used != set(names):
        missing = sorted(set(names) - used)
        raise invalid(field_name, f"reference every image or none of them; not referenced: {', '.join(missing)}.")


@dataclass
class Inputs:
    """A validated analysis request: exactly one of video / images, and the prompt text."""

    video: AnalysedVideo | None
    images: list[AnalysedImage]
    prompt: str
    prompt_images: list[AnalysedImage]


def check_prompt_shape(body: AnalyzeIn, require_prompt: bool = True) -> None:
    if body.video is None and body.image is None:
        raise not_provided("video or image")
    if body.video is not None and body.image is not None:
        raise invalid("image", "video and image are mutually exclusive.")
    if body.image is not None and body.model_name != "pegasus1.6":
        raise invalid("image", f"image input requires model_name pegasus1.6 (got {body.model_name}).")
    if body.prompt is not None and body.prompt_v2 is not None:
        raise invalid("prompt_v2", "prompt and prompt_v2 are mutually exclusive.")
    if body.image is not None and body.prompt_v2 is not None:
        raise invalid("prompt_v2", "image and prompt_v2 are mutually exclusive.")
    if require_prompt and body.prompt is None and body.prompt_v2 is None:
        raise not_provided("prompt or prompt_v2")
    if body.prompt is not None and not body.prompt.strip():
        raise invalid("prompt", "it is empty.")
    if body.image is not None:
        if body.prompt is None:
            raise not_provided("prompt")
        names = [i.name for i in body.image]
        for n, name in enumerate(names):
            if not NAME.match(name):
                raise invalid(f"image[{n}].name", "it may contain only letters, digits and underscores.")
        if len(set(names)) != len(names):
            raise invalid("image", "image names must be unique.")
        check_placeholders(body.prompt, names, "prompt")
        if body.start_time is not None or body.end_time is not None:
            raise invalid("start_time", "start_time/end_time apply to video input only.")
    if body.prompt_v2 is not None:
        sources = body.prompt_v2.media_sources or []
        names = [m.name for m in sources]
        if len(set(names)) != len(names):
            raise invalid("prompt_v2.media_sources", "names must be unique.")
        check_placeholders(body.prompt_v2.input_text, names, "prompt_v2.input_text")


def resolve_inputs(s: Services, body: AnalyzeIn, max_seconds: float) -> Inputs:
    video = analyse_video(s, body.video, body.start_time, body.end_time, max_seconds) if body.video else None
    images: list[AnalysedImage] = []
    prompt_images: list[AnalysedImage] = []
    with tempfile.TemporaryDirectory(dir=s.rt.upload_dir) as scratch_dir:
        for n, image in enumerate(body.image or []):
            images.append(analyse_image(s, image, f"image[{n}]", Path(scratch_dir)))
        if body.prompt_v2 is not None:
            for n, source in enumerate(body.prompt_v2.media_sources or []):
                prompt_images.append(analyse_image(s, source, f"prompt_v2.media_sources[{n}]", Path(scratch_dir)))
    prompt = body.prompt if body.prompt is not None else body.prompt_v2.input_text if body.prompt_v2 else ""
    return Inputs(video=video, images=images, prompt=prompt, prompt_images=prompt_images)


def check_max_tokens(value: int | None, low: int = MAX_TOKENS_RANGE[0], high: int = MAX_TOKENS_RANGE[1]) -> int:
    if value is None:
        return DEFAULT_MAX_TOKENS
    if isinstance(value, bool) or value < low or value > high:
        raise invalid("max_tokens", f"it must be between {low} and {high}.")
    return value


# --- JSON schema rules (§4) --------------------------------------------------------------------


def check_json_schema(schema: object) -> None:
    """422 for the unsupported keywords, 400 parameter_invalid for the other rule breaks."""
    if not isinstance(schema, dict):
        raise invalid("response_format.json_schema", "it must be a JSON schema object.")
    _walk(schema, "response_format.json_schema", depth=0, in_array_item=False, in_combo=False)


def _walk(node: object, path: str, depth: int, in_array_item: bool, in_combo: bool, name: str = "") -> None:
    if isinstance(node, list):
        for n, item in enumerate(node):
            _walk(item, f"{path}[{n}]", depth, in_array_item, in_combo, name)
        return
    if not isinstance(node, dict):
        return
    for keyword, message in UNSUPPORTED_422.items():
        if keyword in node:
            raise ApiError(422, "parameter_invalid", f"{path}.{keyword}: {message} Remove it from your schema.")
    for combo in ("oneOf", "allOf"):
        if combo in node:
            raise invalid(f"{path}.{combo}", "only anyOf is supported for schema composition.")
    if "minItems" in node and node["minItems"] not in (0, 1):
        raise invalid(f"{path}.minItems", "minItems accepts only 0 or 1.")
    kind = node.get("type")
    if kind == "timestamp":
        fmt = node.get("format")
        if fmt not in TIMESTAMP_FORMATS:
            raise invalid(
                f"{path}.format",
                "format is required for timestamp type; allowed values: " + ", ".join(TIMESTAMP_FORMATS),
            )
        if in_combo or depth > 2 or (depth == 2 and not in_array_item):
            raise invalid(path, "timestamp is allowed at the top level or inside objects one level within an array.")
    if name in ("start_time", "end_time"):
        fmt = node.get("format")
        if kind in ("boolean", "object", "array", "null") or (kind == "string" and fmt is not None):
            raise invalid(path, f"{name} may be declared as number, integer, string (no format) or timestamp only.")
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            for prop, sub in value.items():
                _walk(sub, f"{path}.properties.{prop}", depth + 1, in_array_item, in_combo, prop)
        elif key == "items":
            _walk(value, f"{path}.items", depth, True, in_combo, "")
        elif key == "anyOf":
            _walk(value, f"{path}.anyOf", depth, in_array_item, True, name)
        elif key == "$defs" and isinstance(value, dict):
            for def_name, sub in value.items():
                _walk(sub, f"{path}.$defs.{def_name}", 99, False, True, "")


def format_time(seconds: float, fmt: str) -> float | str:
    if fmt == "seconds":
        return round(seconds, 3)
    seconds = max(0.0, seconds)
    if fmt == "hh:mm:ss":
        whole = round(seconds)
        return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    millis = round(seconds * 1000)
    hours, minutes = millis // 3_600_000, millis % 3_600_000 // 60_000
    return f"{hours:02d}:{minutes:02d}:{millis % 60_000 // 1000:02d}.{millis % 1000:03d}"


def _ordered(schema: dict[str, Any]) -> list[tuple[str, Any]]:
    """Declaration order, except that an optional first property yields to the first required one."""
    props = schema.get("properties", {})
    items = list(props.items()) if isinstance(props, dict) else []
    required = schema.get("required", [])
    if items and isinstance(required, list) and items[0][0] not in required:
        first = next((i for i, (k, _) in enumerate(items) if k in required), None)
        if first is not None:
            items.insert(0, items.pop(first))
    return items


def structured(video: VideoRecord, schema: dict[str, Any], prompt: str) -> str:
    """JSON text that validates against `schema`, derived from the clips (properties in declaration order)."""
    return json.dumps(_value(schema, video, "result", schema, None, prompt, 0), separators=(", ", ": "))


def _value(
    schema: dict[str, Any],
    video: VideoRecord,
    name: str,
    root: dict[str, Any],
    clip: ClipContent | None,
    prompt: str,
    depth: int,
) -> object:
    if depth > 12:
        return None
    if "$ref" in schema:
        target: object = root
        for part in str(schema["$ref"]).lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return _value(target if isinstance(target, dict) else {}, video, name, root, clip, prompt, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return _pick_enum(schema["enum"], video, clip)
    if isinstance(schema.get("anyOf"), list) and schema["anyOf"] and isinstance(schema["anyOf"][0], dict):
        return _value(schema["anyOf"][0], video, name, root, clip, prompt, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    span = (
        (clip.start, clip.end)
        if clip
        else (video.clips[0].start, video.clips[-1].end)
        if video.clips
        else (0.0, video.media.duration)
    )
    if name in ("start_time", "end_time"):
        seconds = span[0] if name == "start_time" else span[1]
        if kind == "timestamp":
            return format_time(seconds, str(schema.get("format", "seconds")))
        if kind == "integer":
            return round(seconds)
        if kind == "number":
            return round(seconds, 3)
        if kind == "string":
            return format_time(seconds, "hh:mm:ss.fff")
    if kind == "timestamp":
        return format_time(span[0], str(schema.get("format", "seconds")))
    if kind == "object":
        return {
            key: _value(sub if isinstance(sub, dict) else {}, video, key, root, clip, prompt, depth + 1)
            for key, sub in _ordered(schema)
        }
    if kind == "array":
        items = schema.get("items", {})
        items = items if isinstance(items, dict) else {}
        item_kind = items.get("type", "object" if "properties" in items else "string")
        if item_kind == "object" or "$ref" in items:
            # one element per clip of the analysed window: timestamps and descriptions follow the video
            return [_value(items, video, name, root, c, prompt, depth + 1) for c in video.clips] or [
                _value(items, video, name, root, None, prompt, depth + 1)
            ]
        if item_kind == "string" and not items.get("enum") and not items.get("format"):
            return (
                generation.hashtags(video)
                if "tag" in name.lower()
                else [generation.subject(video), generation.dominant_colours(video)[0]]
            )
        return [_value(items, video, name, root, clip, prompt, depth + 1)]
    if kind in ("integer", "number"):
        return generation._number(schema, video, name, kind == "integer")
    if kind == "boolean":
        return _boolean(video, name, clip)
    if kind == "null":
        return None
    return _string(schema, video, name, clip, prompt)


def _pick_enum(options: list[Any], video: VideoRecord, clip: ClipContent | None) -> Any:
    """The enum value naming what the footage shows (a colour, motion, sound), else the first."""
    tokens = set(clip.visual) | set(clip.audio) if clip else {t for c in video.clips for t in (*c.visual, *c.audio)}
    related = set(vectors.expand(dict.fromkeys(tokens, 1.0)))
    for option in options:
        if isinstance(option, str) and set(vectors.words(option)) & related:
            return option
    return options[0]


def _boolean(video: VideoRecord, name: str, clip: ClipContent | None) -> bool:
    tokens = set(clip.visual) | set(clip.audio) if clip else {t for c in video.clips for t in (*c.visual, *c.audio)}
    related = set(vectors.expand(dict.fromkeys(tokens, 1.0)))
    words = set(vectors.words(name.replace("_", " "))) - {"has", "is", "contains"}
    return bool(words & related) if words else True


def _string(schema: dict[str, Any], video: VideoRecord, name: str, clip: ClipContent | None, prompt: str) -> str:
    text = _plain_string(schema, video, name, clip, prompt)
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise invalid(
                "response_format.json_schema", f"pattern {pattern!r} is not a valid regular expression."
            ) from exc
        if not compiled.search(text):
            return sample_pattern(pattern, text)
    return text


def sample_pattern(pattern: str, hint: str) -> str:
    """A string matching `pattern`, built from its parse tree (literals kept, classes -> a member, repeats -> their
    minimum, at least once); falls back to `hint` when the pattern uses constructs this does not cover."""
    from re import _parser as parser  # type: ignore[attr-defined]  # the stdlib's own regex parser

    def build(items: Any) -> str:
        out = []
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(arg))
            elif name == "ANY":
                out.append("a")
            elif name == "IN":
                out.append(_member(arg))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, _high, sub_items = arg
                out.append(build(sub_items) * max(low, 1))
            elif name == "SUBPATTERN":
                out.append(build(arg[-1]))
            elif name == "BRANCH":
                out.append(build(arg[1][0]))
            elif name == "AT":
                continue
            else:
                raise ValueError(name)
        return "".join(out)

    try:
        candidate = build(parser.parse(pattern))
    except (ValueError, TypeError, re.error):
        return hint
    return candidate if re.search(pattern, candidate) else hint


def _member(items: list[tuple[Any, Any]]) -> str:
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            return chr(arg)
        if name == "RANGE":
            return chr(arg[0])
        if name == "CATEGORY":
            return {"CATEGORY_DIGIT": "0", "CATEGORY_SPACE": " "}.get(str(arg), "a")
        if name == "NEGATE":
            continue
    return "a"


def _plain_string(schema: dict[str, Any], video: VideoRecord, name: str, clip: ClipContent | None, prompt: str) -> str:
    fmt = schema.get("format")
    if fmt in ("uuid", "date-time", "date", "time"):
        return generation._string(schema, video, name)
    lowered = name.lower()
    if clip is not None and any(w in lowered for w in ("desc", "summary", "event", "caption", "text", "scene")):
        return f"{generation.subject(video).capitalize()}: {generation.describe_clip(clip)}."
    if any(w in lowered for w in ("title", "name", "topic", "category", "colou", "color", "file")):
        return generation._string(schema, video, name)
    if clip is not None:
        return generation.describe_clip(clip)
    return generation.summary(video, prompt or None)


# --- output --------------------------------------------------------------------------------------


def describe_images(images: list[AnalysedImage], prompt: str) -> str:
    parts = [f'In response to "{prompt.strip()}":']
    for image in images:
        colours = [t for t, _ in sorted(image.tokens.items(), key=lambda kv: -kv[1]) if t in generation.COLOURS]
        light = "bright" if "bright" in image.tokens else "dark" if "dark" in image.tokens else "evenly lit"
        parts.append(
            f"Image {image.name} is a {light} still image dominated by {' and '.join(colours[:2]) or 'muted'} tones."
        )
    return " ".join(parts)


def generate_text(inputs: Inputs, response_format: ResponseFormatIn | None) -> str:
    if inputs.video is not None:
        record = inputs.video.record()
        if response_format is not None and response_format.json_schema is not None:
            return structured(record, response_format.json_schema, inputs.prompt)
        text = generation.answer(record, inputs.prompt)
        if inputs.prompt_images:
            text += " " + describe_images(inputs.prompt_images, "the reference images").split(":", 1)[1].strip()
        return text
    text = describe_images(inputs.images, inputs.prompt)
    if response_format is not None and response_format.json_schema is not None:
        fake = VideoRecord(
            id="0" * 24,
            seq=0,
            index_id="",
            task_id="",
            created_at=utcnow(),
            updated_at=utcnow(),
            indexed_at=utcnow(),
            media=MediaInfo(filename="images", duration=0.0, width=0, height=0, fps=0.0, size=0, has_audio=False),
            clips=[ClipContent(start=0.0, end=0.0, visual=i.tokens, audio={}) for i in inputs.images],
            content_hash="0",
            file_path="",
        )
        return structured(fake, response_format.json_schema, inputs.prompt)
    return text


def input_tokens(inputs: Inputs) -> int:
    """A plausible input count: the prompt plus ~70 tokens per second of video (or 260 per image)."""
    visual = round(inputs.video.info.duration * 70) if inputs.video else 0
    return generation.count_tokens(inputs.prompt) + visual + 260 * (len(inputs.images) + len(inputs.prompt_images))


LENGTH_WARNING = (
    "The response reached the maximum response length (max_tokens); the partial output is returned "
    "and may be incomplete."
)
