"""Costly Markdown at the maximum allowed rate: everyone else's latency while one member abuses.

--abuse-observers members each send 2 messages/s in a room while one member sends worst-case
Markdown bodies (10,000 characters of ``![``) on 6 sockets as fast as the node lets it (the load
generator: ``bench.loadgen abuse``, bench/suites/abuse_load.py). Per server configuration
(defaults, the member budget lifted, and rendering inline as before the fix) it reports the
others' ack and delivery latency and /healthz latency (p50 / p99 / max). A fresh server per
configuration; the rate limits the other suites lift are at their defaults here.
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

NAME = "abuse"
HELP = "one member sends worst-case Markdown at the maximum rate; the others' latency"
MODES = ("embedded", "postgres", "both")
DEFAULT_MODE = "both"

# The configurations: (name, attacker's offered sends/s, server settings). The limits are the
# defaults unless the row says otherwise; the last row is the node as it was before the fix
# (every body rendered on the event loop, no member budget). The rates: what the member budget
# lets through (50 tokens/s, 100 per worst-case body), a flood over it, the old per-connection
# limit, and enough to show the old stall without a minute-long drain.
ROWS = [
    ("defaults, paced at the budget", 0.5, {}),  # a worst-case body costs the whole burst
    ("defaults, flooding", 100.0, {}),
    ("no member budget", 50.0, {"ECOLINK_MEMBER_RATE_PER_S": "100000",
                                "ECOLINK_MEMBER_RATE_BURST": "100000"}),
    ("no member budget, inline rendering (before the fix)", 10.0, {
        "ECOLINK_MEMBER_RATE_PER_S": "100000", "ECOLINK_MEMBER_RATE_BURST": "100000",
        "ECOLINK_RENDER_INLINE_MS": "1000"}),
]
# The node's settings under the rows' overrides: the lifted limits put back to their defaults.
DEFAULTS = {k: v for k, v in targets.LIFTED_LIMITS.items() if "_RATE_" not in k}


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_pinning_arguments(p)
    p.add_argument("--abuse-seconds", type=positive_float, default=10.0,
                   help="how long the attacker sends per configuration (default 10)")
    p.add_argument("--abuse-observers", type=positive_int, default=20,
                   help="members who send 2 messages/s each and measure (default 20)")


def run(args: argparse.Namespace) -> Report:
    modes = modes_of(args)
    db_line = targets.prepare(args, modes, args.abuse_observers + 6)
    report = Report(NAME, machine_lines() + [
        pinning_line(args) + f"; {args.abuse_observers} members send 2 messages/s each for "
        f"{args.abuse_seconds:g} s while one member sends 10,000-character bodies of `![` "
        "on 6 sockets; /healthz asked every 50 ms on a fresh connection",
    ] + ([db_line] if db_line else []))
    for name in modes:
        log(f"=== {name} ===")
        rows = []
        with targets.target(name, args, DEFAULTS) as target:
            base = dict(target.env)
            for config, rate, overrides in ROWS:
                target.env = {**base, **overrides}
                with target.running(stop_timeout_s=60) as (proc, port):
                    row = target.loadgen(port, proc.pid, "abuse", [
                        "--observers", str(args.abuse_observers), "--attack-rate", f"{rate:g}",
                        "--seconds", f"{args.abuse_seconds:g}"])
                rows.append({"config": config, **row})
        report.results[name] = {"abuse": rows, "other_cpu_before_pct": target.other_cpu_before_pct}
    report.add("Costly Markdown at the maximum allowed rate", abuse_table(report.results))
    return report


def abuse_table(results: dict) -> str:
    rows = []
    for name in ("embedded", "postgres"):
        for r in results.get(name, {}).get("abuse") or []:
            rows.append([
                name, r["config"], fmt(r["attack_offered_per_s"], 1),
                fmt(r["attack_acked_per_s"], 1), fmt(r["attack_refused_per_s"], 1),
                " / ".join(fmt(r.get("renders", {}).get(k, 0)) for k in
                           ("worker", "plain_busy", "plain_timeout")),
                fmt(r["ack_p50_ms"]) + " / " + fmt(r["ack_p99_ms"]) + " / " + fmt(r["ack_max_ms"], 0),
                fmt(r["delivery_p50_ms"]) + " / " + fmt(r["delivery_p99_ms"]) + " / "
                + fmt(r["delivery_max_ms"], 0),
                fmt(r["healthz_p50_ms"]) + " / " + fmt(r["healthz_p99_ms"]) + " / "
                + fmt(r["healthz_max_ms"], 0),
                f"{r['observer_acked']}/{r['observer_sent']}",
                fmt(r["server_cpu_pct"], 0) + " %", fmt(r.get("foreign_cpu_pct"), 0) + " %",
                "yes" if max(r["ack_p99_ms"], r["delivery_p99_ms"], r["healthz_p99_ms"]) < 100
                else "no",
            ])
    return table(["target", "configuration", "attack sends/s offered", "acked/s", "refused/s",
                  "rendered by worker / text (busy) / text (timeout)",
                  "others' ack p50 / p99 / max ms", "others' delivery p50 / p99 / max ms",
                  "/healthz p50 / p99 / max ms", "others acked", "server CPU", "other CPU",
                  "p99 < 100 ms"], rows)
