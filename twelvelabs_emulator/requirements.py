"""The documented video requirements (Marengo 2.7 / Pegasus 1.2 era); the most restrictive model wins."""

from __future__ import annotations

from twelvelabs_emulator.errors import MediaProblem
from twelvelabs_emulator.models import MediaInfo

MIN_SIDE, MAX_WIDTH, MAX_HEIGHT = 360, 3840, 2160
ASPECT_RATIOS = {
    "1:1": 1.0,
    "4:3": 4 / 3,
    "3:4": 3 / 4,
    "4:5": 4 / 5,
    "5:4": 5 / 4,
    "16:9": 16 / 9,
    "9:16": 9 / 16,
    "17:9": 17 / 9,
    "9:17": 9 / 17,
}
ASPECT_TOLERANCE = 0.02
# model name prefix -> (min, max) duration in seconds
DURATION_LIMITS = {"marengo": (4.0, 7200.0), "pegasus": (4.0, 3600.0)}


def duration_limits(model_names: list[str]) -> tuple[float, float]:
    lows, highs = [4.0], [7200.0]
    for name in model_names:
        for family, (low, high) in DURATION_LIMITS.items():
            if name.startswith(family):
                lows.append(low)
                highs.append(high)
    return max(lows), min(highs)


def check_resolution(media: MediaInfo, max_long: int, max_short: int) -> None:
    """`video_resolution_too_low` below MIN_SIDE on the short side, `_too_high` beyond max_long x max_short
    (either orientation)."""
    w, h = media.width, media.height
    if min(w, h) < MIN_SIDE:
        raise MediaProblem(
            "video_resolution_too_low",
            f"The resolution of {media.filename} is {w}x{h}; the minimum is {MIN_SIDE}x{MIN_SIDE}.",
        )
    if max(w, h) > max_long or min(w, h) > max_short:
        raise MediaProblem(
            "video_resolution_too_high",
            f"The resolution of {media.filename} is {w}x{h}; the maximum is {max_long}x{max_short}.",
        )


def check_video(media: MediaInfo, model_names: list[str], max_bytes: int) -> None:
    """Raise MediaProblem with the API's code for the first requirement the video breaks."""
    if media.size > max_bytes:
        raise MediaProblem(
            "video_filesize_too_large",
            f"The video file {media.filename} is {media.size} bytes; the maximum is {max_bytes} bytes.",
        )
    check_resolution(media, MAX_WIDTH, MAX_HEIGHT)
    w, h = media.width, media.height
    ratio = w / h
    if not any(abs(ratio - r) / r <= ASPECT_TOLERANCE for r in ASPECT_RATIOS.values()):
        raise MediaProblem(
            "video_resolution_invalid_aspect_ratio",
            f"The aspect ratio of {media.filename} ({w}x{h}) is not supported; use one of "
            + ", ".join(ASPECT_RATIOS)
            + ".",
        )
    low, high = duration_limits(model_names)
    if media.duration < low:
        raise MediaProblem(
            "video_duration_too_short",
            f"The video {media.filename} is {media.duration:.2f} s long; the minimum is {low:.0f} s.",
        )
    if media.duration > high:
        raise MediaProblem(
            "video_duration_too_long",
            f"The video {media.filename} is {media.duration:.2f} s long; the maximum is {high:.0f} s.",
        )
