"""Real media inspection with PyAV (bundled FFmpeg): probe, and content tokens per clip / image / audio.

Content tokens are what the emulator "understands" of a file: dominant colour names of a decoded frame,
brightness, motion between two frames, and for audio whether there is sound and its pitch band. They
feed the embeddings (so search ranks something meaningful) and the generated texts.
"""

from __future__ import annotations

import array
import colorsys
import io
import itertools
import math
from pathlib import Path

import av
import av.error

from twelvelabs_emulator.errors import MediaProblem
from twelvelabs_emulator.models import ClipContent, MediaInfo

THUMB = 16  # frames are reduced to THUMB x THUMB pixels before colour statistics
AUDIO_RATE = 16000
LOW_PITCH_HZ = 400.0


def probe_video(path: Path, filename: str) -> MediaInfo:
    """Duration, resolution, fps and size of a video file; MediaProblem(video_file_broken) when unreadable."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MediaProblem("video_file_broken", f"The video file {filename} cannot be read: {exc}") from exc
    if size == 0:
        raise MediaProblem("video_file_broken", f"The video file {filename} is empty.")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaProblem("video_file_broken", f"The file {filename} has no video stream.")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fps = float(rate) if rate else 0.0
            duration = _duration(container, stream)
            has_audio = bool(container.streams.audio)
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise MediaProblem("video_file_broken", f"The video file {filename} cannot be decoded: {exc}") from exc
    if width <= 0 or height <= 0 or duration <= 0:
        raise MediaProblem("video_file_broken", f"The video file {filename} has no decodable frames.")
    return MediaInfo(
        filename=filename,
        duration=round(duration, 3),
        width=width,
        height=height,
        fps=round(fps, 3),
        size=size,
        has_audio=has_audio,
    )


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if container.duration:
        return container.duration / av.time_base
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return 0.0


def clip_bounds(
    duration: float, clip_length: float, start: float = 0.0, end: float | None = None, min_last: float = 2.0
) -> list[tuple[float, float]]:
    """Fixed-length clips over [start, end).

    A final clip shorter than `min_last` is dropped (kept if it is the only one)."""
    stop = duration if end is None else min(end, duration)
    bounds: list[tuple[float, float]] = []
    t = start
    while t < stop - 1e-6:
        bounds.append((round(t, 3), round(min(t + clip_length, stop), 3)))
        t += clip_length
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < min_last:
        bounds.pop()
    return bounds


def analyze_clips(path: Path, media: MediaInfo, bounds: list[tuple[float, float]]) -> list[ClipContent]:
    """Content tokens for each clip: two decoded frames (colour, brightness, motion) and its audio."""
    clips: list[ClipContent] = []
    try:
        with av.open(str(path)) as container:
            for start, end in bounds:
                span = end - start
                first = _thumbnail_at(container, start + span * 0.25)
                second = _thumbnail_at(container, start + span * 0.75)
                visual = image_tokens(first) if first else {}
                if first and second:
                    visual["moving" if _difference(first, second) > 6.0 else "still"] = 0.5
                audio = _audio_tokens(container, start, end) if media.has_audio else {"silence": 1.0}
                clips.append(ClipContent(start=start, end=end, visual=visual, audio=audio))
    except av.error.FFmpegError as exc:
        raise MediaProblem("video_file_broken", f"The video file {media.filename} cannot be decoded: {exc}") from exc
    return clips


def _thumbnail_at(container: av.container.InputContainer, seconds: float) -> bytes | None:
    """RGB bytes (THUMB x THUMB) of the first frame at or after `seconds`."""
    stream = container.streams.video[0]
    if stream.time_base is None:
        return None
    container.seek(int(seconds / stream.time_base), stream=stream, backward=True, any_frame=False)
    last: av.VideoFrame | None = None
    for frame in container.decode(stream):
        last = frame
        if frame.time is not None and frame.time >= seconds - 1e-3:
            break
    return _rgb_thumb(last) if last is not None else None


def _rgb_thumb(frame: av.VideoFrame) -> bytes:
    small = frame.reformat(width=THUMB, height=THUMB, format="rgb24")
    plane = small.planes[0]
    data = bytes(plane)
    row = THUMB * 3
    return b"".join(data[y * plane.line_size : y * plane.line_size + row] for y in range(THUMB))


def _difference(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def colour_name(r: int, g: int, b: int) -> str:
    h, s, v = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)
    if v < 0.18:
        return "black"
    if s < 0.22:
        return "white" if v > 0.82 else "grey"
    hue = h * 360
    if hue < 15 or hue >= 345:
        return "red"
    if hue < 45:
        return "brown" if v < 0.7 else "orange"
    if hue < 70:
        return "yellow"
    if hue < 170:
        return "green"
    if hue < 260:
        return "blue"
    if hue < 300:
        return "purple"
    return "pink"


def image_tokens(rgb: bytes) -> dict[str, float]:
    """Dominant colour names (weight = share of pixels, >= 10%, top 3) and brightness."""
    counts: dict[str, int] = {}
    luma_total = 0.0
    pixels = len(rgb) // 3
    for i in range(0, pixels * 3, 3):
        r, g, b = rgb[i], rgb[i + 1], rgb[i + 2]
        name = colour_name(r, g, b)
        counts[name] = counts.get(name, 0) + 1
        luma_total += 0.2126 * r + 0.7152 * g + 0.0722 * b
    tokens: dict[str, float] = {}
    for name, count in sorted(counts.items(), key=lambda kv: -kv[1])[:3]:
        share = count / pixels
        if share >= 0.10:
            tokens[name] = round(share, 3)
    luma = luma_total / pixels / 255
    if luma > 0.6:
        tokens["bright"] = 0.5
    elif luma < 0.3:
        tokens["dark"] = 0.5
    return tokens


def image_file_tokens(path: Path, field: str) -> dict[str, float]:
    """Tokens of an image file (JPEG/PNG, decoded by FFmpeg). MediaProblem(parameter_invalid) when unreadable."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaProblem("parameter_invalid", f"The {field} parameter is not a decodable image.")
            for frame in container.decode(video=0):
                return image_tokens(_rgb_thumb(frame)) | {"still": 0.5}
    except av.error.FFmpegError as exc:
        raise MediaProblem("parameter_invalid", f"The {field} parameter is not a decodable image: {exc}") from exc
    raise MediaProblem("parameter_invalid", f"The {field} parameter is not a decodable image.")


def _pcm(frames: list[av.AudioFrame]) -> array.array:
    resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
    samples = array.array("h")
    for frame in frames:
        for out in resampler.resample(frame):
            samples.frombytes(bytes(out.planes[0])[: out.samples * 2])
    return samples


def sound_tokens(samples: array.array) -> dict[str, float]:
    """`silence`, or `tone` plus a pitch band (`low`/`high`) from the zero-crossing rate."""
    if not samples:
        return {"silence": 1.0}
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
    if rms < 0.01:
        return {"silence": 1.0}
    crossings = sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))
    pitch = crossings / 2 / (len(samples) / AUDIO_RATE)
    return {"tone": 1.0, "low" if pitch < LOW_PITCH_HZ else "high": 0.7, "loud" if rms > 0.2 else "quiet": 0.3}


def _audio_tokens(container: av.container.InputContainer, start: float, end: float) -> dict[str, float]:
    """Sound tokens of up to one second of audio from the middle of [start, end)."""
    stream = container.streams.audio[0]
    if stream.time_base is None:
        return {"silence": 1.0}
    middle = (start + end) / 2
    window_start, window_end = max(start, middle - 0.5), min(end, middle + 0.5)
    container.seek(int(window_start / stream.time_base), stream=stream, backward=True, any_frame=False)
    frames: list[av.AudioFrame] = []
    for frame in container.decode(stream):
        if frame.time is not None and frame.time >= window_end:
            break
        if frame.time is not None and frame.time + frame.samples / frame.sample_rate >= window_start:
            frames.append(frame)
    return sound_tokens(_pcm(frames))


def audio_file_tokens(
    path: Path, field: str, offset: float, length: float = 10.0
) -> tuple[dict[str, float], float, float]:
    """Tokens of [offset, offset+length) of an audio file, with the real segment bounds."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise MediaProblem("parameter_invalid", f"The {field} parameter has no audio stream.")
            stream = container.streams.audio[0]
            total = container.duration / av.time_base if container.duration else 0.0
            frames = [f for f in container.decode(stream) if f.time is None or offset <= f.time < offset + length]
    except av.error.FFmpegError as exc:
        raise MediaProblem("parameter_invalid", f"The {field} parameter is not decodable audio: {exc}") from exc
    if total and offset >= total:
        raise MediaProblem(
            "parameter_invalid", f"audio_start_offset_sec {offset} is beyond the audio's end ({total:.2f} s)."
        )
    end = min(offset + length, total) if total else offset + length
    return sound_tokens(_pcm(frames)), offset, round(end, 3)


def first_frame_jpeg(path: Path, width: int = 320) -> bytes:
    """The first decodable frame as a JPEG (thumbnails), scaled to `width` keeping the aspect ratio."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        height = max(2, round(frame.height * width / frame.width / 2) * 2)
        small = frame.reformat(width=width, height=height, format="yuvj420p")
    out = io.BytesIO()
    with av.open(out, mode="w", format="mjpeg") as jpeg:
        stream = jpeg.add_stream("mjpeg", rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
        for packet in stream.encode(small):
            jpeg.mux(packet)
        for packet in stream.encode(None):
            jpeg.mux(packet)
    return out.getvalue()
