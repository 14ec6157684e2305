"""Emulator settings (the CLI and the programmatic API share this model)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TWO_GB = 2 * 1024**3
MB = 1024 * 1024


class EmulatorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: str = "test-key"
    # Which API the emulator speaks: "current" = as the official SDK 1.3.6 speaks it (Oct 2026),
    # "classic" = the seed's v1.3 surface (26 operations, SDK 1.0.2). What a surface lacks answers as removed.
    surface: Literal["current", "classic"] = "current"
    # Strict (default): every object carries exactly its documented fields. Lenient keeps emulator extras.
    lenient: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    # Wall time of one indexing task from `validating` to `ready`/`failed` (embed tasks take the same).
    processing_seconds: float = Field(default=3.0, ge=0)
    # How long an asset stays `processing` (probing the upload). None = one indexing step (processing_seconds / 4).
    # Real asset processing depends on the file, not on how long indexing takes: the local stack fixes it.
    asset_processing_seconds: float | None = Field(default=None, ge=0)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # integration id -> local directory or s3://bucket/prefix (read through boto3, honours AWS_ENDPOINT_URL)
    integrations: dict[str, str] = Field(default_factory=dict)
    rate_limit_per_minute: int | None = Field(default=None, ge=1)
    state_dir: Path | None = None
    search_token_ttl_seconds: float = Field(default=3600.0, gt=0)
    webhook_max_attempts: int = Field(default=6, ge=1)
    # Delay before retry n (1-based) is base * 2**(n-1): 2, 4, 8, 16, 32 s -> 6 attempts over ~1 min.
    webhook_retry_base_seconds: float = Field(default=2.0, ge=0)
    webhook_timeout_seconds: float = Field(default=15.0, gt=0)  # receivers are often cold-starting Lambdas
    max_video_bytes: int = Field(default=TWO_GB, ge=1)
    download_timeout_seconds: float = Field(default=30.0, gt=0)
    request_log_size: int = Field(default=2000, ge=1)
    # Assets (current surface): documented limits; tests lower them.
    max_asset_direct_bytes: int = Field(default=200 * MB, ge=1)  # video/audio through `file`
    max_asset_url_bytes: int = Field(default=4 * 1024 * MB, ge=1)  # video/audio through `url`
    max_multipart_bytes: int = Field(default=10 * 1024 * MB, ge=1)  # video/audio multipart sessions
    multipart_chunk_size: int = Field(default=5 * MB, ge=1)  # the documented example chunk size
    multipart_initial_urls: int = Field(default=10, ge=1, le=50)  # presigned URLs handed out at session creation
    # Fake Google Drive accounts for `/connections` (see README): each entry as the admin route's body.
    drive_accounts: list[dict[str, object]] = Field(default_factory=list)
    # Idempotency-Key replay window.
    idempotency_ttl_seconds: float = Field(default=24 * 3600.0, gt=0)
