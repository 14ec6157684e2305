"""Import time of `twelvelabs_client` in fresh interpreters (median of N runs).

    .venv/bin/python bench/client_import_time.py [--runs 9]
Measures what a Lambda cold start pays: `from twelvelabs_client import TwelveLabsClient` (httpx +
pydantic + the client) and, separately, the network-free modules the webhook Lambda imports.
Target: full client < 150 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CASES = {
    "from twelvelabs_client import TwelveLabsClient": "from twelvelabs_client import TwelveLabsClient",
    "client + models (all names resolved)": "from twelvelabs_client import TwelveLabsClient, ClientSettings; "
    "import twelvelabs_client.models as m, twelvelabs_client.errors; [getattr(m, n) for n in m.__all__]",
    "client + current-surface models (first use)": "from twelvelabs_client import TwelveLabsClient; "
    "from twelvelabs_client.models import Asset, IndexedAsset, AnalyzeTask, EmbedV2Task, Connection",
    "twelvelabs_client.webhooks + requirements": "import twelvelabs_client.webhooks, twelvelabs_client.requirements",
    "baseline: httpx + pydantic only": "import httpx, pydantic",
}


def measure(statement: str) -> float:
    code = "import time; t = time.perf_counter(); " + statement + "; print((time.perf_counter() - t) * 1000)"
    env = {**os.environ, "PYTHONPATH": str(REPO / "shared"), "PYTHONDONTWRITEBYTECODE": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    measure(CASES["from twelvelabs_client import TwelveLabsClient"])  # warm the bytecode cache once
    print(f"python {sys.version.split()[0]}, {args.runs} fresh interpreters each, median (min..max) ms")
    results = {}
    for label, statement in CASES.items():
        samples = [measure(statement) for _ in range(args.runs)]
        results[label] = statistics.median(samples)
        print(f"{label:48s} {results[label]:7.1f}  ({min(samples):.1f}..{max(samples):.1f})")
    full = results["from twelvelabs_client import TwelveLabsClient"]
    print(f"target < 150 ms: {'OK' if full < 150 else 'OVER'}")
    if full >= 150:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
