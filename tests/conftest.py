"""Suite-wide fixtures: the sample media (made by scripts/make_samples.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "build" / "samples"


@pytest.fixture(scope="session")
def samples() -> Path:
    """The sample media directory, made on first use when `make` has not made it."""
    if not (SAMPLES / "videos" / "ocean-waves.mp4").exists():
        import subprocess
        import sys

        subprocess.run([sys.executable, str(REPO / "scripts" / "make_samples.py"), str(SAMPLES)], check=True)
    return SAMPLES


@pytest.fixture()
def emulator():
    """A fresh, started TwelveLabs emulator (api key "test-key", 0.2 s processing), stopped afterwards."""
    from twelvelabs_emulator import Emulator, EmulatorConfig

    with Emulator(
        EmulatorConfig(api_key="test-key", host="127.0.0.1", port=0, processing_seconds=0.2, surface="classic")
    ) as emu:
        yield emu
