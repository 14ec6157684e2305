"""`LambdaFunction` and tracing: the X-Ray SDK is imported only when tracing is on; botocore and httpx are
instrumented at the first invocation (not at init: that would import them on every cold start). Each case imports a
handler module in a fresh interpreter, like a cold start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import json
import app
from aws_xray_sdk.core import patcher
patched_at_init = sorted(patcher._PATCHED_MODULES)
if app.function.tracer is not None:
    app.function._patch_before(lambda event, context: None)({}, None)
print(json.dumps({"tracer": app.function.tracer is not None, "patched_at_init": patched_at_init,
                  "patched_after_call": sorted(patcher._PATCHED_MODULES)}))
"""
BEFORE_PROBE = "import sys, app; print(any(m.startswith('aws_xray_sdk') for m in sys.modules))"


def _run(code: str, **env: str) -> str:
    full = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{REPO / 'functions' / 'finalize'}{os.pathsep}{REPO / 'shared'}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TWELVELABS_BASE_URL": "https://api.twelvelabs.io/v1.3",
        "JOBS_TABLE": "jobs",
        "NOTIFICATIONS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t",
        **env,
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("env", [{}, {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}])
def test_without_tracing_the_xray_sdk_is_never_imported(env: dict[str, str]) -> None:
    assert _run(BEFORE_PROBE, **env) == "False"


def test_with_tracing_aws_and_twelvelabs_calls_are_patched_at_the_first_invocation() -> None:
    result = json.loads(
        _run(
            PROBE,
            LAMBDA_TASK_ROOT="/var/task",
            AWS_LAMBDA_FUNCTION_NAME="finalize",
            _X_AMZN_TRACE_ID="Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
        )
    )
    assert result["tracer"] is True
    assert result["patched_at_init"] == []
    assert {"botocore", "httpx"} <= set(result["patched_after_call"])
