"""`python -m sandbox.demo serve-github|run`: see `sandbox/demo/__init__.py`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from sandbox.demo.run import DemoError, RunOptions, run_demo
from sandbox.demo.server import ServeOptions, configure_logging, serve_github

DEFAULT_STATE_DIR = Path(".data/sandbox")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.demo",
        description="Sentinel's demo on a built-in GitHub sandbox.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve-github",
        help="serve the GitHub sandbox (REST API, webhooks, control API) until stopped",
    )
    serve.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="where the App's key, github.env and sandbox.json live (default: %(default)s)",
    )
    serve.add_argument(
        "--webhook-url",
        default="http://127.0.0.1:8000/webhooks/github",
        help="where GitHub sends webhooks (default: %(default)s)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface (default: %(default)s)")
    serve.add_argument(
        "--port", type=int, default=0, help="port; 0 picks a free one (default: %(default)s)"
    )
    serve.add_argument(
        "--app-slug",
        default=os.environ.get("SENTINEL_APP_SLUG") or "sentinel",
        help="the App's slug (default: $SENTINEL_APP_SLUG or sentinel)",
    )

    run = commands.add_parser(
        "run", help="install the App, open the sample pull request and print Sentinel's review"
    )
    run.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="the running sandbox's state directory (default: %(default)s)",
    )
    run.add_argument(
        "--sentinel-url",
        default="http://127.0.0.1:8000",
        help="Sentinel's API (default: %(default)s)",
    )
    run.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds to wait for the review (default: 120, or 600 with a model)",
    )
    run.add_argument(
        "--logs", default=".data/logs/", help="where the services' logs are, for error messages"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Findings carry emoji; a terminal that cannot show them gets replacements, not a crash.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")
    try:
        if args.command == "serve-github":
            configure_logging()
            asyncio.run(
                serve_github(
                    ServeOptions(
                        state_dir=args.state_dir,
                        webhook_url=args.webhook_url,
                        host=args.host,
                        port=args.port,
                        app_slug=args.app_slug,
                    )
                )
            )
            return 0
        return run_demo(
            RunOptions(
                state_dir=args.state_dir,
                sentinel_url=args.sentinel_url,
                timeout=args.timeout,
                logs_hint=args.logs,
            )
        )
    except DemoError as error:
        sys.stdout.flush()
        sys.stderr.write(f"demo: error: {error}\n")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
