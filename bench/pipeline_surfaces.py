"""Both TwelveLabs surfaces side by side: what one video costs on the local stack at two emulator processing times.

Usage: .venv/bin/python bench/pipeline_surfaces.py [--processing-seconds 2 120] [--surfaces current classic]
    [--video build/samples/videos/ocean-waves.mp4] [--timeout 900]

For each surface and each processing time P (the emulator's indexing / analysis / embedding time) a fresh local stack
(the real template with TwelveLabsSurface=<surface>, its defaults otherwise: default analyses, embeddings poll
10 s -> 120 s) takes one upload of the video, and the script prints, per run:
  upload->COMPLETED  seconds from the PutObject to the item's COMPLETED status,
  overhead           that minus P,
  transitions        the execution's state transitions (StateEntered events of its history),
  lambda tasks       the Lambda tasks the state machine scheduled (TaskScheduled events, retries included),
  requests           TwelveLabs requests the emulator answered between the upload and COMPLETED.
Then one table per surface (both printed at the end). Exits 1 unless every run COMPLETED.
Targets of issue 10 (current): upload->COMPLETED <= P + 15 s; transitions <= 25; transitions and requests the same
at every P.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "shared")]

from local_stack import LocalStack, StackConfig  # noqa: E402


@dataclass
class Run:
    surface: str
    processing_seconds: float
    status: str
    seconds: float
    transitions: int
    lambda_tasks: int
    requests: int

    @property
    def overhead(self) -> float:
        return self.seconds - self.processing_seconds


def measure(surface: str, processing_seconds: float, video: Path, timeout: float) -> Run:
    config = StackConfig(
        stack_name=f"bench-{surface}",
        parameters={"TwelveLabsSurface": surface},
        processing_seconds=processing_seconds,
        emulator=True,
        echo_errors=False,
    )
    with LocalStack(config) as stack:
        admin = stack.emulator_admin_url
        httpx.delete(f"{admin}/requests", timeout=10).raise_for_status()  # index provisioning is not per video
        s3, table, sfn = stack.client("s3"), stack.client("dynamodb"), stack.client("stepfunctions")
        bucket, jobs = stack.outputs["MediaBucketName"], stack.outputs["JobsTableName"]
        key = f"videos/bench{video.suffix}"
        uri = f"s3://{bucket}/{key}"
        started = time.monotonic()
        s3.put_object(Bucket=bucket, Key=key, Body=video.read_bytes())
        item: dict[str, dict[str, str]] = {}
        deadline = started + timeout
        while time.monotonic() < deadline:
            found = [i for i in table.scan(TableName=jobs)["Items"] if i["s3_uri"]["S"] == uri]
            if found and found[0]["status"]["S"] in ("COMPLETED", "FAILED", "REJECTED"):
                item = found[0]
                break
            time.sleep(0.25)
        elapsed = time.monotonic() - started
        requests = len(httpx.get(f"{admin}/requests", timeout=10).json())
        if not item:
            return Run(surface, processing_seconds, "TIMEOUT", elapsed, 0, 0, requests)
        events: list[dict[str, object]] = []
        arn = item["execution_arn"]["S"]
        kwargs: dict[str, str] = {}
        while True:
            page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **kwargs)
            events += page["events"]
            if not page.get("nextToken"):
                break
            kwargs = {"nextToken": page["nextToken"]}
        transitions = sum(1 for e in events if str(e["type"]).endswith("StateEntered"))
        tasks = sum(1 for e in events if e["type"] == "TaskScheduled")
        return Run(surface, processing_seconds, item["status"]["S"], elapsed, transitions, tasks, requests)


def table(runs: list[Run]) -> str:
    lines = [
        f"surface: {runs[0].surface}",
        "| P | upload to COMPLETED | pipeline overhead | transitions | Lambda tasks | TwelveLabs requests |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        status = "" if r.status == "COMPLETED" else f" ({r.status})"
        lines.append(
            f"| {r.processing_seconds:g} s | {r.seconds:.0f} s{status} | {r.overhead:.0f} s | {r.transitions} | "
            f"{r.lambda_tasks} | {r.requests} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processing-seconds", type=float, nargs="+", default=[2.0, 120.0])
    parser.add_argument("--surfaces", nargs="+", default=["current", "classic"], choices=["current", "classic"])
    parser.add_argument("--video", type=Path, default=REPO / "build/samples/videos/ocean-waves.mp4")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    if not args.video.exists():
        raise SystemExit(f"{args.video}: missing (run `make samples` first)")
    runs: dict[str, list[Run]] = {}
    for surface in args.surfaces:
        for p in args.processing_seconds:
            run = measure(surface, p, args.video, args.timeout)
            print(
                f"{surface:8s} P={p:g}s: {run.status} in {run.seconds:.1f} s, {run.transitions} transitions, "
                f"{run.lambda_tasks} Lambda tasks, {run.requests} TwelveLabs requests",
                flush=True,
            )
            runs.setdefault(surface, []).append(run)
    print()
    print("\n\n".join(table(r) for r in runs.values()))
    if any(r.status != "COMPLETED" for rs in runs.values() for r in rs):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
