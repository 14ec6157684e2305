"""CLI: `python -m local_stack demo [--videos F ...] | up | down` (used by `make demo`, `make up`, `make down`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from local_stack.config import DEFAULT_STATE_DIR, StackConfig
from local_stack.daemon import down, serve, up
from local_stack.demo import default_videos, run_demo


def _config(args: argparse.Namespace) -> StackConfig:
    config = StackConfig(
        state_dir=args.state_dir,
        processing_seconds=args.processing_seconds,
        schedule_seconds=args.schedule_seconds,
    )
    if args.template:
        config = config.model_copy(update={"template": args.template})
    return config


def main(argv: list[str] | None = None) -> int:
    def options(p: argparse.ArgumentParser, sub: bool) -> None:
        # Accepted before and after the sub-command; the sub-command copies must not reset the defaults.
        d = (lambda v: argparse.SUPPRESS) if sub else (lambda v: v)
        p.add_argument(
            "--state-dir", type=Path, default=d(DEFAULT_STATE_DIR), help="logs and state (default .local_stack/)"
        )
        p.add_argument("--template", type=Path, default=d(None), help="SAM template (default template.yaml)")
        p.add_argument("--processing-seconds", type=float, default=d(2.0), help="emulated TwelveLabs task duration")
        p.add_argument("--schedule-seconds", type=float, default=d(10.0), help="how often Schedule functions run")

    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    options(parser, sub=False)
    common = argparse.ArgumentParser(add_help=False)
    options(common, sub=True)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", parents=[common], help="start, upload the sample videos, follow them, print the results, stop"
    )
    demo.add_argument("--videos", type=Path, nargs="+", default=None)
    demo.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for every video")
    sub.add_parser("up", parents=[common], help="start the local stack in the background")
    sub.add_parser("down", parents=[common], help="stop the background local stack")
    sub.add_parser("_serve", parents=[common], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.command == "demo":
        return run_demo(args.videos or default_videos(), timeout=args.timeout, config=_config(args))
    if args.command == "up":
        extra = ["--processing-seconds", str(args.processing_seconds), "--schedule-seconds", str(args.schedule_seconds)]
        if args.template:
            extra += ["--template", str(args.template.resolve())]
        return up(_config(args), extra_args=extra)
    if args.command == "down":
        return down(args.state_dir)
    return serve(_config(args))


if __name__ == "__main__":
    sys.exit(main())
