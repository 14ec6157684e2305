"""The imports table: one run record per run (`sk` = "run") and one outcome item per object (`sk` = "item#...").

The per-object items make the counts exact under retries: an object's outcome is written once (conditional put), and
`finish` counts the items instead of incrementing counters that a retried attempt would bump twice.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from video_pipeline.imports.models import ImportRun, ItemOutcome, RunStatus, as_outcome
from video_pipeline.models.base import utc_now_iso

RUN_SK = "run"
ITEM_PREFIX = "item#"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def item_sk(bucket: str, key: str) -> str:
    # Keys may be 1024 bytes (the sort key's limit too): a digest keeps the item addressable.
    return ITEM_PREFIX + hashlib.sha256(f"{bucket}\n{key}".encode()).hexdigest()[:40]


def _conditional_failed(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


class ImportsStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    @property
    def table(self) -> Any:
        return self._table

    # ------------------------------------------------------------ the run record

    def get_run(self, run_id: str) -> ImportRun | None:
        item = self._table.get_item(Key={"run_id": run_id, "sk": RUN_SK}, ConsistentRead=True).get("Item")
        return ImportRun.model_validate(_plain(item)) if item else None

    def create_run(self, run: ImportRun) -> tuple[bool, ImportRun]:
        """Put the run record unless it exists (a retried or redriven step): (created now?, the stored record)."""
        item = {k: v for k, v in run.model_dump(mode="json").items() if v is not None}
        try:
            self._table.put_item(Item={**item, "sk": RUN_SK}, ConditionExpression=Attr("run_id").not_exists())
            return True, run
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
        existing = self.get_run(run.run_id)
        if existing is None:  # deleted in between: nothing sensible to resume from
            raise RuntimeError(f"import run {run.run_id} vanished while being created")
        return False, existing

    def update_run(
        self, run_id: str, fields: dict[str, Any], *, only_if_status_in: tuple[RunStatus, ...] = ()
    ) -> ImportRun | None:
        """SET `fields` (+ updated_at); None when the run's status is not one of `only_if_status_in`."""
        values = {**fields, "updated_at": utc_now_iso()}
        names = {f"#f{i}": name for i, name in enumerate(values)}
        expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(values)))
        attribute_values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(values.values())}
        kwargs: dict[str, Any] = {}
        if only_if_status_in:
            names["#status"] = "status"
            allowed = [f":s{i}" for i in range(len(only_if_status_in))]
            attribute_values.update({a: s for a, s in zip(allowed, only_if_status_in, strict=True)})
            kwargs["ConditionExpression"] = f"#status IN ({', '.join(allowed)})"
        try:
            answer = self._table.update_item(
                Key={"run_id": run_id, "sk": RUN_SK},
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=attribute_values,
                ReturnValues="ALL_NEW",
                **kwargs,
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise
        return ImportRun.model_validate(_plain(answer["Attributes"]))

    def mark_notified(self, run_id: str, event_type: str) -> None:
        self._table.update_item(
            Key={"run_id": run_id, "sk": RUN_SK},
            UpdateExpression="SET notified = list_append(if_not_exists(notified, :empty), :event)",
            ExpressionAttributeValues={":empty": [], ":event": [event_type]},
        )

    # ------------------------------------------------------------ one item per object

    def get_item(self, run_id: str, bucket: str, key: str) -> dict[str, Any] | None:
        found = self._table.get_item(Key={"run_id": run_id, "sk": item_sk(bucket, key)}, ConsistentRead=True)
        item = found.get("Item")
        return _plain(item) if item else None

    def begin_item(self, run_id: str, bucket: str, key: str) -> dict[str, Any]:
        """Mark the object as being processed by this run (first attempt only): the stored item."""
        item = {"run_id": run_id, "sk": item_sk(bucket, key), "key": key, "started_at": utc_now_iso()}
        try:
            self._table.put_item(Item=item, ConditionExpression=Attr("sk").not_exists())
            return item
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
        return self.get_item(run_id, bucket, key) or item

    def note_item(self, run_id: str, bucket: str, key: str, fields: dict[str, Any]) -> None:
        """Add facts to an object's item without deciding its outcome (e.g. the asset a connection file became)."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": value for i, value in enumerate(fields.values())}
        self._table.update_item(
            Key={"run_id": run_id, "sk": item_sk(bucket, key)},
            UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def record_item(
        self, run_id: str, bucket: str, key: str, outcome: ItemOutcome, job_key: str | None, detail: str
    ) -> ItemOutcome:
        """Write the object's outcome once; a later attempt gets the outcome written first."""
        fields: dict[str, Any] = {":o": outcome, ":d": detail[:1000], ":k": key, ":t": utc_now_iso()}
        expression = "SET outcome = :o, detail = :d, #key = :k, recorded_at = :t"
        if job_key:
            fields[":j"] = job_key
            expression += ", job_key = :j"
        try:
            self._table.update_item(
                Key={"run_id": run_id, "sk": item_sk(bucket, key)},
                UpdateExpression=expression,
                ConditionExpression=Attr("outcome").not_exists(),
                ExpressionAttributeNames={"#key": "key"},
                ExpressionAttributeValues=fields,
            )
            return outcome
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
        stored = self.get_item(run_id, bucket, key) or {}
        return as_outcome(stored.get("outcome"), outcome)

    def items(self, run_id: str) -> Iterator[dict[str, Any]]:
        """Every object item of the run (strongly consistent pages)."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("run_id").eq(run_id) & Key("sk").begins_with(ITEM_PREFIX),
            "ConsistentRead": True,
        }
        while True:
            page = self._table.query(**kwargs)
            for item in page.get("Items", []):
                yield _plain(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# ---------------------------------------------------------------- the per-integration lock (classic imports)

LOCK_SK = "lock"


def integration_lock_id(integration_id: str) -> str:
    """The lock item's partition key: never a run id (those are execution names, which cannot contain '#')."""
    return f"lock#integration#{integration_id}"


class IntegrationLock:
    """One classic import per integration at a time (the API runs one): a lock item in the imports table.

    `acquire` is re-entrant for the run holding it (a retried step keeps its lock) and takes over a lock whose
    holder stopped renewing it (`expires_at` passed: the run crashed or was aborted without releasing it), so a
    lost release delays the next run by at most `ttl_seconds`, never forever. `clock` is injectable (tests).
    """

    def __init__(self, table: Any, ttl_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._ttl = ttl_seconds
        self._clock = clock

    def holder(self, integration_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(
            Key={"run_id": integration_lock_id(integration_id), "sk": LOCK_SK}, ConsistentRead=True
        ).get("Item")
        return _plain(item) if item else None

    def acquire(self, integration_id: str, run_id: str) -> tuple[bool, str | None]:
        """(taken?, the run holding it when not). Taking it again as its holder renews it."""
        now = int(self._clock())
        try:
            self._table.put_item(
                Item={
                    "run_id": integration_lock_id(integration_id),
                    "sk": LOCK_SK,
                    "holder": run_id,
                    "integration_id": integration_id,
                    "acquired_at": utc_now_iso(),
                    "expires_at": now + self._ttl,
                },
                ConditionExpression=Attr("run_id").not_exists()
                | Attr("holder").eq(run_id)
                | Attr("expires_at").lt(now),
            )
            return True, None
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
        held = self.holder(integration_id)
        return False, str(held["holder"]) if held else None

    def release(self, integration_id: str, run_id: str) -> bool:
        """Drop the lock if `run_id` still holds it (a retried release, or a lock taken over since, is a no-op)."""
        try:
            self._table.delete_item(
                Key={"run_id": integration_lock_id(integration_id), "sk": LOCK_SK},
                ConditionExpression=Attr("holder").eq(run_id),
            )
            return True
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return False
