"""The asset store of the current surface: an uploaded file goes `processing -> ready | failed` after PyAV looked at it.

Other modules reach a ready asset's media through `ready_asset_media` (analysis, embeddings, indexed assets).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import av
import av.error

from twelvelabs_emulator import media
from twelvelabs_emulator.clock import new_id, utcnow
from twelvelabs_emulator.errors import ApiError, MediaProblem, not_found
from twelvelabs_emulator.models import AssetKind, AssetRecord, DriveAccount, MediaInfo, MetadataValue
from twelvelabs_emulator.runtime import Runtime

if TYPE_CHECKING:
    from twelvelabs_emulator.services import Services

IMAGE_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "gif", "tiff_pipe", "webp")
IMAGE_CODECS = ("mjpeg", "png", "webp", "bmp", "gif", "tiff")
IMAGE_MAX_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class AssetMedia:
    """A ready asset's file, as analysis/embedding code needs it."""

    asset_id: str
    path: Path
    filename: str
    kind: AssetKind
    duration: float | None


def ready_asset_media(services: Services, asset_id: str) -> AssetMedia:
    """The media of a `ready` asset; 404 `resource_not_exist` if unknown, 400 `parameter_invalid` if not ready."""
    with services.rt.store.read() as st:
        asset = st.current.assets.get(asset_id)
        if asset is None:
            raise not_found(asset_id, "assets")
        if asset.status != "ready" or asset.file_path is None or asset.kind is None:
            raise ApiError(
                400,
                "parameter_invalid",
                f"The asset {asset_id} is not ready (status {asset.status}); wait until it is ready.",
            )
        return AssetMedia(
            asset_id=asset.id,
            path=Path(asset.file_path),
            filename=asset.filename,
            kind=asset.kind,
            duration=asset.duration,
        )


@dataclass(frozen=True)
class Inspection:
    kind: AssetKind
    duration: float | None
    technical_metadata: dict[str, object]
    media: MediaInfo | None  # videos only


def mime_type(filename: str, kind: AssetKind | None = None) -> str:
    guessed, _ = mimetypes.guess_type(filename)
    if guessed:
        return guessed
    return {"video": "video/mp4", "audio": "audio/mpeg", "image": "image/jpeg"}.get(
        kind or "", "application/octet-stream"
    )


def inspect_file(path: Path, filename: str) -> Inspection:
    """Kind, duration and technical metadata of a media file; MediaProblem when it is not decodable media."""
    size = path.stat().st_size
    if size == 0:
        raise MediaProblem("media_file_broken", f"The file {filename} is empty.")
    tech: dict[str, object] = {"file_size_bytes": size, "file_mime_type": mime_type(filename)}
    try:
        with av.open(str(path)) as container:
            tech["file_container_format"] = container.format.name
            videos, audios = list(container.streams.video), list(container.streams.audio)
            total = container.duration / av.time_base if container.duration else None
            tech["total_video_streams"], tech["total_audio_streams"] = len(videos), len(audios)
            tech["has_audio"] = bool(audios)
            is_image = (
                bool(videos)
                and not audios
                and (container.format.name in IMAGE_FORMATS or videos[0].codec_context.name in IMAGE_CODECS)
            )
            if is_image:
                ctx = videos[0].codec_context
                tech.update(image_width=ctx.width, image_height=ctx.height, image_format=ctx.name)
                if size > IMAGE_MAX_BYTES:
                    raise MediaProblem(
                        "media_filesize_too_large",
                        f"The image {filename} is {size} bytes; the maximum is {IMAGE_MAX_BYTES}.",
                    )
                return Inspection("image", None, tech, None)
            if audios:
                actx = audios[0].codec_context
                tech.update(audio_codec=actx.name, audio_sample_rate=actx.sample_rate, audio_channels=actx.channels)
                if total:
                    tech["audio_duration_seconds"] = round(total, 3)
            if not videos:
                if not audios or not total:
                    raise MediaProblem("media_file_broken", f"The file {filename} has no decodable media stream.")
                return Inspection("audio", round(total, 3), tech, None)
            vctx = videos[0].codec_context
            tech.update(video_codec=vctx.name, video_width=vctx.width, video_height=vctx.height)
            if container.bit_rate:
                tech["video_bitrate_bps"] = int(container.bit_rate)
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise MediaProblem("media_file_broken", f"The file {filename} cannot be decoded: {exc}") from exc
    info = media.probe_video(path, filename)  # raises MediaProblem(video_file_broken)
    tech.update(
        video_fps=info.fps,
        video_duration_seconds=info.duration,
        storage_aspect_ratio=round(info.width / info.height, 4),
    )
    return Inspection("video", info.duration, tech, info)


class AssetService:
    """Creates assets from files already on disk and processes them on the scheduler."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def reserve(
        self,
        *,
        method: str,
        filename: str,
        enable_hls: bool,
        enable_thumbnail: bool,
        user_metadata: dict[str, MetadataValue | list[str]] | None,
        source: dict[str, object] | None = None,
        connection_key: str | None = None,
    ) -> AssetRecord:
        """An asset in `processing` without bytes yet (multipart uploads fill it later)."""
        now = utcnow()
        with self.rt.store.mutate() as st:
            asset = AssetRecord(
                id=new_id(),
                seq=st.next_seq(),
                method=method,
                status="processing",  # type: ignore[arg-type]
                filename=filename,
                file_type=mime_type(filename),
                created_at=now,
                updated_at=now,
                user_metadata=user_metadata or None,
                source=source,
                enable_hls=enable_hls,
                enable_thumbnail=enable_thumbnail,
                connection_key=connection_key,
            )
            st.current.assets[asset.id] = asset
        return asset

    def attach(self, asset_id: str, path: Path, content_hash: str) -> None:
        """The asset's bytes are complete at `path` (owned by the asset): start processing."""
        with self.rt.store.mutate() as st:
            asset = st.current.assets.get(asset_id)
            if asset is None:  # deleted meanwhile
                path.unlink(missing_ok=True)
                return
            asset.file_path, asset.content_hash, asset.status = str(path), content_hash, "processing"
            asset.error_message, asset.updated_at = None, utcnow()
        self.rt.scheduler.call_later(self.rt.asset_seconds, lambda: self.process(asset_id))

    def create(
        self,
        *,
        method: str,
        path: Path,
        filename: str,
        content_hash: str,
        enable_hls: bool,
        enable_thumbnail: bool,
        user_metadata: dict[str, MetadataValue | list[str]] | None,
        source: dict[str, object] | None = None,
        connection_key: str | None = None,
    ) -> AssetRecord:
        asset = self.reserve(
            method=method,
            filename=filename,
            enable_hls=enable_hls,
            enable_thumbnail=enable_thumbnail,
            user_metadata=user_metadata,
            source=source,
            connection_key=connection_key,
        )
        self.attach(asset.id, path, content_hash)
        with self.rt.store.read() as st:
            return st.current.assets[asset.id].model_copy(deep=True)

    def fail(self, asset_id: str, message: str) -> None:
        with self.rt.store.mutate() as st:
            asset = st.current.assets.get(asset_id)
            if asset is not None:
                asset.status, asset.error_message, asset.updated_at = "failed", message, utcnow()

    def process(self, asset_id: str) -> None:
        with self.rt.store.read() as st:
            asset = st.current.assets.get(asset_id)
            if asset is None or asset.status != "processing" or asset.file_path is None:
                return
            path, filename = Path(asset.file_path), asset.filename
        partial: dict[str, object] | None = None
        try:
            found = inspect_file(path, filename)
        except (MediaProblem, OSError) as problem:
            message = problem.message if isinstance(problem, MediaProblem) else f"The file cannot be read: {problem}"
            if path.exists():
                partial = {"file_size_bytes": path.stat().st_size, "file_mime_type": mime_type(filename)}
            with self.rt.store.mutate() as st:
                asset = st.current.assets.get(asset_id)
                if asset is not None and asset.status == "processing":
                    asset.status, asset.error_message, asset.technical_metadata = "failed", message, partial
                    asset.updated_at = utcnow()
            return
        with self.rt.store.mutate() as st:
            asset = st.current.assets.get(asset_id)
            if asset is None or asset.status != "processing":
                return
            asset.status, asset.kind, asset.duration = "ready", found.kind, found.duration
            asset.technical_metadata, asset.media = found.technical_metadata, found.media
            asset.size = int(found.technical_metadata["file_size_bytes"])  # type: ignore[call-overload]
            asset.file_type = mime_type(filename, found.kind)
            asset.updated_at = utcnow()

    def register_drive_accounts(self, accounts: list[dict[str, object]]) -> None:
        """Fake Google Drive accounts from the config (same shape as `POST /_emulator/drive-accounts`)."""
        parsed = [DriveAccount.model_validate(a) for a in accounts]
        with self.rt.store.mutate() as st:
            for account in parsed:
                st.current.drive_accounts[account.external_id] = account

    def resume(self) -> None:
        """After a restart: assets still `processing` with their bytes are processed again."""
        with self.rt.store.read() as st:
            pending = [a.id for a in st.current.assets.values() if a.status == "processing" and a.file_path]
        for asset_id in pending:
            self.rt.scheduler.call_later(self.rt.asset_seconds, lambda aid=asset_id: self.process(aid))


def safe_filename(name: str | None, default: str) -> str:
    return PurePosixPath(name or default).name or default
