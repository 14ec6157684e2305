"""Typed client of the TwelveLabs Video Understanding API v1.3 (httpx + pydantic).

`TwelveLabsClient` and `ClientSettings` load lazily so `twelvelabs_client.webhooks` and
`twelvelabs_client.requirements` (no network) do not pay for httpx on a cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import TwelveLabsClient
    from .settings import ClientSettings

__all__ = ["ClientSettings", "TwelveLabsClient"]


def __getattr__(name: str) -> Any:
    if name == "TwelveLabsClient":
        from .client import TwelveLabsClient

        return TwelveLabsClient
    if name == "ClientSettings":
        from .settings import ClientSettings

        return ClientSettings
    raise AttributeError(f"module 'twelvelabs_client' has no attribute {name!r}")
