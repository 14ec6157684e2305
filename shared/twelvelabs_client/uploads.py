"""File parts for multipart uploads, streamed from disk or a file object (never read whole).

httpx reads file objects passed in `files=` in 64 KiB chunks and sizes them with fstat, so a
2 GB video costs a few chunks of memory, not 2 GB.
"""

from __future__ import annotations

import io
import mimetypes
import os
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union
from urllib.parse import unquote, urlsplit

FileSource = Union[str, "os.PathLike[str]", BinaryIO, bytes]


@dataclass
class Upload:
    """An open file ready to be sent as one multipart part."""

    filename: str
    file: BinaryIO
    # httpx rewinds to 0 on every send; only seekable files can be sent again after a failure.
    resendable: bool

    def part(self) -> tuple[str, BinaryIO, str]:
        content_type = mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        return (self.filename, self.file, content_type)


@contextmanager
def open_upload(source: FileSource, default_name: str = "upload.bin") -> Iterator[Upload]:
    """Open a path (closed afterwards) or wrap a binary file object / bytes (left open for the caller)."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        with path.open("rb") as handle:
            yield Upload(filename=path.name, file=handle, resendable=True)
        return
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield Upload(filename=default_name, file=io.BytesIO(bytes(source)), resendable=True)
        return
    if isinstance(source, io.TextIOBase):
        raise TypeError("upload file objects must be opened in binary mode ('rb')")
    if not hasattr(source, "read"):
        raise TypeError(f"cannot upload a {type(source).__name__}; pass a path, bytes or a binary file object")
    name = getattr(source, "name", None)
    filename = Path(name).name if isinstance(name, str) and name else default_name
    try:
        seekable = bool(source.seekable())
    except (AttributeError, ValueError):
        seekable = False
    yield Upload(filename=filename, file=source, resendable=seekable)


def filename_from_url(url: str) -> str | None:
    """Last path segment of a URL (what the API shows as filename for URL uploads; S3 presigned ok)."""
    name = posixpath.basename(unquote(urlsplit(url).path))
    return name or None
