"""The admin API under `/_emulator/` (no API key): faults, webhook log, runtime config, reset, request log."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.utils import send_file
from werkzeug.wrappers import Response

from twelvelabs_emulator.errors import invalid, not_found
from twelvelabs_emulator.faults import FaultSettings
from twelvelabs_emulator.httpkit import EmulatorRequest, json_response, parse_json_body
from twelvelabs_emulator.media import first_frame_jpeg
from twelvelabs_emulator.models import DriveAccount
from twelvelabs_emulator.services import Services


class ConfigChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_url: str | None = None
    webhook_secret: str | None = None
    processing_seconds: float | None = Field(default=None, ge=0)
    # integration id -> local directory or s3://bucket/prefix; merged into the configured ones (classic imports)
    integrations: dict[str, str] | None = None


class FaultChange(FaultSettings):
    """Same fields as the fault settings; only those sent are merged."""


def health(s: Services, request: EmulatorRequest) -> Response:
    with s.rt.store.read() as st:
        counts = {
            "indexes": len(st.indexes),
            "videos": len(st.videos),
            "tasks": sum(1 for t in st.tasks.values() if t.asset_id is None),
            "embed_tasks": len(st.embed_tasks),
            "assets": len(st.current.assets),
            "indexed_assets": sum(1 for t in st.tasks.values() if t.asset_id is not None),
            "multipart_uploads": len(st.current.uploads),
            "connections": len(st.current.connections),
        }
    return json_response({"status": "ok", "base_url": f"{s.rt.public_url}/v1.3", **counts})


def get_faults(s: Services, request: EmulatorRequest) -> Response:
    return json_response(s.rt.faults.snapshot().model_dump())


def set_faults(s: Services, request: EmulatorRequest) -> Response:
    change = parse_json_body(request, FaultChange)
    merged = s.rt.faults.merge(change.model_dump(include=change.model_fields_set))
    return json_response(merged.model_dump())


def clear_faults(s: Services, request: EmulatorRequest) -> Response:
    s.rt.faults.clear()
    return json_response(s.rt.faults.snapshot().model_dump())


def webhooks(s: Services, request: EmulatorRequest) -> Response:
    return json_response(s.rt.webhooks.deliveries())


def clear_webhooks(s: Services, request: EmulatorRequest) -> Response:
    s.rt.webhooks.clear()
    return json_response([])


def set_config(s: Services, request: EmulatorRequest) -> Response:
    change = parse_json_body(request, ConfigChange)
    for name in change.model_fields_set:
        if name == "integrations":
            s.rt.config.integrations.update(change.integrations or {})
        else:
            setattr(s.rt.config, name, getattr(change, name))
    cfg = s.rt.config
    return json_response(
        {
            "webhook_url": cfg.webhook_url,
            "webhook_secret_set": bool(cfg.webhook_secret),
            "processing_seconds": cfg.processing_seconds,
            "integrations": sorted(cfg.integrations),
        }
    )


def reset(s: Services, request: EmulatorRequest) -> Response:
    s.rt.store.reset()
    s.searches.clear()
    s.rt.webhooks.clear()
    s.rt.faults.clear()
    s.rt.limiter.reset()
    s.rt.idempotency.clear()
    s.rt.clear_requests()
    for path in [*s.rt.media_dir.iterdir(), *s.rt.upload_dir.glob("multipart-*")]:
        if path.is_file():
            path.unlink(missing_ok=True)
    return json_response({"status": "reset"})


def requests_log(s: Services, request: EmulatorRequest) -> Response:
    return json_response(s.rt.requests())


def clear_requests_log(s: Services, request: EmulatorRequest) -> Response:
    s.rt.clear_requests()
    return json_response([])


def media_file(s: Services, request: EmulatorRequest, video_id: str) -> Response:
    """The stored video file (what `hls.video_url` points at; the emulator makes no HLS renditions)."""
    with s.rt.store.read() as st:
        video = st.videos.get(video_id)
        path = Path(video.file_path) if video else None
    if path is None or not path.exists():
        raise not_found(video_id, "videos")
    return send_file(path, request.environ, mimetype="application/octet-stream", conditional=True)


def _asset_path(s: Services, asset_id: str) -> tuple[Path, str | None]:
    with s.rt.store.read() as st:
        asset = st.current.assets.get(asset_id)
        path = Path(asset.file_path) if asset is not None and asset.file_path else None
        kind = asset.kind if asset is not None else None
    if path is None or not path.exists():
        raise not_found(asset_id, "assets")
    return path, kind


def asset_file(s: Services, request: EmulatorRequest, asset_id: str) -> Response:
    """An asset's stored file (the multipart report's `url`)."""
    path, _ = _asset_path(s, asset_id)
    return send_file(path, request.environ, mimetype="application/octet-stream", conditional=True)


def asset_thumbnail(s: Services, request: EmulatorRequest, asset_id: str) -> Response:
    """`thumbnail.representative_url`: a JPEG of the first frame (images: the image itself, re-encoded)."""
    path, kind = _asset_path(s, asset_id)
    if kind not in ("video", "image"):
        raise not_found(asset_id, "asset thumbnails")
    return Response(first_frame_jpeg(path), mimetype="image/jpeg")


def asset_hls(s: Services, request: EmulatorRequest, asset_id: str) -> Response:
    """`hls.manifest_url`: a one-entry VOD playlist naming the stored file (the emulator makes no HLS renditions)."""
    _asset_path(s, asset_id)  # 404 unless the asset has its file
    with s.rt.store.read() as st:
        duration = st.current.assets[asset_id].duration or 0.0
    body = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        f"#EXT-X-TARGETDURATION:{int(duration) + 1}\n#EXTINF:{duration:.3f},\n"
        f"{s.rt.public_url}/_emulator/assets/{asset_id}/file\n#EXT-X-ENDLIST\n"
    )
    return Response(body, mimetype="application/vnd.apple.mpegurl")


def list_drive_accounts(s: Services, request: EmulatorRequest) -> Response:
    with s.rt.store.read() as st:
        return json_response([a.model_dump() for a in st.current.drive_accounts.values()])


def add_drive_account(s: Services, request: EmulatorRequest) -> Response:
    """Register (or replace) a fake Google Drive account with its files; the next OAuth consent connects it."""
    account = parse_json_body(request, DriveAccount)
    for source_id, file in account.files.items():
        if (file.path is None) == (file.reject is None):
            raise invalid(f"files.{source_id}", "give exactly one of `path` (a local file) or `reject` (a code).")
        if file.path is not None and not Path(file.path).is_file():
            raise invalid(f"files.{source_id}.path", f"{file.path} is not a file.")
    with s.rt.store.mutate() as st:
        st.current.drive_accounts[account.external_id] = account
    return json_response(account.model_dump(), 201)


class ConnectionStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["active", "expired", "revoked"]


def set_connection_status(s: Services, request: EmulatorRequest, connection_id: str) -> Response:
    """Make a connection `expired` or `revoked` (what the provider side does), or active again."""
    change = parse_json_body(request, ConnectionStatusChange)
    with s.rt.store.mutate() as st:
        conn = st.current.connections.get(connection_id)
        if conn is None:
            raise not_found(connection_id, "connections")
        conn.status = change.status
    return json_response({"_id": connection_id, "status": change.status})
