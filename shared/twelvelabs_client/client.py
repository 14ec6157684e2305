"""`TwelveLabsClient`: one object, one method per API operation (grouped in resources/)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import httpx

from .http import RateLimitInfo, Transport, _new_http_client, shared_http_client
from .resources.analyze_tasks import AnalyzeTasksMixin
from .resources.assets import AssetsMixin
from .resources.connections import ConnectionsMixin
from .resources.embed import EmbedMixin
from .resources.embed_v2 import EmbedV2Mixin
from .resources.generate import GenerateMixin
from .resources.imports import ImportsMixin
from .resources.indexed_assets import IndexedAssetsMixin
from .resources.indexes import IndexesMixin
from .resources.search import SearchMixin
from .resources.tasks import TasksMixin
from .resources.videos import VideosMixin
from .settings import ClientSettings


class TwelveLabsClient(
    IndexesMixin,
    VideosMixin,
    TasksMixin,
    ImportsMixin,
    EmbedMixin,
    SearchMixin,
    GenerateMixin,
    AssetsMixin,
    IndexedAssetsMixin,
    AnalyzeTasksMixin,
    EmbedV2Mixin,
    ConnectionsMixin,
):
    """Typed client of the TwelveLabs v1.3 API: the classic surface (SDK 1.0.2) and the current one
    (SDK 1.3.6: assets, indexed assets, analyze tasks, embed v2, connections); see docs/client.md.

    Without `transport`/`http_client` the client uses a process-wide connection pool, so clients
    built on every Lambda invocation still reuse warm connections.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        settings: ClientSettings | None = None,
        transport: httpx.BaseTransport | None = None,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        settings = settings or ClientSettings()
        overrides = {k: v for k, v in (("api_key", api_key), ("base_url", base_url)) if v is not None}
        if overrides:
            settings = settings.model_validate({**settings.model_dump(), **overrides})
        if not settings.api_key:
            raise ValueError("an API key is required (api_key= or TWELVELABS_API_KEY)")
        self.settings = settings
        self._owns_http = http_client is None and transport is not None
        if http_client is None:
            http_client = (
                _new_http_client(settings, transport) if transport is not None else shared_http_client(settings)
            )
        self._transport = Transport(
            settings, settings.api_key, http_client, sleep=sleep, clock=clock, wall_clock=wall_clock, rand=rand
        )

    @classmethod
    def from_env(cls, **kwargs: object) -> TwelveLabsClient:
        """Settings from TWELVELABS_* environment variables (see ClientSettings.from_env)."""
        return cls(settings=ClientSettings.from_env(), **kwargs)  # type: ignore[arg-type]

    def with_deadline(self, remaining_seconds: Callable[[], float] | None) -> TwelveLabsClient:
        """Stop retrying (DeadlineExceededError) once `remaining_seconds()` <= 0, and cap each
        attempt's timeouts to it. Sets it on this client and returns the client; None clears it."""
        self._transport.deadline = remaining_seconds
        return self

    @property
    def last_rate_limit(self) -> RateLimitInfo | None:
        """Rate-limit headers of the latest answer that carried any (None when the API sends none)."""
        return self._transport.last_rate_limit

    def close(self) -> None:
        """Close the pool if this client made its own (the shared pool stays for warm reuse)."""
        if self._owns_http:
            self._transport.http.close()

    def __enter__(self) -> TwelveLabsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
