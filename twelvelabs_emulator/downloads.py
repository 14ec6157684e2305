"""Fetching media URLs (loopback servers, presigned S3 URLs of a local moto) streamed to disk."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import httpx

from twelvelabs_emulator.errors import ApiError, invalid

CHUNK = 1024 * 1024


def url_filename(url: str, default: str = "video.mp4") -> str:
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    return name or default


def download(
    url: str,
    field: str,
    target_dir: Path,
    max_bytes: int,
    timeout: float,
    too_large_code: str = "video_filesize_too_large",
) -> tuple[Path, str, int]:
    """GET `url` into a new file under `target_dir`; returns (path, sha256 hex, size).

    Errors are 400s naming `field`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid(field, f"{url!r} is not an http(s) URL.")
    fd, name = tempfile.mkstemp(dir=target_dir, prefix="download-")
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code >= 400:
                raise invalid(field, f"{url} could not be downloaded (HTTP {response.status_code}).")
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise ApiError(
                    400, too_large_code, f"The file at {field} is {declared} bytes; the maximum is {max_bytes}."
                )
            for chunk in response.iter_bytes(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ApiError(400, too_large_code, f"The file at {field} is larger than {max_bytes} bytes.")
                digest.update(chunk)
                out.write(chunk)
    except httpx.HTTPError as exc:
        path.unlink(missing_ok=True)
        raise invalid(field, f"{url} could not be downloaded ({type(exc).__name__}: {exc}).") from exc
    except ApiError:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest(), size


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()
