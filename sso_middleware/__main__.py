"""Command line: ``python -m sso_middleware demo [--host 127.0.0.1] [--port 8000]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sso-middleware", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="serve a click-through demo on 127.0.0.1")
    demo.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    demo.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run

        run(port=args.port, host=args.host)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
