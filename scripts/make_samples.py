"""Make the small sample media the demo and the tests use (real, decodable files, encoded with PyAV).

Usage: python scripts/make_samples.py OUT_DIR

Good inputs (the demo uploads the ones under videos/):
  videos/ocean-waves.mp4   640x360 16:9, 8 s, H.264 + AAC
  videos/city-traffic.mov  640x360 16:9, 6 s, H.264 + AAC
  videos/forest-walk.mp4   480x480 1:1,  5 s, H.264 + AAC
  media/still.jpg, media/still.png   256x256 images
  media/tone.wav, media/tone.mp3     3 s of audio
Bad inputs (each must be rejected with a clear reason):
  bad/tiny-320x240.mp4 (resolution too low), bad/short-2s.mp4 (too short),
  bad/empty.mp4 (zero bytes), bad/not-a-video.mp4 (text)
"""

from __future__ import annotations

import math
import struct
import sys
import wave
import zlib
from fractions import Fraction
from pathlib import Path

import av

FPS = 10
AUDIO_RATE = 22050


def _frame_bytes(
    width: int, height: int, index: int, base: tuple[int, int, int], accent: tuple[int, int, int]
) -> bytes:
    """A flat background with a square that moves, so each frame (and each clip) differs."""
    side = max(8, min(width, height) // 4)
    x0 = (index * 7) % max(1, width - side)
    y0 = (index * 3) % max(1, height - side)
    row_bg = bytes(base) * width
    rows = []
    for y in range(height):
        if y0 <= y < y0 + side:
            rows.append(bytes(base) * x0 + bytes(accent) * side + bytes(base) * (width - x0 - side))
        else:
            rows.append(row_bg)
    return b"".join(rows)


def _rgb_frame(rgb: bytes, width: int, height: int) -> av.VideoFrame:
    frame = av.VideoFrame(width, height, "rgb24")
    plane = frame.planes[0]
    row = width * 3
    if plane.line_size == row:
        plane.update(rgb)
    else:  # the plane's rows are padded: copy row by row
        pad = b"\x00" * (plane.line_size - row)
        plane.update(b"".join(rgb[y * row : (y + 1) * row] + pad for y in range(height)))
    return frame


def make_video(
    path: Path,
    width: int,
    height: int,
    seconds: float,
    base: tuple[int, int, int],
    accent: tuple[int, int, int],
    tone_hz: float = 440.0,
) -> Path:
    """Encode a real H.264/AAC video with a moving square and a sine tone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = max(1, round(seconds * FPS))
    with av.open(str(path), mode="w") as container:
        vstream = container.add_stream("libx264", rate=FPS)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        vstream.options = {"preset": "ultrafast", "crf": "32"}
        astream = container.add_stream("aac", rate=AUDIO_RATE)
        astream.layout = "mono"
        for i in range(frames):
            frame = _rgb_frame(_frame_bytes(width, height, i, base, accent), width, height).reformat(format="yuv420p")
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            for packet in vstream.encode(frame):
                container.mux(packet)
        for packet in vstream.encode():
            container.mux(packet)
        samples_total = int(seconds * AUDIO_RATE)
        chunk = 1024
        for start in range(0, samples_total, chunk):
            n = min(chunk, samples_total - start)
            pcm = b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * tone_hz * (start + k) / AUDIO_RATE)))
                for k in range(n)
            )
            aframe = av.AudioFrame(format="s16", layout="mono", samples=n)
            aframe.planes[0].update(pcm)
            aframe.sample_rate = AUDIO_RATE
            aframe.pts = start
            aframe.time_base = Fraction(1, AUDIO_RATE)
            for packet in astream.encode(aframe):
                container.mux(packet)
        for packet in astream.encode():
            container.mux(packet)
    return path


def make_png(path: Path, width: int, height: int, color: tuple[int, int, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = b"".join(b"\x00" + bytes(color) * width for _ in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )
    return path


def make_jpeg(path: Path, width: int, height: int, color: tuple[int, int, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuvj420p"
    codec.time_base = Fraction(1, 1)
    frame = _rgb_frame(bytes(color) * (width * height), width, height).reformat(format="yuvj420p")
    data = b"".join(bytes(p) for p in codec.encode(frame)) + b"".join(bytes(p) for p in codec.encode(None))
    path.write_bytes(data)
    return path


def make_wav(path: Path, seconds: float, tone_hz: float = 660.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = int(seconds * AUDIO_RATE)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(AUDIO_RATE)
        w.writeframes(
            b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * tone_hz * k / AUDIO_RATE))) for k in range(n))
        )
    return path


def make_mp3(path: Path, seconds: float, tone_hz: float = 550.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = 44100
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libmp3lame", rate=rate)
        stream.layout = "mono"
        total = int(seconds * rate)
        for start in range(0, total, 1152):
            n = min(1152, total - start)
            frame = av.AudioFrame(format="s16p", layout="mono", samples=n)
            frame.planes[0].update(
                b"".join(
                    struct.pack("<h", int(8000 * math.sin(2 * math.pi * tone_hz * (start + k) / rate)))
                    for k in range(n)
                )
            )
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_all(out: Path) -> list[Path]:
    made = [
        make_video(out / "videos/ocean-waves.mp4", 640, 360, 8, (20, 60, 160), (240, 240, 255), 330.0),
        make_video(out / "videos/city-traffic.mov", 640, 360, 6, (90, 90, 90), (250, 200, 20), 523.0),
        make_video(out / "videos/forest-walk.mp4", 480, 480, 5, (20, 110, 40), (160, 90, 30), 262.0),
        make_video(out / "bad/tiny-320x240.mp4", 320, 240, 5, (120, 0, 0), (255, 255, 255)),
        make_video(out / "bad/short-2s.mp4", 640, 360, 2, (0, 120, 120), (255, 255, 255)),
        make_jpeg(out / "media/still.jpg", 256, 256, (200, 80, 40)),
        make_png(out / "media/still.png", 256, 256, (40, 80, 200)),
        make_wav(out / "media/tone.wav", 3),
        make_mp3(out / "media/tone.mp3", 3),
    ]
    empty = out / "bad/empty.mp4"
    empty.write_bytes(b"")
    text = out / "bad/not-a-video.mp4"
    text.write_text("This is a text file that pretends to be a video.\n")
    return [*made, empty, text]


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "build/samples")
    for p in make_all(target):
        print(f"{p}  {p.stat().st_size} bytes")
