"""Figures of the local run of the real template: stack start, and upload -> COMPLETED per video.

Usage: .venv/bin/python bench/pipeline_latency.py [--videos N] [--processing-seconds S] [--timeout S]
Uploads N copies (distinct bytes, so distinct jobs) of the sample videos at once and prints, per video, the
seconds from upload to its terminal status, then min / median / max, the count per status, and what the Lambda
runtime did (invocations, cold starts, timeouts, from the function logs). Exits 1 unless every video COMPLETED.
The waits inside the state machine come from the template parameters given here (embedding polls every 1-2 s,
as in the tests).
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "shared")]

from local_stack import LocalStack, StackConfig  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=3)
    parser.add_argument("--processing-seconds", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    samples = sorted((REPO / "build/samples/videos").glob("*"))
    if not samples:
        raise SystemExit("no sample videos: run `make samples` first")

    started = time.monotonic()
    config = StackConfig(
        stack_name="bench",
        processing_seconds=args.processing_seconds,
        parameters={"EmbedPollFirstSeconds": "1", "EmbedPollMaxSeconds": "2"},
        echo_errors=False,
    )
    with LocalStack(config) as stack:
        print(f"stack up          : {time.monotonic() - started:6.1f} s")
        s3 = stack.client("s3")
        table = stack.client("dynamodb")
        bucket, jobs = stack.outputs["MediaBucketName"], stack.outputs["JobsTableName"]
        uploaded: dict[str, float] = {}

        def upload(i: int) -> None:
            body = samples[i % len(samples)].read_bytes() + i.to_bytes(4, "big")  # trailing bytes: a new job
            key = f"videos/bench-{i}{samples[i % len(samples)].suffix}"
            uploaded[f"s3://{bucket}/{key}"] = time.monotonic()
            s3.put_object(Bucket=bucket, Key=key, Body=body)

        threads = [threading.Thread(target=upload, args=(i,)) for i in range(args.videos)]
        for t in threads:
            t.start()
        done: dict[str, float] = {}
        statuses: collections.Counter[str] = collections.Counter()
        deadline = time.monotonic() + args.timeout
        while len(done) < args.videos and time.monotonic() < deadline:
            for item in table.scan(TableName=jobs)["Items"]:
                uri, status = item["s3_uri"]["S"], item["status"]["S"]
                if uri in uploaded and uri not in done and status in ("COMPLETED", "FAILED", "REJECTED"):
                    done[uri] = time.monotonic() - uploaded[uri]
                    statuses[status] += 1
                    print(f"{status:10s} {done[uri]:6.1f} s  {uri.rsplit('/', 1)[-1]}")
            time.sleep(0.5)
        for t in threads:
            t.join(timeout=60)
        print(f"total             : {time.monotonic() - started:6.1f} s")
        print("statuses          : " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
        print(runtime_summary(stack.logs_dir))
        if len(done) < args.videos:
            raise SystemExit(f"only {len(done)} of {args.videos} videos finished within {args.timeout} s")
        times = sorted(done.values())
        print(
            f"upload -> terminal: min {times[0]:.1f} s, median {statistics.median(times):.1f} s, max {times[-1]:.1f} s "
            f"({args.videos} videos at once, processing {args.processing_seconds} s)"
        )
        if statuses["COMPLETED"] != args.videos:
            raise SystemExit(f"{args.videos - statuses['COMPLETED']} of {args.videos} videos did not complete")


def runtime_summary(logs_dir: Path) -> str:
    """Invocations, cold starts and Lambda timeouts, counted in the function logs (REPORT / ERROR lines)."""
    invocations = cold = timeouts = 0
    for log in logs_dir.glob("*.log"):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("REPORT RequestId:"):
                invocations += 1
                cold += "Init Duration" in line
            elif line.startswith("ERROR ") and "Sandbox.Timedout" in line:
                timeouts += 1
    return f"lambda            : {invocations} invocations, {cold} cold starts, {timeouts} timeouts (Sandbox.Timedout)"


if __name__ == "__main__":
    main()
