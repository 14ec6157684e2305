"""Runs `Schedule` rules locally: moto stores schedule rules but never fires them.

Every `interval` seconds each ENABLED rule with a ScheduleExpression invokes its Lambda targets with a
"Scheduled Event" (or the target's `Input`), the way EventBridge would, only more often.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


class ScheduleRunner:
    def __init__(self, clients: Callable[[str], Any], region: str, interval: float) -> None:
        self._clients = clients
        self.region = region
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._run_lock = threading.Lock()
        self.runs = 0

    def targets(self) -> list[tuple[str, dict[str, Any]]]:
        """(rule arn, target) for every Lambda target of an enabled schedule rule."""
        events = self._clients("events")
        found = []
        for page in events.get_paginator("list_rules").paginate():
            for rule in page["Rules"]:
                if not rule.get("ScheduleExpression") or rule.get("State") != "ENABLED":
                    continue
                for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
                    if ":lambda:" in target["Arn"]:
                        found.append((rule["Arn"], target))
        return found

    def run_once(self) -> int:
        """Invoke every scheduled target now; returns how many were invoked."""
        with self._run_lock:
            lam = self._clients("lambda")
            count = 0
            for rule_arn, target in self.targets():
                if "Input" in target:
                    payload: Any = json.loads(target["Input"])
                else:
                    payload = {
                        "version": "0",
                        "id": str(uuid.uuid4()),
                        "detail-type": "Scheduled Event",
                        "source": "aws.events",
                        "account": rule_arn.split(":")[4],
                        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "region": self.region,
                        "resources": [rule_arn],
                        "detail": {},
                    }
                lam.invoke(FunctionName=target["Arn"], InvocationType="Event", Payload=json.dumps(payload).encode())
                count += 1
            self.runs += 1
            return count

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except (BotoCoreError, ClientError) as exc:
                # Keep the schedule alive (as EventBridge would) but say what went wrong.
                print(f"[local_stack] scheduled run failed: {exc}", file=sys.stderr, flush=True)

    def start(self) -> ScheduleRunner:
        self._thread = threading.Thread(target=self._loop, name="local-stack-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
