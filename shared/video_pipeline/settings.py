"""Each function's settings: one model per function, read from the environment template.yaml gives it.

A field `foo_bar` is read from the variable `FOO_BAR`. A field without a default is required: a missing or invalid
variable fails the function's cold start (module import), naming every bad variable. `FunctionSettings` holds what
the template's Globals give every function; the mixins name what a group of functions share; the last section has
one model per function (tests/template checks each against template.yaml, both ways). The TwelveLabs API key is not
a setting: it is read from the secret (`video_pipeline.secrets`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from video_pipeline.errors import ConfigurationError
from video_pipeline.models.payloads import AnalysisSpec, EmbeddingOptions

SettingsT = TypeVar("SettingsT", bound="FunctionSettings")


class FunctionSettings(BaseModel):
    """What the template's Globals give every function."""

    # defer_build: a function validates one of these models; the schemas of the others are never built.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    twelvelabs_base_url: str = Field(min_length=1)
    twelvelabs_secret_arn: str | None = None
    # Outside Lambda only (tests, scripts): the secret's fields straight from the environment, no ARN.
    twelvelabs_api_key: SecretStr | None = None
    twelvelabs_webhook_secret: SecretStr | None = None

    @classmethod
    def env_names(cls) -> dict[str, str]:
        """Variable name -> field name, for every field of this model."""
        return {name.upper(): name for name in cls.model_fields}

    @classmethod
    def required_env_names(cls) -> set[str]:
        return {name.upper() for name, info in cls.model_fields.items() if info.is_required()}


# ---------------------------------------------------------------- what groups of functions share


class JobsTableSetting(FunctionSettings):
    jobs_table: str = Field(min_length=1)


class CallbacksTableSetting(FunctionSettings):
    callbacks_table: str = Field(min_length=1)
    callback_ttl_seconds: int = Field(default=2 * 86400, ge=60)


class ResultsBucketSetting(FunctionSettings):
    results_bucket: str = Field(min_length=1)


class NotificationsSetting(FunctionSettings):
    notifications_topic_arn: str = Field(min_length=1)


class IndexIdSetting(FunctionSettings):
    twelvelabs_index_id: str = Field(min_length=1)


class EmbedPollSettings(FunctionSettings):
    """The embeddings poll: first wait and poll budget (start_embeddings returns the first poll state)."""

    embed_poll_first_seconds: int = Field(ge=0, le=3600)
    embed_poll_max_attempts: int = Field(ge=1, le=1000)


class PresignVideoSetting(FunctionSettings):
    presign_video_seconds: int = Field(default=6 * 3600, ge=60, le=7 * 86400)


# ---------------------------------------------------------------- one model per function


class IndexProvisionerSettings(FunctionSettings):
    pass


Surface = Literal["current", "classic"]


class IngestSettings(JobsTableSetting, ResultsBucketSetting, NotificationsSetting, IndexIdSetting):
    state_machine_arn: str = Field(min_length=1)
    # Which TwelveLabs API the pipeline speaks (carried in the execution input; the state machine branches on it).
    twelvelabs_surface: Surface
    analyses: list[AnalysisSpec]
    ignore_prefixes: list[str] = Field(default_factory=lambda: ["results/"])
    key_suffixes: list[str] = Field(default_factory=list)  # empty = every key; compared case-insensitively
    embed_clip_length: float = Field(ge=2, le=10)
    embed_scopes: list[str]
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
            raise ValueError(f"must be a comma list of clip/video, got {value}")
        return value

    @property
    def embedding_options(self) -> EmbeddingOptions:
        return EmbeddingOptions.model_validate({"clip_length": self.embed_clip_length, "scopes": self.embed_scopes})


class StartIndexingSettings(JobsTableSetting, PresignVideoSetting):
    pass


class AwaitIndexingSettings(JobsTableSetting, CallbacksTableSetting):
    pass


class StartAnalysisSettings(JobsTableSetting, CallbacksTableSetting):
    pass


class WebhookSettings(JobsTableSetting, CallbacksTableSetting, NotificationsSetting):
    webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)


class ReconcileSettings(JobsTableSetting, CallbacksTableSetting):
    reconcile_after_seconds: int = Field(ge=0)
    reconcile_max_tokens: int = Field(default=50, ge=1, le=1000)


class StartEmbeddingsSettings(JobsTableSetting, EmbedPollSettings, PresignVideoSetting):
    pass


class CheckEmbeddingsSettings(EmbedPollSettings):
    embed_poll_max_seconds: int = Field(ge=1, le=3600)

    @model_validator(mode="after")
    def _cap_not_below_first(self) -> CheckEmbeddingsSettings:
        if self.embed_poll_max_seconds < self.embed_poll_first_seconds:
            raise ValueError(
                f"EMBED_POLL_MAX_SECONDS ({self.embed_poll_max_seconds}) is below EMBED_POLL_FIRST_SECONDS "
                f"({self.embed_poll_first_seconds})"
            )
        return self


class StoreEmbeddingsSettings(JobsTableSetting, ResultsBucketSetting):
    pass


class RunAnalysisSettings(JobsTableSetting, ResultsBucketSetting):
    pass


class FinalizeSettings(JobsTableSetting, NotificationsSetting):
    pass


class RecordFailureSettings(JobsTableSetting, NotificationsSetting):
    pass


class ObjectRemovedSettings(JobsTableSetting, NotificationsSetting, IndexIdSetting):
    pass


# ---------------------------------------------------------------- loading


def _parse_analyses(raw: str) -> list[AnalysisSpec]:
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(items, list):
        raise ValueError("must be a JSON list")
    return [AnalysisSpec.model_validate(item) for item in items]


def env_values(model: type[FunctionSettings], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables `model` reads, as set (an empty variable counts as unset)."""
    env = os.environ if environ is None else environ
    return {field: env[name] for name, field in model.env_names().items() if env.get(name, "") != ""}


def load_settings(model: type[SettingsT], environ: Mapping[str, str] | None = None) -> SettingsT:
    """`model` from the environment; a missing or bad variable raises ConfigurationError naming each one."""
    try:
        return model.model_validate(env_values(model, environ))
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_input=False):  # never echo a value: some are secrets
            name = str(err["loc"][0]).upper() if err["loc"] else "<settings>"
            problems.append(f"{name}: {'missing' if err['type'] == 'missing' else err['msg']}")
        raise ConfigurationError(f"invalid environment for {model.__name__}: {'; '.join(problems)}") from exc
