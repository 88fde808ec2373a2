"""What every suite shares: argument types, common options, and one report format.

Every suite returns a `Report`; `emit` prints it as markdown on stdout (``## Environment``, then
one ``##`` section per table), or with ``--json`` as one JSON line, and with ``--out FILE.md``
also writes the markdown there and the same report as JSON beside it (``FILE.json``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    """A problem the user can fix; printed without a traceback."""


def log(*parts: object) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Argument types


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a number greater than 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a number, 0 or more, got {text}")
    return value


def rate_list(text: str) -> list[float]:
    """Strictly rising sends per second, comma-separated."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        rates = [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected sends per second separated by commas, e.g. 10,25,50; got {text!r}"
        ) from None
    if not rates or any(not (r > 0 and math.isfinite(r)) for r in rates):
        raise argparse.ArgumentTypeError(f"every rate must be greater than 0, got {text!r}")
    if rates != sorted(set(rates)):
        raise argparse.ArgumentTypeError(f"rates must rise strictly, got {text!r}")
    return rates


def core(text: str) -> int:
    value = non_negative_int(text)
    if value >= (os.cpu_count() or 1):
        raise argparse.ArgumentTypeError(f"this machine has cores 0..{(os.cpu_count() or 1) - 1}")
    return value


def node_setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.startswith("ECOLINK_") or name != name.upper():
        raise argparse.ArgumentTypeError(f"expected ECOLINK_NAME=value, got {text!r}")
    return name, value


# ---------------------------------------------------------------------------------------------
# Options every suite has


def add_common_arguments(p: argparse.ArgumentParser, modes: tuple[str, ...], default_mode: str) -> None:
    p.add_argument("--mode", choices=modes, default=default_mode,
                   help=f"which ecolink configuration(s) to measure (default: {default_mode})")
    p.add_argument("--pg-admin-url", default=os.environ.get("ECOLINK_BENCH_PG_ADMIN_URL"),
                   help="PostgreSQL server where a fresh database is created and dropped per run "
                        "(default: $ECOLINK_BENCH_PG_ADMIN_URL, else what the tests use: "
                        "$ECOLINK_TEST_DATABASE_URL, 127.0.0.1:5432, or a throwaway cluster)")
    p.add_argument("--redis-url", default=os.environ.get("ECOLINK_BENCH_REDIS_URL"),
                   help="Redis for postgres mode, keys under a fresh prefix deleted afterwards "
                        "(default: $ECOLINK_BENCH_REDIS_URL, else what the tests use)")
    p.add_argument("--ecolink", help="the ecolink command (default: next to this Python)")
    p.add_argument("--out", type=Path,
                   help="also write the markdown here (e.g. bench-out/run.md) and the report "
                        "beside it as .json")
    p.add_argument("--json", action="store_true",
                   help="print the report as one JSON line instead of markdown")


def add_pinning_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the suites that pin the server and the load generator to their own cores."""
    p.add_argument("--server-core", type=core, default=0, help="core for the server (default 0)")
    p.add_argument("--loadgen-core", type=core, default=1,
                   help="core for the load generator (default 1)")
    p.add_argument("--nice", type=int, default=-10,
                   help="niceness of server and load generator, to shield them from other work "
                        "on the machine (default -10; 0 leaves it alone)")
    p.add_argument("--realtime", action="store_true",
                   help="run server and load generator under SCHED_FIFO (needs root) so other "
                        "processes cannot delay them; PostgreSQL and Redis keep their priority")
    add_quiet_arguments(p, "target")


def add_quiet_arguments(p: argparse.ArgumentParser, what: str) -> None:
    """--quiet-wait and --quiet-pct: wait for other work on the machine to calm down
    (bench/nodes.py, wait_quiet) before each `what` starts."""
    p.add_argument("--quiet-wait", type=float, default=60.0,
                   help=f"before each {what}, wait up to this many seconds for other processes "
                        "to use less than --quiet-pct of a core (default 60; 0 skips)")
    p.add_argument("--quiet-pct", type=positive_float, default=15.0,
                   help="what counts as a quiet machine, in %% of one core (default 15)")


def add_profile_arguments(p: argparse.ArgumentParser, what: str, name: str) -> None:
    """--profile DIR and --py-spy: the unpinned suites' recording of the node (bench/probes.py)."""
    p.add_argument("--profile", type=Path, metavar="DIR",
                   help=f"record the node with py-spy during each {what} (which thread holds the GIL, "
                        f"as collapsed stacks: DIR/{name}.txt) and summarise it; costs the node a little")
    p.add_argument("--py-spy", default="py-spy", help="the py-spy command for --profile (default py-spy)")


def check_profile(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    import shutil

    if args.profile is not None and shutil.which(args.py_spy) is None:
        parser.error(f"--profile needs py-spy: {args.py_spy} not found (pip install py-spy, or pass --py-spy PATH)")


def check_common(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.out is not None and args.out.exists() and args.out.is_dir():
        parser.error(f"--out {args.out} is a folder; give a file name such as {args.out}/run.md")
    if args.pg_admin_url and not args.pg_admin_url.startswith(("postgresql://", "postgres://")):
        parser.error("--pg-admin-url must start with postgresql://")
    if args.redis_url and not args.redis_url.startswith("redis://"):
        parser.error("--redis-url must start with redis://")
    if getattr(args, "quiet_wait", 0) < 0:
        parser.error(f"--quiet-wait must be 0 or more seconds, got {args.quiet_wait:g}")
    if hasattr(args, "server_core"):
        if args.server_core == args.loadgen_core:
            parser.error("--server-core and --loadgen-core must differ: the load generator must "
                         "not share the server's core")
        if not -20 <= args.nice <= 19:
            parser.error(f"--nice must be between -20 and 19, got {args.nice}")


def modes_of(args: argparse.Namespace) -> list[str]:
    return ["embedded", "postgres"] if args.mode == "both" else [args.mode]


def pinning_line(args: argparse.Namespace) -> str:
    return (f"- server on core {args.server_core}, load generator on core {args.loadgen_core}, "
            + ("SCHED_FIFO" if args.realtime else f"niceness {args.nice}"))


# ---------------------------------------------------------------------------------------------
# The report


@dataclass
class Report:
    """One run of one suite: environment lines, titled markdown sections, the raw results."""

    suite: str
    environment: list[str]
    sections: list[tuple[str, str]] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    def add(self, title: str, body: str) -> None:
        self.sections.append((title, body))

    def markdown(self) -> str:
        parts = ["## Environment", "\n".join(self.environment)]
        for title, body in self.sections:
            parts += [f"## {title}", body]
        return "\n\n".join(parts) + "\n"

    def document(self, args: argparse.Namespace) -> dict[str, Any]:
        hidden = ("run", "check", "suite_parser")
        return {"suite": self.suite, "args": {k: v for k, v in vars(args).items() if k not in hidden},
                "environment": self.environment, "results": self.results}


def emit(report: Report, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(report.document(args), default=str))
    else:
        print(report.markdown(), end="")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report.markdown())
        args.out.with_suffix(".json").write_text(
            json.dumps(report.document(args), indent=1, default=str) + "\n")
        log(f"wrote {args.out} and {args.out.with_suffix('.json')}")


def machine_lines() -> list[str]:
    """Date, commit and machine: the first lines of every report's environment."""

    def git(*cmd: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *cmd], capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "?"
    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    cpu = "?"
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "?")
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()
    return [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}, commit {commit}{dirty}",
        f"- machine: {os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, Linux {platform.release()}; "
        f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min) at the start",
    ]


# ---------------------------------------------------------------------------------------------
# Figures and tables


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def fmt(value: object, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    """A markdown table; the first `text_columns` columns align left, the figures right."""
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---:" if i >= text_columns else "---" for i in range(len(headers))) + "|"]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])
