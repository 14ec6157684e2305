"""Configuration from the environment, validated; the pool is shared across client objects."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from twelvelabs_client import ClientSettings, TwelveLabsClient
from twelvelabs_client.http import close_shared_clients


def test_from_env_reads_and_validates() -> None:
    env = {
        "TWELVELABS_BASE_URL": "http://127.0.0.1:9/v1.3/",
        "TWELVELABS_API_KEY": "tlk_x",
        "TWELVELABS_CONNECT_TIMEOUT": "2.5",
        "TWELVELABS_READ_TIMEOUT": "",
        "TWELVELABS_MAX_RETRIES": "7",
    }
    settings = ClientSettings.from_env(env)
    assert settings.base_url == "http://127.0.0.1:9/v1.3" and settings.api_key == "tlk_x"
    assert settings.connect_timeout == 2.5 and settings.read_timeout == 30.0 and settings.max_retries == 7
    assert "tlk_x" not in repr(settings)
    with pytest.raises(ValidationError):
        ClientSettings.from_env({"TWELVELABS_MAX_RETRIES": "-1"})
    with pytest.raises(ValidationError):
        ClientSettings.from_env({"TWELVELABS_BASE_URL": "ftp://x"})
    assert ClientSettings.from_env({}).base_url == "https://api.twelvelabs.io/v1.3"


def test_client_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWELVELABS_API_KEY", "k1")
    monkeypatch.setenv("TWELVELABS_BASE_URL", "http://127.0.0.1:1/v1.3")
    client = TwelveLabsClient.from_env()
    assert client.settings.api_key == "k1" and client.settings.base_url == "http://127.0.0.1:1/v1.3"
    monkeypatch.delenv("TWELVELABS_API_KEY")
    with pytest.raises(ValueError, match="API key"):
        TwelveLabsClient.from_env()


def test_shared_pool_reused_across_clients() -> None:
    a = TwelveLabsClient(api_key="a", base_url="http://127.0.0.1:1/v1.3")
    b = TwelveLabsClient(api_key="b", base_url="http://127.0.0.1:1/v1.3")
    assert a._transport.http is b._transport.http
    a.close()  # does not close the shared pool
    assert not b._transport.http.is_closed
    close_shared_clients()
    c = TwelveLabsClient(api_key="c", base_url="http://127.0.0.1:1/v1.3")
    assert c._transport.http is not a._transport.http
    close_shared_clients()


def test_with_deadline_returns_the_same_client() -> None:
    client = TwelveLabsClient(api_key="a", base_url="http://127.0.0.1:1/v1.3")
    assert client.with_deadline(lambda: 5.0) is client
    assert client._transport.remaining() == 5.0
    client.with_deadline(None)
    assert client._transport.remaining() is None
