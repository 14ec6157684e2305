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
