"""Screening before any money is spent: size, real file type (first bytes), duration and resolution."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError

from video_pipeline.media_probe import S3RangeReader, probe_iso_bmff
from video_pipeline.media_sniff import SNIFF_BYTES, SniffedType, image_dimensions, sniff
from video_pipeline.models.events import S3ObjectRef
from video_pipeline.models.jobs import MediaKind

MAX_VIDEO_BYTES = 2 * 1024**3
SUPPORTED_IMAGE_FORMATS = {"jpeg", "png"}
SUPPORTED_AUDIO_FORMATS = {"wav", "mp3", "flac", "m4a"}
PROBED_VIDEO_FORMATS = {"mp4", "mov", "3gp"}
# S3 answers these when the object named by the event is no longer there as named (deleted or overwritten).
_STALE_OBJECT_CODES = {"NoSuchKey", "NoSuchVersion", "PreconditionFailed", "412", "404"}

Decision = Literal["accept", "reject", "ignore"]


@dataclass(frozen=True)
class Screening:
    decision: Decision
    kind: MediaKind | None = None
    media_format: str | None = None
    code: str | None = None
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _reject(code: str, message: str, *, kind: MediaKind | None = None, fmt: str | None = None) -> Screening:
    return Screening("reject", kind=kind, media_format=fmt, code=code, message=message)


def is_ignored(key: str, ignore_prefixes: list[str]) -> bool:
    return any(key.startswith(prefix) for prefix in ignore_prefixes)


def is_outside_suffixes(key: str, key_suffixes: list[str]) -> bool:
    """True when a suffix filter is configured and the key ends with none of its suffixes."""
    return bool(key_suffixes) and not key.lower().endswith(tuple(s.lower() for s in key_suffixes))


def screen_object(
    obj: S3ObjectRef,
    s3: Any,
    *,
    video_models: list[str],
) -> Screening:
    """Decide what to do with a new object. Costs at most a few ranged GETs; never downloads the file."""
    from twelvelabs_client import requirements

    size = obj.size if obj.size is not None else _head_size(obj, s3)
    if size is None:
        return Screening("ignore", message="the object no longer exists")
    if size == 0:
        return _reject("empty_object", f"{obj.s3_uri} is empty (0 bytes)")
    if size > MAX_VIDEO_BYTES:
        return _reject(
            "object_too_large", f"{obj.s3_uri} is {size} bytes; TwelveLabs accepts at most {MAX_VIDEO_BYTES} bytes"
        )
    reader = S3RangeReader(s3, obj.bucket, obj.key, size, etag=obj.etag, version_id=obj.version_id)
    try:
        head = reader.read(0, min(SNIFF_BYTES, size))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _STALE_OBJECT_CODES:
            return Screening("ignore", message=f"the object changed or was deleted since the event ({exc})")
        raise
    sniffed = sniff(head)
    reader = S3RangeReader(s3, obj.bucket, obj.key, size, etag=obj.etag, version_id=obj.version_id, head=head)
    if sniffed.family == "video":
        return _screen_video(obj, size, sniffed, reader, video_models, requirements)
    if sniffed.family == "image":
        return _screen_image(obj, size, sniffed, head, requirements)
    if sniffed.family == "audio":
        return _screen_audio(obj, size, sniffed, requirements)
    return _reject(
        "not_a_video",
        f"{obj.s3_uri} is not a video, image or audio file (its first bytes match no known media format)",
    )


def _head_size(obj: S3ObjectRef, s3: Any) -> int | None:
    params: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key}
    if obj.version_id:
        params["VersionId"] = obj.version_id
    try:
        return int(s3.head_object(**params)["ContentLength"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _STALE_OBJECT_CODES:
            return None
        raise


def _screen_video(
    obj: S3ObjectRef, size: int, sniffed: SniffedType, reader: S3RangeReader, models: list[str], requirements: Any
) -> Screening:
    details: dict[str, Any] = {}
    if sniffed.format in PROBED_VIDEO_FORMATS:
        try:
            probe = probe_iso_bmff(reader)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _STALE_OBJECT_CODES:
                return Screening("ignore", message=f"the object changed or was deleted since the event ({exc})")
            raise
        if probe is not None:
            details = {"duration": probe.duration_seconds, "width": probe.width, "height": probe.height}
    violations = requirements.check_video(
        duration=details.get("duration"),
        width=details.get("width"),
        height=details.get("height"),
        size=size,
        models=models,
    )
    if violations:
        first = violations[0]
        message = "; ".join(v.message for v in violations)
        return _reject(first.code, f"{obj.s3_uri}: {message}", kind="video", fmt=sniffed.format)
    return Screening("accept", kind="video", media_format=sniffed.format, details=details)


def _screen_image(obj: S3ObjectRef, size: int, sniffed: SniffedType, head: bytes, requirements: Any) -> Screening:
    if sniffed.format not in SUPPORTED_IMAGE_FORMATS:
        return _reject(
            "unsupported_media_type",
            f"{obj.s3_uri} is a {sniffed.format} image; only JPEG and PNG images are embedded",
            kind="image",
            fmt=sniffed.format,
        )
    dims = image_dimensions(head, sniffed.format)
    violations = requirements.check_image(
        width=dims[0] if dims else None,
        height=dims[1] if dims else None,
        size=size,
        format=sniffed.format,
        purpose="embed",
    )
    if violations:
        return _reject(
            violations[0].code,
            f"{obj.s3_uri}: " + "; ".join(v.message for v in violations),
            kind="image",
            fmt=sniffed.format,
        )
    details = {"width": dims[0], "height": dims[1]} if dims else {}
    return Screening("accept", kind="image", media_format=sniffed.format, details=details)


def _screen_audio(obj: S3ObjectRef, size: int, sniffed: SniffedType, requirements: Any) -> Screening:
    if sniffed.format not in SUPPORTED_AUDIO_FORMATS:
        return _reject(
            "unsupported_media_type",
            f"{obj.s3_uri} is {sniffed.format} audio; only WAV, MP3, M4A and FLAC are embedded",
            kind="audio",
            fmt=sniffed.format,
        )
    violations = requirements.check_audio(size=size, format=sniffed.format)
    if violations:
        return _reject(
            violations[0].code,
            f"{obj.s3_uri}: " + "; ".join(v.message for v in violations),
            kind="audio",
            fmt=sniffed.format,
        )
    return Screening("accept", kind="audio", media_format=sniffed.format)
