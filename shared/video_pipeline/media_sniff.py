"""What a file is, from its first bytes (never from its name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SNIFF_BYTES = 64 * 1024

MediaFamily = Literal["video", "image", "audio", "unknown"]


@dataclass(frozen=True)
class SniffedType:
    family: MediaFamily
    format: str  # mp4, mov, m4a, matroska, webm, avi, mpeg-ts, mpeg-ps, flv, asf, jpeg, png, wav, mp3, flac, ogg, ...


UNKNOWN = SniffedType("unknown", "unknown")

# ISO-BMFF major brands that mean audio only.
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_QUICKTIME_BOXES = {b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"}


def sniff(head: bytes) -> SniffedType:
    """Classify a file by its first bytes (pass at least the first 4 KB; 64 KB finds MPEG-TS/ID3 edge cases)."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AUDIO_BRANDS:
            return SniffedType("audio", "m4a")
        if brand == b"qt  ":
            return SniffedType("video", "mov")
        if brand.startswith(b"3g"):
            return SniffedType("video", "3gp")
        if brand in {b"avif", b"avis", b"heic", b"heix", b"mif1", b"msf1"}:
            return SniffedType("image", brand.decode("ascii", "replace").strip())
        return SniffedType("video", "mp4")
    if len(head) >= 8 and head[4:8] in _QUICKTIME_BOXES:
        return SniffedType("video", "mov")  # old QuickTime files have no ftyp
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return SniffedType("video", "webm" if b"webm" in head[:64] else "matroska")
    if head.startswith(b"RIFF") and len(head) >= 12:
        if head[8:12] == b"AVI ":
            return SniffedType("video", "avi")
        if head[8:12] == b"WAVE":
            return SniffedType("audio", "wav")
        return UNKNOWN
    if len(head) > 376 and head[0] == 0x47 and head[188] == 0x47 and head[376] == 0x47:
        return SniffedType("video", "mpeg-ts")
    if head.startswith(b"\x00\x00\x01\xba"):
        return SniffedType("video", "mpeg-ps")
    if head.startswith(b"FLV\x01"):
        return SniffedType("video", "flv")
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return SniffedType("video", "asf")
    if head.startswith(b"\xff\xd8\xff"):
        return SniffedType("image", "jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return SniffedType("image", "png")
    if head.startswith(b"fLaC"):
        return SniffedType("audio", "flac")
    if head.startswith(b"ID3"):
        return SniffedType("audio", "mp3")
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (head[1] & 0x06) != 0:
        # MPEG audio frame sync with a layer set (layer bits 00 are reserved; ADTS AAC has layer 00).
        return SniffedType("audio", "mp3")
    if head.startswith(b"OggS"):
        return SniffedType("video" if b"theora" in head[:512] else "audio", "ogg")
    return UNKNOWN


def image_dimensions(head: bytes, fmt: str) -> tuple[int, int] | None:
    """Width/height of a PNG (IHDR) or JPEG (first SOFn marker within `head`); None when not found."""
    if fmt == "png" and len(head) >= 24 and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if fmt == "jpeg":
        pos = 2
        while pos + 9 < len(head):
            if head[pos] != 0xFF:
                return None
            marker = head[pos + 1]
            if marker == 0xFF:  # fill byte
                pos += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                pos += 2
                continue
            length = int.from_bytes(head[pos + 2 : pos + 4], "big")
            if marker in {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}:
                height = int.from_bytes(head[pos + 5 : pos + 7], "big")
                width = int.from_bytes(head[pos + 7 : pos + 9], "big")
                return width, height
            pos += 2 + length
    return None
