"""Scheduled: resolve indexing tokens whose webhook is late (bounded work per run)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from video_pipeline.callbacks import reconcile
from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.settings import ReconcileSettings

function = LambdaFunction(ReconcileSettings)


@function.handler()
def lambda_handler(event: dict[str, Any], runtime: Runtime[ReconcileSettings]) -> dict[str, Any]:
    report = reconcile(runtime)  # the schedule's event carries nothing we need
    function.count("ReconcileResumed", report.resumed)
    function.count("ReconcileErrors", report.errors)
    return asdict(report)
