"""API fuzzing, the long run (issue 16, case 10; the short one is tests/e2e/test_api_fuzz.py).

One production node in this process (PostgreSQL in a fresh database, Redis under a fresh
prefix) on a 127.0.0.1 socket; a member signs in; schemathesis (tests/support/apifuzz.py) runs
every phase but the stateful one (examples, coverage: the document's edge values and invalid
ones; fuzzing: --examples generated cases per operation and mode) with the checks: no 5xx,
responses as documented, invalid data refused with a 4xx. The report: operations, cases,
failures, time. A failure exits non-zero with schemathesis' output (how to replay each case).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench import nodes
from bench.harness import BenchError, Report, log, machine_lines, positive_int, table

NAME = "apifuzz"
HELP = "schemathesis on every API operation of docs/openapi.json (coverage + fuzzing phases)"
MODES = ("postgres",)
DEFAULT_MODE = "postgres"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--examples", type=positive_int, default=20,
                   help="generated cases per operation and mode in the fuzzing phase (default 20)")
    p.add_argument("--phases", default="examples,coverage,fuzzing",
                   help="schemathesis phases (default examples,coverage,fuzzing)")
    p.add_argument("--seed", type=int, default=16, help="schemathesis' seed (default 16)")


async def fuzz_node(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from chat.config import Settings
    from tests.support import services
    from tests.support.apifuzz import OPEN_LIMITS, fuzz, generated, operations
    from tests.support.client import register
    from tests.support.nodes import running_nodes

    name = f"bench_apifuzz_{uuid.uuid4().hex[:8]}"
    prefix = f"bench-apifuzz-{uuid.uuid4().hex[:8]}:"
    url = await services.create_database(args.pg_admin_url, name)
    try:
        settings = Settings(_env_file=None, data_dir=folder / "data", database_url=url, redis_url=args.redis_url,
                            redis_prefix=prefix, argon2_profile="cheapest", log_level="error", gc_freeze=False,
                            registration_pow_bits=4, **OPEN_LIMITS)
        async with running_nodes(settings) as [node]:
            member = await register(node.url, "Fuzzer")
            log(f"fuzzing {operations()} operations: phases {args.phases}, {args.examples} examples")
            start = time.perf_counter()
            code, output = await fuzz(node.url, member["token"], folder, examples=args.examples,
                                      phases=args.phases, seed=args.seed)
            seconds = time.perf_counter() - start
    finally:
        await services.drop_database(args.pg_admin_url, name)
        nodes.delete_redis_keys(args.redis_url, prefix)
    if code != 0:
        print(output, file=sys.stderr)  # every failure, each with its curl line
        raise BenchError("schemathesis found failures (above)")
    return {"operations": operations(), "cases": generated(output), "seconds": seconds}


def run(args: argparse.Namespace) -> Report:
    nodes.resolve_services(args)
    with tempfile.TemporaryDirectory() as tmp:
        got = asyncio.run(fuzz_node(args, Path(tmp)))
    report = Report(NAME, machine_lines() + [
        f"- one production node (PostgreSQL + Redis) in process; schemathesis phases {args.phases},"
        f" {args.examples} examples per operation and mode, seed {args.seed}"])
    report.add("API fuzzing", table(
        ["operations", "test cases", "failures", "time (s)"],
        [[str(got["operations"]), str(got["cases"]), "0", f"{got['seconds']:.0f}"]], text_columns=0))
    report.results = got
    return report
