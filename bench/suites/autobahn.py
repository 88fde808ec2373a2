"""RFC 6455 conformance: the whole Autobahn TestSuite (every case kosoku ships), driven by
kosoku against a node served as `ecolink serve` serves it (uvicorn's websockets-sansio
protocol, the production frame limit, no permessage-deflate), the cases sent to an echo route
beside the real app (tests/support/autobahn.py says why). The test command runs the short
subset (tests/e2e/test_autobahn.py); this runs everything, the 9.* performance cases included.

Reports per case group: cases, OK, NON-STRICT, INFORMATIONAL, UNIMPLEMENTED, FAILED (the
message verdict, or a close verdict other than OK/INFORMATIONAL), and which failures the
documented exclude list covers; and the run's time.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import fnmatch
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import BenchError, Report, fmt, log, machine_lines, positive_int, table

NAME = "autobahn"
HELP = "RFC 6455 conformance: the full Autobahn TestSuite (kosoku) against a node"
MODES = ("embedded",)
DEFAULT_MODE = "embedded"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cases", action="append", metavar="GLOB",
                   help="case ids or globs to run (repeatable; default: all)")
    p.add_argument("--concurrency", type=positive_int, default=4, help="cases run at once (default 4)")


def run(args: argparse.Namespace) -> Report:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> Report:
    from kosoku import FailureError, run_fuzzingclient

    from chat.config import Settings
    from tests.support.autobahn import PASSING, conformance_node, exclusions

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data", log_level="warning")
        excluded = exclusions(settings)
        async with conformance_node(settings) as url:
            log(f"autobahn: running {'all cases' if not args.cases else ', '.join(args.cases)} against {url}")
            started = time.perf_counter()
            try:
                results: list[Any] = await run_fuzzingclient(url, cases=args.cases, concurrency=args.concurrency)
            except FailureError as exc:
                results = exc.results
            elapsed = time.perf_counter() - started
    if not results:
        raise BenchError("no case ran")

    def reason(case_id: str) -> str | None:
        return next((why for glob, why in excluded.items() if fnmatch.fnmatchcase(case_id, glob)), None)

    groups: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    unexpected: list[list[str]] = []
    covered: dict[str, list[str]] = collections.defaultdict(list)
    for r in results:
        group = r.case_id.split(".")[0]
        behavior, close = r.behavior.value, r.behavior_close.value
        counts = groups[group]
        counts["cases"] += 1
        counts[behavior] += 1
        if behavior in PASSING and close in PASSING:
            continue
        why = reason(r.case_id)
        if why is None:
            unexpected.append([r.case_id, behavior, close, (r.result_close or r.result)[:120]])
        else:
            covered[why].append(r.case_id)
    report = Report(NAME, machine_lines() + [
        f"- {len(results)} cases, concurrency {args.concurrency}, {elapsed:.1f} s; node: max_frame_bytes "
        f"{settings.max_frame_bytes}, permessage-deflate off"])
    kinds = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
    rows = [[group, fmt(c["cases"]), *(fmt(c[k]) for k in kinds)]
            for group, c in sorted(groups.items(), key=lambda kv: int(kv[0]))]
    report.add("Verdicts per case group (message verdict)", table(["group", "cases", *kinds], rows))
    report.add("Not passed, covered by the exclude list",
               table(["cases", "reason"], [[_ranges(ids), why] for why, ids in covered.items()], text_columns=2) if covered
               else "none")
    report.add("Not passed, NOT excluded (failures)",
               table(["case", "behavior", "close", "why"], unexpected, text_columns=4) if unexpected else "none")
    report.results = {"cases": len(results), "seconds": elapsed, "groups": {g: dict(c) for g, c in groups.items()},
                      "excluded": {why: ids for why, ids in covered.items()}, "failures": unexpected}
    return report


def _ranges(ids: list[str]) -> str:
    return ", ".join(ids) if len(ids) <= 6 else f"{ids[0]} … {ids[-1]} ({len(ids)} cases)"
