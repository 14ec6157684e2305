"""Fixtures of the client tests: a fake clock and a client factory over httpx.MockTransport."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import httpx
import pytest

from tests.client.helpers import BASE, FakeClock, Handler, Recorder
from twelvelabs_client import ClientSettings, TwelveLabsClient


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Callable[..., tuple[TwelveLabsClient, Recorder]]]:
    """make_client(handler, **settings) -> (client, recorder); sleeps go to the fake clock, jitter = 1.0."""
    made: list[TwelveLabsClient] = []

    def factory(handler: Handler, **settings: Any) -> tuple[TwelveLabsClient, Recorder]:
        recorder = Recorder(handler)
        client = TwelveLabsClient(
            api_key="test-key",
            settings=ClientSettings(base_url=BASE, **settings),
            transport=httpx.MockTransport(recorder),
            sleep=clock.sleep,
            clock=clock.time,
            wall_clock=clock.time,
            rand=lambda: 1.0,
        )
        made.append(client)
        return client, recorder

    yield factory
    for client in made:
        client.close()
