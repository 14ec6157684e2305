"""Reviewer findings: a consumed resume token is never lost; a rejected re-upload ends REJECTED; a late delete
event never purges content that is live again or uploaded after it."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.functions.conftest import (
    SfnSpy,
    Stack,
    ingest_video,
    load_event,
    s3_event,
    sqs_batch,
    start_indexing_payload,
)
from tests.functions.test_indexing import _signed_webhook

# ---------------------------------------------------------------- helpers


def _runtime(handler: Any, name: str = "webhook") -> Any:
    """The Runtime the `name` handler uses (its settings; the container's clients are shared by all)."""
    return handler(name).function.runtime()


def _parked_task(
    stack: Stack,
    handler: Any,
    context: Any,
    samples: Path,
    token: str,
    *,
    sample: str = "videos/ocean-waves.mp4",
    key: str = "videos/clip.mp4",
) -> tuple[dict[str, Any], str]:
    """A job whose indexing task finished in TwelveLabs while its token waits in the CallbacksTable."""
    job = ingest_video(stack, handler, context, samples / sample, key=key)
    task_id = handler("start_indexing").lambda_handler(start_indexing_payload(stack, job), context)["task_id"]
    stack.wait_task(task_id)
    _runtime(handler).store.require_callbacks().put_token(
        task_id, token, job["job_key"], run=1
    )  # webhook not yet arrived
    return job, task_id


def _tokens(stack: Stack) -> set[str]:
    return {c["task_token"] for c in stack.callbacks() if str(c["pk"]).startswith("TOKEN#")}


def _fail_once(
    monkeypatch: pytest.MonkeyPatch, target: Any, name: str, error: BaseException, when: Any = lambda **kwargs: True
) -> list[dict[str, Any]]:
    """Make target.<name>(**kwargs) raise `error` the first time `when(**kwargs)` holds."""
    real = getattr(target, name)
    raised: list[dict[str, Any]] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if not raised and when(**kwargs):
            raised.append(kwargs)
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, flaky)
    return raised


def _throttled(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation)


# ---------------------------------------------------------------- 1. the resume token is never lost


def test_jobs_update_failure_while_resuming_never_loses_the_token(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    job, task_id = _parked_task(stack, handler, context, samples, "token-u")
    failed = _fail_once(
        monkeypatch,
        _runtime(handler).store.jobs,
        "update",
        ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, "UpdateItem"),
        when=lambda **kw: kw.get("status") == "ANALYZING",
    )
    delivery = _signed_webhook(task_id)
    with contextlib.suppress(ClientError):  # (before the fix) the failure reached the webhook: TwelveLabs retries
        handler("webhook").lambda_handler(delivery, context)
    assert failed, "the injected DynamoDB failure did not happen"
    handler("webhook").lambda_handler(_signed_webhook(task_id), context)  # a retry / second notification
    handler("reconcile").lambda_handler(load_event("reconcile"), context)
    # Resumed exactly once, and nothing is left waiting.
    assert [s["token"] for s in sfn_spy.successes] == ["token-u"]
    assert _tokens(stack) == set()
    assert stack.job(job["job_key"])["status"] in ("INDEXING", "ANALYZING")


def test_send_failure_that_is_not_a_client_error_puts_the_token_back(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    job, task_id = _parked_task(stack, handler, context, samples, "token-c")
    _fail_once(
        monkeypatch,
        _runtime(handler).sfn,
        "send_task_success",
        EndpointConnectionError(endpoint_url="https://states.us-east-1.amazonaws.com/"),
    )
    delivery = _signed_webhook(task_id)
    with pytest.raises(EndpointConnectionError):
        handler("webhook").lambda_handler(delivery, context)
    assert _tokens(stack) == {"token-c"}  # back in the CallbacksTable
    assert sfn_spy.successes == []
    assert handler("webhook").lambda_handler(delivery, context)["statusCode"] == 200  # TwelveLabs' retry
    assert [s["token"] for s in sfn_spy.successes] == ["token-c"]
    assert _tokens(stack) == set()
    assert stack.job(job["job_key"])["status"] == "ANALYZING"


def test_reconcile_keeps_a_token_it_could_not_resume_and_goes_on(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    _parked_task(stack, handler, context, samples, "token-a", key="videos/a.mp4")
    _parked_task(stack, handler, context, samples, "token-b", sample="videos/forest-walk.mp4", key="videos/b.mp4")
    _fail_once(
        monkeypatch,
        _runtime(handler).sfn,
        "send_task_success",
        EndpointConnectionError(endpoint_url="https://states.us-east-1.amazonaws.com/"),
        when=lambda **kw: kw.get("taskToken") == "token-a",
    )
    report = handler("reconcile").lambda_handler(load_event("reconcile"), context)
    assert report["errors"] == 1 and report["resumed"] == 1
    assert [s["token"] for s in sfn_spy.successes] == ["token-b"]
    assert _tokens(stack) == {"token-a"}  # put back for the next run
    again = handler("reconcile").lambda_handler(load_event("reconcile"), context)
    assert again["resumed"] == 1 and again["errors"] == 0
    assert sorted(s["token"] for s in sfn_spy.successes) == ["token-a", "token-b"]
    assert _tokens(stack) == set()


def test_reconcile_keeps_the_token_of_a_lost_task_when_send_task_failure_fails(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    callbacks = _runtime(handler).store.require_callbacks()
    callbacks.put_token("65f0c39f11b2c3d4e5f60716", "token-lost", "0" * 40, run=1)  # no such task in TwelveLabs
    _parked_task(stack, handler, context, samples, "token-ok")
    _fail_once(monkeypatch, _runtime(handler).sfn, "send_task_failure", _throttled("SendTaskFailure"))
    report = handler("reconcile").lambda_handler(load_event("reconcile"), context)  # (before the fix: raised)
    assert report["errors"] == 1 and report["resumed"] == 1
    assert _tokens(stack) == {"token-lost"}
    again = handler("reconcile").lambda_handler(load_event("reconcile"), context)
    assert again["dropped_stale"] == 1 and again["errors"] == 0
    assert [f["taskToken"] for f in sfn_spy.failures] == ["token-lost"]
    assert sfn_spy.failures[0]["error"] == "IndexingTaskLost"
    assert _tokens(stack) == set()


# ---------------------------------------------------------------- 2. a rejected re-upload ends REJECTED


def test_rejected_reupload_of_a_failed_job_is_rejected_and_announced_once(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    key = "videos/retry-bad.mp4"
    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4", key=key)
    handler("record_failure").lambda_handler(
        {"job_key": job["job_key"], "state": {"error": {"Error": "States.TaskFailed", "Cause": "boom"}}}, context
    )
    assert stack.job(job["job_key"])["status"] == "FAILED"
    stack.notifications()
    # The same content (same etag: same job) uploaded again; screening now rejects it (here: the size it reports).
    reupload = s3_event(stack.media_bucket, key, 3 * 1024**3, job["etag"])
    assert handler("ingest").lambda_handler(sqs_batch(reupload), context) == {"batchItemFailures": []}
    item = stack.job(job["job_key"])
    assert item["status"] == "REJECTED" and item["run"] == 2
    assert item["error_code"] == "object_too_large" and item["error_message"]
    assert "rejected_at" in item["stages"] and "failed_at" not in item["stages"]
    [message] = stack.notifications()
    assert message["event_type"] == "video.rejected" and message["error"]["code"] == "object_too_large"
    assert len(stack.executions()) == 1  # only the first run's
    # Redelivered: nothing changes, no second message.
    handler("ingest").lambda_handler(sqs_batch(reupload), context)
    assert stack.notifications() == [] and stack.job(job["job_key"])["status"] == "REJECTED"


# ---------------------------------------------------------------- 3. removal does not trust event order


def _upload(stack: Stack, key: str, data: bytes) -> dict[str, Any]:
    put = stack.put(key, data)
    return s3_event(stack.media_bucket, key, len(data), put["ETag"].strip('"'))


def _delete(stack: Stack, key: str) -> dict[str, Any]:
    stack.client("s3").delete_object(Bucket=stack.media_bucket, Key=key)
    return s3_event(stack.media_bucket, key, 0, "", detail_type="Object Deleted")


def _job_of(stack: Stack, etag: str) -> dict[str, Any]:
    [job] = [j for j in stack.jobs() if j["etag"] == etag]
    return job


def test_late_delete_keeps_the_job_whose_content_is_live_again(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    key = "videos/back-again.mp4"
    data = (samples / "videos" / "ocean-waves.mp4").read_bytes()
    created = _upload(stack, key, data)
    handler("ingest").lambda_handler(sqs_batch(created), context)
    deleted = _delete(stack, key)
    again = _upload(stack, key, data)  # the same bytes again, after the delete: the same job
    handler("ingest").lambda_handler(sqs_batch(again), context)  # ingest ran before object_removed
    stack.notifications()
    assert handler("object_removed").lambda_handler(sqs_batch(deleted), context) == {"batchItemFailures": []}
    [job] = stack.jobs()
    assert job["status"] == "RECEIVED" and "tl_purged" not in job
    assert stack.notifications() == []


def test_late_delete_keeps_the_job_of_a_newer_upload_and_purges_the_old_one(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    key = "videos/replaced.mp4"
    old = _upload(stack, key, (samples / "videos" / "ocean-waves.mp4").read_bytes())
    handler("ingest").lambda_handler(sqs_batch(old), context)
    first_delete = _delete(stack, key)
    new = _upload(stack, key, (samples / "videos" / "forest-walk.mp4").read_bytes())
    handler("ingest").lambda_handler(sqs_batch(new), context)  # ingest ran before object_removed
    second_delete = _delete(stack, key)  # the key is empty now: only the sequencers tell the jobs apart
    # The newer upload's ingest retired the older job already (its version is no longer the key's object).
    old_job = _job_of(stack, old["detail"]["object"]["etag"])
    assert old_job["status"] == "SUPERSEDED" and old_job["tl_purged"] is True
    assert [(m["event_type"], m["job_key"]) for m in stack.notifications()] == [
        ("video.superseded", old_job["job_key"])
    ]

    handler("object_removed").lambda_handler(sqs_batch(first_delete), context)  # nothing left to do
    old_job = _job_of(stack, old["detail"]["object"]["etag"])
    new_job = _job_of(stack, new["detail"]["object"]["etag"])
    assert old_job["status"] == "SUPERSEDED" and new_job["status"] == "RECEIVED"
    assert stack.notifications() == []

    handler("object_removed").lambda_handler(sqs_batch(second_delete), context)
    assert _job_of(stack, new["detail"]["object"]["etag"])["status"] == "DELETED"
    assert [(m["event_type"], m["job_key"]) for m in stack.notifications()] == [("video.deleted", new_job["job_key"])]


def test_head_object_refused_is_treated_as_gone(
    stack: Stack, handler: Any, context: Any, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without s3:ListBucket, S3 answers HeadObject of a missing key with 403: the delete must still stand.
    key = "videos/gone.mp4"
    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4", key=key)
    deleted = _delete(stack, key)

    def forbidden(**kwargs: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "403", "Message": "Forbidden"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
            "HeadObject",
        )

    monkeypatch.setattr(_runtime(handler).s3, "head_object", forbidden)
    assert handler("object_removed").lambda_handler(sqs_batch(deleted), context) == {"batchItemFailures": []}
    assert stack.job(job["job_key"])["status"] == "DELETED"


@pytest.mark.parametrize(
    ("candidate", "reference", "after"),
    [
        ("0000000000000000B2", "0000000000000000B1", True),
        ("100", "FF", True),  # longer hex, bigger value: string order alone would say otherwise
        ("FF", "0100", False),
        ("00617F0830B0BB1A3E", "617F0830B0BB1A3E", False),  # equal once padded
        ("617f0830b0bb1a3f", "00617F0830B0BB1A3E", True),
        (None, "0A", False),
        ("0A", None, False),
    ],
)
def test_sequencer_order(candidate: str | None, reference: str | None, after: bool) -> None:
    from video_pipeline.removal import sequencer_after

    assert sequencer_after(candidate, reference) is after
