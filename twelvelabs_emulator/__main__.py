"""CLI: `python -m twelvelabs_emulator --host 127.0.0.1 --port 8900 --api-key KEY [...]` (runs until SIGINT/SIGTERM)."""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from pydantic import ValidationError

from twelvelabs_emulator.config import EmulatorConfig
from twelvelabs_emulator.server import Emulator

RATE = re.compile(r"^\s*(\d+)\s*(?:/\s*(minute|min|m))?\s*$", re.IGNORECASE)


def parse_integration(text: str) -> tuple[str, str]:
    name, sep, location = text.partition("=")
    if not sep or not name or not location:
        raise argparse.ArgumentTypeError(f"expected ID=DIR_OR_S3_URI, got {text!r}")
    return name, location


def parse_rate(text: str) -> int:
    match = RATE.match(text)
    if not match or int(match.group(1)) < 1:
        raise argparse.ArgumentTypeError(f"expected N/MINUTE (N >= 1), got {text!r}")
    return int(match.group(1))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m twelvelabs_emulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8900)
    p.add_argument("--api-key", required=True)
    p.add_argument("--integration", action="append", type=parse_integration, default=[], metavar="ID=DIR_OR_S3_URI")
    p.add_argument("--webhook-url")
    p.add_argument("--webhook-secret")
    p.add_argument("--processing-seconds", type=float, default=3.0)
    p.add_argument("--rate-limit", type=parse_rate, metavar="N/MINUTE")
    p.add_argument("--state-dir")
    p.add_argument("--search-token-ttl", type=float, default=3600.0, metavar="SECONDS")
    p.add_argument("--webhook-retry-base", type=float, default=2.0, metavar="SECONDS")
    p.add_argument("--webhook-max-attempts", type=int, default=6)
    p.add_argument("--max-video-bytes", type=int, default=2 * 1024**3)
    p.add_argument(
        "--surface",
        choices=("current", "classic"),
        default="current",
        help="current: the API as SDK 1.3.6 speaks it; classic: the v1.3 seed surface (SDK 1.0.2)",
    )
    p.add_argument("--lenient", action="store_true", help="keep the emulator's undocumented extra fields")
    p.add_argument(
        "--drive-accounts",
        metavar="JSON_FILE",
        help="fake Google Drive accounts for /connections: a JSON list of {external_id, display_name, "
        "files: {source_id: {path|reject, filename?}}}",
    )
    p.add_argument("--log-level", default="INFO")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = EmulatorConfig(
            api_key=args.api_key,
            host=args.host,
            port=args.port,
            processing_seconds=args.processing_seconds,
            webhook_url=args.webhook_url,
            webhook_secret=args.webhook_secret,
            integrations=dict(args.integration),
            rate_limit_per_minute=args.rate_limit,
            state_dir=args.state_dir,
            search_token_ttl_seconds=args.search_token_ttl,
            webhook_retry_base_seconds=args.webhook_retry_base,
            webhook_max_attempts=args.webhook_max_attempts,
            max_video_bytes=args.max_video_bytes,
            surface=args.surface,
            lenient=args.lenient,
            drive_accounts=json.loads(Path(args.drive_accounts).read_text(encoding="utf-8"))
            if args.drive_accounts
            else [],
        )
    except (ValidationError, OSError, json.JSONDecodeError) as exc:
        print(f"invalid options: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    emulator = Emulator(config).start()
    print(f"TwelveLabs emulator serving {emulator.base_url} (admin {emulator.admin_url})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
