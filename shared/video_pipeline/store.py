"""DynamoDB data access: the jobs table (claims, status transitions) and the callbacks table (tokens, dedup)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from botocore.exceptions import ClientError

from video_pipeline.errors import JobNotFoundError
from video_pipeline.models.base import utc_now_iso
from video_pipeline.models.jobs import JobItem, JobStatus


# boto3 (~0.1 s) is imported on the first DynamoDB call, not at cold start.
def Attr(name: str) -> Any:
    from boto3.dynamodb.conditions import Attr as attr

    return attr(name)


def Key(name: str) -> Any:
    from boto3.dynamodb.conditions import Key as key

    return key(name)


# A run in one of these states is still at work: the pipeline's own steps write only then (`ACTIVE_STATUSES`).
ACTIVE_STATUSES: tuple[JobStatus, ...] = ("RECEIVED", "INDEXING", "ANALYZING")
# A retired run: its object was deleted or overwritten; PURGING until TwelveLabs holds nothing of it.
RETIRED_STATUSES: tuple[JobStatus, ...] = ("PURGING", "DELETED", "SUPERSEDED")
# Terminal states a late writer must never overwrite (a late failure after success, a finalize after delete).
TERMINAL_STATUSES: tuple[JobStatus, ...] = ("COMPLETED", "FAILED", "DELETED", "SUPERSEDED", "REJECTED")
# A job in one of these states is run again when its object is uploaded again (a new S3 event).
RERUNNABLE_STATUSES: tuple[JobStatus, ...] = ("FAILED", "DELETED", "SUPERSEDED")
SUPERSEDED_WRITES_METRIC = "SupersededWrites"


def _is_conditional_failure(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


@dataclass
class ClaimResult:
    claimed: bool  # True: this caller owns the job (new, or a re-run); False: it already existed
    job: JobItem


class JobsStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    # ------------------------------------------------------------ reads

    def get(self, job_key: str) -> JobItem | None:
        item = self._table.get_item(Key={"job_key": job_key}, ConsistentRead=True).get("Item")
        return JobItem.model_validate(_from_dynamo(item)) if item else None

    def require(self, job_key: str) -> JobItem:
        job = self.get(job_key)
        if job is None:
            raise JobNotFoundError(f"no job item for job_key {job_key}")
        return job

    def find_by_source(self, s3_uri: str) -> list[JobItem]:
        """Every job of an S3 location (GSI `by-source`, keys only projected -> read each item)."""
        keys: list[str] = []
        kwargs: dict[str, Any] = {"IndexName": "by-source", "KeyConditionExpression": Key("s3_uri").eq(s3_uri)}
        while True:
            page = self._table.query(**kwargs)
            keys.extend(item["job_key"] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        jobs = [self.get(key) for key in dict.fromkeys(keys)]
        return [job for job in jobs if job is not None]

    def find_by_task(self, task_id: str) -> list[JobItem]:
        """The jobs whose `tl_task_id` is `task_id` (GSI `by-task`, keys only projected -> read each item)."""
        page = self._table.query(IndexName="by-task", KeyConditionExpression=Key("tl_task_id").eq(task_id))
        jobs = [self.get(str(item["job_key"])) for item in page.get("Items", [])]
        return [job for job in jobs if job is not None]

    def status_page(
        self, status: JobStatus, after_iso: str, before_iso: str, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[JobItem], dict[str, Any] | None]:
        """One page of jobs in `status` last updated in [after_iso, before_iso), oldest first, after `cursor`; and
        the cursor of the next page (None: the walk reached the end)."""
        kwargs: dict[str, Any] = {
            "IndexName": "by-status",
            "KeyConditionExpression": Key("status").eq(status) & Key("updated_at").between(after_iso, before_iso),
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        page = self._table.query(**kwargs)
        items = [JobItem.model_validate(_from_dynamo(item)) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return items, (_from_dynamo(last) if last else None)

    def not_updated_since(self, status: JobStatus, before_iso: str, limit: int) -> list[JobItem]:
        """Jobs in `status` last updated before `before_iso`, oldest first, at most `limit` (GSI `by-status`)."""
        page = self._table.query(
            IndexName="by-status",
            KeyConditionExpression=Key("status").eq(status) & Key("updated_at").lt(before_iso),
            Limit=limit,
        )
        return [JobItem.model_validate(_from_dynamo(item)) for item in page.get("Items", [])]

    # ------------------------------------------------------------ claim

    def claim(self, job: JobItem) -> ClaimResult:
        """Create the job item unless it exists; re-claim it (run + 1) after FAILED/DELETED for a *new* upload event.

        A redelivered event carries the same S3 sequencer, so it never re-runs a finished job.
        """
        item = {k: v for k, v in job.model_dump(mode="json").items() if v is not None}
        try:
            self._table.put_item(Item=item, ConditionExpression=Attr("job_key").not_exists())
            return ClaimResult(True, job)
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise
        existing = self.require(job.job_key)
        if existing.status in RERUNNABLE_STATUSES and job.sequencer is not None and existing.sequencer != job.sequencer:
            rerun = self._rerun(existing, job)
            if rerun is not None:
                return ClaimResult(True, rerun)
            existing = self.require(job.job_key)
        return ClaimResult(False, existing)

    def _rerun(self, existing: JobItem, job: JobItem) -> JobItem | None:
        now = utc_now_iso()
        try:
            response = self._table.update_item(
                Key={"job_key": job.job_key},
                UpdateExpression=(
                    "SET #status = :received, #run = :run, sequencer = :seq, stages = :stages, updated_at = :now, "
                    "version_id = :version, results = :empty, tl_analyze_tasks = :empty "
                    "REMOVE notified, tl_purged, execution_arn, tl_task_id, tl_video_id, tl_embedding_task_id, "
                    "tl_asset_id, tl_indexed_asset_id, retired_as, retire_reason, lease_until, "
                    "error_code, error_message, title, topics, hashtags"
                ),
                ConditionExpression=Attr("status").eq(existing.status) & Attr("sequencer").eq(existing.sequencer)
                if existing.sequencer is not None
                else Attr("status").eq(existing.status) & Attr("sequencer").not_exists(),
                ExpressionAttributeNames={"#status": "status", "#run": "run"},
                ExpressionAttributeValues={
                    ":received": "RECEIVED",
                    ":run": existing.run + 1,
                    ":seq": job.sequencer,
                    ":stages": {"received_at": now},
                    ":now": now,
                    ":version": job.version_id,
                    ":empty": {},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return None  # a concurrent delivery re-claimed it first
            raise
        return JobItem.model_validate(_from_dynamo(response["Attributes"]))

    # ------------------------------------------------------------ transitions

    def update(
        self,
        job_key: str,
        *,
        run: int,
        set_fields: dict[str, Any] | None = None,
        status: JobStatus | None = None,
        stage: str | None = None,
        results: dict[str, str] | None = None,
        set_in: dict[str, dict[str, Any]] | None = None,
        only_if_status_in: tuple[JobStatus, ...] | None = None,
        unless_status_in: tuple[JobStatus, ...] | None = None,
        remove_fields: tuple[str, ...] = (),
        if_updated_at: str | None = None,
    ) -> JobItem | None:
        """The one way to change a job item (the fenced write): applied only while the item is still in `run`, and
        in one of `only_if_status_in` / none of `unless_status_in`. Returns the new item, or None when a condition
        failed. A write refused because the run was superseded or retired is logged and counted
        (`SupersededWrites`): the caller carries on without it. `set_in` sets keys inside map fields (the map
        exists from the claim); `results` is `set_in={"results": ...}`. `if_updated_at`: only if nobody wrote the item
        since it was read (optimistic concurrency)."""
        now = utc_now_iso()
        names: dict[str, str] = {"#updated_at": "updated_at"}
        values: dict[str, Any] = {":now": now}
        sets = ["#updated_at = :now"]
        for index, (field, value) in enumerate((set_fields or {}).items()):
            names[f"#f{index}"] = field
            values[f":f{index}"] = value
            sets.append(f"#f{index} = :f{index}")
        if status is not None:
            names["#status"] = "status"
            values[":status"] = status
            sets.append("#status = :status")
        if stage is not None:
            names["#stages"] = "stages"
            names["#stage"] = stage
            sets.append("#stages.#stage = :now")
        maps = dict(set_in or {})
        if results:
            maps["results"] = {**maps.get("results", {}), **results}
        for m, (map_name, entries) in enumerate(maps.items()):
            names[f"#m{m}"] = map_name
            for index, (name, value) in enumerate(entries.items()):
                names[f"#m{m}k{index}"] = name
                values[f":m{m}v{index}"] = value
                sets.append(f"#m{m}.#m{m}k{index} = :m{m}v{index}")
        expression = "SET " + ", ".join(sets)
        if remove_fields:
            for index, field in enumerate(remove_fields):
                names[f"#x{index}"] = field
            expression += " REMOVE " + ", ".join(f"#x{i}" for i in range(len(remove_fields)))
        condition = Attr("job_key").exists() & Attr("run").eq(run)
        if only_if_status_in:
            condition = condition & Attr("status").is_in(list(only_if_status_in))
        if unless_status_in:
            for forbidden in unless_status_in:
                condition = condition & Attr("status").ne(forbidden)
        if if_updated_at is not None:
            condition = condition & Attr("updated_at").eq(if_updated_at)
        try:
            response = self._table.update_item(
                Key={"job_key": job_key},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise
            current = self.get(job_key)
            if current is None:
                raise JobNotFoundError(f"no job item for job_key {job_key}") from exc
            if current.run != run or (current.status in RETIRED_STATUSES and status not in RETIRED_STATUSES):
                _count_superseded_write(job_key, run, current)
            return None
        return JobItem.model_validate(_from_dynamo(response["Attributes"]))

    def take_lease(
        self, job_key: str, run: int, seconds: int, clock: Callable[[], float] = time.time
    ) -> JobItem | None:
        """Lease a RECEIVED item of `run` for `seconds` (one billed call at a time); None while another holds it."""
        now = int(clock())
        try:
            response = self._table.update_item(
                Key={"job_key": job_key},
                UpdateExpression="SET lease_until = :until, updated_at = :now_iso",
                ConditionExpression=Attr("run").eq(run)
                & Attr("status").eq("RECEIVED")
                & (Attr("lease_until").not_exists() | Attr("lease_until").lt(now)),
                ExpressionAttributeValues={":until": now + seconds, ":now_iso": utc_now_iso()},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return None
            raise
        return JobItem.model_validate(_from_dynamo(response["Attributes"]))

    def release_lease(self, job_key: str, run: int) -> None:
        try:
            self._table.update_item(
                Key={"job_key": job_key},
                UpdateExpression="REMOVE lease_until",
                ConditionExpression=Attr("run").eq(run),
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise

    def mark_notified(self, job_key: str, run: int, event_type: str) -> bool:
        """Record that `event_type` was published for `run`; False when the item moved on to another run."""
        try:
            self._table.update_item(
                Key={"job_key": job_key},
                UpdateExpression="SET notified = list_append(if_not_exists(notified, :empty), :event)",
                ConditionExpression=Attr("run").eq(run),
                ExpressionAttributeValues={":empty": [], ":event": [event_type]},
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise
        return True


def _count_superseded_write(job_key: str, run: int, current: JobItem) -> None:
    """A late writer of a superseded or retired run: a no-op by design, logged and counted."""
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    Logger(child=True).info(
        "write of a superseded run ignored",
        extra={"job_key": job_key, "write_run": run, "item_run": current.run, "item_status": current.status},
    )
    # Metrics instances share one metric set: the function's log_metrics flushes this with its own.
    Metrics().add_metric(name=SUPERSEDED_WRITES_METRIC, unit=MetricUnit.Count, value=1)


NotificationClaim = Literal["claimed", "in_progress", "done"]
# The sparse GSI of pending tokens, oldest first: only token items carry `pending` (dedup markers and the cursor
# never appear in it), sorted by `created_epoch`.
PENDING_INDEX = "pending-by-age"
PENDING_PARTITION = "TOKEN"
RECONCILE_CURSOR_PK = "CURSOR#reconcile"


class CallbacksStore:
    """`TOKEN#<task_id>` -> the waiting task token; `WEBHOOK#<notification id>` -> dedup marker;
    `CURSOR#<walk>` -> where a walk stopped (reconcile's through the pending tokens, the sweeper's per status)."""

    def __init__(self, table: Any, ttl_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._ttl = ttl_seconds
        self.clock = clock  # injectable: tests move time instead of sleeping

    def _now(self) -> int:
        return int(self.clock())

    # ------------------------------------------------------------ tokens

    def put_token(
        self,
        task_id: str,
        task_token: str,
        job_key: str,
        *,
        run: int,
        kind: str = "index_task",
        index_id: str | None = None,
    ) -> None:
        """Park `task_token` under the TwelveLabs id a webhook will name. `kind` (index_task | indexed_asset |
        analyze_task) tells the resolvers how to read that resource; `index_id` locates an indexed asset.
        A retried await_* state parks its new token over the old one (the old one is no longer awaited)."""
        now = self._now()
        item: dict[str, Any] = {
            "pk": f"TOKEN#{task_id}",
            "pending": PENDING_PARTITION,
            "task_id": task_id,
            "task_token": task_token,
            "job_key": job_key,
            "run": run,
            "kind": kind,
            "created_at": utc_now_iso(),
            "created_epoch": now,
            "expires_at": now + self._ttl,
        }
        if index_id:
            item["index_id"] = index_id
        self._table.put_item(Item=item)

    def get_token(self, task_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key={"pk": f"TOKEN#{task_id}"}, ConsistentRead=True).get("Item")
        return _from_dynamo(item) if item else None

    def consume_token(self, task_id: str, task_token: str | None = None) -> dict[str, Any] | None:
        """Delete the token and return it; None when already consumed, or (with `task_token`) when the stored token
        is another one (a newer wait's token is never deleted by a resolver of the older one)."""
        condition = Attr("pk").exists()
        if task_token is not None:
            condition = condition & Attr("task_token").eq(task_token)
        try:
            response = self._table.delete_item(
                Key={"pk": f"TOKEN#{task_id}"},
                ConditionExpression=condition,
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return None
            raise
        return _from_dynamo(response.get("Attributes")) or None

    def restore_token(self, token_item: dict[str, Any]) -> bool:
        """Put a consumed token back unless a token is stored again (a retried wait parked a newer one, which
        must never be overwritten). True when restored."""
        try:
            self._table.put_item(Item=token_item, ConditionExpression=Attr("pk").not_exists())
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise
        return True

    def delete_token(self, task_id: str, task_token: str | None = None) -> bool:
        """Delete the token (only if it is still `task_token` when given). True when something was deleted."""
        return self.consume_token(task_id, task_token) is not None

    def stale_tokens(self, older_than_epoch: int, limit: int) -> list[dict[str, Any]]:
        """Pending tokens created at or before `older_than_epoch`, oldest first, at most `limit` (no cursor)."""
        return self.pending_tokens(older_than_epoch, limit, None)[0]

    def pending_tokens(
        self, older_than_epoch: int, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of pending tokens created at or before `older_than_epoch`, oldest first, after `cursor`.
        Returns the page and the cursor of the next one (None: the walk reached the newest, start over)."""
        kwargs: dict[str, Any] = {
            "IndexName": PENDING_INDEX,
            "KeyConditionExpression": Key("pending").eq(PENDING_PARTITION) & Key("created_epoch").lte(older_than_epoch),
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        page = self._table.query(**kwargs)
        items = [_from_dynamo(item) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return items, (_from_dynamo(last) if last else None)

    def load_cursor(self, name: str = "reconcile") -> dict[str, Any] | None:
        """Where a walk stopped (`CURSOR#<name>`: reconcile's through the pending tokens, the sweeper's per status)."""
        item = self._table.get_item(Key={"pk": f"CURSOR#{name}"}, ConsistentRead=True).get("Item")
        cursor = item.get("cursor") if item else None
        return _from_dynamo(cursor) if cursor else None

    def save_cursor(self, cursor: dict[str, Any] | None, name: str = "reconcile") -> None:
        if cursor is None:
            self._table.delete_item(Key={"pk": f"CURSOR#{name}"})
        else:
            self._table.put_item(Item={"pk": f"CURSOR#{name}", "cursor": cursor, "updated_at": utc_now_iso()})

    # ------------------------------------------------------------ webhook dedup

    def claim_notification(
        self, notification_id: str, *, in_progress_seconds: int, ttl_seconds: int = 7 * 86400
    ) -> NotificationClaim:
        """Mark a webhook notification IN_PROGRESS for `in_progress_seconds` (Powertools Idempotency semantics):
        "claimed" -> process it, then `complete_notification`; "in_progress" -> another invocation holds it (ask
        for a retry); "done" -> a replay. A holder killed before completing leaves a marker that expires, so a
        redelivery after `in_progress_seconds` is processed again."""
        now = self._now()
        try:
            self._table.put_item(
                Item={
                    "pk": f"WEBHOOK#{notification_id}",
                    "status": "IN_PROGRESS",
                    "in_progress_until": now + in_progress_seconds,
                    "received_at": utc_now_iso(),
                    "expires_at": now + ttl_seconds,
                },
                ConditionExpression=Attr("pk").not_exists()
                | (Attr("status").eq("IN_PROGRESS") & Attr("in_progress_until").lt(now)),
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise
            item = self._table.get_item(Key={"pk": f"WEBHOOK#{notification_id}"}, ConsistentRead=True).get("Item")
            if item is not None and item.get("status") == "IN_PROGRESS":
                return "in_progress"
            return (
                "done"
                if item is not None
                else self.claim_notification(
                    notification_id, in_progress_seconds=in_progress_seconds, ttl_seconds=ttl_seconds
                )
            )
        return "claimed"

    def complete_notification(self, notification_id: str) -> None:
        """The notification's work is done: later deliveries are replays."""
        self._table.update_item(
            Key={"pk": f"WEBHOOK#{notification_id}"},
            UpdateExpression="SET #status = :done REMOVE in_progress_until",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":done": "COMPLETED"},
        )

    def release_notification(self, notification_id: str) -> None:
        """Forget a notification whose processing failed, so TwelveLabs' retry is processed at once."""
        self._table.delete_item(Key={"pk": f"WEBHOOK#{notification_id}"})


@dataclass
class Stores:
    jobs: JobsStore | None
    callbacks: CallbacksStore | None

    def require_jobs(self) -> JobsStore:
        if self.jobs is None:
            from video_pipeline.errors import ConfigurationError

            raise ConfigurationError("missing environment variable(s): JOBS_TABLE")
        return self.jobs

    def require_callbacks(self) -> CallbacksStore:
        if self.callbacks is None:
            from video_pipeline.errors import ConfigurationError

            raise ConfigurationError("missing environment variable(s): CALLBACKS_TABLE")
        return self.callbacks
