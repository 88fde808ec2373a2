"""Presence burst: what presence churn costs the server, and what reaches the clients.

On a fresh server, --presence-members members join and leave the room in bursts while
--presence-observers observers stay (the load generator: ``bench.loadgen presence``,
bench/suites/presence_load.py); it reports the presence and typing frames each observer received
per second, the server's CPU, and message latency during the churn. Server defaults for presence
(ECOLINK_PRESENCE_INTERVAL_S=0.5, ECOLINK_TYPING_INTERVAL_S=3); rate limits lifted.
"""

from __future__ import annotations

import argparse

from bench import targets
from bench.harness import (
    Report,
    add_pinning_arguments,
    fmt,
    log,
    machine_lines,
    modes_of,
    pinning_line,
    positive_float,
    positive_int,
    table,
)

NAME = "presence"
HELP = "members join and leave a room in bursts; presence frames per observer, server CPU"
MODES = ("embedded", "postgres", "both")
DEFAULT_MODE = "both"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_pinning_arguments(p)
    p.add_argument("--presence-members", type=positive_int, default=1000,
                   help="members joining and leaving at once (default 1000)")
    p.add_argument("--presence-observers", type=positive_int, default=50,
                   help="members who stay and count frames (default 50)")
    p.add_argument("--presence-seconds", type=positive_float, default=10.0,
                   help="how long the members keep joining and leaving, in whole rounds (default 10)")
    p.add_argument("--presence-send-rate", type=positive_float, default=20.0,
                   help="messages/s sent during the churn (default 20)")


def run(args: argparse.Namespace) -> Report:
    modes = modes_of(args)
    db_line = targets.prepare(args, modes, args.presence_members + args.presence_observers)
    # Never under SCHED_FIFO: the burst saturates the server's loop, and a real-time loop thread
    # then starves the threads it waits for (aiosqlite's worker at equal priority never gets the
    # core; PostgreSQL and Redis only what is left), which measured the scheduler, not us.
    args.realtime = False
    report = Report(NAME, machine_lines() + [
        pinning_line(args),
        f"- presence burst: {args.presence_members:,} members join and leave the room in "
        f"rounds for {args.presence_seconds:g} s while {args.presence_observers} observers "
        f"stay (one sends {args.presence_send_rate:g} messages/s); server defaults "
        "(ECOLINK_PRESENCE_INTERVAL_S=0.5, ECOLINK_TYPING_INTERVAL_S=3)",
    ] + ([db_line] if db_line else []))
    for name in modes:
        log(f"=== {name} ===")
        with targets.target(name, args, targets.LIFTED_LIMITS) as target, \
                target.running(stop_timeout_s=30) as (proc, port):
            report.results[name] = {"presence": target.loadgen(port, proc.pid, "presence", [
                "--members", str(args.presence_members),
                "--observers", str(args.presence_observers),
                "--seconds", f"{args.presence_seconds:g}",
                "--send-rate", f"{args.presence_send_rate:g}",
            ]), "other_cpu_before_pct": target.other_cpu_before_pct}
    report.add("Presence burst", presence_table(report.results))
    return report


def presence_table(results: dict) -> str:
    rows = []
    for name in ("embedded", "postgres"):
        r = results.get(name, {}).get("presence")
        if not r:
            continue
        rows.append([
            name, fmt(r["members"]), fmt(r["observers"]), fmt(r["presence_changes"]),
            fmt(r["burst_s"], 2), fmt(r["presence_frames_per_observer_mean"]),
            fmt(r["presence_frames_per_s_mean"], 2) + " / " + fmt(r["presence_frames_per_s_max"], 2),
            fmt(r["presence_frames_max_in_1s"]),
            fmt(r["presence_bytes_per_observer_mean"] / 1024, 1),
            fmt(r["typing_frames_per_s_mean"], 0),
            fmt(r["join_p99_ms"]), fmt(r["message_p50_ms"]) + " / " + fmt(r["message_p99_ms"]),
            fmt(r["server_cpu_pct"], 0) + " %", fmt(r["server_cpu_us_per_change"], 0),
            fmt(r.get("loadgen_cpu_pct"), 0) + " %", fmt(r.get("foreign_cpu_pct"), 0) + " %",
            f"{r['converged_observers']}/{r['observers']}",
            fmt(r["errors"] + r["unexpected_closes"] + r["message_missing"] + r["message_duplicates"]),
        ])
    return table(["target", "members", "observers", "presence changes", "churn s",
                  "presence frames / observer", "frames/s per observer (mean / max)",
                  "max frames in 1 s", "KiB / observer", "typing frames/s per observer",
                  "join p99 ms", "message p50 / p99 ms", "server CPU", "CPU µs / change",
                  "loadgen CPU", "other CPU",
                  "final state right", "errors"], rows)
