"""Routes: `/assets` (direct and URL uploads, list, retrieve, delete, user metadata) of the current surface.

Multipart upload sessions live in `api_multipart.py`; their routes are appended to `ROUTES` there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.wrappers import Response

from twelvelabs_emulator import api_multipart
from twelvelabs_emulator.assets import safe_filename
from twelvelabs_emulator.clock import new_id, rfc3339
from twelvelabs_emulator.downloads import download, hash_file, url_filename
from twelvelabs_emulator.errors import ApiError, invalid, not_found, not_provided
from twelvelabs_emulator.httpkit import (
    EmulatorRequest,
    adopt_upload,
    empty_response,
    form_model,
    json_response,
    paginate,
    parse_bool_text,
    parse_json_body,
    require_multipart,
)
from twelvelabs_emulator.models import AssetRecord, MetadataValue, State
from twelvelabs_emulator.services import Services

AssetMetadataValue = MetadataValue | list[str]
ASSET_TYPES = ("image", "video", "audio")
MAX_SAFE_INTEGER = 2**53 - 1
UPLOAD_OVERHEAD = 1024 * 1024


class AssetForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    method: Literal["direct", "url"]
    url: str | None = None
    filename: str | None = Field(default=None, max_length=255)
    enable_hls: str | None = None
    enable_thumbnail: str | None = None
    user_metadata: str | None = None


class UserMetadataBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user_metadata: dict[str, object]


def check_metadata_value(field: str, value: object, allow_null: bool) -> None:
    """Strings, numbers, booleans, arrays of strings (1.3.5+); integers beyond 53 bits must be strings."""
    if value is None:
        if allow_null:
            return
        raise invalid(field, "null is not a value.")
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise invalid(field, "arrays may hold strings only.")
        return
    if isinstance(value, (bool, str, float)):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise invalid(field, "integers beyond +-(2**53-1) must be sent as strings.")
        return
    raise invalid(field, "values must be strings, numbers, booleans or arrays of strings.")


def parse_asset_metadata(raw: str | None) -> dict[str, AssetMetadataValue] | None:
    """The `user_metadata` form field: a JSON object string. `""`/`[]`/`null` values are ignored (as on PATCH)."""
    if raw is None or raw.strip() == "":
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise invalid("user_metadata", f"it is not valid JSON ({exc.msg}).") from exc
    if not isinstance(data, dict):
        raise invalid("user_metadata", "it must be a JSON object.")
    kept: dict[str, AssetMetadataValue] = {}
    for key, value in data.items():
        check_metadata_value(f"user_metadata.{key}", value, allow_null=True)
        if value not in (None, "", []):
            kept[key] = value
    return kept or None


def asset_json(asset: AssetRecord, public_url: str, detail: bool) -> dict[str, object]:
    """`Asset` (create) or `AssetDetail` (retrieve, list): only documented fields, optional ones only when set."""
    body: dict[str, object] = {
        "_id": asset.id,
        "method": asset.method,
        "status": asset.status,
        "filename": asset.filename,
        "file_type": asset.file_type,
        "created_at": rfc3339(asset.created_at),
    }
    if asset.user_metadata:
        body["user_metadata"] = dict(asset.user_metadata)
    if asset.source is not None:
        body["source"] = asset.source
    if not detail:
        return body
    base = f"{public_url}/_emulator/assets/{asset.id}"
    streamable = asset.kind in ("video", "audio") or asset.kind is None  # unknown until processed
    if asset.enable_hls and streamable:
        body["hls"] = _derived_json(asset, "manifest_url", f"{base}/hls.m3u8")
    if asset.enable_thumbnail:
        body["thumbnail"] = _derived_json(asset, "representative_url", f"{base}/thumbnail.jpg")
    if asset.technical_metadata is not None and asset.status != "processing":
        body["technical_metadata"] = dict(asset.technical_metadata)
    if asset.status == "ready" and asset.size is not None:
        body["size"] = asset.size
    if asset.status == "ready" and asset.duration is not None:
        body["duration"] = asset.duration
    if asset.status == "failed":
        body["error"] = {"message": asset.error_message or "The asset could not be processed."}
    return body


def _derived_json(asset: AssetRecord, url_field: str, url: str) -> dict[str, object]:
    status = {"processing": "processing", "ready": "ready", "failed": "error"}[asset.status]
    return {"status": status, url_field: url} if status == "ready" else {"status": status}


def _asset(st: State, asset_id: str) -> AssetRecord:
    asset = st.current.assets.get(asset_id)
    if asset is None:
        raise not_found(asset_id, "assets")
    return asset


def _form_bool(raw: str | None, name: str, default: bool) -> bool:
    return default if raw is None or raw == "" else parse_bool_text(raw, name)


def create_asset(s: Services, request: EmulatorRequest) -> Response:
    require_multipart(request)
    cfg = s.rt.config
    declared = request.content_length
    if declared is not None and declared > max(cfg.max_asset_direct_bytes, 32 * 1024 * 1024) + UPLOAD_OVERHEAD:
        raise ApiError(
            400,
            "video_filesize_too_large",
            f"The request body is {declared} bytes; local files may be "
            f"at most {cfg.max_asset_direct_bytes} bytes (use a multipart upload).",
            headers={"Connection": "close"},
        )
    form = form_model(request.form, AssetForm)
    metadata = parse_asset_metadata(form.user_metadata)
    hls = _form_bool(form.enable_hls, "enable_hls", True)
    thumbnail = _form_bool(form.enable_thumbnail, "enable_thumbnail", True)
    if form.method == "url":
        if not form.url:
            raise not_provided("url")
        path, digest, _ = download(
            form.url, "url", s.rt.media_dir, cfg.max_asset_url_bytes, cfg.download_timeout_seconds
        )
        filename = form.filename or url_filename(form.url, "asset")
    else:
        storage = request.files.get("file")
        if storage is None:
            raise not_provided("file")
        original = safe_filename(storage.filename, "asset")
        path = s.rt.media_dir / f"asset-{new_id()}{PurePosixPath(original).suffix[:10]}"
        size = adopt_upload(storage, path)
        if size > cfg.max_asset_direct_bytes:
            path.unlink(missing_ok=True)
            raise ApiError(
                400,
                "video_filesize_too_large",
                f"The file is {size} bytes; local files may be at most "
                f"{cfg.max_asset_direct_bytes} bytes (use a multipart upload).",
            )
        digest = hash_file(path)
        filename = form.filename or original
    asset = s.assets.create(
        method=form.method,
        path=path,
        filename=filename,
        content_hash=digest,
        enable_hls=hls,
        enable_thumbnail=thumbnail,
        user_metadata=metadata,
    )
    return json_response(asset_json(asset, s.rt.public_url, detail=False), 201)


def list_assets(s: Services, request: EmulatorRequest) -> Response:
    args = request.args
    ids = [v for v in args.getlist("asset_ids") if v]
    types = [v for v in args.getlist("asset_types") if v]
    for kind in types:
        if kind not in ASSET_TYPES:
            raise invalid("asset_types", f"{kind!r} is not one of {', '.join(ASSET_TYPES)}.")
    name = (args.get("filename") or "").lower()
    with s.rt.store.read() as st:
        items = [
            a
            for a in st.current.assets.values()
            if (not ids or a.id in ids) and (not types or a.kind in types) and name in a.filename.lower()
        ]
        items.sort(key=lambda a: (a.created_at, a.seq), reverse=True)
        page, info = paginate(items, args)
        data = [asset_json(a, s.rt.public_url, detail=True) for a in page]
    return json_response({"data": data, "page_info": info})


def retrieve_asset(s: Services, request: EmulatorRequest, asset_id: str) -> Response:
    with s.rt.store.read() as st:
        return json_response(asset_json(_asset(st, asset_id), s.rt.public_url, detail=True))


def delete_asset(s: Services, request: EmulatorRequest, asset_id: str) -> Response:
    force = _form_bool(request.args.get("force"), "force", False)
    with s.rt.store.mutate() as st:
        asset = _asset(st, asset_id)
        indexed = [t for t in st.tasks.values() if t.asset_id == asset_id and not t.video_deleted]
        if indexed and not force:
            raise ApiError(
                409,
                "asset_in_use",
                f"The asset {asset_id} is referenced by {len(indexed)} indexed "
                "asset(s); delete them first or pass force=true.",
            )
        del st.current.assets[asset_id]
        path = asset.file_path
    if path and not indexed:  # indexed assets keep reading the file
        s.rt.remove_file(path, True)
    return empty_response()


def list_asset_indexed_assets(s: Services, request: EmulatorRequest, asset_id: str) -> Response:
    with s.rt.store.read() as st:
        _asset(st, asset_id)
        items = sorted(
            (t for t in st.tasks.values() if t.asset_id == asset_id and not t.video_deleted),
            key=lambda t: (t.created_at, t.seq),
            reverse=True,
        )
        page, info = paginate(items, request.args)
        data = [
            {"_id": t.id, "index": {"_id": t.index_id, "name": st.indexes[t.index_id].index_name}}
            for t in page
            if t.index_id in st.indexes
        ]
    return json_response({"data": data, "page_info": info})


def _metadata_body(request: EmulatorRequest, allow_null: bool) -> dict[str, object]:
    body = parse_json_body(request, UserMetadataBody)
    for key, value in body.user_metadata.items():
        check_metadata_value(f"user_metadata.{key}", value, allow_null=True)
    return body.user_metadata


def patch_user_metadata(s: Services, request: EmulatorRequest, asset_id: str) -> Response:
    """Merge: a value sets, `null` deletes, `""`/`[]` are ignored, omitted keys stay."""
    changes = _metadata_body(request, allow_null=True)
    with s.rt.store.mutate() as st:
        asset = _asset(st, asset_id)
        merged = dict(asset.user_metadata or {})
        for key, value in changes.items():
            if value is None:
                merged.pop(key, None)
            elif value not in ("", []):
                merged[key] = value  # type: ignore[assignment]
        asset.user_metadata = merged or None
    return empty_response()


def put_user_metadata(s: Services, request: EmulatorRequest, asset_id: str) -> Response:
    """Replace: omitted keys are removed; `null`/`""`/`[]` are ignored (the key keeps its value; INFERRED)."""
    sent = _metadata_body(request, allow_null=True)
    with s.rt.store.mutate() as st:
        asset = _asset(st, asset_id)
        current = asset.user_metadata or {}
        replaced: dict[str, object] = {}
        for key, value in sent.items():
            if value not in (None, "", []):
                replaced[key] = value
            elif key in current:
                replaced[key] = current[key]
        asset.user_metadata = replaced or None  # type: ignore[assignment]
    return empty_response()


def delete_user_metadata(s: Services, request: EmulatorRequest, asset_id: str) -> Response:
    with s.rt.store.mutate() as st:
        _asset(st, asset_id).user_metadata = None
    return empty_response()


def asset_transcription(s: Services, request: EmulatorRequest, asset_id: str) -> Response:
    """How a transcription is triggered is undocumented; the emulator never has one (documented 404)."""
    with s.rt.store.read() as st:
        _asset(st, asset_id)
    raise ApiError(404, "resource_not_exist", f"The asset {asset_id} has no transcription.")


# (path under /v1.3, methods, handler(services, request, **path_args)); served in the current surface only.
ROUTES: list[tuple[str, list[str], Callable[..., Response]]] = [
    ("/assets", ["POST"], create_asset),
    ("/assets", ["GET"], list_assets),
    *api_multipart.ROUTES,
    ("/assets/<asset_id>", ["GET"], retrieve_asset),
    ("/assets/<asset_id>", ["DELETE"], delete_asset),
    ("/assets/<asset_id>/indexed-assets", ["GET"], list_asset_indexed_assets),
    ("/assets/<asset_id>/user-metadata", ["PATCH"], patch_user_metadata),
    ("/assets/<asset_id>/user-metadata", ["PUT"], put_user_metadata),
    ("/assets/<asset_id>/user-metadata", ["DELETE"], delete_user_metadata),
    ("/assets/<asset_id>/transcription", ["GET"], asset_transcription),
]
