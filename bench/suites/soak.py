"""Soak (issue 16, case 6; docs/reliability.md): --minutes of steady load on --nodes node
processes (PostgreSQL + Redis), with --churn % of the connections dropped and reconnected every
minute (each reconnects to its node — so the nodes' connections stay comparable from minute to
minute — resumes with `since` and resends what was not acked) and one Redis
restart half-way. Every minute it samples each node's resident memory, open file descriptors,
threads and event-loop tasks (the ecolink_event_loop_tasks gauge), and the delivery latency
p99 (send to arrival at every reader of the room) of that minute; at the end the history
checker runs over every client's log. Flat = the last minute against the first full one.

Two loads run together. The checked one: the reconnecting clients of tests/support/drill.py
(the `websockets` library, one process, each keeping the full log the history checker reads):
--senders × 1 message per --send-interval s into three rooms, every client reading its room.
The bulk one, for the volume ("half the measured capacity"): the fan-out suite's load
generator (bench/wsload.py, its own process) with --bulk-subscribers joined to a fourth room
on the first node, --bulk-senders of them sending --bulk-rate messages/s in all, one step per
round (`python -m bench.loadgen steps --steady`); it reports each round's deliveries, latency
and anything missing, duplicated or unacked. A short version runs in the test command
(tests/e2e/test_fault_drills.py).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import json
import signal
import sys
from pathlib import Path

from bench.harness import REPO, Report, fmt, log, machine_lines, positive_float, positive_int, table
from bench.nodes import postgres_version, resolve_services
from bench.targets import LIFTED_LIMITS
from tests.support import services
from tests.support.drill import Cluster, Drill, env_for, now, percentile, store_of, unique
from tests.support.history import HistoryError

MEMTRACE = Path(__file__).resolve().parents[2] / "tests" / "support" / "memtrace"
BULK_ROOM = "water-management"  # not one of the drill's rooms
NAME = "soak"
HELP = "minutes of steady load with reconnects and a Redis restart: memory, fds, tasks, p99 flat"
MODES = ("postgres",)
DEFAULT_MODE = "postgres"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--minutes", type=positive_float, default=30.0, help="how long (default 30)")
    p.add_argument("--nodes", type=positive_int, default=2, help="nodes (default 2)")
    p.add_argument("--senders", type=positive_int, default=30, help="sending clients (default 30)")
    p.add_argument("--readers", type=positive_int, default=170, help="reading clients (default 170)")
    p.add_argument("--send-interval", type=positive_float, default=0.5,
                   help="seconds between one sender's messages (default 0.5)")
    p.add_argument("--churn", type=positive_float, default=10.0,
                   help="%% of the connections dropped and reconnected each minute (default 10)")
    p.add_argument("--minute", type=positive_float, default=60.0,
                   help="seconds per sampling round (default 60; shorter for a trial run)")
    p.add_argument("--bulk-subscribers", type=int, default=1000,
                   help="the bulk load's subscribers, all in one room (default 1000; 0: no bulk load)")
    p.add_argument("--bulk-rate", type=positive_float, default=45.0,
                   help="the bulk load's messages/s into its room (default 45: half the ~90/s "
                        "production mode passes with 1,000 subscribers, docs/benchmarks.md)")
    p.add_argument("--bulk-senders", type=positive_int, default=10,
                   help="how many of the bulk subscribers send (default 10)")
    p.add_argument("--tracemalloc", metavar="DIR", default=None,
                   help="run the nodes under tracemalloc (tests/support/memtrace) and write, each "
                        "round, a snapshot and the gc's objects by type to DIR; the report then "
                        "compares the second round with the last by traceback")


def run(args: argparse.Namespace) -> Report:
    resolve_services(args)  # PostgreSQL from the test support; Redis is a private one (restarted)
    redis = services.ThrowawayRedis().start()
    name = unique("ecolink_soak")
    try:
        dsn = asyncio.run(services.create_database(args.pg_admin_url, name))
        try:
            results = asyncio.run(soak(args, dsn, redis))
        finally:
            asyncio.run(services.drop_database(args.pg_admin_url, name))
    finally:
        redis.close()
    report = Report(NAME, machine_lines() + [
        f"- {args.nodes} `ecolink serve` processes (not pinned) on PostgreSQL "
        f"{postgres_version(args.pg_admin_url)} + a private Redis (restarted once, half-way)",
        f"- {len(results['rounds'])} rounds of {args.minute:g} s; load: {args.senders} senders × 1 message / "
        f"{args.send_interval:g} s ({args.senders / args.send_interval:g} sends/s) and "
        f"{args.readers} readers in 3 rooms (every client reads its room); {args.churn:g} % of the "
        "connections dropped and reconnected each round",
        f"- bulk load: {args.bulk_subscribers} subscribers of one room on the first node, "
        f"{args.bulk_senders} of them sending {args.bulk_rate:g} messages/s in all "
        f"({args.bulk_rate * args.bulk_subscribers:,.0f} deliveries/s offered)"
        if args.bulk_subscribers else "- no bulk load",
    ], results=results)
    report.add("Per round", rounds_table(results))
    if results.get("bulk"):
        report.add("Bulk load per step (one a round)", bulk_table(results["bulk"]))
    report.add("Verdict", verdict_table(results))
    report.add("Memory by node and mapping", nodes_table(results, args.minute))
    if args.tracemalloc:
        report.add("Memory growth by traceback and by type (tracemalloc)", trace_tables(args.tracemalloc))
    return report


async def soak(args: argparse.Namespace, dsn: str, redis: services.ThrowawayRedis) -> dict:
    rounds = max(1, round(args.minutes * 60 / args.minute))
    extra = {}
    if args.tracemalloc:
        os.makedirs(args.tracemalloc, exist_ok=True)
        extra = {"PYTHONPATH": str(MEMTRACE), "DRILL_TRACE_DIR": os.path.abspath(args.tracemalloc)}
    if args.bulk_subscribers:  # the bulk load's senders go far above a member's budget
        extra |= {k: v for k, v in LIFTED_LIMITS.items() if k != "ECOLINK_LOG_LEVEL"}
    env = env_for(dsn, redis.url, f"{unique('soak')}:", **extra)
    async with Cluster(env, args.nodes) as cluster, store_of(dsn) as store:
        drill = await Drill(cluster, senders=args.senders, readers=args.readers,
                            send_interval_s=args.send_interval).start()
        bulk = await start_bulk(args, cluster.nodes[0], rounds) if args.bulk_subscribers else None
        per_round = []
        restart_round = rounds // 2
        bounce = max(1, round(len(drill.clients) * args.churn / 100))
        for number in range(rounds):
            started = now()
            acked_before = drill.acked()
            if number == restart_round:
                log("restarting Redis")
                await asyncio.to_thread(redis.restart)
            # The churn: spread over the round, as users' networks drop.
            victims = random.sample(drill.clients, bounce)
            gaps = sorted(random.random() * args.minute * 0.8 for _ in victims)
            for victim, at in zip(victims, gaps, strict=True):
                await asyncio.sleep(max(0.0, started + at - now()))
                victim.bounce(stay=True)
            await asyncio.sleep(max(0.0, started + args.minute - now()))
            samples = [await asyncio.to_thread(n.sample) for n in cluster.nodes]
            if args.tracemalloc:
                for n in cluster.nodes:
                    assert n.proc is not None
                    n.proc.send_signal(signal.SIGUSR1)
            latencies = drill.latencies(started, now())
            row = {
                "round": number + 1,
                "acked": drill.acked() - acked_before,
                "deliveries": len(latencies),
                "p50_ms": percentile(latencies, 50),
                "p99_ms": percentile(latencies, 99),
                "rss_mib": sum(s["rss_mib"] for s in samples),
                "fds": sum(s["fds"] for s in samples),
                "threads": sum(s["threads"] for s in samples),
                "tasks": sum(s["tasks"] for s in samples),
                "reconnects": bounce,
                "redis_restart": number == restart_round,
                "nodes": [{k: s[k] for k in ("rss_mib", "heap_mib", "anon_mib", "gc_frozen") if k in s}
                          for s in samples],
                # The longest event-loop stall of the last 30-60 s on any node (chat/looplag.py).
                "loop_lag_max_ms": 1000 * max((s["loop_lag_max_s"] for s in samples
                                               if not math.isnan(s.get("loop_lag_max_s", math.nan))),
                                              default=math.nan),
            }
            per_round.append(row)
            log(f"round {row['round']}/{rounds}: {row}")
        bulk_steps = await finish_bulk(bulk, args.minute * 3) if bulk is not None else []
        await drill.finish(180)
        try:
            checked = await drill.check(store)
            checked["checker"] = "clean"
        except (HistoryError, AssertionError) as exc:
            log(f"CHECKER: {exc}")
            checked = {"checker": f"FAILED: {str(exc).splitlines()[0]}"}
    errors: dict[str, int] = {}
    for c in drill.clients:
        for code, n in c.log.error_codes().items():
            errors[code] = errors.get(code, 0) + n
    outages = [o.seconds for o in drill.outages()]
    return {"rounds": per_round, "bulk": bulk_steps, **checked, "error_frames": errors,
            "reconnects": len(outages), "unresumed": sum(s is None for s in outages),
            "resume_max_s": max((s for s in outages if s is not None), default=math.nan)}


async def start_bulk(args: argparse.Namespace, node, rounds: int) -> asyncio.subprocess.Process:  # noqa: ANN001
    """The bulk load's generator, one step a round (its own process; it registers its members
    first, so its steps start a few seconds after round 1 does)."""
    assert node.proc is not None
    cmd = [sys.executable, "-m", "bench.loadgen", "steps", "--port", str(node.port),
           "--server-pid", str(node.proc.pid), "--register", "--tag", unique("soak-bulk"),
           "--room", BULK_ROOM, "--subscribers", str(args.bulk_subscribers),
           "--senders", str(min(args.bulk_senders, args.bulk_subscribers)),
           # One step more than rounds: it starts after round 1 does and must still be
           # running at the last round's sample.
           "--rates", f"{args.bulk_rate:g}", "--steady", str(rounds + 1),
           "--step-seconds", f"{max(1.0, args.minute - 1):g}"]
    log(f"bulk load: {' '.join(cmd[1:])}")
    return await asyncio.create_subprocess_exec(*cmd, cwd=REPO, stdout=asyncio.subprocess.PIPE)


async def finish_bulk(proc: asyncio.subprocess.Process, wait_s: float) -> list[dict]:
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), wait_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        log("bulk load: did not finish; killed")
        return [{"failed": "did not finish"}]
    if proc.returncode != 0:
        return [{"failed": f"exit {proc.returncode}"}]
    return json.loads(out.decode().strip().splitlines()[-1])["steps"]


def bulk_table(steps: list[dict]) -> str:
    if steps and "failed" in steps[0]:
        return f"The bulk load failed: {steps[0]['failed']}."
    rows = [[str(i), fmt(r["rate"]), fmt(r["deliveries_per_s"]), fmt(r["p50_ms"]), fmt(r["p99_ms"]),
             fmt(r["max_ms"]), fmt(r["dropped"]), fmt(r["server_cpu_pct"]), fmt(r["loadgen_cpu_pct"])]
            for i, r in enumerate(steps, 1)]
    return table(["step", "messages/s", "deliveries/s", "p50 ms", "p99 ms", "max ms",
                  "missing + dup. + unacked + errors", "first node CPU %", "load generator CPU %"], rows)


def rounds_table(results: dict) -> str:
    rows = [[str(r["round"]) + (" (Redis restart)" if r["redis_restart"] else ""), fmt(r["acked"]),
             fmt(r["deliveries"]), fmt(r["p50_ms"]), fmt(r["p99_ms"]), fmt(r["rss_mib"]),
             fmt(int(r["fds"])), fmt(int(r["threads"])), fmt(int(r["tasks"])), fmt(r["reconnects"]),
             fmt(r.get("loop_lag_max_ms"), 0)]
            for r in results["rounds"]]
    return table(["round", "acked", "deliveries", "p50 ms", "p99 ms", "RSS MiB (all nodes)", "fds",
                  "threads", "tasks", "reconnects", "loop lag max ms (any node)"], rows)


def verdict_table(results: dict) -> str:
    rounds = results["rounds"]
    first = rounds[1] if len(rounds) > 2 else rounds[0]  # round 1 warms caches and pools up
    last = rounds[-1]
    rows = [
        ["RSS MiB, all nodes", fmt(first["rss_mib"]), fmt(last["rss_mib"]),
         f"{100 * (last['rss_mib'] / first['rss_mib'] - 1):+.1f} %"],
        ["open fds", fmt(int(first["fds"])), fmt(int(last["fds"])), f"{int(last['fds'] - first['fds']):+d}"],
        ["threads", fmt(int(first["threads"])), fmt(int(last["threads"])),
         f"{int(last['threads'] - first['threads']):+d}"],
        ["event-loop tasks", fmt(int(first["tasks"])), fmt(int(last["tasks"])),
         f"{int(last['tasks'] - first['tasks']):+d}"],
        ["delivery p99 ms", fmt(first["p99_ms"]), fmt(last["p99_ms"]),
         f"{100 * (last['p99_ms'] / first['p99_ms'] - 1):+.0f} %"],
        ["checker", "", results["checker"], ""],
        *bulk_verdict(results.get("bulk") or []),
        ["reconnects (unresumed); longest resume s",
         "", f"{fmt(results['reconnects'])} ({results['unresumed']}); {fmt(results['resume_max_s'], 2)}", ""],
        ["error frames", "", ", ".join(f"{k} {v}" for k, v in sorted(results["error_frames"].items()))
         or "none", ""],
    ]
    return table(["what", f"round {first['round']}", f"round {last['round']}", "change"], rows)


def nodes_table(results: dict, minute_s: float) -> str:
    """Each node's resident memory by mapping (tests/support/drill.py resident_by_mapping) at
    round 2, at each quarter and at the end, and its trend over the second half (after the
    Redis restart): MiB a minute of heap + anonymous mappings, what a leak would grow."""
    rounds = results["rounds"]
    picks = sorted({min(1, len(rounds) - 1), *(len(rounds) * q // 4 for q in (1, 2, 3)), len(rounds) - 1})
    rows = []
    for index in range(len(rounds[0]["nodes"])):
        def live(r: dict, index: int = index) -> float:
            node = r["nodes"][index]
            return node.get("heap_mib", math.nan) + node.get("anon_mib", math.nan)
        half = rounds[len(rounds) // 2 + 1:] or rounds
        minutes = (half[-1]["round"] - half[0]["round"]) * minute_s / 60
        trend = (live(half[-1]) - live(half[0])) / minutes if minutes else math.nan
        first, last = rounds[picks[0]]["nodes"][index], rounds[-1]["nodes"][index]
        rows.append([f"node {index + 1}", *(fmt(live(rounds[i])) for i in picks), f"{trend:+.3f}",
                     fmt(last.get("heap_mib")), fmt(last.get("anon_mib")),
                     f"{fmt(first.get('gc_frozen'), 0)} → {fmt(last.get('gc_frozen'), 0)}"])
    return table(["node: heap + anonymous MiB", *(f"round {rounds[i]['round']}" for i in picks),
                  "MiB a minute, second half", "heap MiB at the end", "anonymous MiB at the end",
                  "frozen objects (ecolink_gc_frozen_objects)"], rows)


def bulk_verdict(steps: list[dict]) -> list[list[str]]:
    if not steps:
        return []
    if "failed" in steps[0]:
        return [["bulk load", "", f"FAILED: {steps[0]['failed']}", ""]]
    first = steps[1] if len(steps) > 2 else steps[0]
    return [
        ["bulk load: deliveries/s", fmt(first["deliveries_per_s"]), fmt(steps[-1]["deliveries_per_s"]), ""],
        ["bulk load: p99 ms", fmt(first["p99_ms"]), fmt(steps[-1]["p99_ms"]),
         f"{100 * (steps[-1]['p99_ms'] / first['p99_ms'] - 1):+.0f} %"],
        ["bulk load: missing, duplicated, unacked or errors (all steps)", "",
         fmt(sum(r["dropped"] for r in steps)), ""],
    ]


def trace_tables(folder: str, top: int = 15) -> str:
    """Per node: the first tracemalloc snapshot (round 2; tracing starts at the end of round 1)
    against the last, the largest growths by
    traceback (innermost frames of the repository or the library first), and the gc's object
    counts by type that grew the most."""
    import json
    import time
    import tracemalloc

    time.sleep(5)  # the nodes write their last dump after the last sample
    out = []
    pids = sorted({p.name.split("-")[0] for p in Path(folder).glob("*.snap")})
    for pid in pids:
        snaps = sorted(Path(folder).glob(f"{pid}-*.snap"), key=lambda p: int(p.stem.split("-")[1]))
        if len(snaps) < 2:
            continue
        first, last = snaps[0], snaps[-1]
        old, new = tracemalloc.Snapshot.load(str(first)), tracemalloc.Snapshot.load(str(last))
        total = sum(s.size for s in new.statistics("filename")) - sum(s.size for s in old.statistics("filename"))
        rows = []
        for stat in new.compare_to(old, "traceback")[:top]:
            where = " ← ".join(f"{Path(f.filename).name}:{f.lineno}" for f in list(stat.traceback)[-1:-5:-1])
            rows.append([fmt(stat.size_diff / 1024), fmt(stat.count_diff), where])
        out.append(f"Node pid {pid}, {first.stem} → {last.stem}: traced memory {total / 2**20:+.2f} MiB\n\n"
                   + table(["KiB", "blocks", "traceback (innermost first)"], rows))
        types_old = json.loads(first.with_suffix(".types").read_text())
        types_new = json.loads(last.with_suffix(".types").read_text())
        grown = sorted(((types_new[k] - types_old.get(k, 0), k) for k in types_new), reverse=True)[:top]
        out.append(table(["type", "live objects, first", "last", "change"],
                         [[k, fmt(types_old.get(k, 0)), fmt(types_new[k]), f"{d:+d}"] for d, k in grown]))
    return "\n\n".join(out) or "(no snapshots)"
