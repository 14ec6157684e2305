"""The TwelveLabs client follows the Lambda's remaining time and the TWELVELABS_* client settings.

A Lambda killed at its timeout fails with `Sandbox.Timedout` (the state machine retries it as a last resort, but the
killed attempt loses its logs and metrics); the client gives up first with `DeadlineExceededError` (retried by the
ASL under that class name)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.functions.conftest import FakeContext, Stack, ingest_video, start_indexing_payload

TASK_ID = "0" * 24  # any id: the injected faults answer before routing


@dataclass
class ShortContext(FakeContext):
    """A Lambda context whose remaining time really runs down from `seconds`."""

    seconds: float = 5.0
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started + self.seconds - time.monotonic()) * 1000))


def _expect_deadline(call: Any, context: ShortContext) -> None:
    """Run `call()`; it must give up with DeadlineExceededError (the client read the context's remaining time).

    Without the deadline the client would go on retrying/waiting (and end with another error, or none): the error
    class alone proves the cut, so no wall-clock figure is asserted (the suite runs on loaded machines)."""
    with pytest.raises(Exception) as caught:
        call()
    assert type(caught.value).__name__ == "DeadlineExceededError", repr(caught.value)


_EVENTS: dict[str, dict[str, Any]] = {
    "check_embeddings": {"job_key": "a" * 40, "task_id": TASK_ID, "polls": 1, "wait_seconds": 1},
    "await_indexing": {"task_token": "token", "job_key": "a" * 40, "run": 1, "task_id": TASK_ID},
    "store_embeddings": {"job_key": "a" * 40, "run": 1, "task_id": TASK_ID},
}


@pytest.mark.parametrize("name", sorted(_EVENTS))
def test_rate_limited_call_stops_at_the_deadline_instead_of_sleeping_past_it(
    stack: Stack, handler: Any, name: str
) -> None:
    # Every call answers 429 Retry-After: 1; default settings (4 retries) would sleep >= 4 s in a 3 s Lambda.
    stack.emulator.faults(rate_limit_next=1000)
    context = ShortContext(seconds=3.0)
    _expect_deadline(lambda: handler(name).lambda_handler(_EVENTS[name], context), context)


def test_server_errors_with_many_retries_stop_at_the_deadline(
    stack: Stack, handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWELVELABS_MAX_RETRIES", "20")
    monkeypatch.setenv("TWELVELABS_BACKOFF_BASE", "1")
    stack.emulator.faults(server_error_rate=1.0)
    context = ShortContext(seconds=3.0)
    _expect_deadline(lambda: handler("check_embeddings").lambda_handler(_EVENTS["check_embeddings"], context), context)


def test_slow_upload_is_cut_at_the_deadline_not_at_the_upload_read_timeout(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    # StartIndexing: the task POST (and its found-before-create lookups) would wait up to 300 s for an answer.
    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4")
    stack.emulator.faults(latency_ms=6000, path_prefix="/v1.3/")
    short = ShortContext(seconds=3.0)
    _expect_deadline(lambda: handler("start_indexing").lambda_handler(start_indexing_payload(stack, job), short), short)


def test_the_deadline_follows_each_invocation_of_a_warm_container(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    from video_pipeline.clients import get_clients, remaining_invocation_seconds

    stack.emulator.faults(rate_limit_next=1000)
    dying = ShortContext(seconds=2.0)
    _expect_deadline(lambda: handler("check_embeddings").lambda_handler(_EVENTS["check_embeddings"], dying), dying)
    client = get_clients().twelvelabs
    assert remaining_invocation_seconds() == math.inf  # nothing stays bound after the invocation
    # Same container, same cached client, next invocation with its full time: no stale deadline.
    stack.emulator.http.delete("/faults").raise_for_status()
    stack.put("videos/warm.mp4", (samples / "videos" / "ocean-waves.mp4").read_bytes())
    url = stack.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": stack.media_bucket, "Key": "videos/warm.mp4"}, ExpiresIn=600
    )
    created = stack.tl().create_embedding_task(video_url=url)
    poll = handler("check_embeddings").lambda_handler(
        {"job_key": "a" * 40, "task_id": created.id, "polls": 0, "wait_seconds": 1}, context
    )
    assert poll["task_id"] == created.id and poll["polls"] == 1
    assert get_clients().twelvelabs is client


def test_env_read_timeout_reaches_the_client(
    stack: Stack, handler: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWELVELABS_READ_TIMEOUT", "0.5")
    monkeypatch.setenv("TWELVELABS_MAX_RETRIES", "0")
    stack.emulator.faults(latency_ms=3000)
    with pytest.raises(Exception) as caught:
        handler("check_embeddings").lambda_handler(_EVENTS["check_embeddings"], context)  # 30 s left: no deadline hit
    # The answer comes after 3 s: only the 0.5 s read timeout (no retry) makes this an APITimeoutError.
    assert type(caught.value).__name__ == "APITimeoutError", repr(caught.value)


def test_client_is_built_from_env_settings_with_the_secret_key_and_pipeline_base_url(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from video_pipeline.clients import get_clients

    monkeypatch.setenv("TWELVELABS_CONNECT_TIMEOUT", "1.5")
    monkeypatch.setenv("TWELVELABS_READ_TIMEOUT", "7")
    monkeypatch.setenv("TWELVELABS_MAX_RETRIES", "2")
    client = get_clients().twelvelabs
    assert (client.settings.connect_timeout, client.settings.read_timeout, client.settings.max_retries) == (1.5, 7, 2)
    assert client.settings.base_url == stack.env["TWELVELABS_BASE_URL"]
    assert client.settings.api_key == stack.env["TWELVELABS_API_KEY"]


def test_an_invalid_client_setting_fails_at_cold_start_naming_the_variable(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from video_pipeline.errors import ConfigurationError
    from video_pipeline.handler import LambdaFunction
    from video_pipeline.settings import CheckEmbeddingsSettings

    monkeypatch.setenv("TWELVELABS_READ_TIMEOUT", "-1")
    with pytest.raises(ConfigurationError, match="TWELVELABS_READ_TIMEOUT"):
        LambdaFunction(CheckEmbeddingsSettings)  # what functions/check_embeddings/app.py does at import


def test_margin_policy() -> None:
    from video_pipeline.clients import bind_invocation, deadline_margin, remaining_invocation_seconds

    assert deadline_margin(300) == 3.0 and deadline_margin(30) == 3.0
    assert deadline_margin(15) == pytest.approx(1.5) and deadline_margin(5) == pytest.approx(0.5)
    context = ShortContext(seconds=20.0)
    with bind_invocation(context, reserve_seconds=4):
        assert remaining_invocation_seconds() == pytest.approx(20 - 2 - 4, abs=0.2)
        with bind_invocation(ShortContext(seconds=1.0)):  # a nested invocation (in-process runner)
            assert remaining_invocation_seconds() == pytest.approx(0.9, abs=0.1)
        assert remaining_invocation_seconds() == pytest.approx(14, abs=0.2)
    with bind_invocation(object()):  # no get_remaining_time_in_millis: nothing bound
        assert remaining_invocation_seconds() == math.inf
    assert remaining_invocation_seconds() == math.inf
