"""The admin API under `/_emulator/` (no API key): faults, webhook log, runtime config, reset, request log."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.utils import send_file
from werkzeug.wrappers import Response

from twelvelabs_emulator.errors import not_found
from twelvelabs_emulator.faults import FaultSettings
from twelvelabs_emulator.httpkit import EmulatorRequest, json_response, parse_json_body
from twelvelabs_emulator.services import Services


class ConfigChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_url: str | None = None
    webhook_secret: str | None = None
    processing_seconds: float | None = Field(default=None, ge=0)


class FaultChange(FaultSettings):
    """Same fields as the fault settings; only those sent are merged."""


def health(s: Services, request: EmulatorRequest) -> Response:
    with s.rt.store.read() as st:
        counts = {"indexes": len(st.indexes), "videos": len(st.videos), "tasks": len(st.tasks),
                  "embed_tasks": len(st.embed_tasks)}
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
        setattr(s.rt.config, name, getattr(change, name))
    cfg = s.rt.config
    return json_response({"webhook_url": cfg.webhook_url, "webhook_secret_set": bool(cfg.webhook_secret),
                          "processing_seconds": cfg.processing_seconds})


def reset(s: Services, request: EmulatorRequest) -> Response:
    s.rt.store.reset()
    s.searches.clear()
    s.rt.webhooks.clear()
    s.rt.faults.clear()
    s.rt.limiter.reset()
    s.rt.clear_requests()
    for path in s.rt.media_dir.iterdir():
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
