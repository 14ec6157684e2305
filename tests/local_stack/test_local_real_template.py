"""The project's real template.yaml on the local stack: deploys, and one sample video completes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from local_stack import LocalStack, StackConfig
from local_stack.demo import Demo

REPO = Path(__file__).resolve().parents[2]
CONTRACT_OUTPUTS = {
    "MediaBucketName",
    "ResultsBucketName",
    "JobsTableName",
    "CallbacksTableName",
    "NotificationsTopicArn",
    "VideoPipelineArn",
    "WebhookFunctionName",
    "WebhookUrl",
    "ReconcileFunctionName",
    "IngestQueueUrl",
    "IndexId",
}

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.skipif(not (REPO / "template.yaml").exists(), reason="template.yaml not written yet"),
]


def test_real_template_runs_one_video(tmp_path: Path, samples: Path) -> None:
    config = StackConfig(state_dir=tmp_path, processing_seconds=0.2, schedule_seconds=30, echo_errors=True)
    with LocalStack(config) as stack:
        assert set(stack.outputs) >= CONTRACT_OUTPUTS, set(stack.outputs)
        assert stack.outputs["WebhookUrl"] == stack.webhook_url
        assert stack.emulator_base_url and stack.emulator_base_url.startswith("http://127.0.0.1:")
        video = samples / "videos" / "ocean-waves.mp4"
        demo = Demo(stack)
        started = time.monotonic()
        stack.client("s3").upload_file(str(video), stack.outputs["MediaBucketName"], "videos/ocean-waves.mp4")
        jobs = demo.follow({"videos/ocean-waves.mp4": video}, timeout=60)
        job = jobs["videos/ocean-waves.mp4"]
        assert job["status"] == "COMPLETED", (job, stack.function_log("record_failure"))
        assert job.get("results", {}).get("summary", "").startswith("s3://")
        assert "START RequestId" in stack.function_log("ingest")
        print(f"one video in {time.monotonic() - started:.1f} s")
