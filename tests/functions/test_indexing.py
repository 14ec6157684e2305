"""start_indexing, await_indexing, webhook and reconcile: one task per job, and every path resumes the wait once."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.functions.conftest import (
    WEBHOOK_SECRET,
    SfnSpy,
    Stack,
    ingest_video,
    load_event,
    start_indexing_payload,
)


def _tasks_in_index(stack: Stack) -> list[Any]:
    return list(stack.tl().iter_tasks(index_id=stack.index_id))


def test_start_indexing_creates_one_task_even_when_retried(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4")
    payload = start_indexing_payload(stack, job)
    first = handler("start_indexing").lambda_handler(payload, context)
    again = handler("start_indexing").lambda_handler(payload, context)  # Step Functions retried the state
    assert first == again and first["task_id"]
    item = stack.job(job["job_key"])
    assert item["status"] == "INDEXING" and item["tl_task_id"] == first["task_id"]
    assert "indexing_started_at" in item["stages"]
    assert len(_tasks_in_index(stack)) == 1 and len(stack.emulator.posts("/tasks")) == 1
    assert stack.wait_task(first["task_id"]) == "ready"  # TwelveLabs fetched the presigned URL
    video = stack.video(stack.tl().get_task(first["task_id"]).video_id)  # user_metadata lands on the video
    assert video["user_metadata"] == {"job_key": job["job_key"], "s3_uri": job["s3_uri"]}


def test_server_error_after_the_task_was_created_ends_with_one_task(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4")
    stack.emulator.faults(error_after_create_next=1)
    payload = start_indexing_payload(stack, job)
    try:
        result = handler("start_indexing").lambda_handler(payload, context)
    except Exception as exc:  # the state machine would retry on ServerError: do what it does
        assert type(exc).__name__ in {"ServerError", "APITimeoutError", "APIConnectionError"}
        result = handler("start_indexing").lambda_handler(payload, context)
    assert len(_tasks_in_index(stack)) == 1
    assert stack.job(job["job_key"])["tl_task_id"] == result["task_id"]


def _await(stack: Stack, handler: Any, context: Any, job: dict[str, Any], task_id: str, token: str) -> dict[str, Any]:
    return dict(
        handler("await_indexing").lambda_handler(
            {"task_token": token, "job_key": job["job_key"], "run": 1, "task_id": task_id}, context
        )
    )


def _indexing_task(
    stack: Stack, handler: Any, context: Any, samples: Path, sample: str = "videos/ocean-waves.mp4"
) -> tuple[dict[str, Any], str]:
    job = ingest_video(stack, handler, context, samples / sample)
    started = handler("start_indexing").lambda_handler(start_indexing_payload(stack, job), context)
    return job, started["task_id"]


def test_await_indexing_resolves_at_once_when_the_task_already_finished(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    job, task_id = _indexing_task(stack, handler, context, samples)
    stack.wait_task(task_id)  # the webhook came (and found no token) before await_indexing ran
    result = _await(stack, handler, context, job, task_id, "token-1")
    assert result["resolved"] is True
    [sent] = sfn_spy.successes
    assert sent["token"] == "token-1"
    assert sent["output"]["status"] == "ready" and sent["output"]["task_id"] == task_id
    assert sent["output"]["video_id"]
    assert stack.callbacks() == []  # token consumed
    item = stack.job(job["job_key"])
    assert item["status"] == "ANALYZING" and item["tl_video_id"] == sent["output"]["video_id"]


def test_failed_task_hands_a_failure_to_the_state_machine(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    stack.emulator.faults(fail_next_tasks=1)
    job, task_id = _indexing_task(stack, handler, context, samples)
    assert stack.wait_task(task_id) == "failed"
    _await(stack, handler, context, job, task_id, "token-f")
    [sent] = sfn_spy.successes
    # The v1.3 task object documents no failure reason: the outcome says so with the pipeline's own code.
    assert sent["output"]["status"] == "failed" and sent["output"]["error_code"] == "indexing_failed"
    assert "without a reason" in sent["output"]["error_message"]


def _signed_webhook(
    task_id: str,
    status: str = "ready",
    *,
    notification_id: str | None = None,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    base64_body: bool = False,
    body: bytes | None = None,
) -> dict[str, Any]:
    from twelvelabs_client.webhooks import sign

    raw = (
        body
        if body is not None
        else json.dumps(
            {
                "id": notification_id or f"whe_{uuid.uuid4().hex}",
                "created_at": "2026-11-26T10:00:00Z",
                "type": f"index.task.{status}",
                "data": {"id": task_id, "status": status, "metadata": {}},
            }
        ).encode()
    )
    event = load_event("webhook")
    event["headers"]["tl-signature"] = sign(raw, secret, timestamp or int(time.time()))
    event["body"] = base64.b64encode(raw).decode() if base64_body else raw.decode()
    event["isBase64Encoded"] = base64_body
    return event


def test_webhook_resumes_the_waiting_execution_once(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    job, task_id = _indexing_task(stack, handler, context, samples)
    result = _await(stack, handler, context, job, task_id, "token-w")
    assert result["resolved"] is False and len(stack.callbacks()) == 1  # still indexing: token parked
    stack.wait_task(task_id)
    webhook = handler("webhook")
    delivery = _signed_webhook(task_id, base64_body=True)
    assert webhook.lambda_handler(delivery, context)["statusCode"] == 200
    assert webhook.lambda_handler(delivery, context)["statusCode"] == 200  # replay: nothing happens
    other = _signed_webhook(task_id)  # a second notification for the same task
    assert webhook.lambda_handler(other, context)["statusCode"] == 200
    assert [s["token"] for s in sfn_spy.successes] == ["token-w"]
    assert stack.job(job["job_key"])["status"] == "ANALYZING"


@pytest.mark.parametrize("tamper", ["missing", "wrong_secret", "stale", "body_changed"])
def test_webhook_fails_closed(stack: Stack, handler: Any, context: Any, sfn_spy: SfnSpy, tamper: str) -> None:
    event = _signed_webhook(
        "65f0c39f11b2c3d4e5f60716",
        secret="not-the-secret" if tamper == "wrong_secret" else WEBHOOK_SECRET,
        timestamp=int(time.time()) - 600 if tamper == "stale" else None,
    )
    if tamper == "missing":
        del event["headers"]["tl-signature"]
    if tamper == "body_changed":
        event["body"] = event["body"].replace("ready", "failed")
    response = handler("webhook").lambda_handler(event, context)
    assert response["statusCode"] == 401
    assert WEBHOOK_SECRET not in response["body"]
    assert stack.callbacks() == [] and sfn_spy.successes == []  # not even a dedup marker


def test_webhook_bad_bodies(stack: Stack, handler: Any, context: Any) -> None:
    webhook = handler("webhook")
    assert webhook.lambda_handler(_signed_webhook("x", body=b"{not json"), context)["statusCode"] == 400
    unknown = webhook.lambda_handler(_signed_webhook("65f0c39f11b2c3d4e5f60716"), context)
    assert unknown["statusCode"] == 200  # not ours (or late): acknowledged, nothing resumed
    assert webhook.lambda_handler(load_event("webhook"), context)["statusCode"] == 401  # sample has a fake signature


def test_webhook_delivery_whose_processing_failed_can_be_retried(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    job, task_id = _indexing_task(stack, handler, context, samples)
    _await(stack, handler, context, job, task_id, "token-r")
    stack.wait_task(task_id)
    delivery = _signed_webhook(task_id)
    sfn_spy.fail_with = "ThrottlingException"
    with pytest.raises(Exception, match="ThrottlingException"):
        handler("webhook").lambda_handler(delivery, context)
    assert any(c["pk"] == f"TOKEN#{task_id}" for c in stack.callbacks())  # token put back
    sfn_spy.fail_with = None
    assert handler("webhook").lambda_handler(delivery, context)["statusCode"] == 200  # TwelveLabs' retry
    assert [s["token"] for s in sfn_spy.successes] == ["token-r"]


def test_reconcile_resumes_when_the_webhook_is_lost(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    job, task_id = _indexing_task(stack, handler, context, samples)
    _await(stack, handler, context, job, task_id, "token-lost")
    stack.wait_task(task_id)  # its webhook never reaches us
    report = handler("reconcile").lambda_handler(load_event("reconcile"), context)
    assert report["resumed"] == 1
    assert [s["token"] for s in sfn_spy.successes] == ["token-lost"]
    again = handler("reconcile").lambda_handler(load_event("reconcile"), context)
    assert again["checked"] == 0 and len(sfn_spy.successes) == 1


def test_reconcile_leaves_running_tasks_alone(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    stack.emulator.config(processing_seconds=60)  # this task stays in progress for the whole test
    try:
        job, task_id = _indexing_task(stack, handler, context, samples)
    finally:
        stack.emulator.config(processing_seconds=0.2)
    _await(stack, handler, context, job, task_id, "token-running")
    report = handler("reconcile").lambda_handler(load_event("reconcile"), context)
    assert report["still_running"] == 1 and report["resumed"] == 0
    assert sfn_spy.successes == [] and len(stack.callbacks()) == 1


def test_reconcile_drops_tokens_step_functions_no_longer_waits_for(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy
) -> None:
    job, task_id = _indexing_task(stack, handler, context, samples)
    handler("webhook").function.runtime().store.require_callbacks().put_token(
        task_id, "token-old", job["job_key"], run=1
    )
    stack.wait_task(task_id)
    sfn_spy.fail_with = "TaskTimedOut"  # the execution gave up waiting long ago
    report = handler("reconcile").lambda_handler(load_event("reconcile"), context)
    assert report["dropped_stale"] == 1 and report["resumed"] == 0
    assert stack.callbacks() == []
