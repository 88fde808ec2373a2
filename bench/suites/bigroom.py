"""Big room: one room of --members members spread over --nodes nodes (PostgreSQL + Redis), a few
of them sending --rate messages/s in all, for --steps steady steps.

Issue 17's case for EcoLink's busiest moments (a webinar with thousands of attendees, a sector
room during a conference): 10,000 members on two nodes at 20 messages/s, 200,000 deliveries a
second. The nodes share --server-core, the load generator (``bench.loadgen steps --steady``
with ``--also`` for the other nodes, bench/suites/fanout_load.py) has --loadgen-core. Per step:
deliveries/s, delivery latency p50/p99/max, acks, anything dropped, the nodes' CPU, and their
event-loop lag p99 and max (the worst node's: a stall of any node is one its members wait for).

Targets (issue 17): delivery p99 under 50 ms, and no event-loop stall over 20 ms — a room feed
hands an event to at most ECOLINK_FAN_OUT_SLICE members per turn of the loop, and full
garbage collections scan only what was made since the last one (chat/gcfreeze.py). The
load generator must keep up with the deliveries for the latency to mean anything: its CPU is
in the table, ⚠ when saturated.
"""

from __future__ import annotations

import argparse
import contextlib
import math

from bench import targets
from bench.harness import (
    Report,
    add_pinning_arguments,
    fmt,
    log,
    machine_lines,
    pinning_line,
    positive_float,
    positive_int,
    table,
)
from bench.suites.fanout import steps_table

NAME = "bigroom"
HELP = "one room of 10,000 members over two nodes at 20 messages/s: latency and loop lag"
MODES = ("postgres",)
DEFAULT_MODE = "postgres"
TARGET_P99_MS = 50.0
TARGET_LAG_MS = 20.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_pinning_arguments(p)
    p.add_argument("--members", type=positive_int, default=10_000,
                   help="connections joined to the room, spread over the nodes (default 10000)")
    p.add_argument("--nodes", type=positive_int, default=2, help="node processes (default 2)")
    p.add_argument("--rate", type=positive_float, default=20.0, help="messages/s in all (default 20)")
    p.add_argument("--senders", type=positive_int, default=10,
                   help="how many of the first node's members send (default 10)")
    p.add_argument("--steps", type=positive_int, default=3, help="steady steps (default 3)")
    p.add_argument("--step-seconds", type=positive_float, default=10.0,
                   help="sending time per step (default 10)")
    p.add_argument("--body-bytes", type=positive_int, default=64, help="message body size")


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.senders > args.members // args.nodes:
        parser.error(f"--senders ({args.senders}) must be among the first node's "
                     f"{args.members // args.nodes} members")


def run(args: argparse.Namespace) -> Report:
    db_line = targets.prepare(args, ["postgres"], args.members + 1000)
    report = Report(NAME, machine_lines() + [
        pinning_line(args) + f"; {args.nodes} nodes on the server core, {args.members:,} members "
        f"({args.senders} sending), {args.rate:g} messages/s, {args.steps} steps of "
        f"{args.step_seconds:g} s, {args.body_bytes}-byte bodies", *([db_line] if db_line else [])])
    with targets.target("postgres", args, targets.LIFTED_LIMITS) as target, contextlib.ExitStack() as stack:
        started = [stack.enter_context(target.running(stop_timeout_s=30)) for _ in range(args.nodes)]
        (first, port), others = started[0], started[1:]
        log(f"{args.nodes} nodes on ports {', '.join(str(p) for _, p in started)}")
        extra = ["--subscribers", str(args.members), "--senders", str(args.senders),
                 "--rates", f"{args.rate:g}", "--steady", str(args.steps),
                 "--step-seconds", f"{args.step_seconds:g}", "--body-bytes", str(args.body_bytes),
                 "--drain-timeout", "30"]
        for proc, other_port in others:
            extra += ["--also", f"{other_port}:{proc.pid}"]
        result = target.loadgen(port, first.pid, "steps", extra)
    report.results["postgres"] = {"steps": result}
    report.add("Summary", summary(result))
    report.add("Steps (the nodes together)", steps_table(result, aux=True))
    return report


def _worst(values: list[float]) -> float:
    """The highest, or NaN when any is unknown (a step without figures is not a good step)."""
    return math.nan if not values or any(math.isnan(v) for v in values) else max(values)


def summary(result: dict) -> str:
    steps = result["steps"]
    rows = []
    for s in steps:
        rows.append([str(len(rows) + 1), fmt(s["deliveries_per_s"], 0), fmt(s["p99_ms"]),
                     fmt(s.get("loop_lag_max_ms"), 0), fmt(s["dropped"], 0),
                     fmt(s["loadgen_cpu_pct"], 0) + " %" + (" ⚠" if s.get("loadgen_saturated") else "")])
    worst_p99 = _worst([s["p99_ms"] for s in steps])
    worst_lag = _worst([s.get("loop_lag_max_ms", math.nan) for s in steps])
    dropped = sum(s["dropped"] for s in steps)
    verdicts = [
        f"- delivery p99, worst step: {fmt(worst_p99)} ms; target < {TARGET_P99_MS:g} ms: "
        f"**{'met' if worst_p99 < TARGET_P99_MS and not dropped else 'not met'}**",
        f"- event-loop lag max, worst node and step: {fmt(worst_lag, 0)} ms; target ≤ {TARGET_LAG_MS:g} ms: "
        f"**{'met' if worst_lag <= TARGET_LAG_MS else 'not met'}**",
        f"- missing, duplicated, unacked or errors: {fmt(dropped, 0)}",
    ]
    if any(s.get("loadgen_saturated") for s in steps):
        verdicts.append("- ⚠ the load generator used its whole core: the deliveries waited for it, "
                        "so the latency is the machine's bound, not the nodes'.")
    return table(["step", "deliveries/s", "p99 ms", "loop lag max ms", "dropped", "loadgen CPU"],
                 rows) + "\n\n" + "\n".join(verdicts)
