"""Fixtures for the emulator tests: an httpx client on the `emulator` fixture, and a factory for custom configs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from twelvelabs_emulator import Emulator, EmulatorConfig

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture()
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, headers={"x-api-key": "test-key"}, timeout=30) as client:
        yield client


@pytest.fixture()
def admin(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.admin_url, timeout=30) as client:
        yield client


@pytest.fixture()
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    """Start emulators with custom settings (api key "test-key", 0.2 s processing unless overridden)."""
    started: list[Emulator] = []

    def factory(**overrides: object) -> Emulator:
        settings: dict[str, object] = {
            "api_key": "test-key",
            "port": 0,
            "processing_seconds": 0.2,
            "surface": "classic",
        } | overrides
        emu = Emulator(EmulatorConfig.model_validate(settings)).start()
        started.append(emu)
        return emu

    yield factory
    for emu in started:
        emu.stop()


def client_for(emu: Emulator) -> httpx.Client:
    return httpx.Client(base_url=emu.base_url, headers={"x-api-key": "test-key"}, timeout=30)


@pytest.fixture()
def lenient_api(make_emulator: Callable[..., Emulator]) -> Iterator[httpx.Client]:
    """A classic-surface emulator with `lenient=True`: task objects keep the extras `error` and `user_metadata`."""
    with client_for(make_emulator(lenient=True)) as client:
        yield client


@pytest.fixture()
def current(make_emulator: Callable[..., Emulator]) -> Emulator:
    """A current-surface emulator (the API as SDK 1.3.6 speaks it), 0.2 s processing."""
    return make_emulator(surface="current")


@pytest.fixture()
def capi(current: Emulator) -> Iterator[httpx.Client]:
    with client_for(current) as client:
        yield client


@pytest.fixture()
def cadmin(current: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=current.admin_url, timeout=30) as client:
        yield client
