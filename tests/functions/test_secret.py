"""The TwelveLabs secret read through Powertools Parameters from Secrets Manager (moto): validated, never echoed,
cached, re-read on demand after a rotation."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.functions.conftest import Stack


def _secret(stack: Stack, value: str) -> str:
    return str(
        stack.client("secretsmanager").create_secret(Name=f"tl-{uuid.uuid4().hex[:8]}", SecretString=value)["ARN"]
    )


def _provider(arn: str) -> object:
    from video_pipeline.secrets import SecretProvider
    from video_pipeline.settings import FunctionSettings

    return SecretProvider(FunctionSettings(twelvelabs_base_url="https://x", twelvelabs_secret_arn=arn))


def test_a_malformed_secret_names_the_fields_never_the_value(stack: Stack) -> None:
    from video_pipeline.errors import ConfigurationError

    arn = _secret(stack, '{"apikey": "tlk_super_secret"}')
    with pytest.raises(ConfigurationError) as caught:
        _provider(arn).get()  # type: ignore[attr-defined]
    assert "tlk_super_secret" not in str(caught.value) and "api_key" in str(caught.value)


def test_the_secret_is_cached_and_a_forced_read_sees_a_rotation(stack: Stack) -> None:
    arn = _secret(stack, json.dumps({"api_key": "key-1", "webhook_secret": "wh-1"}))
    provider = _provider(arn)
    first = provider.get()  # type: ignore[attr-defined]
    assert (first.api_key.get_secret_value(), first.webhook_secret.get_secret_value()) == ("key-1", "wh-1")
    stack.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=json.dumps({"api_key": "key-2"}))
    assert provider.get().api_key.get_secret_value() == "key-1"  # type: ignore[attr-defined]  # cached
    rotated = provider.get(force=True)  # type: ignore[attr-defined]
    assert rotated.api_key.get_secret_value() == "key-2" and rotated.webhook_secret is None
