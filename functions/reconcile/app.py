"""Scheduled: resolve tokens whose webhook is late (oldest first, a bounded page per run from a persisted cursor),
and settle non-terminal jobs left without a token."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from video_pipeline.callbacks import ReconcileFunctionSettings, reconcile
from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction

function = LambdaFunction(ReconcileFunctionSettings)


@function.handler()
def lambda_handler(event: dict[str, Any], runtime: Runtime[ReconcileFunctionSettings]) -> dict[str, Any]:
    report = reconcile(runtime)  # the schedule's event carries nothing we need
    function.count("ReconcileResumed", report.resumed)
    function.count("ReconcileErrors", report.errors)
    function.count("ReconcileOrphansFailed", report.orphans_failed)
    return asdict(report)
