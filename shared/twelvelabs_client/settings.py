"""Client configuration, validated; production and the emulator differ only by these values."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_BASE_URL = "https://api.twelvelabs.io/v1.3"

# env var -> field name
_ENV = {
    "TWELVELABS_BASE_URL": "base_url",
    "TWELVELABS_API_KEY": "api_key",
    "TWELVELABS_CONNECT_TIMEOUT": "connect_timeout",
    "TWELVELABS_READ_TIMEOUT": "read_timeout",
    "TWELVELABS_WRITE_TIMEOUT": "write_timeout",
    "TWELVELABS_POOL_TIMEOUT": "pool_timeout",
    "TWELVELABS_UPLOAD_READ_TIMEOUT": "upload_read_timeout",
    "TWELVELABS_MAX_RETRIES": "max_retries",
    "TWELVELABS_BACKOFF_BASE": "backoff_base",
    "TWELVELABS_BACKOFF_MAX": "backoff_max",
    "TWELVELABS_MAX_RETRY_WAIT": "max_retry_wait",
    "TWELVELABS_MAX_CONNECTIONS": "max_connections",
}


class ClientSettings(BaseModel):
    """Everything configurable about the client. Immutable so it can key the shared pool cache."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = Field(default=None, repr=False)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    write_timeout: float = Field(default=60.0, gt=0)
    pool_timeout: float = Field(default=5.0, gt=0)
    # Reading the answer to a large upload can take long: the server finishes receiving first.
    upload_read_timeout: float = Field(default=300.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=20)
    backoff_base: float = Field(default=0.5, ge=0)
    backoff_max: float = Field(default=10.0, ge=0)
    # Longest server-requested wait (Retry-After / X-Ratelimit-Reset) we sleep through; longer -> raise.
    max_retry_wait: float = Field(default=30.0, ge=0)
    max_connections: int = Field(default=20, ge=1)
    user_agent: str = "twelvelabs-aws-pipeline/0.1 (+httpx)"

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value

    @field_validator("api_key")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> ClientSettings:
        """Read TWELVELABS_* variables (unset or empty -> default); keyword overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {field: env[var] for var, field in _ENV.items() if env.get(var)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
