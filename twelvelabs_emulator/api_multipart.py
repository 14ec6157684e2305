"""Multipart upload sessions (`/assets/multipart-uploads…`) and the presigned chunk URLs the emulator serves itself.

Chunk bytes go to `PUT /_uploads/<token>` (outside `/v1.3`, no API key, like a presigned S3 URL): single use,
valid one hour, answered with an `ETag` (quoted MD5 of the chunk) that the client reports as the chunk's proof.
Each chunk is streamed into its place in one sparse file; a session completes once every chunk is reported, then the
asset it reserved processes like any other.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.wrappers import Response

from twelvelabs_emulator.clock import new_id, rfc3339, utcnow
from twelvelabs_emulator.downloads import hash_file
from twelvelabs_emulator.errors import ApiError, invalid, not_found
from twelvelabs_emulator.httpkit import EmulatorRequest, json_response, paginate, parse_json_body
from twelvelabs_emulator.models import ChunkRecord, MultipartUploadRecord, State, UploadUrlRecord
from twelvelabs_emulator.services import Services

UPLOADS_PREFIX = "/_uploads"
URL_LIFETIME = timedelta(hours=1)
SESSION_LIFETIME = timedelta(hours=24)
IMAGE_MAX_BYTES = 32 * 1024 * 1024
READ_CHUNK = 1024 * 1024
UPLOAD_HEADERS = {"Content-Type": "application/octet-stream"}


class CreateUploadBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    filename: str = Field(min_length=1, max_length=255)
    type: Literal["video", "audio", "image"]
    total_size: int = Field(ge=1)
    enable_hls: bool = False
    enable_thumbnail: bool = False
    user_metadata: dict[str, object] | None = None


class CompletedChunkIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    chunk_index: int = Field(ge=1)
    proof: str = Field(min_length=1)
    proof_type: Literal["etag"]
    chunk_size: int = Field(ge=1)


class ReportBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    completed_chunks: list[CompletedChunkIn] = Field(min_length=1, max_length=50)


class MoreUrlsBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    start: int = Field(ge=1)
    count: int = Field(ge=1, le=50)


def _expected_size(upload: MultipartUploadRecord, index: int) -> int:
    return min(upload.chunk_size, upload.total_size - (index - 1) * upload.chunk_size)


def _new_urls(s: Services, upload: MultipartUploadRecord, start: int, count: int) -> list[dict[str, object]]:
    expires = utcnow() + URL_LIFETIME
    urls: list[dict[str, object]] = []
    for index in range(start, start + count):
        token = secrets.token_urlsafe(24)
        upload.urls[token] = UploadUrlRecord(token=token, chunk_index=index, expires_at=expires)
        urls.append(
            {"chunk_index": index, "url": f"{s.rt.public_url}{UPLOADS_PREFIX}/{token}", "expires_at": rfc3339(expires)}
        )
    return urls


def _expire(s: Services, st: State, upload: MultipartUploadRecord) -> None:
    """Sessions past their 24 h end as `expired`; their reserved asset fails."""
    if upload.status == "active" and utcnow() >= upload.expires_at:
        upload.status = "expired"
        upload.updated_at = utcnow()
        asset = st.current.assets.get(upload.asset_id)
        if asset is not None and asset.status == "processing":
            asset.status, asset.error_message = "failed", "The multipart upload session expired before completion."
        Path(upload.data_path).unlink(missing_ok=True)


def _upload(s: Services, st: State, upload_id: str) -> MultipartUploadRecord:
    upload = st.current.uploads.get(upload_id)
    if upload is None:
        raise not_found(upload_id, "multipart uploads")
    _expire(s, st, upload)
    return upload


def create_upload(s: Services, request: EmulatorRequest) -> Response:
    from twelvelabs_emulator.api_assets import check_metadata_value  # circular: api_assets lists these routes

    body = parse_json_body(request, CreateUploadBody)
    cfg = s.rt.config
    limit = IMAGE_MAX_BYTES if body.type == "image" else cfg.max_multipart_bytes
    if body.total_size > limit:
        raise invalid("total_size", f"{body.total_size} bytes is over the {limit}-byte limit for {body.type} files.")
    metadata = dict(body.user_metadata or {})
    for key, value in metadata.items():
        check_metadata_value(f"user_metadata.{key}", value, allow_null=True)
    kept = {k: v for k, v in metadata.items() if v not in (None, "", [])}
    asset = s.assets.reserve(
        method="multipart",
        filename=body.filename,
        enable_hls=body.enable_hls,
        enable_thumbnail=body.enable_thumbnail,
        user_metadata=kept or None,
    )  # type: ignore[arg-type]
    chunk_size = cfg.multipart_chunk_size
    total_chunks = math.ceil(body.total_size / chunk_size)
    data_path = s.rt.upload_dir / f"multipart-{asset.id}"
    data_path.touch()
    now = utcnow()
    with s.rt.store.mutate() as st:
        upload = MultipartUploadRecord(
            id=new_id(),
            seq=st.next_seq(),
            asset_id=asset.id,
            filename=body.filename,
            type=body.type,
            total_size=body.total_size,
            chunk_size=chunk_size,
            total_chunks=total_chunks,
            created_at=now,
            updated_at=now,
            expires_at=now + SESSION_LIFETIME,
            data_path=str(data_path),
            chunks=[ChunkRecord(index=i, updated_at=now) for i in range(1, total_chunks + 1)],
        )
        urls = _new_urls(s, upload, 1, min(total_chunks, cfg.multipart_initial_urls))
        st.current.uploads[upload.id] = upload
    return json_response(
        {
            "upload_id": upload.id,
            "asset_id": asset.id,
            "upload_urls": urls,
            "upload_headers": dict(UPLOAD_HEADERS),
            "chunk_size": chunk_size,
            "total_chunks": total_chunks,
            "expires_at": rfc3339(upload.expires_at),
        },
        201,
    )


def list_uploads(s: Services, request: EmulatorRequest) -> Response:
    with s.rt.store.mutate() as st:
        for upload in st.current.uploads.values():
            _expire(s, st, upload)
        items = sorted(
            (u for u in st.current.uploads.values() if u.status == "active"),
            key=lambda u: (u.created_at, u.seq),
            reverse=True,
        )
        page, info = paginate(items, request.args)
        data = [
            {
                "upload_id": u.id,
                "status": u.status,
                "total_size": u.total_size,
                "chunk_size": u.chunk_size,
                "total_chunks": u.total_chunks,
                "created_at": rfc3339(u.created_at),
                "expires_at": rfc3339(u.expires_at),
            }
            for u in page
        ]
    return json_response({"data": data, "page_info": info})


def upload_status(s: Services, request: EmulatorRequest, upload_id: str) -> Response:
    with s.rt.store.mutate() as st:
        upload = _upload(s, st, upload_id)
        page, info = paginate(upload.chunks, request.args)
        chunks = [
            {
                "index": c.index,
                "status": c.status,
                "uploaded_at": rfc3339(c.uploaded_at) if c.uploaded_at else None,
                "updated_at": rfc3339(c.updated_at),
            }
            for c in page
        ]
        done = [c for c in upload.chunks if c.status == "completed"]
        failed = sum(1 for c in upload.chunks if c.status == "failed")
        body = {
            "upload_id": upload.id,
            "status": upload.status,
            "uploaded_chunks": chunks,
            "chunks_completed": len(done),
            "chunks_failed": failed,
            "chunks_pending": len(upload.chunks) - len(done) - failed,
            "total_size": upload.total_size,
            "uploaded_size": sum(c.size for c in done),
            "created_at": rfc3339(upload.created_at),
            "updated_at": rfc3339(upload.updated_at),
            "page_info": info,
        }
    return json_response(body)


def more_urls(s: Services, request: EmulatorRequest, upload_id: str) -> Response:
    body = parse_json_body(request, MoreUrlsBody)
    with s.rt.store.mutate() as st:
        upload = _upload(s, st, upload_id)
        if upload.status != "active":
            raise invalid("upload_id", f"the upload session is {upload.status}, not active.")
        if body.start + body.count - 1 > upload.total_chunks:
            raise invalid(
                "count",
                f"chunks {body.start}..{body.start + body.count - 1} go past the last chunk ({upload.total_chunks}).",
            )
        urls = _new_urls(s, upload, body.start, body.count)
        now = utcnow()
    return json_response(
        {
            "upload_id": upload_id,
            "start_index": body.start,
            "count": body.count,
            "upload_urls": urls,
            "generated_at": rfc3339(now),
            "expires_at": rfc3339(now + URL_LIFETIME),
        }
    )


def report_chunks(s: Services, request: EmulatorRequest, upload_id: str) -> Response:
    body = parse_json_body(request, ReportBody)
    processed = duplicates = 0
    completed_now = False
    with s.rt.store.mutate() as st:
        upload = _upload(s, st, upload_id)
        if upload.status not in ("active", "completed"):
            raise invalid("upload_id", f"the upload session is {upload.status}.")
        # Validate the whole batch before changing anything, so a rejected report can be resent as is.
        for n, item in enumerate(body.completed_chunks):
            field = f"completed_chunks[{n}]"
            if item.chunk_index > upload.total_chunks:
                raise invalid(
                    f"{field}.chunk_index", f"{item.chunk_index} is past the last chunk ({upload.total_chunks})."
                )
            chunk = upload.chunks[item.chunk_index - 1]
            if chunk.etag is None:
                raise invalid(f"{field}.proof", f"no bytes were received for chunk {item.chunk_index}.")
            if item.proof.strip('"') != chunk.etag:
                raise invalid(f"{field}.proof", f"it does not match the ETag of chunk {item.chunk_index}.")
            if item.chunk_size != chunk.size:
                raise invalid(f"{field}.chunk_size", f"{item.chunk_size} differs from the {chunk.size} bytes received.")
        now = utcnow()
        for item in body.completed_chunks:
            chunk = upload.chunks[item.chunk_index - 1]
            if chunk.reported:
                duplicates += 1
                continue
            chunk.reported, chunk.status, chunk.updated_at = True, "completed", now
            processed += 1
        total_completed = sum(1 for c in upload.chunks if c.reported)
        if upload.status == "active" and total_completed == upload.total_chunks:
            upload.status, upload.updated_at = "completed", now
            completed_now = True
        complete = upload.status == "completed"
        asset_id, data_path = upload.asset_id, Path(upload.data_path)
    if completed_now:
        target = s.rt.media_dir / f"asset-{asset_id}{Path(upload.filename).suffix[:10]}"
        data_path.replace(target)
        s.assets.attach(asset_id, target, hash_file(target))
    body_out: dict[str, object] = {
        "asset_id": asset_id,
        "processed_chunks": processed,
        "duplicate_chunks": duplicates,
        "total_completed": total_completed,
    }
    if complete:
        body_out["url"] = f"{s.rt.public_url}/_emulator/assets/{asset_id}/file"
    return json_response(body_out)


def _receive_chunk(request: EmulatorRequest, data_path: Path, offset: int, index: int, expected: int) -> str:
    digest, size = hashlib.md5(usedforsecurity=False), 0
    stream = request.stream
    with data_path.open("r+b") as out:
        out.seek(offset)
        while True:
            piece = stream.read(READ_CHUNK)
            if not piece:
                break
            size += len(piece)
            if size > expected:
                raise ApiError(400, "chunk_size_invalid", f"Chunk {index} must be {expected} bytes; more were sent.")
            digest.update(piece)
            out.write(piece)
    if size != expected:
        raise ApiError(400, "chunk_size_invalid", f"Chunk {index} must be {expected} bytes; {size} were sent.")
    return digest.hexdigest()


def put_chunk(s: Services, request: EmulatorRequest, token: str) -> Response:
    """The presigned chunk URL: streams the body into the session's file at the chunk's offset."""
    with s.rt.store.mutate() as st:
        found = next(((u, u.urls[token]) for u in st.current.uploads.values() if token in u.urls), None)
        if found is None:
            raise ApiError(403, "upload_url_invalid", "This upload URL is unknown or was revoked.")
        upload, url = found
        _expire(s, st, upload)
        if url.used:
            raise ApiError(403, "upload_url_used", "This upload URL was already used (presigned URLs are single-use).")
        if utcnow() >= url.expires_at:
            raise ApiError(403, "upload_url_expired", "This upload URL has expired; request new ones.")
        if upload.status != "active":
            raise ApiError(403, "upload_session_closed", f"The upload session is {upload.status}.")
        url.used = True  # claimed before the bytes arrive: a second PUT on the same URL is refused
        index, expected, offset = (
            url.chunk_index,
            _expected_size(upload, url.chunk_index),
            (url.chunk_index - 1) * upload.chunk_size,
        )
        data_path = Path(upload.data_path)
        upload_id = upload.id
    try:
        etag = _receive_chunk(request, data_path, offset, index, expected)
    except BaseException:
        # A failed transfer does not use the URL up: the client may retry it (as the SDK does).
        with s.rt.store.mutate() as st:
            upload = st.current.uploads.get(upload_id)
            if upload is not None and token in upload.urls:
                upload.urls[token].used = False
        raise
    with s.rt.store.mutate() as st:
        upload = st.current.uploads.get(upload_id)
        if upload is not None:
            chunk = upload.chunks[index - 1]
            chunk.etag, chunk.size, chunk.uploaded_at, chunk.updated_at = etag, expected, utcnow(), utcnow()
    return Response(b"", status=200, headers={"ETag": f'"{etag}"'})


ROUTES: list[tuple[str, list[str], Callable[..., Response]]] = [
    ("/assets/multipart-uploads", ["POST"], create_upload),
    ("/assets/multipart-uploads", ["GET"], list_uploads),
    ("/assets/multipart-uploads/<upload_id>", ["GET"], upload_status),
    ("/assets/multipart-uploads/<upload_id>", ["POST"], report_chunks),
    ("/assets/multipart-uploads/<upload_id>/presigned-urls", ["POST"], more_urls),
]

# Served under UPLOADS_PREFIX without an API key (the presigned URLs).
UPLOAD_ROUTES: list[tuple[str, list[str], Callable[..., Response]]] = [
    ("/<token>", ["PUT"], put_chunk),
]
