"""Settings from the environment, validated at cold start; the TwelveLabs secret from Secrets Manager, cached."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator

from video_pipeline.errors import ConfigurationError
from video_pipeline.models import AnalysisSpec, EmbeddingOptions

# Env var name -> field name. Every variable is documented in docs/architecture.md.
ENV_FIELDS: dict[str, str] = {
    "TWELVELABS_BASE_URL": "twelvelabs_base_url",
    "TWELVELABS_SECRET_ARN": "twelvelabs_secret_arn",
    "TWELVELABS_API_KEY": "twelvelabs_api_key",
    "TWELVELABS_WEBHOOK_SECRET": "twelvelabs_webhook_secret",
    "TWELVELABS_INDEX_ID": "twelvelabs_index_id",
    "JOBS_TABLE": "jobs_table",
    "CALLBACKS_TABLE": "callbacks_table",
    "RESULTS_BUCKET": "results_bucket",
    "NOTIFICATIONS_TOPIC_ARN": "notifications_topic_arn",
    "STATE_MACHINE_ARN": "state_machine_arn",
    "ANALYSES": "analyses",
    "IGNORE_PREFIXES": "ignore_prefixes",
    "KEY_SUFFIXES": "key_suffixes",
    "EMBED_CLIP_LENGTH": "embed_clip_length",
    "EMBED_SCOPES": "embed_scopes",
    "EMBED_POLL_FIRST_SECONDS": "embed_poll_first_seconds",
    "EMBED_POLL_MAX_SECONDS": "embed_poll_max_seconds",
    "EMBED_POLL_MAX_ATTEMPTS": "embed_poll_max_attempts",
    "WEBHOOK_TOLERANCE_SECONDS": "webhook_tolerance_seconds",
    "RECONCILE_AFTER_SECONDS": "reconcile_after_seconds",
    "RECONCILE_MAX_TOKENS": "reconcile_max_tokens",
    "CALLBACK_TTL_SECONDS": "callback_ttl_seconds",
    "PRESIGN_VIDEO_SECONDS": "presign_video_seconds",
    "PRESIGN_MEDIA_SECONDS": "presign_media_seconds",
}

DEFAULT_ANALYSES = (
    '[{"name":"gist","kind":"gist","types":["title","topic","hashtag"]},'
    '{"name":"summary","kind":"summary"},{"name":"chapters","kind":"chapter"},'
    '{"name":"highlights","kind":"highlight"}]'
)


class PipelineSettings(BaseModel):
    """Every setting any function reads; each handler `require()`s the ones it cannot work without."""

    twelvelabs_base_url: str = "https://api.twelvelabs.io/v1.3"
    twelvelabs_secret_arn: str | None = None
    twelvelabs_api_key: SecretStr | None = None
    twelvelabs_webhook_secret: SecretStr | None = None
    twelvelabs_index_id: str | None = None
    jobs_table: str | None = None
    callbacks_table: str | None = None
    results_bucket: str | None = None
    notifications_topic_arn: str | None = None
    state_machine_arn: str | None = None
    analyses: list[AnalysisSpec] = Field(default_factory=lambda: _parse_analyses(DEFAULT_ANALYSES))
    ignore_prefixes: list[str] = Field(default_factory=lambda: ["results/"])
    key_suffixes: list[str] = Field(default_factory=list)  # empty = every key; compared case-insensitively
    embed_clip_length: float = Field(default=6, ge=2, le=10)
    embed_scopes: list[str] = Field(default_factory=lambda: ["clip"])
    embed_poll_first_seconds: int = Field(default=10, ge=0, le=3600)
    embed_poll_max_seconds: int = Field(default=120, ge=0, le=3600)
    embed_poll_max_attempts: int = Field(default=60, ge=1, le=1000)
    webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    reconcile_after_seconds: int = Field(default=600, ge=0)
    reconcile_max_tokens: int = Field(default=50, ge=1, le=1000)
    callback_ttl_seconds: int = Field(default=2 * 86400, ge=60)
    presign_video_seconds: int = Field(default=6 * 3600, ge=60, le=7 * 86400)
    presign_media_seconds: int = Field(default=3600, ge=60, le=7 * 86400)

    @field_validator("analyses", mode="before")
    @classmethod
    def _analyses_from_json(cls, value: Any) -> Any:
        return _parse_analyses(value) if isinstance(value, str) else value

    @field_validator("analyses")
    @classmethod
    def _unique_names(cls, value: list[AnalysisSpec]) -> list[AnalysisSpec]:
        names = [a.result_name for a in value]
        if len(names) != len(set(names)) or "embeddings" in names:
            raise ValueError(f"analysis names must be unique and not 'embeddings': {names}")
        return value

    @field_validator("ignore_prefixes", "key_suffixes", "embed_scopes", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("embed_scopes")
    @classmethod
    def _valid_scopes(cls, value: list[str]) -> list[str]:
        if not value or not set(value) <= {"clip", "video"}:
            raise ValueError(f"EMBED_SCOPES must be a comma list of clip/video, got {value}")
        return value

    @property
    def embedding_options(self) -> EmbeddingOptions:
        return EmbeddingOptions.model_validate({"clip_length": self.embed_clip_length, "scopes": self.embed_scopes})

    def require(self, *env_names: str) -> PipelineSettings:
        """Fail at cold start, naming every missing variable, rather than on the first event."""
        missing = [name for name in env_names if getattr(self, ENV_FIELDS[name]) in (None, "", [])]
        if missing:
            raise ConfigurationError(f"missing environment variable(s): {', '.join(missing)}")
        return self


def _parse_analyses(raw: str) -> list[AnalysisSpec]:
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"ANALYSES is not JSON: {exc}") from exc
    if not isinstance(items, list):
        raise ValueError("ANALYSES must be a JSON list")
    return [AnalysisSpec.model_validate(item) for item in items]


def load_settings(environ: Mapping[str, str] | None = None, *, require: Iterable[str] = ()) -> PipelineSettings:
    """Read the environment into `PipelineSettings`; a bad value raises ConfigurationError naming the variable."""
    env = os.environ if environ is None else environ
    values = {field: env[name] for name, field in ENV_FIELDS.items() if env.get(name, "") != ""}
    try:
        settings = PipelineSettings.model_validate(values)
    except ValidationError as exc:
        by_field = {field: name for name, field in ENV_FIELDS.items()}
        problems = "; ".join(
            f"{by_field.get(str(err['loc'][0]), err['loc'][0])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid environment: {problems}") from exc
    return settings.require(*require)


class TwelveLabsSecret(BaseModel):
    api_key: SecretStr = Field(min_length=1)
    webhook_secret: SecretStr | None = None


class SecretProvider:
    """The TwelveLabs secret: Secrets Manager (cached for `max_age` seconds) or, with no ARN, the environment."""

    def __init__(self, settings: PipelineSettings, secrets_client: Any | None, max_age: float = 300.0) -> None:
        self._settings = settings
        self._client = secrets_client
        self._max_age = max_age
        self._cached: TwelveLabsSecret | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def get(self, *, force: bool = False) -> TwelveLabsSecret:
        with self._lock:
            fresh = self._cached is not None and time.monotonic() - self._fetched_at < self._max_age
            if fresh and not force:
                assert self._cached is not None
                return self._cached
            self._cached = self._load()
            self._fetched_at = time.monotonic()
            return self._cached

    def _load(self) -> TwelveLabsSecret:
        arn = self._settings.twelvelabs_secret_arn
        if not arn:
            if self._settings.twelvelabs_api_key is None:
                raise ConfigurationError("set TWELVELABS_SECRET_ARN (or TWELVELABS_API_KEY outside Lambda)")
            return TwelveLabsSecret(
                api_key=self._settings.twelvelabs_api_key,
                webhook_secret=self._settings.twelvelabs_webhook_secret,
            )
        if self._client is None:
            raise ConfigurationError("a Secrets Manager client is needed to read TWELVELABS_SECRET_ARN")
        raw = self._client.get_secret_value(SecretId=arn)["SecretString"]
        try:
            return TwelveLabsSecret.model_validate_json(raw)
        except ValidationError as exc:
            # Never echo the secret value: name the fields only.
            raise ConfigurationError(
                f"secret {arn} must be JSON {{\"api_key\", \"webhook_secret\"}}: "
                + "; ".join(f"{e['loc']}: {e['msg']}" for e in exc.errors(include_input=False))
            ) from exc
