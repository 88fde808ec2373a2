"""The load generator's process: ``python -m bench.loadgen COMMAND --port P …``.

A suite runs it pinned to the core the server does not use (bench.targets); it prints one JSON
object on stdout, progress on stderr. The commands come from the suites' ``*_load`` modules,
each a ``COMMANDS`` map of name → (help, add_arguments, connections needed, async run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bench import nodes
from bench.harness import BenchError, positive_int
from bench.suites import abuse_load, export_load, fanout_load, presence_load

COMMANDS = {**fanout_load.COMMANDS, **presence_load.COMMANDS, **abuse_load.COMMANDS, **export_load.COMMANDS}


def add_target_arguments(p: argparse.ArgumentParser) -> None:
    """Where the server is and what to measure besides it; the same for every command."""
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=positive_int, required=True)
    p.add_argument("--room", default="green-transport")
    p.add_argument("--server-pid", type=positive_int, help="server pid for CPU/RSS")
    p.add_argument("--aux-pid", type=positive_int, action="append", default=[],
                   help="other processes whose CPU to report, e.g. PostgreSQL, Redis")
    p.add_argument("--aux-db", help="count PostgreSQL client backends of this database only")
    p.add_argument("--register", action="store_true",
                   help="create accounts via POST /api/v1/accounts and send bearer tokens "
                        "(presence and abuse always do)")
    p.add_argument("--tag", help="unique part of the bench account e-mails")
    p.add_argument("--connect-concurrency", type=positive_int, default=64)
    p.add_argument("--source-addr", action="append", default=[],
                   help="local address to connect from (repeat to spread source ports)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, _, _) in COMMANDS.items():
        s = sub.add_parser(name, help=help_text)
        add_target_arguments(s)
        add_arguments(s)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _, _, connections, run = COMMANDS[args.command]
    try:
        nodes.raise_nofile(connections(args) + 100)
    except BenchError as exc:
        print(f"bench.loadgen: {exc}", file=sys.stderr)
        return 1
    result = asyncio.run(run(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
