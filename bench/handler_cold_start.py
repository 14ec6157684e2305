"""Cold start of every handler: the init import of functions/<name>/app.py next to `import twelvelabs`.

Each measurement runs in a fresh interpreter (nothing cached in-process; the OS file cache is warm for all
alike). The reference (`import twelvelabs`, the TwelveLabs SDK in .venv) and the handlers are measured in
interleaved rounds, so a loaded machine slows both sides alike; the figure is the median over the rounds.
The handler runs as on Lambda: its own directory and shared/ (the layer) on the path, the environment
template.yaml gives it (placeholder values), tracing as the environment says (off by default: off Lambda
there is no X-Ray daemon; `--tracing` measures with the X-Ray SDK loaded, as a traced Lambda would).

    .venv/bin/python bench/handler_cold_start.py [--runs 7] [--tracing] [--only ingest,webhook]

Prints, per handler, the median import time and peak RSS and their ratio to `import twelvelabs`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = sorted(p.parent.name for p in (REPO / "functions").glob("*/app.py"))

# Placeholder values for every variable a handler may require (never contacted: import only).
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "twelvelabs-pipeline",
    "POWERTOOLS_METRICS_NAMESPACE": "TwelveLabsPipeline",
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
    "TWELVELABS_BASE_URL": "https://api.twelvelabs.io/v1.3",
    "TWELVELABS_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:twelvelabs",
    "TWELVELABS_INDEX_ID": "0123456789abcdef01234567",
    "JOBS_TABLE": "jobs",
    "CALLBACKS_TABLE": "callbacks",
    "RESULTS_BUCKET": "results",
    "NOTIFICATIONS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:notifications",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:video-pipeline",
    "ANALYSES": '[{"name":"gist","kind":"gist"},{"name":"summary","kind":"summary"}]',
    "IGNORE_PREFIXES": "results/",
    "KEY_SUFFIXES": "",
    "EMBED_CLIP_LENGTH": "6",
    "EMBED_SCOPES": "clip,video",
    "EMBED_POLL_FIRST_SECONDS": "10",
    "EMBED_POLL_MAX_SECONDS": "120",
    "EMBED_POLL_MAX_ATTEMPTS": "60",
    "WEBHOOK_TOLERANCE_SECONDS": "300",
    "RECONCILE_AFTER_SECONDS": "600",
}

PROBE = """
import resource, sys, time
started = time.perf_counter()
{statement}
elapsed = time.perf_counter() - started
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def measure(statement: str, *, path: list[Path], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of `statement` in a fresh interpreter."""
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(map(str, path)),
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement)],
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        cwd=str(REPO),
    )
    if out.returncode != 0:
        raise SystemExit(f"{statement!r} failed:\n{out.stderr}")
    seconds, rss_kib = out.stdout.split()
    return float(seconds), int(rss_kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tracing", action="store_true", help="POWERTOOLS_TRACE_DISABLED=false (X-Ray SDK loaded)")
    parser.add_argument("--only", default="", help="comma list of function names")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = parser.parse_args()
    names = [n for n in FUNCTIONS if not args.only or n in args.only.split(",")]
    env = {**ENVIRONMENT, "POWERTOOLS_TRACE_DISABLED": "false" if args.tracing else "true"}
    if args.tracing:
        env["LAMBDA_TASK_ROOT"] = "/var/task"  # Powertools traces only inside Lambda

    samples: dict[str, list[tuple[float, float]]] = {"twelvelabs": [], **{n: [] for n in names}}
    for _ in range(args.runs):
        samples["twelvelabs"].append(measure("import twelvelabs", path=[], env={}))
        for name in names:
            code_dir = REPO / "functions" / name
            samples[name].append(measure("import app", path=[code_dir, REPO / "shared"], env=env))

    def median(values: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.median(v[0] for v in values), statistics.median(v[1] for v in values)

    ref_s, ref_rss = median(samples["twelvelabs"])
    rows = []
    for name in names:
        seconds, rss = median(samples[name])
        rows.append(
            {
                "handler": name,
                "ms": round(seconds * 1000, 1),
                "rss_mib": round(rss, 1),
                "time_ratio": round(seconds / ref_s, 2),
                "rss_ratio": round(rss / ref_rss, 2),
            }
        )
    if args.json:
        print(
            json.dumps(
                {
                    "reference": {"ms": round(ref_s * 1000, 1), "rss_mib": round(ref_rss, 1)},
                    "runs": args.runs,
                    "tracing": args.tracing,
                    "handlers": rows,
                },
                indent=2,
            )
        )
        return
    print(
        f"reference `import twelvelabs`: {ref_s * 1000:.1f} ms, {ref_rss:.1f} MiB peak RSS "
        f"(median of {args.runs} fresh interpreters; tracing {'on' if args.tracing else 'off'})"
    )
    print(f"{'handler':<18} {'import ms':>10} {'x ref':>7} {'RSS MiB':>9} {'x ref':>7}")
    for row in rows:
        print(
            f"{row['handler']:<18} {row['ms']:>10.1f} {row['time_ratio']:>7.2f} {row['rss_mib']:>9.1f} "
            f"{row['rss_ratio']:>7.2f}"
        )
    worst = max(rows, key=lambda r: r["time_ratio"])
    print(f"worst: {worst['handler']} at {worst['time_ratio']:.2f}x the reference import time")


if __name__ == "__main__":
    main()
