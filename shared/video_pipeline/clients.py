"""AWS and TwelveLabs clients, built once per Lambda container and reused across invocations."""

from __future__ import annotations

import os
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from video_pipeline.settings import ENV_FIELDS, PipelineSettings, SecretProvider, load_settings

if TYPE_CHECKING:
    from twelvelabs_client import TwelveLabsClient

# Standard retry mode: throttling and 5xx from AWS APIs are retried with backoff inside the SDK.
_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


class Runtime:
    """Everything a handler needs besides the event. Tests build one with their own settings."""

    def __init__(self, settings: PipelineSettings, twelvelabs: TwelveLabsClient | None = None) -> None:
        self.settings = settings
        self._twelvelabs_override = twelvelabs
        self._twelvelabs: TwelveLabsClient | None = None
        self._twelvelabs_key: str | None = None
        self._lock = threading.Lock()

    # boto3 clients: created lazily so a function never builds what it does not use.
    @cached_property
    def s3(self) -> Any:
        # SigV4 so presigned URLs work for KMS-encrypted objects and in every region.
        return boto3.client("s3", config=_BOTO_CONFIG.merge(Config(signature_version="s3v4")))

    @cached_property
    def dynamodb(self) -> Any:
        return boto3.resource("dynamodb", config=_BOTO_CONFIG)

    @cached_property
    def sfn(self) -> Any:
        return boto3.client("stepfunctions", config=_BOTO_CONFIG)

    @cached_property
    def sns(self) -> Any:
        return boto3.client("sns", config=_BOTO_CONFIG)

    @cached_property
    def secrets(self) -> SecretProvider:
        client = boto3.client("secretsmanager", config=_BOTO_CONFIG) if self.settings.twelvelabs_secret_arn else None
        return SecretProvider(self.settings, client)

    @cached_property
    def store(self) -> Any:
        from video_pipeline.store import CallbacksStore, JobsStore, Stores

        jobs = JobsStore(self.dynamodb.Table(self.settings.jobs_table)) if self.settings.jobs_table else None
        callbacks = (
            CallbacksStore(self.dynamodb.Table(self.settings.callbacks_table), self.settings.callback_ttl_seconds)
            if self.settings.callbacks_table
            else None
        )
        return Stores(jobs=jobs, callbacks=callbacks)

    @cached_property
    def results(self) -> Any:
        from video_pipeline.results import ResultsWriter

        return ResultsWriter(self.s3, self.settings.results_bucket or "")

    @cached_property
    def notifier(self) -> Any:
        from video_pipeline.notifier import Notifier

        return Notifier(self.sns, self.settings.notifications_topic_arn or "")

    @property
    def twelvelabs(self) -> TwelveLabsClient:
        """The TwelveLabs client; rebuilt when the cached secret's api key changes (rotation)."""
        if self._twelvelabs_override is not None:
            return self._twelvelabs_override
        from twelvelabs_client import TwelveLabsClient

        api_key = self.secrets.get().api_key.get_secret_value()
        with self._lock:
            if self._twelvelabs is None or api_key != self._twelvelabs_key:
                self._twelvelabs = TwelveLabsClient(api_key=api_key, base_url=self.settings.twelvelabs_base_url)
                self._twelvelabs_key = api_key
            return self._twelvelabs


_runtimes: dict[tuple[str | None, ...], Runtime] = {}
_runtime_lock = threading.Lock()


def get_runtime(*required_env: str) -> Runtime:
    """The container's Runtime; settings are validated on first use (handlers call this at import = cold start).

    Keyed by the pipeline's environment variables so that several functions sharing one Python process (the
    local in-process runner) each get their own settings.
    """
    env_key = tuple(os.environ.get(name) for name in ENV_FIELDS)
    with _runtime_lock:
        runtime = _runtimes.get(env_key)
        if runtime is None:
            runtime = _runtimes[env_key] = Runtime(load_settings())
    runtime.settings.require(*required_env)
    return runtime


def reset_runtimes() -> None:
    """Forget every cached Runtime (tests; the next call reloads settings and rebuilds clients)."""
    with _runtime_lock:
        _runtimes.clear()
