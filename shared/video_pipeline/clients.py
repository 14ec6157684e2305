"""AWS and TwelveLabs clients, built once per Lambda container and reused across invocations."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from video_pipeline.errors import ConfigurationError
from video_pipeline.secrets import SecretProvider
from video_pipeline.settings import (
    CallbacksTableSetting,
    FunctionSettings,
    JobsTableSetting,
    NotificationsSetting,
    ResultsBucketSetting,
    env_values,
    load_settings,
)

if TYPE_CHECKING:
    from twelvelabs_client import TwelveLabsClient
    from twelvelabs_client.settings import ClientSettings

    from video_pipeline.notifier import Notifier
    from video_pipeline.results import ResultsWriter
    from video_pipeline.store import Stores

SettingsT_co = TypeVar("SettingsT_co", bound=FunctionSettings, covariant=True)

# The TwelveLabs client's own variables (TWELVELABS_CONNECT_TIMEOUT, TWELVELABS_READ_TIMEOUT, ...; see
# twelvelabs_client.settings): every TWELVELABS_* variable keys the container's clients.
CLIENT_ENV_PREFIX = "TWELVELABS_"


def _boto_config(**extra: Any) -> Any:
    # Imported on first use: botocore is a large import a cold start need not pay before the first AWS call.
    from botocore.config import Config

    # Standard retry mode: throttling and 5xx from AWS APIs are retried with backoff inside the SDK.
    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
    return config.merge(Config(**extra)) if extra else config


# --- per-invocation deadline --------------------------------------------------------------------------------------
# The client stops retrying/waiting (DeadlineExceededError, which the state machine retries) this long before the
# Lambda would be killed (Sandbox.Timedout: retried too, but the killed attempt's logs and metrics are lost, and a
# webhook caller or SQS sees a failure): 10% of the time the invocation started with,
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


def load_client_settings(base_url: str, environ: Any = None) -> ClientSettings:
    """The TwelveLabs client's settings from TWELVELABS_* (timeouts, retries, ...) and the function's base URL.

    The API key is not here: it comes from the secret when the client is built. An invalid value raises
    ConfigurationError naming the variable (handlers call this at cold start).
    """
    from pydantic import ValidationError
    from twelvelabs_client.settings import ClientSettings  # pydantic only (no httpx)

    try:
        return ClientSettings.from_env(environ, base_url=base_url, api_key="")
    except ValidationError as exc:
        problems = "; ".join(
            f"TWELVELABS_{str(err['loc'][0]).upper() if err['loc'] else '?'}: {err['msg']}"
            for err in exc.errors(include_input=False)
        )
        raise ConfigurationError(f"invalid TwelveLabs client setting(s): {problems}") from exc


class Clients:
    """The container's AWS clients, the secret and the TwelveLabs client, each built on first use.

    Shared by every Runtime with the same TWELVELABS_* environment (all functions of one container; in tests, all
    handlers), so a warm container reuses its connections.
    """

    def __init__(
        self,
        settings: FunctionSettings,
        twelvelabs: TwelveLabsClient | None = None,
        client_settings: ClientSettings | None = None,
    ) -> None:
        self._settings = settings
        self._client_settings = client_settings
        self._twelvelabs_override = twelvelabs
        self._twelvelabs: TwelveLabsClient | None = None
        self._twelvelabs_key: str | None = None
        self._lock = threading.Lock()

    @property
    def client_settings(self) -> ClientSettings:
        if self._client_settings is None:
            self._client_settings = load_client_settings(self._settings.twelvelabs_base_url)
        return self._client_settings

    # boto3 clients: created (and boto3 imported) lazily, so a function never builds what it does not use.
    @cached_property
    def s3(self) -> Any:
        import boto3

        # SigV4 so presigned URLs work for KMS-encrypted objects and in every region.
        return boto3.client("s3", config=_boto_config(signature_version="s3v4"))

    @cached_property
    def dynamodb(self) -> Any:
        import boto3

        return boto3.resource("dynamodb", config=_boto_config())

    @cached_property
    def sfn(self) -> Any:
        import boto3

        return boto3.client("stepfunctions", config=_boto_config())

    @cached_property
    def sns(self) -> Any:
        import boto3

        return boto3.client("sns", config=_boto_config())

    @cached_property
    def secrets(self) -> SecretProvider:
        return SecretProvider(
            self._settings, boto_config=_boto_config() if self._settings.twelvelabs_secret_arn else None
        )

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


class Runtime(Generic[SettingsT_co]):
    """Everything a handler needs besides the event: its settings and the container's clients.

    Typed by the function's settings model, so logic code reads `runtime.settings.jobs_table` as a `str` (no
    Optional). Tests build one with their own settings and clients.
    """

    def __init__(self, settings: SettingsT_co, clients: Clients | None = None) -> None:
        self._settings = settings
        self.clients = clients or get_clients(settings)

    @property
    def settings(self) -> SettingsT_co:
        return self._settings

    @property
    def s3(self) -> Any:
        return self.clients.s3

    @property
    def sfn(self) -> Any:
        return self.clients.sfn

    @property
    def secrets(self) -> SecretProvider:
        return self.clients.secrets

    @property
    def twelvelabs(self) -> TwelveLabsClient:
        return self.clients.twelvelabs

    @cached_property
    def store(self) -> Stores:
        from video_pipeline.store import CallbacksStore, JobsStore, Stores

        settings = self._settings
        dynamodb = self.clients.dynamodb
        jobs = JobsStore(dynamodb.Table(settings.jobs_table)) if isinstance(settings, JobsTableSetting) else None
        callbacks = (
            CallbacksStore(dynamodb.Table(settings.callbacks_table), settings.callback_ttl_seconds)
            if isinstance(settings, CallbacksTableSetting)
            else None
        )
        return Stores(jobs=jobs, callbacks=callbacks)

    @cached_property
    def results(self) -> ResultsWriter:
        from video_pipeline.results import ResultsWriter

        if not isinstance(self._settings, ResultsBucketSetting):
            raise ConfigurationError(f"{type(self._settings).__name__} has no RESULTS_BUCKET")
        return ResultsWriter(self.clients.s3, self._settings.results_bucket)

    @cached_property
    def notifier(self) -> Notifier:
        from video_pipeline.notifier import Notifier

        if not isinstance(self._settings, NotificationsSetting):
            raise ConfigurationError(f"{type(self._settings).__name__} has no NOTIFICATIONS_TOPIC_ARN")
        return Notifier(self.clients.sns, self._settings.notifications_topic_arn)


_clients: dict[tuple[tuple[str, str], ...], Clients] = {}
_runtimes: dict[tuple[object, ...], Runtime[FunctionSettings]] = {}
_cache_lock = threading.Lock()


def _client_env_key() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(CLIENT_ENV_PREFIX)))


def get_clients(settings: FunctionSettings | None = None) -> Clients:
    """The container's clients (one set per TWELVELABS_* environment)."""
    key = _client_env_key()
    with _cache_lock:
        clients = _clients.get(key)
        if clients is None:
            clients = _clients[key] = Clients(settings or load_settings(FunctionSettings))
        return clients


def get_runtime(model: type[SettingsT_co]) -> Runtime[SettingsT_co]:
    """The Runtime of a function with settings `model`, loaded from the environment on first use and cached.

    Keyed by the variables the model reads, so that several functions sharing one Python process (tests) each get
    their own settings, and a changed environment is re-read.
    """
    key = (model, *sorted(env_values(model).items()))
    with _cache_lock:
        cached = _runtimes.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    runtime = Runtime(load_settings(model))
    with _cache_lock:
        return _runtimes.setdefault(key, runtime)  # type: ignore[return-value]


def reset_runtimes() -> None:
    """Forget every cached Runtime and client (tests; the next call reloads settings and rebuilds clients)."""
    with _cache_lock:
        _runtimes.clear()
        _clients.clear()
