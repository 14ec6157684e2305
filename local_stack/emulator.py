"""The TwelveLabs side of the local stack: the repo's emulator, or the real API.

Real API: set TWELVELABS_API_KEY and leave TWELVELABS_BASE_URL unset (or StackConfig(emulator=False));
the functions then call https://api.twelvelabs.io/v1.3. TwelveLabs cannot reach the local webhook
URL, so callbacks are resolved by the scheduled reconcile function instead. (Not testable offline.)
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel

REAL_BASE_URL = "https://api.twelvelabs.io/v1.3"
ASSET_PROCESSING_SECONDS = 0.5


class TwelveLabsEndpoint(BaseModel):
    base_url: str
    admin_url: str | None
    api_key: str
    webhook_secret: str
    emulated: bool


def use_emulator(requested: bool | None) -> bool:
    if requested is not None:
        return requested
    return not (os.environ.get("TWELVELABS_API_KEY") and not os.environ.get("TWELVELABS_BASE_URL"))


class EmulatorHandle:
    """Runs the emulator in-process (its own server threads); `stop()` ends them."""

    def __init__(
        self,
        api_key: str,
        webhook_url: str,
        webhook_secret: str,
        processing_seconds: float,
        surface: str = "current",
    ) -> None:
        self._config: dict[str, Any] = {
            "api_key": api_key,
            "host": "127.0.0.1",
            "port": 0,
            "processing_seconds": processing_seconds,
            # Probing an upload does not take as long as indexing it: fixed, so that what the pipeline does per
            # video (requests, transitions) can be compared across processing times.
            "asset_processing_seconds": min(processing_seconds / 4, ASSET_PROCESSING_SECONDS),
            "webhook_url": webhook_url,
            "webhook_secret": webhook_secret,
            "surface": surface,  # the stack's TwelveLabsSurface (the template's default: current)
        }
        self._emu: Any = None
        self.endpoint: TwelveLabsEndpoint | None = None

    def start(self) -> TwelveLabsEndpoint:
        from twelvelabs_emulator import Emulator, EmulatorConfig

        self._emu = Emulator(EmulatorConfig(**self._config)).start()
        self.endpoint = TwelveLabsEndpoint(
            base_url=self._emu.base_url,
            admin_url=self._emu.admin_url,
            api_key=self._config["api_key"],
            webhook_secret=self._config["webhook_secret"],
            emulated=True,
        )
        return self.endpoint

    def stop(self) -> None:
        emu, self._emu = self._emu, None
        if emu is not None:
            emu.stop()


def real_endpoint(webhook_secret: str, fallback_api_key: str) -> TwelveLabsEndpoint:
    """TWELVELABS_API_KEY (else `fallback_api_key`, for stacks that never call TwelveLabs)."""
    return TwelveLabsEndpoint(
        base_url=os.environ.get("TWELVELABS_BASE_URL") or REAL_BASE_URL,
        admin_url=None,
        api_key=os.environ.get("TWELVELABS_API_KEY") or fallback_api_key,
        webhook_secret=os.environ.get("TWELVELABS_WEBHOOK_SECRET", webhook_secret),
        emulated=False,
    )
