"""AWS and TwelveLabs clients, built once per Lambda container and reused across invocations."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from pydantic import ValidationError
from twelvelabs_client.settings import ClientSettings  # pydantic only: cheap at cold start (no httpx)

from video_pipeline.errors import ConfigurationError
from video_pipeline.settings import ENV_FIELDS, PipelineSettings, SecretProvider, load_settings

if TYPE_CHECKING:
    from twelvelabs_client import TwelveLabsClient

# Standard retry mode: throttling and 5xx from AWS APIs are retried with backoff inside the SDK.
_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)

# The TwelveLabs client's own variables (TWELVELABS_CONNECT_TIMEOUT, TWELVELABS_READ_TIMEOUT, TWELVELABS_MAX_RETRIES,
# ...; see twelvelabs_client.settings). They also key the Runtime cache.
CLIENT_ENV: tuple[str, ...] = tuple(f"TWELVELABS_{name.upper()}" for name in ClientSettings.model_fields)

# --- per-invocation deadline --------------------------------------------------------------------------------------
# The client stops retrying/waiting (DeadlineExceededError, which the state machine retries) this long before the
# Lambda would be killed (Sandbox.Timedout, which nothing retries): 10% of the time the invocation started with,
# at most DEADLINE_MARGIN_MAX seconds (30 s function -> 3 s, 15 s -> 1.5 s, 300 s -> 3 s).
DEADLINE_MARGIN_FRACTION = 0.1
DEADLINE_MARGIN_MAX = 3.0

_invocation_deadline: ContextVar[Callable[[], float] | None] = ContextVar("invocation_deadline", default=None)


def deadline_margin(remaining_seconds: float) -> float:
    """Seconds kept free at the end of an invocation that starts with `remaining_seconds` left."""
    return min(DEADLINE_MARGIN_MAX, DEADLINE_MARGIN_FRACTION * max(remaining_seconds, 0.0))


def remaining_invocation_seconds() -> float:
    """Seconds the TwelveLabs client may still spend in the current invocation (inf outside one)."""
    deadline = _invocation_deadline.get()
    return math.inf if deadline is None else deadline()


@contextmanager
def bind_invocation(context: Any, *, reserve_seconds: float = 0.0) -> Iterator[Callable[[], float] | None]:
    """Bound every TwelveLabs call made in this block (this thread) by the Lambda `context`'s remaining time.

    The client gives up `deadline_margin(...) + reserve_seconds` before `context.get_remaining_time_in_millis()`
    reaches 0 (`reserve_seconds`: work the handler must still do after a TwelveLabs failure). The binding is per
    invocation, not per container: the cached Runtime and client read it on every call, so a warm container's next
    invocation gets its own deadline, and nothing is bound after the block. A context without
    `get_remaining_time_in_millis` binds nothing (no deadline).
    """
    get_remaining = getattr(context, "get_remaining_time_in_millis", None)
    bound: Callable[[], float] | None = None
    if callable(get_remaining):
        keep = deadline_margin(get_remaining() / 1000.0) + max(reserve_seconds, 0.0)

        def remaining() -> float:
            return float(get_remaining()) / 1000.0 - keep

        bound = remaining
    token = _invocation_deadline.set(bound)
    try:
        yield bound
    finally:
        _invocation_deadline.reset(token)


def load_client_settings(settings: PipelineSettings) -> ClientSettings:
    """The client's settings from TWELVELABS_* (timeouts, retries, ...); base URL from the pipeline settings.

    The API key is not here: it comes from the secret when the client is built. An invalid value raises
    ConfigurationError naming the variable (at cold start, like the pipeline settings).
    """
    try:
        return ClientSettings.from_env(base_url=settings.twelvelabs_base_url, api_key="")
    except ValidationError as exc:
        problems = "; ".join(
            f"TWELVELABS_{str(err['loc'][0]).upper() if err['loc'] else '?'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid TwelveLabs client setting(s): {problems}") from exc


class Runtime:
    """Everything a handler needs besides the event. Tests build one with their own settings."""

    def __init__(self, settings: PipelineSettings, twelvelabs: TwelveLabsClient | None = None,
                 client_settings: ClientSettings | None = None) -> None:
        self.settings = settings
        self.client_settings = client_settings or load_client_settings(settings)
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
        """The TwelveLabs client; rebuilt when the cached secret's api key changes (rotation).

        Built from `client_settings` (TWELVELABS_* timeouts/retries) with the secret's API key, and bound to the
        current invocation's deadline (see `bind_invocation`). An injected client is used as given.
        """
        if self._twelvelabs_override is not None:
            return self._twelvelabs_override
        from twelvelabs_client import TwelveLabsClient

        api_key = self.secrets.get().api_key.get_secret_value()
        with self._lock:
            if self._twelvelabs is None or api_key != self._twelvelabs_key:
                client = TwelveLabsClient(api_key=api_key, settings=self.client_settings)
                # Read on every attempt and sleep: follows whichever invocation is running now.
                self._twelvelabs = client.with_deadline(remaining_invocation_seconds)
                self._twelvelabs_key = api_key
            return self._twelvelabs


_runtimes: dict[tuple[str | None, ...], Runtime] = {}
_runtime_lock = threading.Lock()


def get_runtime(*required_env: str) -> Runtime:
    """The container's Runtime; settings are validated on first use (handlers call this at import = cold start).

    Keyed by the pipeline's environment variables so that several functions sharing one Python process (the
    local in-process runner) each get their own settings.
    """
    env_key = tuple(os.environ.get(name) for name in (*ENV_FIELDS, *CLIENT_ENV))
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
