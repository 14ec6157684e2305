"""Run safety (issue 12, crash-safety part): a webhook or reconcile invocation killed at any instruction leaves the
execution resumed or resumable; tokens are never overwritten by a put-back and are dropped when their wait is over;
reconcile sees every pending token within a bounded number of runs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.functions.conftest import SfnSpy, Stack, load_event
from tests.functions.test_indexing import _signed_webhook
from tests.functions.test_review_fixes import _parked_task, _runtime, _tokens


class Killed(BaseException):
    """A Lambda timeout/kill: no `except Exception` (nor any cleanup the code might rely on) handles it."""


@pytest.fixture
def real_sfn(sfn_spy: SfnSpy, monkeypatch: pytest.MonkeyPatch, handler: Any) -> set[str]:
    """Step Functions' answer to a second SendTaskSuccess on a token it already accepted: TaskTimedOut ("Provided
    task does not exist anymore"), as AWS answers. Returns the tokens accepted (each at most once)."""
    sfn = _runtime(handler).sfn
    spying = sfn.send_task_success
    accepted: set[str] = set()

    def send(**kwargs: Any) -> Any:
        if kwargs["taskToken"] in accepted:
            raise ClientError(
                {"Error": {"Code": "TaskTimedOut", "Message": "Provided task does not exist anymore"}},
                "SendTaskSuccess",
            )
        answer = spying(**kwargs)
        accepted.add(kwargs["taskToken"])
        return answer

    monkeypatch.setattr(sfn, "send_task_success", send)
    return accepted


def _kill_after(monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> list[int]:
    """target.<name> does its work, then the invocation is killed (once)."""
    real = getattr(target, name)
    hits: list[int] = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if not hits:
            hits.append(1)
            raise Killed(name)
        return result

    monkeypatch.setattr(target, name, wrapped)
    return hits


def _kill_before(monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> list[int]:
    real = getattr(target, name)
    hits: list[int] = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not hits:
            hits.append(1)
            raise Killed(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapped)
    return hits


def _markers(stack: Stack) -> dict[str, dict[str, Any]]:
    return {str(c["pk"]): c for c in stack.callbacks() if str(c["pk"]).startswith("WEBHOOK#")}


# Each step of a webhook's work, in order; the invocation is killed just before or just after it.
WEBHOOK_STEPS: list[tuple[str, str, str]] = [
    ("after", "callbacks", "claim_notification"),
    ("before", "callbacks", "get_token"),
    ("before", "indexing", "fetch_outcome"),
    ("before", "sfn", "send_task_success"),
    ("after", "sfn", "send_task_success"),
    ("before", "callbacks", "consume_token"),
    ("after", "callbacks", "consume_token"),
    ("before", "jobs", "update"),
    ("after", "jobs", "update"),
    ("before", "callbacks", "complete_notification"),
    ("after", "callbacks", "complete_notification"),
]


@pytest.mark.parametrize(("when", "owner", "step"), WEBHOOK_STEPS, ids=[f"{w}-{s}" for w, _, s in WEBHOOK_STEPS])
def test_webhook_killed_at_each_step_the_redelivery_resumes_the_job(
    stack: Stack,
    handler: Any,
    context: Any,
    samples: Path,
    real_sfn: set[str],
    monkeypatch: pytest.MonkeyPatch,
    when: str,
    owner: str,
    step: str,
) -> None:
    import video_pipeline.indexing as indexing

    job, task_id = _parked_task(stack, handler, context, samples, "token-k")
    runtime = _runtime(handler)
    callbacks = runtime.store.require_callbacks()
    targets = {"callbacks": callbacks, "sfn": runtime.sfn, "jobs": runtime.store.jobs, "indexing": indexing}
    kill = _kill_before if when == "before" else _kill_after
    hits = kill(monkeypatch, targets[owner], step)
    delivery = _signed_webhook(task_id, notification_id="whe_killed")
    with pytest.raises(Killed):
        handler("webhook").lambda_handler(delivery, context)
    assert hits, f"the kill at {when} {step} did not happen"
    # TwelveLabs redelivers the same notification (same id) once the in-progress marker of the killed invocation
    # has expired (the clock is moved, not waited for).
    monkeypatch.setattr(callbacks, "clock", lambda: time.time() + 600)
    answer = handler("webhook").lambda_handler(delivery, context)
    assert answer["statusCode"] == 200
    assert real_sfn == {"token-k"}  # the execution was resumed (once: Step Functions accepts a token once)
    assert _tokens(stack) == set()  # nothing left for reconcile or a timeout
    assert _markers(stack)["WEBHOOK#whe_killed"]["status"] == "COMPLETED"
    item = stack.job(job["job_key"])
    assert item is not None and item["status"] in ("INDEXING", "ANALYZING")
    # Later deliveries are replays.
    assert handler("webhook").lambda_handler(delivery, context)["body"].find("duplicate") >= 0


def test_webhook_redelivered_while_the_first_is_in_progress_is_asked_to_retry(
    stack: Stack, handler: Any, context: Any, samples: Path, real_sfn: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, task_id = _parked_task(stack, handler, context, samples, "token-p")
    callbacks = _runtime(handler).store.require_callbacks()
    _kill_before(monkeypatch, callbacks, "get_token")
    delivery = _signed_webhook(task_id, notification_id="whe_busy")
    with pytest.raises(Killed):
        handler("webhook").lambda_handler(delivery, context)
    # Within the killed invocation's time the marker holds: not a 2xx, so TwelveLabs retries later.
    assert handler("webhook").lambda_handler(delivery, context)["statusCode"] == 409
    assert real_sfn == set() and _tokens(stack) == {"token-p"}
    # A second, different notification for the same task resumes at once (the token was never consumed).
    assert handler("webhook").lambda_handler(_signed_webhook(task_id), context)["statusCode"] == 200
    assert real_sfn == {"token-p"} and _tokens(stack) == set()


def test_reconcile_killed_after_resuming_leaves_nothing_behind(
    stack: Stack, handler: Any, context: Any, samples: Path, real_sfn: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _parked_task(stack, handler, context, samples, "token-r")
    _kill_after(monkeypatch, _runtime(handler).sfn, "send_task_success")
    with pytest.raises(Killed):
        handler("reconcile").lambda_handler(load_event("reconcile"), context)
    assert real_sfn == {"token-r"} and _tokens(stack) == {"token-r"}  # resumed; consume never happened
    report = handler("reconcile").lambda_handler(load_event("reconcile"), context)
    assert report["dropped_stale"] == 1 and report["errors"] == 0  # the used token is dropped
    assert _tokens(stack) == set()


# ---------------------------------------------------------------- tokens


def test_put_back_never_overwrites_a_newer_token(stack: Stack, handler: Any) -> None:
    from video_pipeline.indexing import put_token_back

    callbacks = _runtime(handler).store.require_callbacks()
    callbacks.put_token("task-1", "token-old", "0" * 40, run=1)
    old = callbacks.consume_token("task-1")
    assert old is not None
    callbacks.put_token("task-1", "token-new", "0" * 40, run=1)  # the await state was retried meanwhile
    put_token_back(callbacks, old)
    assert _tokens(stack) == {"token-new"}
    callbacks.consume_token("task-1", "token-new")
    put_token_back(callbacks, old)  # absent: restored
    assert _tokens(stack) == {"token-old"}


def test_a_resolver_of_an_older_token_never_consumes_a_newer_one(stack: Stack, handler: Any) -> None:
    callbacks = _runtime(handler).store.require_callbacks()
    callbacks.put_token("task-2", "token-new", "0" * 40, run=1)
    assert callbacks.consume_token("task-2", "token-old") is None
    assert callbacks.delete_token("task-2", "token-old") is False
    assert _tokens(stack) == {"token-new"}


@pytest.mark.parametrize("sfn_error", ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"])
def test_a_token_whose_wait_timed_out_is_deleted(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy, sfn_error: str
) -> None:
    _, task_id = _parked_task(stack, handler, context, samples, "token-t")
    sfn_spy.fail_with = sfn_error  # the AwaitIndexing state timed out long ago
    assert handler("webhook").lambda_handler(_signed_webhook(task_id), context)["statusCode"] == 200
    assert _tokens(stack) == set()


def test_a_transient_resume_failure_keeps_the_token_without_any_put_back(
    stack: Stack, handler: Any, context: Any, samples: Path, sfn_spy: SfnSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, task_id = _parked_task(stack, handler, context, samples, "token-x")
    callbacks = _runtime(handler).store.require_callbacks()
    restores: list[Any] = []
    monkeypatch.setattr(callbacks, "restore_token", lambda item: restores.append(item) or True)
    sfn_spy.fail_with = "ThrottlingException"
    with pytest.raises(ClientError):
        handler("webhook").lambda_handler(_signed_webhook(task_id), context)
    assert restores == [] and _tokens(stack) == {"token-x"}  # never left the table


# ---------------------------------------------------------------- reconcile: every token within bounded runs


def _reconcile_runs(handler: Any, context: Any, runs: int) -> list[dict[str, Any]]:
    return [handler("reconcile").lambda_handler(load_event("reconcile"), context) for _ in range(runs)]


def test_reconcile_walks_every_pending_token_oldest_first_with_a_cursor(
    stack: Stack, handler: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import video_pipeline.callbacks as callbacks_module
    from video_pipeline.models.payloads import IndexingOutcome

    monkeypatch.setenv("RECONCILE_MAX_TOKENS", "3")
    from video_pipeline.clients import reset_runtimes

    reset_runtimes()
    callbacks = _runtime(handler, "reconcile").store.require_callbacks()
    base = int(time.time()) - 10_000
    for index in range(8):  # stuck tasks (never finish), older than any threshold, ages 0..7
        monkeypatch.setattr(callbacks, "clock", lambda index=index: base + index)
        callbacks.put_token(f"stuck-{index}", f"token-{index}", "0" * 40, run=1)
    # The webhook-dedup markers and the cursor item are not in the index.
    callbacks.claim_notification("whe_x", in_progress_seconds=60)
    seen: list[str] = []

    def running(token: dict[str, Any], runtime: Any) -> IndexingOutcome:
        seen.append(str(token["task_id"]))
        return IndexingOutcome(task_id=str(token["task_id"]), status="indexing")

    monkeypatch.setattr(callbacks_module, "fetch_outcome", running)
    reports = _reconcile_runs(handler, context, 3)
    assert [r["checked"] for r in reports] == [3, 3, 2]
    assert seen == [f"stuck-{i}" for i in range(8)]  # each exactly once, oldest first
    assert [r["wrapped"] for r in reports] == [False, False, True]
    seen.clear()
    assert _reconcile_runs(handler, context, 1)[0]["checked"] == 3 and seen == ["stuck-0", "stuck-1", "stuck-2"]


def test_reconcile_reaches_a_finished_task_behind_a_backlog_of_stuck_ones(
    stack: Stack, handler: Any, context: Any, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import video_pipeline.callbacks as callbacks_module
    from video_pipeline.clients import reset_runtimes
    from video_pipeline.models.payloads import IndexingOutcome

    monkeypatch.setenv("RECONCILE_MAX_TOKENS", "2")
    reset_runtimes()
    callbacks = _runtime(handler, "reconcile").store.require_callbacks()
    real_clock, real_fetch = callbacks.clock, callbacks_module.fetch_outcome
    monkeypatch.setattr(callbacks, "clock", lambda: real_clock() - 5000)
    for index in range(5):  # older tasks that stay in progress for days (before the fix they hogged every run)
        callbacks.put_token(f"stuck-{index}", f"token-stuck-{index}", "0" * 40, run=1)
    monkeypatch.setattr(callbacks, "clock", real_clock)

    def fetch(token: dict[str, Any], runtime: Any) -> IndexingOutcome:
        if str(token["task_id"]).startswith("stuck-"):
            return IndexingOutcome(task_id=str(token["task_id"]), status="indexing")
        return real_fetch(token, runtime)

    monkeypatch.setattr(callbacks_module, "fetch_outcome", fetch)
    _parked_task(stack, handler, context, samples, "token-late")
    reports: list[dict[str, Any]] = []
    while not any(r["resumed"] for r in reports):
        reports.append(handler("reconcile").lambda_handler(load_event("reconcile"), context))
        assert len(reports) <= 3, reports  # ceil(6 / 2): the finished task is in the third page
    assert _tokens(stack) == {f"token-stuck-{i}" for i in range(5)}


# ---------------------------------------------------------------- poison input


def _queue_with_dlq(stack: Stack, name: str) -> tuple[str, str]:
    """A source queue (its ARN) whose redrive policy names a DLQ (its URL), as template.yaml's IngestQueue."""
    import json
    import uuid

    sqs = stack.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source_url = sqs.create_queue(
        QueueName=f"{name}-{suffix}",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})},
    )["QueueUrl"]
    source_arn = sqs.get_queue_attributes(QueueUrl=source_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return source_arn, dlq_url


def _dead_letters(stack: Stack, queue_url: str) -> list[dict[str, Any]]:
    reply = stack.client("sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
    )
    return list(reply.get("Messages", []))


def test_a_poison_ingest_record_goes_to_the_dlq_at_once_with_its_reason(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    from tests.functions.conftest import s3_event, sqs_batch

    source_arn, dlq_url = _queue_with_dlq(stack, "ingest")
    data = (samples / "videos" / "forest-walk.mp4").read_bytes()
    put = stack.put("videos/good.mp4", data)
    good = s3_event(stack.media_bucket, "videos/good.mp4", len(data), put["ETag"].strip('"'))
    batch = sqs_batch("this is not json", good)
    for record in batch["Records"]:
        record["eventSourceARN"] = source_arn
    assert handler("ingest").lambda_handler(batch, context) == {"batchItemFailures": []}  # acknowledged, not retried
    [parked] = _dead_letters(stack, dlq_url)
    assert parked["Body"] == "this is not json"
    assert "not an S3 Object Created event" in parked["MessageAttributes"]["reason"]["StringValue"]
    assert len(stack.executions()) == 1  # the good record of the batch went on


# ---------------------------------------------------------------- failure delivery: by run number


def _status_event(job_key: str, name: str) -> dict[str, Any]:
    event = load_event("record_failure_execution_status")
    arn_prefix = event["detail"]["executionArn"].rsplit(":", 1)[0]
    event["detail"].update(name=name, executionArn=f"{arn_prefix}:{name}")
    return event


def _rerun(stack: Stack, job_key: str, run: int) -> None:
    """The item as a re-run claim leaves it: run + 1, RECEIVED, no execution ARN yet (the window the ARN guard
    could not see)."""
    table = stack.client("dynamodb")
    table.update_item(
        TableName=stack.jobs_table,
        Key={"job_key": {"S": job_key}},
        UpdateExpression="SET #run = :run, #status = :received REMOVE execution_arn",
        ExpressionAttributeNames={"#run": "run", "#status": "status"},
        ExpressionAttributeValues={":run": {"N": str(run)}, ":received": {"S": "RECEIVED"}},
    )


def test_a_failure_event_of_an_older_run_never_fails_the_current_run(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    from tests.functions.conftest import ingest_video

    job = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4")
    key = job["job_key"]
    _rerun(stack, key, 2)
    assert [m["event_type"] for m in stack.notifications()] == []  # ingest announces nothing for a video
    old = handler("record_failure").lambda_handler(_status_event(key, key), context)  # run 1's execution ended
    assert old["announced"] is False and stack.job(key)["status"] == "RECEIVED"
    assert [m for m in stack.notifications() if m.get("event_type") == "video.failed"] == []
    current = handler("record_failure").lambda_handler(_status_event(key, f"{key}-r2"), context)
    assert current["announced"] is True and current["status"] == "FAILED"
    item = stack.job(key)
    assert item["status"] == "FAILED" and int(item["run"]) == 2
    assert len([m for m in stack.notifications() if m.get("event_type") == "video.failed"]) == 1


@pytest.mark.parametrize("name", ["not-a-job-key", "0123456789abcdef0123456789abcdef01234567-rX"])
def test_a_foreign_execution_event_goes_to_the_dlq_at_once(
    stack: Stack, handler: Any, context: Any, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from video_pipeline.clients import reset_runtimes

    sqs = stack.client("sqs")
    import uuid

    dlq_url = sqs.create_queue(QueueName=f"execution-events-dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    monkeypatch.setenv("FAILURE_DEAD_LETTER_QUEUE_URL", dlq_url)
    reset_runtimes()
    event = _status_event("x", name)
    assert handler("record_failure").lambda_handler(event, context) is None  # acknowledged: no Lambda retry
    [parked] = _dead_letters(stack, dlq_url)
    assert json.loads(parked["Body"]) == event
    assert "execution name" in parked["MessageAttributes"]["reason"]["StringValue"]


# ---------------------------------------------------------------- keys, whatever their characters


def _created(stack: Stack, key: str, data: bytes, *, event_key: str) -> dict[str, Any]:
    """Upload `key`; the Object Created event names it as `event_key` (as given: encoded or not)."""
    from tests.functions.conftest import s3_event

    put = stack.put(key, data)
    event = s3_event(stack.media_bucket, key, len(data), put["ETag"].strip('"'))
    event["detail"]["object"]["key"] = event_key
    return event


@pytest.mark.parametrize(
    ("key", "event_key"),
    [
        ("videos/a+b.mp4", "videos/a%2Bb.mp4"),  # URL-encoded, as S3 notifications are documented
        ("videos/a+b.mp4", "videos/a+b.mp4"),  # literal (EventBridge documents no encoding): the decoded form is wrong
        ("videos/été 100%.mp4", "videos/%C3%A9t%C3%A9+100%25.mp4"),
        ("videos/a b.mp4", "videos/a+b.mp4"),
    ],
)
def test_the_object_is_found_whether_or_not_its_key_is_url_encoded(
    stack: Stack, handler: Any, context: Any, samples: Path, key: str, event_key: str
) -> None:
    from tests.functions.conftest import sqs_batch

    event = _created(stack, key, (samples / "videos" / "forest-walk.mp4").read_bytes(), event_key=event_key)
    assert handler("ingest").lambda_handler(sqs_batch(event), context) == {"batchItemFailures": []}
    [job] = stack.jobs()
    assert job["key"] == key and job["status"] == "RECEIVED" and job.get("execution_arn")


@pytest.mark.parametrize("event_key", ["videos/a+b.mp4", "videos/a%2Bb.mp4"])
def test_a_delete_finds_the_job_under_whichever_form_of_the_key_it_was_found(
    stack: Stack, handler: Any, context: Any, samples: Path, event_key: str
) -> None:
    from tests.functions.conftest import next_sequencer, sqs_batch

    key = "videos/a+b.mp4"
    event = _created(stack, key, (samples / "videos" / "forest-walk.mp4").read_bytes(), event_key=event_key)
    handler("ingest").lambda_handler(sqs_batch(event), context)
    [job] = stack.jobs()
    assert job["key"] == key
    stack.client("s3").delete_object(Bucket=stack.media_bucket, Key=key)
    deleted = json.loads(json.dumps(event))
    deleted["detail-type"] = "Object Deleted"
    deleted["detail"]["object"] = {"key": event_key, "sequencer": next_sequencer()}
    assert handler("object_removed").lambda_handler(sqs_batch(deleted), context) == {"batchItemFailures": []}
    assert stack.job(job["job_key"])["status"] == "DELETED"


def test_the_right_object_when_both_forms_of_the_key_exist(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    from tests.functions.conftest import sqs_batch

    stack.put("videos/a+b.mp4", (samples / "videos" / "ocean-waves.mp4").read_bytes())  # another object
    event = _created(
        stack, "videos/a b.mp4", (samples / "videos" / "forest-walk.mp4").read_bytes(), event_key="videos/a+b.mp4"
    )
    handler("ingest").lambda_handler(sqs_batch(event), context)
    [job] = stack.jobs()
    assert job["key"] == "videos/a b.mp4"  # the etag named by the event decides


def test_an_object_found_under_no_form_of_its_key_is_recorded_and_announced(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    from tests.functions.conftest import sqs_batch

    event = _created(stack, "videos/x.mp4", (samples / "videos" / "forest-walk.mp4").read_bytes(), event_key="v/a+b")
    assert handler("ingest").lambda_handler(sqs_batch(event), context) == {"batchItemFailures": []}
    [job] = stack.jobs()
    assert job["status"] == "REJECTED" and job["error_code"] == "object_not_found"
    assert "'v/a+b'" in job["error_message"] and "'v/a b'" in job["error_message"]
    [message] = stack.notifications()
    assert message["event_type"] == "video.rejected"
    assert stack.executions() == []


# ---------------------------------------------------------------- reconcile: non-terminal jobs without a token


def _age(stack: Stack, job_key: str, seconds: int) -> None:
    """Move the job's last update `seconds` into the past (instead of waiting)."""
    from datetime import UTC, datetime

    then = datetime.fromtimestamp(time.time() - seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stack.client("dynamodb").update_item(
        TableName=stack.jobs_table,
        Key={"job_key": {"S": job_key}},
        UpdateExpression="SET updated_at = :then",
        ExpressionAttributeValues={":then": {"S": then}},
    )


def test_reconcile_fails_a_job_whose_execution_ended_without_a_token_or_status_event(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    from tests.functions.conftest import ingest_video

    ended = ingest_video(stack, handler, context, samples / "videos" / "ocean-waves.mp4", key="videos/ended.mp4")
    running = ingest_video(stack, handler, context, samples / "videos" / "forest-walk.mp4", key="videos/running.mp4")
    young = ingest_video(stack, handler, context, samples / "videos" / "city-traffic.mov", key="videos/young.mov")
    stack.client("stepfunctions").stop_execution(executionArn=ended["execution_arn"], error="Killed", cause="test")
    stack.client("stepfunctions").stop_execution(executionArn=young["execution_arn"], error="Killed", cause="test")
    for job in (ended, running):
        _age(stack, job["job_key"], 7200)  # its status event was lost two hours ago
    stack.notifications()
    report = handler("reconcile").lambda_handler(load_event("reconcile"), context)
    assert report["orphans_failed"] == 1 and report["errors"] == 0
    failed = stack.job(ended["job_key"])
    assert failed is not None and failed["status"] == "FAILED"
    assert failed["error_code"] in ("killed", "execution_aborted")  # AWS names the stop's error; moto omits it
    assert stack.job(running["job_key"])["status"] == "RECEIVED"  # its execution still runs: left to it
    assert stack.job(young["job_key"])["status"] == "RECEIVED"  # not old enough yet
    assert [(m["event_type"], m["job_key"]) for m in stack.notifications()] == [("video.failed", ended["job_key"])]
    again = handler("reconcile").lambda_handler(load_event("reconcile"), context)
    assert again["orphans_failed"] == 0 and stack.notifications() == []


def test_reconcile_leaves_a_job_whose_token_is_stored_to_the_token_walk(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    job, task_id = _parked_task(stack, handler, context, samples, "token-o")
    stack.client("stepfunctions").stop_execution(executionArn=job["execution_arn"])
    _age(stack, job["job_key"], 7200)
    parked = stack.job(job["job_key"])
    assert parked is not None and parked["tl_task_id"] == task_id
    report = handler("reconcile").lambda_handler(load_event("reconcile"), context)
    assert report["orphans_failed"] == 0


def test_reconcile_deletes_the_token_of_unfinished_work_once_its_wait_timed_out(
    stack: Stack, handler: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import video_pipeline.callbacks as callbacks_module
    from video_pipeline.models.base import utc_now_iso
    from video_pipeline.models.jobs import JobItem
    from video_pipeline.models.payloads import IndexingOutcome

    runtime = _runtime(handler, "reconcile")
    jobs, callbacks = runtime.store.require_jobs(), runtime.store.require_callbacks()
    now = utc_now_iso()
    for name, status in (
        ("awaited", "INDEXING"),
        ("timed-out", "INDEXING"),
        ("failed", "FAILED"),
        ("old-run", "INDEXING"),
    ):
        jobs.claim(
            JobItem(
                job_key=name.ljust(40, "0"),
                bucket="b",
                key=f"{name}.mp4",
                s3_uri=f"s3://b/{name}.mp4",
                run=2 if name == "old-run" else 1,
                status=status,  # type: ignore[arg-type]
                execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:sm:{name}",
                created_at=now,
                updated_at=now,
            )
        )
        callbacks.put_token(f"stuck-{name}", f"token-{name}", name.ljust(40, "0"), run=1)
    monkeypatch.setattr(
        callbacks_module,
        "fetch_outcome",
        lambda token, rt: IndexingOutcome(task_id=str(token["task_id"]), status="indexing"),
    )
    described: list[str] = []

    def describe_execution(**kwargs: Any) -> Any:
        described.append(kwargs["executionArn"].rsplit(":", 1)[-1])
        # The AwaitIndexing state of "timed-out" gave up and its execution ended; "awaited" still waits.
        return {"status": "TIMED_OUT" if kwargs["executionArn"].endswith("timed-out") else "RUNNING"}

    monkeypatch.setattr(runtime.sfn, "describe_execution", describe_execution)
    report = handler("reconcile").lambda_handler(load_event("reconcile"), context)
    # "failed" (the job ended) and "old-run" (the item is run 2) need no DescribeExecution to know.
    assert report["timed_out"] == 3 and report["still_running"] == 1
    assert sorted(described) == ["awaited", "timed-out"]
    assert _tokens(stack) == {"token-awaited"}
