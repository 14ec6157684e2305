"""Assets (direct / URL / multipart upload), their user metadata, and the wait for `ready`
(current surface; 2026 reference §2).

Duplicate-free creation: every POST carries an Idempotency-Key derived from the caller's key, and
the key is also stored in the asset's user_metadata (documented on assets since SDK 1.2.5), so a
re-run finds the asset it made (`GET /assets?filename=` + user_metadata check) instead of paying
for a second upload, and an ambiguous failure is resolved the same way before any re-send.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import httpx

from ..encoding import form_fields, query_params
from ..errors import TwelveLabsError
from ..idempotency import derive_idempotency_key
from ..models.common import Page
from ..pagination import iter_pages
from ..timeutil import parse_time
from ..uploads import FileSource, filename_from_url, open_upload
from ._base import CLOCK_SKEW_SECONDS, LOOKUP_MAX_PAGES, LOOKUP_PAGE_LIMIT, ResourceBase

if TYPE_CHECKING:
    from ..models.assets import (
        Asset,
        AssetIndexedAssetRef,
        AssetTranscription,
        CompletedChunk,
        MultipartUpload,
        MultipartUploadStatus,
        MultipartUploadSummary,
        PresignedUrl,
        PresignedUrls,
        ReportChunksResult,
    )

ASSET_KEY_FIELD = "idempotency_key"
# Direct uploads above this go multipart (documented limit of `POST /assets` direct: 200 MB video/audio).
DIRECT_UPLOAD_MAX_BYTES = 200 * 1024 * 1024
REPORT_BATCH = 50  # completed_chunks per report call (1-50)
URL_BATCH = 50  # presigned URLs per request (count <= 50)
# A session and the asset it reserves are created by one request: their server timestamps agree to the second.
SESSION_MATCH_SECONDS = 60.0
DEFAULT_ASSET_WAIT_SECONDS = 600.0


def _metadata_with_key(user_metadata: Mapping[str, Any] | None, key: str | None) -> dict[str, Any]:
    metadata = dict(user_metadata or {})
    if key is not None:
        if metadata.get(ASSET_KEY_FIELD, key) != key:
            raise ValueError(
                f"user_metadata[{ASSET_KEY_FIELD!r}] is reserved for the idempotency key; "
                "pass the key as idempotency_key only"
            )
        metadata[ASSET_KEY_FIELD] = key
    return metadata


class AssetsMixin(ResourceBase):
    # --- create ------------------------------------------------------------------------------------

    def create_asset(
        self,
        *,
        file: FileSource | None = None,
        url: str | None = None,
        filename: str | None = None,
        enable_hls: bool | None = None,
        enable_thumbnail: bool | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Asset:
        """POST /assets (multipart form): `file` (path / binary file object, streamed; method=direct) or
        `url` (method=url). Answers 201 with the asset, usually `processing`: see wait_for_asset."""
        if (file is None) == (url is None):
            raise ValueError("pass exactly one of file or url")
        metadata = _metadata_with_key(user_metadata, idempotency_key)
        if url is not None:
            name = filename or filename_from_url(url)
            fields = form_fields(
                {
                    "method": "url",
                    "url": url,
                    "filename": name,
                    "enable_hls": enable_hls,
                    "enable_thumbnail": enable_thumbnail,
                    "user_metadata": metadata or None,
                }
            )
            return self._create_asset(fields, name, metadata, idempotency_key, True)
        assert file is not None
        with open_upload(file, "upload.bin") as upload:
            name = filename or upload.filename
            parts: list[Any] = [
                *form_fields(
                    {
                        "method": "direct",
                        "filename": name,
                        "enable_hls": enable_hls,
                        "enable_thumbnail": enable_thumbnail,
                        "user_metadata": metadata or None,
                    }
                ),
                ("file", (name, upload.file, upload.part()[2])),
            ]
            return self._create_asset(parts, name, metadata, idempotency_key, upload.resendable)

    def _create_asset(
        self, parts: list[Any], filename: str | None, metadata: dict[str, Any], key: str | None, resendable: bool
    ) -> Asset:
        from ..models.assets import Asset

        if key is not None and filename:
            existing = self.find_asset(filename, metadata)
            if existing is not None:
                return existing

        def recover(since: float) -> Asset | None:
            return self.find_asset(filename, metadata, since=since) if filename else None

        result = self._transport.create(
            "POST",
            "/assets",
            files=parts,
            upload=True,
            recover=recover,
            resendable=resendable,
            idempotency_key=derive_idempotency_key(key, "POST /assets", filename),
        )
        if isinstance(result, Asset):
            return result
        assert isinstance(result, httpx.Response)
        return self._parse(Asset, result)

    def find_asset(
        self, filename: str, user_metadata: Mapping[str, Any] | None = None, *, since: float | None = None
    ) -> Asset | None:
        """The asset named `filename` whose user_metadata includes `user_metadata` (not failed), or None.

        `GET /assets?filename=` (a substring filter: names are compared exactly here), newest first.
        With `since` (epoch) only assets created after it (minus clock skew) count and the oldest
        match is returned (a lost attempt precedes any later one).
        """
        from ..models.assets import AssetStatus

        window = since - CLOCK_SKEW_SECONDS if since is not None else None
        wanted = dict(user_metadata or {})
        match: Asset | None = None
        for page_number in range(1, LOOKUP_MAX_PAGES + 1):
            page = self.list_assets(filename=filename, page=page_number, page_limit=LOOKUP_PAGE_LIMIT)
            for asset in page.data:
                created = parse_time(asset.created_at)
                if window is not None and created is not None and created < window:
                    return match
                if asset.filename != filename or asset.status == AssetStatus.FAILED:
                    continue
                meta = asset.user_metadata or {}
                if all(meta.get(k) == v for k, v in wanted.items()):
                    if window is None:
                        return asset.model_copy(update={"recovered": True})
                    match = asset.model_copy(update={"recovered": True})
            if page.is_last():
                break
        return match

    def upload_asset(
        self,
        path: str | os.PathLike[str],
        *,
        type: str = "video",
        user_metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> Asset:
        """A local file as an asset: a direct upload up to 200 MB, a multipart upload above."""
        if Path(path).stat().st_size <= DIRECT_UPLOAD_MAX_BYTES:
            return self.create_asset(file=path, user_metadata=user_metadata, idempotency_key=idempotency_key, **options)
        return self.upload_asset_multipart(
            path, type=type, user_metadata=user_metadata, idempotency_key=idempotency_key, **options
        )

    # --- read / delete / metadata ----------------------------------------------------------------

    def list_assets(self, **filters: Any) -> Page[Asset]:
        """GET /assets. Filters: page, page_limit (<=50), asset_ids (list), asset_types (list), filename."""
        from ..models.assets import Asset

        return self._get("/assets", Page[Asset], query_params(filters))

    def iter_assets(self, **filters: Any) -> Iterator[Asset]:
        start = int(filters.pop("page", 1))
        return iter_pages(lambda page: self.list_assets(**filters, page=page), start)

    def get_asset(self, asset_id: str) -> Asset:
        from ..models.assets import Asset

        return self._get(f"/assets/{asset_id}", Asset)

    def delete_asset(self, asset_id: str, *, force: bool | None = None) -> None:
        """DELETE /assets/{id}; ConflictError (409) while indexed assets use it, unless force=True."""
        params = query_params({"force": force})
        self._transport.request("DELETE", f"/assets/{asset_id}", params=params)

    def replace_asset_metadata(self, asset_id: str, user_metadata: Mapping[str, Any]) -> None:
        """PUT: full replace (omitted keys are removed; `{}` clears all)."""
        self._send_no_content("PUT", f"/assets/{asset_id}/user-metadata", {"user_metadata": dict(user_metadata)})

    def update_asset_metadata(self, asset_id: str, user_metadata: Mapping[str, Any]) -> None:
        """PATCH: merge; a None value deletes that key."""
        self._send_no_content("PATCH", f"/assets/{asset_id}/user-metadata", {"user_metadata": dict(user_metadata)})

    def delete_asset_metadata(self, asset_id: str) -> None:
        self._send_no_content("DELETE", f"/assets/{asset_id}/user-metadata")

    def get_asset_transcription(self, asset_id: str, include: Sequence[str] | None = None) -> AssetTranscription:
        """GET /assets/{id}/transcription; include: words (default) / sentences / utterances."""
        from ..models.assets import AssetTranscription

        return self._get(
            f"/assets/{asset_id}/transcription",
            AssetTranscription,
            query_params({"include": list(include) if include else None}),
        )

    def list_asset_indexed_assets(self, asset_id: str, **filters: Any) -> Page[AssetIndexedAssetRef]:
        from ..models.assets import AssetIndexedAssetRef

        return self._get(f"/assets/{asset_id}/indexed-assets", Page[AssetIndexedAssetRef], query_params(filters))

    def wait_for_asset(
        self,
        asset_id: str,
        *,
        timeout: float = DEFAULT_ASSET_WAIT_SECONDS,
        initial_interval: float = 1.0,
        max_interval: float = 15.0,
        factor: float = 1.5,
    ) -> Asset:
        """Poll GET /assets/{id} until `ready` (returned) or `failed` (ProcessingFailedError).

        Bounded: WaitTimeoutError after `timeout` seconds of the client's clock; DeadlineExceededError
        when a wait would pass the client's deadline. Waits grow from initial_interval by factor.
        """
        from ..models.assets import AssetStatus

        return self._wait(
            lambda: self.get_asset(asset_id),
            status=lambda a: a.status,
            terminal=AssetStatus.TERMINAL,
            failed=frozenset({AssetStatus.FAILED}),
            what=f"asset {asset_id}",
            timeout=timeout,
            initial_interval=initial_interval,
            max_interval=max_interval,
            factor=factor,
            reason=lambda a: a.error.message if a.error else None,
        )

    # --- multipart ---------------------------------------------------------------------------------

    def create_multipart_upload(
        self,
        filename: str,
        type: str,
        total_size: int,
        *,
        enable_hls: bool | None = None,
        enable_thumbnail: bool | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> MultipartUpload:
        """POST /assets/multipart-uploads (JSON). A lost answer is re-sent with the same Idempotency-Key:
        an orphaned session is never completed, so it creates no asset and expires after 24 h."""
        from ..models.assets import MultipartUpload

        if not 1 <= len(filename) <= 255:
            raise ValueError("filename must be 1-255 characters")
        if total_size <= 0:
            raise ValueError("total_size must be positive (bytes)")
        body: dict[str, Any] = {"filename": filename, "type": type, "total_size": total_size}
        for name, value in (("enable_hls", enable_hls), ("enable_thumbnail", enable_thumbnail)):
            if value is not None:
                body[name] = value
        if user_metadata:
            body["user_metadata"] = dict(user_metadata)
        result = self._transport.create(
            "POST",
            "/assets/multipart-uploads",
            json=body,
            recover=lambda since: None,
            idempotency_key=derive_idempotency_key(idempotency_key, "POST /assets/multipart-uploads", filename),
        )
        assert isinstance(result, httpx.Response)
        return self._parse(MultipartUpload, result)

    def report_chunks(self, upload_id: str, chunks: Sequence[CompletedChunk]) -> ReportChunksResult:
        """POST /assets/multipart-uploads/{id}: 1-50 completed chunks (duplicates are ignored server-side,
        so a retry after a lost answer is harmless)."""
        from ..models.assets import ReportChunksResult

        if not 1 <= len(chunks) <= REPORT_BATCH:
            raise ValueError(f"report 1-{REPORT_BATCH} chunks per call")
        body = {"completed_chunks": [c.model_dump(mode="json") for c in chunks]}
        response = self._transport.request("POST", f"/assets/multipart-uploads/{upload_id}", json=body)
        return self._parse(ReportChunksResult, response)

    def get_presigned_urls(self, upload_id: str, start: int, count: int) -> PresignedUrls:
        """POST …/presigned-urls: fresh URLs for chunks start..start+count-1 (1-based, count <= 50)."""
        from ..models.assets import PresignedUrls

        if start < 1 or not 1 <= count <= URL_BATCH:
            raise ValueError(f"start >= 1 and 1 <= count <= {URL_BATCH}")
        response = self._transport.request(
            "POST", f"/assets/multipart-uploads/{upload_id}/presigned-urls", json={"start": start, "count": count}
        )
        return self._parse(PresignedUrls, response)

    def get_multipart_upload(self, upload_id: str, **filters: Any) -> MultipartUploadStatus:
        from ..models.assets import MultipartUploadStatus

        return self._get(f"/assets/multipart-uploads/{upload_id}", MultipartUploadStatus, query_params(filters))

    def list_multipart_uploads(self, **filters: Any) -> Page[MultipartUploadSummary]:
        from ..models.assets import MultipartUploadSummary

        return self._get("/assets/multipart-uploads", Page[MultipartUploadSummary], query_params(filters))

    def put_chunk(self, url: str, data: bytes, headers: Mapping[str, str] | None = None) -> str:
        """PUT one chunk to its presigned URL (not TwelveLabs: no API key is sent); returns the ETag proof."""
        send = {"content-type": "application/octet-stream", **(headers or {})}
        response = self._transport.request("PUT", url, content=data, headers=send, absolute=True)
        etag: str | None = response.headers.get("etag")
        if not etag:
            raise TwelveLabsError(
                f"the chunk upload answered {response.status_code} without an ETag",
                code="missing_etag",
                status_code=response.status_code,
            )
        return etag.strip().strip('"')

    def upload_asset_multipart(
        self,
        file: str | os.PathLike[str] | BinaryIO,
        *,
        type: str = "video",
        filename: str | None = None,
        enable_hls: bool | None = None,
        enable_thumbnail: bool | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Asset:
        """Upload a large local file as an asset: create the session, PUT each chunk (read one at a time,
        never the whole file) to its presigned URL, report the ETags in batches of 50. Returns the asset
        (usually `processing`; see wait_for_asset). With a key, an asset this key already made is
        returned without uploading again."""
        with _open_seekable(file) as (handle, default_name):
            name = filename or default_name
            total = _size(handle)
            metadata = _metadata_with_key(user_metadata, idempotency_key)
            if idempotency_key is not None:
                existing = self.find_asset(name, metadata)
                if existing is not None:
                    return self._finish_interrupted(existing, handle, total)
            session = self.create_multipart_upload(
                name,
                type,
                total,
                enable_hls=enable_hls,
                enable_thumbnail=enable_thumbnail,
                user_metadata=metadata or None,
                idempotency_key=idempotency_key,
            )
            asset_id = self._upload_chunks(session, handle, total)
        return self.get_asset(asset_id)

    def _finish_interrupted(self, asset: Asset, handle: BinaryIO, total: int) -> Asset:
        """A found multipart asset not yet ready may be the reserved asset of a session an earlier run
        never finished (it would never become ready): when an open session of that moment and size exists,
        send it the chunks it lacks. Documented fields only; no second session or asset is created. The
        session's `upload_headers` are not known here: chunks go with the Content-Type the SDK sends (INFERRED
        to be enough, as for URLs refilled through `presigned-urls`)."""
        from ..models.assets import AssetStatus

        if asset.method != "multipart" or asset.status in (AssetStatus.READY, AssetStatus.FAILED):
            return asset
        session = self._open_session_of(asset, total)
        if session is None:
            return asset  # complete (the asset is being processed) or expired (the asset will fail)
        done = self._reported_chunks(session)
        if done is not None:
            self._upload_chunks(session, handle, total, skip=done)
        return self.get_asset(asset.id).model_copy(update={"recovered": True})

    def _open_session_of(self, asset: Asset, total: int) -> MultipartUpload | None:
        """The active session created with the asset (same size, created within SESSION_MATCH_SECONDS)."""
        from ..models.assets import MultipartUpload

        reserved = parse_time(asset.created_at)
        if reserved is None:
            return None
        for page_number in range(1, LOOKUP_MAX_PAGES + 1):
            page = self.list_multipart_uploads(page=page_number, page_limit=LOOKUP_PAGE_LIMIT)
            for item in page.data:
                started = parse_time(item.created_at)
                if (
                    item.status == "active"
                    and item.total_size == total
                    and started is not None
                    and abs(started - reserved) <= SESSION_MATCH_SECONDS
                ):
                    return MultipartUpload(
                        upload_id=item.upload_id,
                        asset_id=asset.id,
                        chunk_size=item.chunk_size,
                        total_chunks=item.total_chunks,
                    )
            if page.is_last():
                break
        return None

    def _reported_chunks(self, session: MultipartUpload) -> set[int] | None:
        """Chunk indexes the session already has (None: the session is complete, nothing left to send)."""
        done: set[int] = set()
        pages = -(-(session.total_chunks or 0) // URL_BATCH)  # `uploaded_chunks` pages of at most 50
        for page_number in range(1, max(1, pages) + 1):
            status = self.get_multipart_upload(session.upload_id, page=page_number, page_limit=URL_BATCH)
            if status.status == "completed":
                return None
            done.update(c.index for c in status.uploaded_chunks if c.index is not None and c.status == "completed")
            if not status.uploaded_chunks:
                break
        return done

    def _upload_chunks(self, session: MultipartUpload, handle: BinaryIO, total: int, skip: Collection[int] = ()) -> str:
        """PUT and report every chunk not in `skip` (already reported to this session)."""
        from ..models.assets import CompletedChunk

        chunk_size = session.chunk_size or 0
        if chunk_size <= 0:
            raise TwelveLabsError("the multipart session has no chunk_size", code="invalid_response")
        count = session.total_chunks or -(-total // chunk_size)
        urls: dict[int, PresignedUrl] = {u.chunk_index: u for u in session.upload_urls}
        pending: list[CompletedChunk] = []
        asset_id = session.asset_id
        todo = [index for index in range(1, count + 1) if index not in skip]
        for index in todo:
            if index not in urls:
                more = self.get_presigned_urls(session.upload_id, index, min(URL_BATCH, count - index + 1))
                urls.update({u.chunk_index: u for u in more.upload_urls})
                if index not in urls:
                    raise TwelveLabsError(f"no presigned URL for chunk {index}", code="invalid_response")
            handle.seek((index - 1) * chunk_size)
            data = handle.read(chunk_size)
            try:
                proof = self.put_chunk(urls[index].url, data, session.upload_headers)
            except TwelveLabsError as error:
                if error.status_code is None or not 400 <= error.status_code < 500:
                    raise
                # Single-use / expired URL: one fresh URL for this chunk, then give up.
                fresh = self.get_presigned_urls(session.upload_id, index, 1).upload_urls
                if not fresh:
                    raise
                proof = self.put_chunk(fresh[0].url, data, session.upload_headers)
            pending.append(CompletedChunk(chunk_index=index, proof=proof, chunk_size=len(data)))
            if len(pending) == REPORT_BATCH or index == todo[-1]:
                reported = self.report_chunks(session.upload_id, pending)
                asset_id = reported.asset_id or asset_id
                pending = []
        if not asset_id:
            raise TwelveLabsError("the multipart upload finished without an asset id", code="invalid_response")
        return asset_id


class _open_seekable:
    """Open a path (closed afterwards) or use a seekable binary file object (left open)."""

    def __init__(self, source: str | os.PathLike[str] | BinaryIO) -> None:
        self.source = source
        self._owned: BinaryIO | None = None

    def __enter__(self) -> tuple[BinaryIO, str]:
        if isinstance(self.source, (str, os.PathLike)):
            path = Path(self.source)
            self._owned = path.open("rb")
            return self._owned, path.name
        handle = self.source
        if not hasattr(handle, "seek") or not handle.seekable():
            raise TypeError("multipart uploads need a path or a seekable binary file object")
        name = getattr(handle, "name", None)
        return handle, (Path(name).name if isinstance(name, str) and name else "upload.bin")

    def __exit__(self, *exc: object) -> None:
        if self._owned is not None:
            self._owned.close()


def _size(handle: BinaryIO) -> int:
    position = handle.tell()
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(position)
    return size
