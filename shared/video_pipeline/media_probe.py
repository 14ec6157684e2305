"""Cheap duration/resolution of MP4/MOV files over ranged reads (no download, no FFmpeg).

Walks the top-level boxes reading only their headers (the `mdat` payload is skipped), reads `moov`, and takes the
duration from `mvhd` and the size from the video track's `tkhd`. Anything it cannot read is `None`: the caller
lets TwelveLabs decide (it validates every upload anyway).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

MAX_TOP_LEVEL_BOXES = 64
MAX_MOOV_BYTES = 32 * 1024 * 1024  # a 2 h video's moov is a few MB; beyond this we do not screen


class RangeReader(Protocol):
    size: int

    def read(self, offset: int, length: int) -> bytes: ...


@dataclass(frozen=True)
class VideoProbe:
    duration_seconds: float | None
    width: int | None
    height: int | None


class BytesReader:
    """A RangeReader over bytes in memory (tests, or an object that fits in the sniff read)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)

    def read(self, offset: int, length: int) -> bytes:
        return self._data[offset : offset + length]


class S3RangeReader:
    """A RangeReader over one S3 object version; serves reads inside the cached head without a request."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        key: str,
        size: int,
        *,
        etag: str | None = None,
        version_id: str | None = None,
        head: bytes = b"",
    ) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._key = key
        self._etag = etag
        self._version_id = version_id
        self._head = head
        self.size = size
        self.requests = 0

    def read(self, offset: int, length: int) -> bytes:
        if length <= 0 or offset >= self.size:
            return b""
        if offset + length <= len(self._head):
            return self._head[offset : offset + length]
        end = min(offset + length, self.size) - 1
        params: dict[str, Any] = {"Bucket": self._bucket, "Key": self._key, "Range": f"bytes={offset}-{end}"}
        if self._version_id:
            params["VersionId"] = self._version_id
        elif self._etag:
            params["IfMatch"] = f'"{self._etag}"'  # the bytes the event named, not a newer upload
        self.requests += 1
        return bytes(self._s3.get_object(**params)["Body"].read())


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload offset, payload end) for each box inside data[start:end]."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, box_type = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield box_type, pos + header, pos + size
        pos += size


def find_moov(reader: RangeReader) -> bytes | None:
    """The payload of the top-level `moov` box, reading only box headers until it is found."""
    offset = 0
    for _ in range(MAX_TOP_LEVEL_BOXES):
        if offset + 8 > reader.size:
            return None
        header = reader.read(offset, 16)
        if len(header) < 8:
            return None
        size, box_type = struct.unpack(">I4s", header[:8])
        header_len = 8
        if size == 1:
            if len(header) < 16:
                return None
            size = struct.unpack(">Q", header[8:16])[0]
            header_len = 16
        elif size == 0:
            size = reader.size - offset
        if size < header_len:
            return None
        if box_type == b"moov":
            payload_len = size - header_len
            if payload_len > MAX_MOOV_BYTES:
                return None
            return reader.read(offset + header_len, payload_len)
        offset += size
    return None


def _parse_mvhd(data: bytes, start: int, end: int) -> float | None:
    version = data[start]
    if version == 1 and end - start >= 32:
        timescale, duration = struct.unpack(">IQ", data[start + 20 : start + 32])
    elif end - start >= 20:
        timescale, duration = struct.unpack(">II", data[start + 12 : start + 20])
    else:
        return None
    if timescale == 0 or duration in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        return None
    return float(duration) / float(timescale)


def _parse_tkhd(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    # width and height are the last 8 bytes of tkhd, 16.16 fixed point.
    if end - start < 84:
        return None
    width, height = struct.unpack(">II", data[end - 8 : end])
    return width >> 16, height >> 16


def _handler_type(data: bytes, trak_start: int, trak_end: int) -> bytes | None:
    for box_type, start, end in _boxes(data, trak_start, trak_end):
        if box_type == b"mdia":
            for sub_type, sub_start, sub_end in _boxes(data, start, end):
                if sub_type == b"hdlr" and sub_end - sub_start >= 12:
                    return data[sub_start + 8 : sub_start + 12]
    return None


def parse_moov(moov: bytes) -> VideoProbe:
    duration: float | None = None
    dimensions: tuple[int, int] | None = None
    for box_type, start, end in _boxes(moov):
        if box_type == b"mvhd":
            duration = _parse_mvhd(moov, start, end)
        elif box_type == b"trak" and dimensions is None:
            if _handler_type(moov, start, end) != b"vide":
                continue
            for sub_type, sub_start, sub_end in _boxes(moov, start, end):
                if sub_type == b"tkhd":
                    dims = _parse_tkhd(moov, sub_start, sub_end)
                    if dims and dims[0] > 0 and dims[1] > 0:
                        dimensions = dims
    return VideoProbe(
        duration_seconds=duration,
        width=dimensions[0] if dimensions else None,
        height=dimensions[1] if dimensions else None,
    )


def probe_iso_bmff(reader: RangeReader) -> VideoProbe | None:
    """Duration and video size of an MP4/MOV, or None when the file cannot be read this way."""
    moov = find_moov(reader)
    if moov is None:
        return None
    return parse_moov(moov)
