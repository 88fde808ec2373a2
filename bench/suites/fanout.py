"""Fan-out: one room, 1,000 subscribers, rising send rates, and memory per idle connection.

For each target it starts the server pinned to one core and runs the load generator
(``bench.loadgen steps``, bench/suites/fanout_load.py) pinned to the other:

* baseline  a bare ``websockets`` server broadcasting pre-encoded frames (bench/baseline_server.py),
            the Python ceiling for this workload; run first, in the same run (--no-baseline skips);
* embedded  ``ecolink serve`` with SQLite and the in-process broker;
* postgres  ``ecolink serve`` with PostgreSQL (a fresh database, dropped afterwards) and Redis.

Per step: deliveries/s, end-to-end latency p50/p99, durable-ack latency, anything dropped, the
server's CPU and RSS, PostgreSQL + Redis CPU, the load generator's own CPU, and how busy each core
was (other processes on the machine show up there). Then each target is restarted and --idle
connections join the room: server RSS after minus before, per connection.
"""

from __future__ import annotations

import argparse
import math
import platform
from importlib import metadata

from bench import targets
from bench.harness import (
    Report,
    add_pinning_arguments,
    fmt,
    log,
    machine_lines,
    modes_of,
    non_negative_int,
    pinning_line,
    positive_float,
    positive_int,
    rate_list,
    table,
)

NAME = "fanout"
HELP = "deliveries/s and latency at rising send rates; memory per idle connection"
MODES = ("embedded", "postgres", "both")
DEFAULT_MODE = "both"
# Issue 17's targets (production mode against the bare ceiling of the same run).
TARGET_RATIO = 0.9
TARGET_IDLE_KIB = 16.0
TITLES = {"baseline": "Baseline: bare `websockets` broadcast (no persistence)",
          "embedded": "EcoLink embedded (SQLite + in-process broker)",
          "postgres": "EcoLink PostgreSQL + Redis (durable acks)"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_pinning_arguments(p)
    p.add_argument("--no-baseline", action="store_true",
                   help="skip the bare-websockets ceiling (then no ratio is computed)")
    p.add_argument("--subscribers", type=positive_int, default=1000,
                   help="connections joined to the room during the rate steps (default 1000)")
    p.add_argument("--senders", type=positive_int, default=10,
                   help="how many of the subscribers also send (default 10)")
    p.add_argument("--idle", type=non_negative_int, default=10000,
                   help="idle joined connections for the memory test; 0 skips it (default 10000)")
    p.add_argument("--rates", type=rate_list, default=rate_list("10,25,50,75,100,125,150,200"),
                   help="rising sends/s, comma-separated (default 10,25,50,75,100,125,150,200); "
                        "deliveries/s = rate x subscribers")
    p.add_argument("--step-seconds", type=positive_float, default=5.0,
                   help="sending time per step (default 5)")
    p.add_argument("--refine", type=non_negative_int, default=3,
                   help="bisection steps between the last passing and first failing rate "
                        "(default 3)")
    p.add_argument("--p99-ms", type=positive_float, default=50.0,
                   help="a step passes when p99 latency is under this and nothing is dropped")
    p.add_argument("--body-bytes", type=positive_int, default=64, help="message body size")


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.senders > args.subscribers:
        parser.error(f"--senders ({args.senders}) cannot exceed --subscribers ({args.subscribers})")


def run(args: argparse.Namespace) -> Report:
    modes = modes_of(args)
    db_line = targets.prepare(args, modes, max(args.idle + 100, args.subscribers))
    report = Report(NAME, environment(args, db_line))
    names = ([] if args.no_baseline else ["baseline"]) + modes
    for name in names:
        log(f"=== {name} ===")
        with targets.target(name, args, targets.LIFTED_LIMITS) as target:
            report.results[name] = {**measure(target, args),
                                    "other_cpu_before_pct": target.other_cpu_before_pct}
    summ, verdicts = summary(report.results, args)
    report.add("Summary", summ + ("\n\nTargets (PostgreSQL + Redis mode is the one the issue sets "
                                  "them for):\n\n" + "\n".join(verdicts) if verdicts else ""))
    for name in names:
        r = report.results[name]["steps"]
        body = steps_table(r, aux=name == "postgres")
        if r.get("close_codes"):
            body += f"\n\nClose frames received: {r['close_codes']}"
        report.add(TITLES[name], body)
    if args.idle:
        report.add("Idle joined connections", idle_table(report.results))
    return report


def measure(target: targets.Target, args: argparse.Namespace) -> dict:
    """The rising-rate steps, then idle memory (each on a fresh server)."""
    out: dict = {}
    with target.running() as (proc, port):
        out["steps"] = target.loadgen(port, proc.pid, "steps", [
            "--subscribers", str(args.subscribers), "--senders", str(args.senders),
            "--rates", ",".join(f"{r:g}" for r in args.rates),
            "--step-seconds", f"{args.step_seconds:g}", "--refine", str(args.refine),
            "--p99-ms", f"{args.p99_ms:g}", "--body-bytes", str(args.body_bytes),
            "--retry-noisy-pct", f"{args.quiet_pct:g}",
        ])
        out["steps"]["cores"] = [args.server_core, args.loadgen_core]
    if args.idle:
        # A fresh process, so that memory the rate steps left behind does not hide the cost.
        with target.running(stop_timeout_s=30) as (proc, port):
            out["idle"] = target.loadgen(port, proc.pid, "idle", [
                "--connections", str(args.idle), "--connect-concurrency", "64",
            ])
    return out


def environment(args: argparse.Namespace, db_line: str | None) -> list[str]:
    def ver(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "–"

    lines = machine_lines() + [
        f"- Python {platform.python_version()}; uvicorn {ver('uvicorn')}, starlette "
        f"{ver('starlette')}, websockets {ver('websockets')}, msgpack {ver('msgpack')}"
        + (", uvloop " + ver("uvloop") if ver("uvloop") != "–" else ", no uvloop"),
        pinning_line(args) + f"; {args.subscribers:,} subscribers ({args.senders} of them "
        f"sending), {args.body_bytes}-byte bodies, {args.step_seconds:g} s per step, "
        f"pass = p99 < {args.p99_ms:g} ms and nothing dropped",
    ]
    return lines + ([db_line] if db_line else [])


# ---------------------------------------------------------------------------------------------
# Tables


def steps_table(result: dict, aux: bool) -> str:
    headers = ["sends/s", "deliveries/s", "p50 ms", "p99 ms", "max ms", "1st p99 ms",
               "ack p99 ms", "dropped", "server CPU", "µs/delivery", "server RSS MiB",
               "loop lag p99 / max ms"]
    if aux:
        headers.append("PG+Redis CPU")
    headers += ["loadgen CPU", "other CPU", "pass"]
    rows = []
    for s in sorted(result["steps"], key=lambda r: r["rate"]):
        row = [
            fmt(s["rate"], 0 if float(s["rate"]).is_integer() else 1)
            + (" (bisect)" if s.get("refine") else ""),
            fmt(s["deliveries_per_s"], 0),
            fmt(s["p50_ms"]),
            fmt(s["p99_ms"]),
            fmt(s["max_ms"], 0),
            fmt(s.get("first_p99_ms")),
            fmt(s["ack_p99_ms"]),
            drop_text(s),
            fmt(s["server_cpu_pct"], 0) + " %",
            fmt(s["server_cpu_us_per_delivery"]),
            fmt(s["server_rss_mib"], 0),
            lag_text(s),
        ]
        if aux:
            row.append(fmt(s.get("aux_cpu_pct"), 0) + " %")
        row += [
            fmt(s["loadgen_cpu_pct"], 0) + " %" + (" ⚠" if s.get("loadgen_saturated") else ""),
            fmt(s.get("foreign_cpu_pct"), 0) + " %",
            "yes" if s["ok"] else ("no: noisy, repeated" if s.get("superseded") else "**no**"),
        ]
        rows.append(row)
    return table(headers, rows)


def lag_text(s: dict) -> str:
    """The node's event-loop lag in the step (bench/probes.py LoopLagProbe): "≤ p99 / max";
    "–" for a server without the metric (the bare baseline)."""
    if s.get("loop_lag_p99_ms") is None:
        return "–"
    return f"≤ {fmt(s['loop_lag_p99_ms'], 0)} / {fmt(s['loop_lag_max_ms'], 0)}"


def drop_text(s: dict) -> str:
    if not s["dropped"]:
        return "0"
    parts = []
    for key, label in (("missing", "missing"), ("duplicates", "dup"), ("unacked", "unacked"),
                       ("errors", "errors"), ("unexpected_closes", "closed")):
        if s.get(key):
            parts.append(f"{s[key]:,} {label}")
    return "**" + ", ".join(parts) + "**"


def best_pass(result: dict) -> dict | None:
    """The highest passing step below every failing one (a pass above a failure is luck)."""
    steps = sorted((s for s in result["steps"] if not s.get("superseded")),
                   key=lambda r: r["rate"])
    first_fail = next((s["rate"] for s in steps if not s["ok"]), math.inf)
    passing = [s for s in steps if s["ok"] and s["rate"] < first_fail]
    return passing[-1] if passing else None


def summary(results: dict, args: argparse.Namespace) -> tuple[str, list[str]]:
    base = results.get("baseline")
    base_best = best_pass(base["steps"]) if base else None
    rows, verdicts = [], []
    for name in ("baseline", "embedded", "postgres"):
        if name not in results:
            continue
        r = results[name]
        best = best_pass(r["steps"])
        capped = best is not None and all(
            s["ok"] for s in r["steps"]["steps"] if not s.get("superseded"))
        best_text = "none" if best is None else (
            ("≥ " if capped else "") + fmt(best["deliveries_per_s"], 0))
        ratio = None
        if best and base_best:
            ratio = best["deliveries_per_s"] / base_best["deliveries_per_s"]
        idle = r.get("idle")
        rows.append([
            {"baseline": "bare websockets (ceiling)", "embedded": "embedded (SQLite, in-process)",
             "postgres": "PostgreSQL + Redis"}[name],
            "none" if best is None else fmt(best["rate"], 0 if float(best["rate"]).is_integer() else 1),
            best_text,
            "–" if best is None else fmt(best["p99_ms"]),
            "–" if best is None else fmt(best["server_cpu_us_per_delivery"]),
            "–" if ratio is None else f"{ratio:.2f}×",
            "–" if not idle else fmt(idle["kib_per_connection"]),
            "–" if not idle else fmt(idle["rss_after_mib"], 0),
        ])
        if name == "baseline":
            continue
        label = "PostgreSQL + Redis" if name == "postgres" else "embedded"
        if ratio is not None:
            ok = ratio >= TARGET_RATIO
            verdicts.append(
                f"- {label}: highest passing rate {fmt(best['deliveries_per_s'], 0)} deliveries/s "
                f"= {ratio:.2f}× the ceiling ({fmt(base_best['deliveries_per_s'], 0)}); "
                f"target ≥ {TARGET_RATIO}×: **{'met' if ok else 'not met'}**")
        elif best is None:
            verdicts.append(f"- {label}: no step passed (p99 < {args.p99_ms:g} ms, nothing "
                            f"dropped); target ≥ {TARGET_RATIO}× the ceiling: **not met**")
        if idle:
            ok = idle["kib_per_connection"] <= TARGET_IDLE_KIB
            verdicts.append(
                f"- {label}: {fmt(idle['kib_per_connection'])} KiB per idle joined connection; "
                f"target ≤ {TARGET_IDLE_KIB:g} KiB: **{'met' if ok else 'not met'}**")
    noisy = []
    for name, r in results.items():
        steps = r["steps"]["steps"]
        if steps:
            worst = max(st.get("foreign_cpu_pct") or 0.0 for st in steps)
            if worst > args.quiet_pct:
                noisy.append(f"{name} up to {worst:.0f}%")
    if noisy:
        verdicts.append(
            "- Caution: other processes on the machine used CPU during the steps ("
            + ", ".join(noisy) + " of a core; 'other CPU' column). Pass/fail near the limit "
            "moves with that load; rerun on a quiet machine before trusting a close call.")
    headers = ["target", "best sends/s", "deliveries/s", "p99 ms", "µs/delivery", "× ceiling",
               "idle KiB/conn", f"RSS MiB with {args.idle:,} idle"]
    return table(headers, rows), verdicts


def idle_table(results: dict) -> str:
    rows = []
    for name in ("baseline", "embedded", "postgres"):
        idle = results.get(name, {}).get("idle")
        if not idle:
            continue
        rows.append([name, fmt(idle["connections"]), fmt(idle["warmup"]),
                     fmt(idle["rss_before_mib"]), fmt(idle["rss_after_mib"]),
                     fmt(idle["kib_per_connection"]), fmt(idle["connect_s"]),
                     fmt(idle["still_open"]),
                     fmt(idle["unexpected_closes"] + idle["errors"]),
                     lag_text(idle.get("lag_connecting") or {}),
                     lag_text(idle.get("lag_idle") or {})])
    return table(["target", "idle connections", "warm-up connections", "RSS before MiB",
                  "RSS after MiB", "KiB per connection", "connect + join s", "still open",
                  "errors/closes", "loop lag p99 / max ms, connecting",
                  "loop lag p99 / max ms, then idle"], rows)
