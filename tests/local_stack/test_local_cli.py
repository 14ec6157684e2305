"""`python -m local_stack up|down` (idempotent) and the demo's follow/report logic on a fake stack."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local_stack.demo import Demo, DemoError, run_demo

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixture_app" / "template.yaml"


def cli(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "local_stack", "--state-dir", str(state_dir), "--template", str(FIXTURE), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )


def test_up_and_down_are_idempotent(tmp_path: Path) -> None:
    first = cli(tmp_path, "up")
    try:
        assert first.returncode == 0, first.stderr
        assert "is up" in first.stdout and "aws --endpoint-url http://127.0.0.1:" in first.stdout
        assert "s3 cp FILE s3://" in first.stdout and "/videos/" in first.stdout
        state = json.loads((tmp_path / "state.json").read_text())
        second = cli(tmp_path, "up")
        assert second.returncode == 0 and "already up" in second.stdout
    finally:
        stopped = cli(tmp_path, "down")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    with pytest.raises(ProcessLookupError):
        os.kill(state["pid"], 0)
    again = cli(tmp_path, "down")
    assert again.returncode == 0 and "not running" in again.stdout


class FakeStack:
    """Just enough of LocalStack for Demo.follow."""

    logs_dir = Path("/logs")

    def __init__(self, snapshots: list[dict[str, dict[str, Any]]]) -> None:
        self.snapshots = snapshots


class ScriptedDemo(Demo):
    def jobs(self) -> dict[str, dict[str, Any]]:
        snaps = self.stack.snapshots  # type: ignore[attr-defined]
        return snaps.pop(0) if len(snaps) > 1 else snaps[0]


def test_follow_prints_each_stage_once() -> None:
    out = io.StringIO()
    snaps = [
        {},
        {"videos/a.mp4": {"status": "RECEIVED"}},
        {"videos/a.mp4": {"status": "INDEXING", "tl_task_id": "t1"}},
        {"videos/a.mp4": {"status": "INDEXING", "tl_task_id": "t1"}},
        {"videos/a.mp4": {"status": "COMPLETED"}},
    ]
    demo = ScriptedDemo(FakeStack(snaps), out)  # type: ignore[arg-type]
    jobs = demo.follow({"videos/a.mp4": Path("a.mp4")}, timeout=5, every=0)
    assert jobs["videos/a.mp4"]["status"] == "COMPLETED"
    lines = out.getvalue().splitlines()
    assert [line.split("] ")[1] for line in lines] == [
        "a.mp4: RECEIVED",
        "a.mp4: INDEXING (tl_task_id=t1)",
        "a.mp4: COMPLETED",
    ]


def test_follow_timeout_names_the_logs_to_read() -> None:
    demo = ScriptedDemo(FakeStack([{"videos/a.mp4": {"status": "INDEXING"}}]), io.StringIO())  # type: ignore[arg-type]
    with pytest.raises(DemoError) as err:
        demo.follow({"videos/a.mp4": Path("a.mp4")}, timeout=0.2, every=0.05)
    assert "timed out" in str(err.value) and "a.mp4" in str(err.value)
    assert "/logs/await_indexing.log" in str(err.value) and "/logs/webhook.log" in str(err.value)


def test_demo_without_videos_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo([]) == 2
    assert "no videos" in capsys.readouterr().err
