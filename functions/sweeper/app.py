"""Scheduled: settle jobs stuck in a non-terminal state beyond their bound (purges that had to wait, runs whose
object version is gone) and announce the result."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from video_pipeline.clients import Runtime
from video_pipeline.handler import LambdaFunction
from video_pipeline.sweeper import SweeperSettings, sweep

function = LambdaFunction(SweeperSettings)


@function.handler()
def lambda_handler(event: dict[str, Any], runtime: Runtime[SweeperSettings]) -> dict[str, Any]:
    report = sweep(runtime)  # the schedule's event carries nothing we need
    function.count("SweeperPurged", report.purged)
    function.count("SweeperRetired", report.superseded + report.deleted)
    function.count("SweeperErrors", report.errors)
    return asdict(report)
