"""The TwelveLabs secret `{"api_key", "webhook_secret"}`: Secrets Manager through Powertools Parameters (cached in
the container for `max_age` seconds, so a rotated key is picked up), or the environment outside Lambda."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SecretStr, ValidationError

from video_pipeline.errors import ConfigurationError
from video_pipeline.settings import FunctionSettings

SECRET_MAX_AGE_SECONDS = 300


class TwelveLabsSecret(BaseModel):
    api_key: SecretStr = Field(min_length=1)
    webhook_secret: SecretStr | None = None


class SecretProvider:
    """`get()` the secret; `get(force=True)` re-reads it (after the API refused the cached key)."""

    def __init__(
        self, settings: FunctionSettings, *, boto_config: Any = None, max_age: int = SECRET_MAX_AGE_SECONDS
    ) -> None:
        self._settings = settings
        self._boto_config = boto_config
        self._max_age = max_age
        self._provider: Any = None

    def get(self, *, force: bool = False) -> TwelveLabsSecret:
        arn = self._settings.twelvelabs_secret_arn
        if not arn:
            if self._settings.twelvelabs_api_key is None:
                raise ConfigurationError("set TWELVELABS_SECRET_ARN (or TWELVELABS_API_KEY outside Lambda)")
            return TwelveLabsSecret(
                api_key=self._settings.twelvelabs_api_key, webhook_secret=self._settings.twelvelabs_webhook_secret
            )
        raw = self._parameters().get(arn, max_age=self._max_age, force_fetch=force)
        try:
            return TwelveLabsSecret.model_validate_json(raw if isinstance(raw, str | bytes) else "null")
        except ValidationError as exc:
            # Never echo the secret value: name the fields only.
            raise ConfigurationError(
                f'secret {arn} must be JSON {{"api_key", "webhook_secret"}}: '
                + "; ".join(f"{e['loc']}: {e['msg']}" for e in exc.errors(include_input=False))
            ) from exc

    def _parameters(self) -> Any:
        if self._provider is None:
            # Imported here: Parameters brings boto3, which a cold start should not pay before it needs it.
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            self._provider = SecretsProvider(boto_config=self._boto_config)
        return self._provider
