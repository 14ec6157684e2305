"""A local, wire-compatible emulator of the TwelveLabs Video Understanding API v1.3.

from twelvelabs_emulator import Emulator, EmulatorConfig
with Emulator(EmulatorConfig(api_key="k", port=0, processing_seconds=0.2)) as emu:
    emu.base_url   # http://127.0.0.1:<port>/v1.3
"""

from __future__ import annotations

from twelvelabs_emulator.config import EmulatorConfig
from twelvelabs_emulator.server import Emulator

__all__ = ["Emulator", "EmulatorConfig"]
