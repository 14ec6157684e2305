"""Screening against the documented media requirements (§2), before any money is spent.

Violations carry the codes the API itself uses (video_resolution_too_low, ...) so a screened
rejection and an API rejection look the same downstream. No network, no httpx.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

VIDEO_MIN_SIDE = 360
VIDEO_MAX_LONG_SIDE, VIDEO_MAX_SHORT_SIDE = 3840, 2160
VIDEO_MAX_BYTES = 2 * 1024**3
ASPECT_RATIOS = {"1:1": 1.0, "4:3": 4 / 3, "4:5": 4 / 5, "5:4": 5 / 4, "16:9": 16 / 9, "9:16": 9 / 16}
ASPECT_TOLERANCE = 0.02  # relative; encoders round dimensions (854x480 is 16:9)
# (min, max) seconds per model family; an index with both gets the tighter bounds.
DURATION_LIMITS = {"marengo": (4.0, 7200.0), "pegasus": (4.0, 3600.0)}
IMAGE_MAX_BYTES = 5 * 1024**2
IMAGE_MIN_SIDE = {"search": 64, "embed": 128}
IMAGE_FORMATS = {"jpeg", "png"}
AUDIO_MAX_BYTES = 10 * 1024**2
AUDIO_FORMATS = {"wav", "mp3", "flac", "m4a"}  # m4a: accepted by us, not listed by the API


@dataclass(frozen=True)
class RequirementViolation:
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def _family(model: str) -> str | None:
    name = model.lower()
    for family in DURATION_LIMITS:
        if name.startswith(family):
            return family
    return None


def duration_limits(models: Iterable[str]) -> tuple[float, float]:
    """Most restrictive (min, max) duration for the given models (Marengo's when none is known)."""
    bounds = [DURATION_LIMITS[f] for f in (_family(m) for m in models) if f is not None]
    if not bounds:
        bounds = [DURATION_LIMITS["marengo"]]
    return max(b[0] for b in bounds), min(b[1] for b in bounds)


def check_video(
    *,
    duration: float | None = None,
    width: int | None = None,
    height: int | None = None,
    size: int | None = None,
    models: Iterable[str] = ("marengo2.7",),
) -> list[RequirementViolation]:
    """Violations of the video rules for an index with `models`; unknown values are not judged."""
    out: list[RequirementViolation] = []
    if size is not None:
        if size <= 0:
            out.append(RequirementViolation("video_file_broken", "the file is empty"))
        elif size > VIDEO_MAX_BYTES:
            out.append(RequirementViolation("video_filesize_too_large", f"{size} bytes is over the 2 GB limit"))
    if width is not None and height is not None:
        if width <= 0 or height <= 0:
            out.append(RequirementViolation("video_file_broken", f"invalid dimensions {width}x{height}"))
        else:
            long_side, short_side = max(width, height), min(width, height)
            if short_side < VIDEO_MIN_SIDE:
                out.append(
                    RequirementViolation("video_resolution_too_low", f"{width}x{height} is below the minimum 360x360")
                )
            elif long_side > VIDEO_MAX_LONG_SIDE or short_side > VIDEO_MAX_SHORT_SIDE:
                out.append(
                    RequirementViolation(
                        "video_resolution_too_high", f"{width}x{height} is above the maximum 3840x2160"
                    )
                )
            ratio = width / height
            if not any(abs(ratio - r) / r <= ASPECT_TOLERANCE for r in ASPECT_RATIOS.values()):
                out.append(
                    RequirementViolation(
                        "video_resolution_invalid_aspect_ratio",
                        f"{width}x{height} is not one of {', '.join(ASPECT_RATIOS)}",
                    )
                )
    if duration is not None:
        low, high = duration_limits(models)
        if duration < low:
            out.append(
                RequirementViolation("video_duration_too_short", f"{duration:.1f} s is shorter than {low:.0f} s")
            )
        elif duration > high:
            out.append(RequirementViolation("video_duration_too_long", f"{duration:.1f} s is longer than {high:.0f} s"))
    return out


def check_image(
    *,
    width: int | None = None,
    height: int | None = None,
    size: int | None = None,
    format: str | None = None,
    purpose: str = "search",
) -> list[RequirementViolation]:
    """Rules for a search query image (>= 64x64) or an /embed image (>= 128x128): JPEG/PNG, <= 5 MB."""
    if purpose not in IMAGE_MIN_SIDE:
        raise ValueError(f"purpose must be one of {sorted(IMAGE_MIN_SIDE)}")
    out: list[RequirementViolation] = []
    if format is not None and _norm_format(format) not in IMAGE_FORMATS:
        out.append(RequirementViolation("unsupported_file_type", f"image format {format!r} is not JPEG or PNG"))
    if size is not None:
        if size <= 0:
            out.append(RequirementViolation("image_file_broken", "the file is empty"))
        elif size > IMAGE_MAX_BYTES:
            out.append(RequirementViolation("image_filesize_too_large", f"{size} bytes is over the 5 MB limit"))
    minimum = IMAGE_MIN_SIDE[purpose]
    if width is not None and height is not None and min(width, height) < minimum:
        out.append(
            RequirementViolation(
                "image_resolution_too_low", f"{width}x{height} is below {minimum}x{minimum} for {purpose}"
            )
        )
    return out


def check_audio(*, size: int | None = None, format: str | None = None) -> list[RequirementViolation]:
    """Rules for /embed audio: WAV/MP3/FLAC (+M4A), <= 10 MB (only ~10 s is embedded)."""
    out: list[RequirementViolation] = []
    if format is not None and _norm_format(format) not in AUDIO_FORMATS:
        out.append(
            RequirementViolation("unsupported_file_type", f"audio format {format!r} is not WAV, MP3, FLAC or M4A")
        )
    if size is not None:
        if size <= 0:
            out.append(RequirementViolation("audio_file_broken", "the file is empty"))
        elif size > AUDIO_MAX_BYTES:
            out.append(RequirementViolation("audio_filesize_too_large", f"{size} bytes is over the 10 MB limit"))
    return out


def _norm_format(value: str) -> str:
    value = value.lower().strip().lstrip(".")
    if "/" in value:  # a MIME type
        value = value.split("/", 1)[1]
    return {
        "jpg": "jpeg",
        "x-wav": "wav",
        "wave": "wav",
        "mpeg": "mp3",
        "x-flac": "flac",
        "mp4": "m4a",
        "x-m4a": "m4a",
        "aac": "m4a",
    }.get(value, value)


def sniff_format(head: bytes) -> str | None:
    """Container format from the first bytes (jpeg, png, wav, mp3, flac, m4a, mp4, mov, webm), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"M4A"):
            return "m4a"
        return "mov" if brand == b"qt  " else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None
