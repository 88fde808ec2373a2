"""Fault drills at a realistic load (issue 16, cases 1, 2 and 4; docs/reliability.md).

Node processes (`ecolink serve`) on PostgreSQL + Redis, with reconnecting clients
(tests/support/drill.py): --senders of them send one message every --send-interval seconds
(window 4), the rest only read; all are spread over the nodes and three rooms. Each client
keeps a history log across reconnects; after each drill the history checker must be clean and
every cid ever sent stored exactly once.

- ``pg``: PostgreSQL (a private cluster of this run) stopped with ``pg_ctl stop -m immediate``
  for --outage seconds, then started: how fast sends are refused meanwhile, whether any was
  acked, how long until every sender is acked again.
- ``kill``: one of --nodes nodes SIGKILLed: how long until its clients are joined on the
  others and hold every message acked before the kill (converged).
- ``rolling``: every node in turn gets SIGTERM and is started again: each client's time from
  close to resumed, the exit codes, HTTP statuses seen by a probe meanwhile.

The short versions run in the test command: tests/e2e/test_fault_drills.py.
"""

from __future__ import annotations

import argparse
import asyncio
import math

from bench.harness import (
    BenchError,
    Report,
    fmt,
    log,
    machine_lines,
    non_negative_float,
    positive_float,
    positive_int,
    table,
)
from bench.nodes import delete_redis_keys, postgres_version, redis_version, resolve_services
from tests.support import services
from tests.support.drill import Cluster, Drill, HttpProbe, env_for, now, percentile, store_of, unique
from tests.support.history import HistoryError

NAME = "faults"
HELP = "PostgreSQL crash, node SIGKILL, rolling restart under load, with the history checker"
MODES = ("postgres",)
DEFAULT_MODE = "postgres"
CASES = ("pg", "kill", "rolling")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--case", choices=(*CASES, "all"), default="all", help="which drill (default all)")
    p.add_argument("--nodes", type=positive_int, default=3, help="nodes (default 3)")
    p.add_argument("--senders", type=positive_int, default=30, help="sending clients (default 30)")
    p.add_argument("--readers", type=positive_int, default=120, help="reading clients (default 120)")
    p.add_argument("--send-interval", type=positive_float, default=0.5,
                   help="seconds between one sender's messages (default 0.5)")
    p.add_argument("--outage", type=positive_float, default=5.0,
                   help="seconds PostgreSQL stays down in the pg drill (default 5)")
    p.add_argument("--settle", type=non_negative_float, default=10.0,
                   help="seconds of traffic before and after each fault (default 10)")


def run(args: argparse.Namespace) -> Report:
    resolve_services(args)
    cases = CASES if args.case == "all" else (args.case,)
    report = Report(NAME, machine_lines() + [
        f"- {args.nodes} `ecolink serve` processes (not pinned) on PostgreSQL "
        f"{postgres_version(args.pg_admin_url)} + Redis {redis_version(args.redis_url)}",
        f"- load: {args.senders} senders × 1 message / {args.send_interval:g} s "
        f"({args.senders / args.send_interval:g} sends/s) and {args.readers} readers in 3 rooms; "
        f"every client reads its room; {args.settle:g} s of traffic around each fault",
    ])
    for case in cases:
        log(f"=== {case} ===")
        report.results[case] = asyncio.run(DRILLS[case](args))
    report.add("Results", results_table(report.results))
    return report


async def _cluster_env(args: argparse.Namespace, dsn: str, tag: str) -> tuple[dict[str, str], str]:
    prefix = f"{tag}:"
    return env_for(dsn, args.redis_url, prefix), prefix


async def drill_pg(args: argparse.Namespace) -> dict:
    pg = services.ThrowawayPostgres()
    await asyncio.to_thread(pg.start)
    try:
        dsn = await services.create_database(pg.dsn, "ecolink_faults")
        env, prefix = await _cluster_env(args, dsn, unique("faults-pg"))
        try:
            async with Cluster(env, args.nodes) as cluster, store_of(dsn) as store:
                drill = await Drill(cluster, senders=args.senders, readers=args.readers,
                                    send_interval_s=args.send_interval).start()
                await asyncio.sleep(args.settle)
                await asyncio.to_thread(pg.stop, "immediate")
                down_at = now()
                await asyncio.sleep(args.outage)
                up_at = now()
                await asyncio.to_thread(pg.start)
                started_at = now()
                log(f"PostgreSQL back after {started_at - up_at:.2f} s of pg_ctl start")
                await asyncio.sleep(args.settle)
                await drill.finish(120)
                checked = await _check(drill, store)
        finally:
            delete_redis_keys(args.redis_url, prefix)
    finally:
        pg.close()
    answers = drill.answers()
    outage = [a for a in answers if down_at < a.sent_at < up_at]
    waits = [a.answered_at - a.sent_at for a in outage]
    back = []
    for c in drill.clients:
        acks = [a.answered_at for a in c.stats.answers if a.code == "ack" and a.sent_at > started_at]
        if c.sender and acks:
            back.append(min(acks) - started_at)
    return {
        **checked,
        "outage_s": up_at - down_at,
        "pg_start_s": started_at - up_at,
        "sends_during_outage": len(outage),
        "acked_during_outage": sum(a.code == "ack" for a in outage),
        "outage_codes": sorted({a.code for a in outage}),
        "refusal_p50_ms": percentile(waits, 50) * 1000,
        "refusal_max_ms": max(waits, default=math.nan) * 1000,
        "back_p50_s": percentile(back, 50),
        "back_max_s": max(back, default=math.nan),
        "senders_back": f"{len(back)}/{args.senders}",
        "closed_connections": len(drill.outages()),
    }


async def drill_kill(args: argparse.Namespace) -> dict:
    if args.nodes < 2:
        raise BenchError("the kill drill needs --nodes 2 or more")
    name = unique("ecolink_faults_kill")
    dsn = await services.create_database(args.pg_admin_url, name)
    env, prefix = await _cluster_env(args, dsn, name)
    try:
        async with Cluster(env, args.nodes) as cluster, store_of(dsn) as store:
            drill = await Drill(cluster, senders=args.senders, readers=args.readers,
                                send_interval_s=args.send_interval).start()
            await asyncio.sleep(args.settle)
            victim = cluster.nodes[-1]
            displaced = [c for c in drill.clients if c.node is victim]
            heads = drill.heads()
            killed_at = now()
            victim.kill()
            converged = await drill.convergence(heads, killed_at, displaced, wait_s=60,
                                                reconnected=True)
            everyone = await drill.convergence(heads, killed_at, drill.clients, wait_s=60)
            await asyncio.sleep(args.settle)
            await drill.finish(120)
            checked = await _check(drill, store)
    finally:
        await services.drop_database(args.pg_admin_url, name)
        delete_redis_keys(args.redis_url, prefix)
    times = [t for t in converged.values() if t is not None]
    return {
        **checked,
        "displaced": len(displaced),
        "converged": f"{len(times)}/{len(displaced)}",
        "converged_p50_s": percentile(times, 50),
        "converged_p99_s": percentile(times, 99),
        "converged_max_s": max(times, default=math.nan),
        "within_5s_pct": 100 * sum(t <= 5 for t in times) / max(1, len(displaced)),
        "all_clients_max_s": max((t for t in everyone.values() if t is not None), default=math.nan),
    }


async def drill_rolling(args: argparse.Namespace) -> dict:
    name = unique("ecolink_faults_rolling")
    dsn = await services.create_database(args.pg_admin_url, name)
    env, prefix = await _cluster_env(args, dsn, name)
    try:
        async with Cluster(env, args.nodes) as cluster, store_of(dsn) as store:
            drill = await Drill(cluster, senders=args.senders, readers=args.readers,
                                send_interval_s=args.send_interval).start()
            probe = HttpProbe(cluster, drill.clients[0].account["token"], interval_s=0.02).start()
            await asyncio.sleep(args.settle)
            codes, stop_s = [], []
            before = {c.name: len(c.stats.outages) for c in drill.clients}
            started = now()
            for node in cluster.nodes:
                t = now()
                codes.append(await asyncio.to_thread(node.terminate))
                stop_s.append(now() - t)
                await asyncio.to_thread(node.start)
                await asyncio.sleep(args.settle / 2)
            rolled_s = now() - started
            await asyncio.sleep(args.settle / 2)
            await probe.stop()
            await drill.finish(120)
            checked = await _check(drill, store)
    finally:
        await services.drop_database(args.pg_admin_url, name)
        delete_redis_keys(args.redis_url, prefix)
    resumes = [o.seconds for c in drill.clients for o in c.stats.outages[before[c.name]:]]
    unresumed = sum(s is None for s in resumes)
    times = [s for s in resumes if s is not None]
    return {
        **checked,
        "exit_codes": codes,
        "sigterm_to_exit_max_s": max(stop_s),
        "rolling_s": rolled_s,
        "reconnects": len(resumes),
        "unresumed": unresumed,
        "resume_p50_s": percentile(times, 50),
        "resume_p99_s": percentile(times, 99),
        "resume_max_s": max(times, default=math.nan),
        "http_requests": sum(probe.statuses.values()),
        "http_5xx": probe.server_errors,
        "http_refused": probe.refused,
    }


async def _check(drill: Drill, store) -> dict:  # noqa: ANN001
    try:
        checked = await drill.check(store)
        verdict = "clean"
    except (HistoryError, AssertionError) as exc:
        log(f"CHECKER: {exc}")
        checked, verdict = {}, f"FAILED: {str(exc).splitlines()[0]}"
    errors: dict[str, int] = {}
    for c in drill.clients:
        for code, n in c.log.error_codes().items():
            errors[code] = errors.get(code, 0) + n
    return {**checked, "checker": verdict, "error_frames": errors}


DRILLS = {"pg": drill_pg, "kill": drill_kill, "rolling": drill_rolling}


def results_table(results: dict) -> str:
    rows: list[list[str]] = []

    def errors(r: dict) -> list[str]:
        found = ", ".join(f"{k} {v}" for k, v in sorted(r["error_frames"].items())) or "none"
        return ["", "error frames seen by clients", found, ""]

    if "pg" in results:
        r = results["pg"]
        rows += [
            ["PostgreSQL crash", "sends refused during the outage (code)",
             f"{fmt(r['sends_during_outage'])} ({', '.join(r['outage_codes'])})", "retryable"],
            ["", "sends acked during the outage", fmt(r["acked_during_outage"]), "0"],
            ["", "refusal time p50 / max ms", f"{fmt(r['refusal_p50_ms'])} / {fmt(r['refusal_max_ms'])}",
             "< 2,000"],
            ["", "first ack after PostgreSQL is up, p50 / max s (senders)",
             f"{fmt(r['back_p50_s'], 2)} / {fmt(r['back_max_s'], 2)} ({r['senders_back']})", "< 5"],
            ["", "outage / pg_ctl start s", f"{fmt(r['outage_s'], 1)} / {fmt(r['pg_start_s'], 2)}", ""],
            ["", "connections closed by the outage", fmt(r["closed_connections"]), ""],
            ["", "stored / acked; checker", f"{fmt(r.get('stored'))} / {fmt(r.get('acked'))}; {r['checker']}",
             "clean, each cid once"],
            errors(r),
        ]
    if "kill" in results:
        r = results["kill"]
        rows += [
            ["node SIGKILL", "displaced clients converged",
             f"{r['converged']} ({fmt(r['within_5s_pct'])} % within 5 s)", "99 % within 5 s"],
            ["", "converged p50 / p99 / max s",
             f"{fmt(r['converged_p50_s'], 2)} / {fmt(r['converged_p99_s'], 2)} / {fmt(r['converged_max_s'], 2)}",
             "all within 15"],
            ["", "every client holds the pre-kill head, max s", fmt(r["all_clients_max_s"], 2), ""],
            ["", "stored / acked; checker", f"{fmt(r.get('stored'))} / {fmt(r.get('acked'))}; {r['checker']}",
             "clean, no hole"],
            errors(r),
        ]
    if "rolling" in results:
        r = results["rolling"]
        rows += [
            ["rolling restart", "exit codes; SIGTERM to exit max s",
             f"{r['exit_codes']}; {fmt(r['sigterm_to_exit_max_s'], 2)}", "0"],
            ["", "reconnects (unresumed); resume p50 / p99 / max s",
             f"{fmt(r['reconnects'])} ({r['unresumed']}); {fmt(r['resume_p50_s'], 2)} / "
             f"{fmt(r['resume_p99_s'], 2)} / {fmt(r['resume_max_s'], 2)}", "every one < 10"],
            ["", "HTTP probe: requests / 5xx / refused connections",
             f"{fmt(r['http_requests'])} / {fmt(r['http_5xx'])} / {fmt(r['http_refused'])}", "0 5xx"],
            ["", "stored / acked; checker", f"{fmt(r.get('stored'))} / {fmt(r.get('acked'))}; {r['checker']}",
             "clean, 0 lost"],
            errors(r),
        ]
    return table(["drill", "what", "measured", "bound (issue 16)"], rows, text_columns=2)
