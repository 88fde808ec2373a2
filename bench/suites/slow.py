"""Slow consumers and wedged Redis subscriptions (issue 16, cases 5 and 3).

slow   One node process (PostgreSQL + Redis, production queue settings), --readers fast readers
       in one room and one sender at --rate sends/s, each body carrying its send time. Rounds
       alternate a phase without and a phase with one more reader that joins and then reads
       nothing (a 4 KiB kernel receive buffer, so TCP flow control stops the server's writes
       at once). A phase with lasts until the server closes that reader (the node's
       ecolink_slow_consumer_closes_total rises, scraped every 0.1 s) and the phase without
       that follows is as long, scraped the same way; the messages sent while the closed
       reader reads what it had count in neither.
       Reported: the fast readers' latency p50/p99 without and with (the issue's bound: p99
       with ≤ 1.2 × without), the time to the close, the close code the slow reader then reads,
       how many messages it had, and the server's RSS growth while it was stuck (its queue
       is bounded by ECOLINK_SEND_QUEUE_FRAMES frames).
wedge  Two node processes on one database and Redis; node A reaches Redis through a proxy in
       this process (tests/support/blackhole.py) that --wedges times silences every open
       connection (no FIN, no RST: a firewall or NAT dropping the flow). A sender on node B,
       readers on both. Reported per wedge: when A's /readyz left "ready" (detection; the
       issue's bound 10 s), when it was "ready" again (resubscribed and backfilled), the
       longest a message took to reach A's reader meanwhile, and at the end the history
       checker over everything (nothing acked lost, no hole, no duplicate).

Both run with the node's default settings but for the lifted rate limits every suite uses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import platform
import socket
import time
from typing import Any

import msgpack
import websockets

from bench import nodes
from chat.config import Settings
from bench.harness import (
    BenchError,
    Report,
    add_pinning_arguments,
    fmt,
    log,
    machine_lines,
    percentile,
    pinning_line,
    positive_float,
    positive_int,
    table,
)
from bench.targets import LIFTED_LIMITS

NAME = "slow"
HELP = "slow consumers (others' p99, queue bound, close) and wedged Redis subscriptions"
MODES = ("postgres",)
DEFAULT_MODE = "postgres"
ROOM = "green-transport"  # a seeded room (chat/store/catalog.py)
SLOW_METRIC = "ecolink_slow_consumer_closes_total"
P99_BOUND = 1.2
DETECT_BOUND_S = 10.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_pinning_arguments(p)  # the slow part: node and clients each on a core of their own
    p.add_argument("--parts", default="slow,wedge", help="which parts to run (default slow,wedge)")
    p.add_argument("--readers", type=positive_int, default=20, help="fast readers (default 20)")
    p.add_argument("--rate", type=positive_float, default=50.0, help="sends/s (default 50)")
    p.add_argument("--body-bytes", type=positive_int, default=2000,
                   help="message body size (default 2000)")
    p.add_argument("--rounds", type=positive_int, default=3,
                   help="phases without and with the slow reader (default 3 of each)")
    p.add_argument("--phase-max-s", type=positive_float, default=90.0,
                   help="longest wait for the slow reader's close (default 90)")
    p.add_argument("--wedges", type=positive_int, default=5, help="wedges (default 5)")
    p.add_argument("--wedge-rate", type=positive_float, default=20.0,
                   help="sends/s during the wedges (default 20)")


def run(args: argparse.Namespace) -> Report:
    nodes.resolve_services(args)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not parts <= {"slow", "wedge"}:
        raise BenchError(f"--parts: unknown {sorted(parts - {'slow', 'wedge'})}")
    env_lines = machine_lines() + [
        f"- Python {platform.python_version()}; PostgreSQL "
        f"{nodes.postgres_version(args.pg_admin_url)}; Redis {nodes.redis_version(args.redis_url)}",
        pinning_line(args) + " (the slow part; the wedge part's two nodes are unpinned)",
    ]
    report = Report(NAME, env_lines)
    if "slow" in parts:
        report.results["slow"] = result = run_slow(args)
        report.add("Slow consumer: the other readers' latency", slow_tables(result, args))
    if "wedge" in parts:
        report.results["wedge"] = result = run_wedge(args)
        report.add("Wedged Redis subscription", wedge_tables(result))
    return report


# ---------------------------------------------------------------------------------------------
# Slow consumer


def run_slow(args: argparse.Namespace) -> dict:
    nodes.wait_quiet(args)
    preexec = nodes.pinned(args.server_core, args.nice, args.realtime)
    with nodes.fresh_node_env("postgres", args, dict(LIFTED_LIMITS), tag="slow") as env, \
            nodes.running(lambda port: nodes.serve_command(args, port), env.env, preexec,
                          name="node") as (proc, port):
        # The clients (this process) on the other core, as the node's load generator would be.
        affinity = os.sched_getaffinity(0)
        nodes.pinned(args.loadgen_core, args.nice, args.realtime)()
        try:
            return asyncio.run(slow_consumer(args, port, proc.pid))
        finally:
            if args.realtime:
                os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
            os.sched_setaffinity(0, affinity)


class Readers:
    """Fast readers: every message's latency goes to the phase its body names."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        # From the start of the message's commit (its sent_at, stamped as the batch's
        # transaction begins) to here: the transaction and the fan-out, without the wait for a
        # batch slot, which the machine's other work makes noisy.
        self.fanout: dict[str, list[float]] = {}
        self.closes: list[int | None] = []

    async def read(self, ws: Any) -> None:
        try:
            async for data in ws:
                now, wall = time.monotonic_ns(), time.time()
                frame = msgpack.unpackb(data)
                if frame.get("type") == "message":
                    sent_ns, phase, _ = frame["body"].split(" ", 2)
                    self.latencies.setdefault(phase, []).append((now - int(sent_ns)) / 1e6)
                    committed = dt.datetime.fromisoformat(frame["sent_at"]).timestamp()
                    self.fanout.setdefault(phase, []).append((wall - committed) * 1000)
        except websockets.ConnectionClosed:
            pass
        self.closes.append(ws.close_code)


async def slow_consumer(args: argparse.Namespace, port: int, pid: int) -> dict:
    import psutil

    from tests.support.client import WsClient, register

    base, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    server = psutil.Process(pid)
    readers = Readers()
    clients = []
    for i in range(args.readers):
        client = await WsClient.connect(ws_url, (await register(base, f"fast{i}"))["token"])
        assert (await client.join(ROOM))["type"] == "joined"
        clients.append(client)
    tasks = [asyncio.create_task(readers.read(c.ws)) for c in clients]
    sender = await WsClient.connect(ws_url, (await register(base, "sender"))["token"])
    acks = asyncio.create_task(_drain(sender.ws))
    phase = ["warmup"]
    stop = asyncio.Event()
    sending = asyncio.create_task(_send_paced(sender, args, phase, stop))
    slow_account = await register(base, "slow")
    rounds: list[dict] = []
    try:
        await asyncio.sleep(3)
        for n in range(args.rounds):
            # With first, so that the phase without that follows can be as long.
            row: dict[str, Any] = {"round": n + 1}
            rss_before = server.memory_info().rss
            closes_before = await _metric(base, SLOW_METRIC)
            slow = await WsClient.connect(ws_url, slow_account["token"], max_queue=1,
                                          sock=_small_receive_buffer_socket(port))
            joined = await slow.join(ROOM)
            phase[0] = f"with{n}"
            started = time.monotonic()
            rss_peak = rss_before
            while await _metric(base, SLOW_METRIC) <= closes_before:
                rss_peak = max(rss_peak, server.memory_info().rss)
                if time.monotonic() - started > args.phase_max_s:
                    raise BenchError(f"the slow reader was not closed within {args.phase_max_s:g} s")
                await asyncio.sleep(0.1)
            row["close_s"] = time.monotonic() - started
            row["rss_growth_mib"] = (rss_peak - rss_before) / 2**20
            # Now it reads what reached its socket, then the close frame (or none: 1006): its
            # megabytes cost this process, so those deliveries count in neither phase.
            phase[0] = "between"
            had = 0
            with contextlib.suppress(websockets.ConnectionClosed, TimeoutError):
                while True:
                    frame = msgpack.unpackb(await asyncio.wait_for(slow.ws.recv(), 30))
                    had += frame.get("type") == "message"
            row["close_code"] = slow.ws.close_code
            row["slow_had"] = had
            row["slow_joined_seq"] = joined.get("seq")
            # The phase without, as long, watched the same way (a /metrics scrape and an RSS
            # reading every 0.1 s): the two phases differ only by the slow reader.
            phase[0] = f"without{n}"
            started = time.monotonic()
            while time.monotonic() - started < row["close_s"]:
                await _metric(base, SLOW_METRIC)
                server.memory_info()
                await asyncio.sleep(0.1)
            rounds.append(row)
            log(f"round {n + 1}: closed after {row['close_s']:.1f} s with "
                f"{row['close_code']}, it had {had} messages; RSS +{row['rss_growth_mib']:.1f} MiB")
    finally:
        stop.set()
        await sending
        with contextlib.suppress(Exception):
            await asyncio.wait_for(acks, 1)
        for client in [*clients, sender]:
            with contextlib.suppress(Exception):
                await client.close()
        await asyncio.gather(*tasks, return_exceptions=True)
    out: dict[str, Any] = {"rounds": rounds}
    for key, lat in (("", readers.latencies), ("fanout_", readers.fanout)):
        for row in rounds:
            n = row["round"] - 1
            row[key + "with"] = _summary(lat.get(f"with{n}", []))
            row[key + "without"] = _summary(lat.get(f"without{n}", []))
        out[key + "with"] = _summary([v for k, vs in lat.items()
                                      if k.startswith("with") and not k.startswith("without")
                                      for v in vs])
        out[key + "without"] = _summary([v for k, vs in lat.items() if k.startswith("without")
                                         for v in vs])
    unexpected = [c for c in readers.closes if c not in (1000, 1001, None)]
    return {**out,
            "fast_reader_closes": unexpected,
            "send_queue_frames": Settings.model_fields["send_queue_frames"].default}


async def _send_paced(sender: Any, args: argparse.Namespace, phase: list[str],
                      stop: asyncio.Event) -> None:
    interval = 1 / args.rate
    pad = "x" * args.body_bytes
    next_at = time.monotonic()
    i = 0
    while not stop.is_set():
        body = f"{time.monotonic_ns()} {phase[0]} {i:08d}{pad}"[:args.body_bytes + 40]
        await sender.send(ROOM, body)
        i += 1
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def _drain(ws: Any) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        async for _ in ws:
            pass


def _small_receive_buffer_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


async def _metric(base_url: str, name: str) -> float:
    from tests.support.probes import metric

    return await metric(base_url, name)


def _summary(values: list[float]) -> dict:
    return {"count": len(values), "p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99),
            "max_ms": max(values) if values else None}


def _ratio(r: dict, key: str) -> str:
    if not r[key + "without"]["count"]:
        return "–"
    ratio = r[key + "with"]["p99_ms"] / r[key + "without"]["p99_ms"]
    return f"{ratio:.2f}× ({'within' if ratio <= P99_BOUND else '**over**'} the bound {P99_BOUND}×)"


def slow_tables(r: dict, args: argparse.Namespace) -> str:
    head = (f"{args.readers} fast readers, 1 sender at {args.rate:g}/s, {args.body_bytes}-byte "
            f"bodies, {args.rounds} rounds; send queue bound {r['send_queue_frames']} frames "
            "(default ECOLINK_SEND_QUEUE_FRAMES). End to end = send → receipt (includes the "
            "durable commit); fan-out = the commit's start (`sent_at`) → receipt.\n\n")
    rows = []
    for key, what in (("", "end to end"), ("fanout_", "fan-out")):
        for phase in ("without", "with"):
            x = r[key + phase]
            rows.append([f"{what}, {phase} the slow reader", fmt(x["count"]), fmt(x["p50_ms"]),
                         fmt(x["p99_ms"]), fmt(x["max_ms"])])
    summary = table(["latency", "deliveries", "p50 ms", "p99 ms", "max ms"], rows)
    rows = [[str(row["round"]), fmt(row["without"]["p99_ms"]), fmt(row["with"]["p99_ms"]),
             fmt(row["fanout_without"]["p99_ms"]), fmt(row["fanout_with"]["p99_ms"]),
             fmt(row["close_s"]), str(row["close_code"]), fmt(row["slow_had"]),
             fmt(row["rss_growth_mib"])] for row in r["rounds"]]
    per_round = table(["round", "e2e p99 without ms", "e2e p99 with ms", "fan-out p99 without ms",
                       "fan-out p99 with ms", "closed after s", "close code", "messages it had",
                       "server RSS growth MiB"], rows)
    closes = r["fast_reader_closes"]
    verdict = f"end to end {_ratio(r, '')}; fan-out {_ratio(r, 'fanout_')}"
    return (head + summary + f"\n\np99 with / without: {verdict}. Fast readers closed "
            f"unexpectedly: {len(closes)}.\n\n" + per_round)


# ---------------------------------------------------------------------------------------------
# Wedged subscription


def run_wedge(args: argparse.Namespace) -> dict:
    with nodes.fresh_node_env("postgres", args, dict(LIFTED_LIMITS), tag="wedge") as env:
        return asyncio.run(wedge(args, env))


async def wedge(args: argparse.Namespace, env: nodes.NodeEnv) -> dict:
    from tests.support.blackhole import BlackholeProxy
    from tests.support.client import register
    from tests.support.history import Peer, check, stored_messages
    from tests.support.probes import readyz

    redis_port = nodes.port_of(args.redis_url, 6379)
    redis_host = args.redis_url.split("//", 1)[1].split(":", 1)[0].split("/", 1)[0] or "127.0.0.1"
    command = lambda port: nodes.serve_command(args, port)  # noqa: E731
    async with BlackholeProxy.running(redis_host, redis_port) as proxy:
        env_a = {**env.env, "ECOLINK_REDIS_URL": proxy.url}
        proc_a, port_a = await asyncio.to_thread(nodes.start_node, command, env_a, None, "node A")
        try:
            proc_b, port_b = await asyncio.to_thread(nodes.start_node, command, env.env, None, "node B")
            try:
                return await _wedges(args, proxy, port_a, port_b, env.env["ECOLINK_DATABASE_URL"],
                                     register, Peer, check, stored_messages, readyz)
            finally:
                await asyncio.to_thread(nodes.stop, proc_b)
        finally:
            await asyncio.to_thread(nodes.stop, proc_a)


async def _wedges(args, proxy, port_a, port_b, dsn, register, Peer, check, stored_messages,
                  readyz) -> dict:
    from chat.store.postgres import PostgresStore

    a, b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    reader_a = await Peer.connect(f"ws://127.0.0.1:{port_a}/ws", await register(a, "reader-a"))
    reader_b = await Peer.connect(f"ws://127.0.0.1:{port_b}/ws", await register(b, "reader-b"))
    sender = await Peer.connect(f"ws://127.0.0.1:{port_b}/ws", await register(b, "sender"))
    for peer in (reader_a, reader_b):
        await peer.join(ROOM)
    stop = asyncio.Event()
    sending = asyncio.create_task(sender.send_until(ROOM, stop, pause_s=1 / args.wedge_rate))
    rows = []
    loop = asyncio.get_running_loop()
    try:
        for n in range(args.wedges):
            await asyncio.sleep(3)
            assert (await readyz(a))[0] == 200, "node A not ready before the wedge"
            wedged_at = loop.time()
            count = proxy.wedge()
            detected = recovered = None
            while recovered is None:
                status, body = await readyz(a)
                now = loop.time()
                if detected is None and status != 200:
                    detected = now
                elif detected is not None and status == 200:
                    recovered = now
                if now - wedged_at > 60:
                    raise BenchError("node A did not notice the wedge and recover within 60 s")
                await asyncio.sleep(0.05)
            # The longest any message sent since the wedge took to reach node A's reader.
            head = max(x.seq for x in sender.log.acks)
            await reader_a.until(lambda head=head: reader_a.has_seq(ROOM, head), "A catches up", 30)
            rows.append({"wedge": n + 1, "connections": count, "detect_s": detected - wedged_at,
                         "ready_s": recovered - wedged_at,
                         "back_after_detect_s": recovered - detected})
            log(f"wedge {n + 1}: {count} connections; not ready after "
                f"{detected - wedged_at:.2f} s, ready again after {recovered - wedged_at:.2f} s")
    finally:
        stop.set()
        await sending
    head = max(x.seq for x in sender.log.acks)
    for peer in (reader_a, reader_b):
        await peer.until(lambda peer=peer: peer.has_seq(ROOM, head), "every reader has the head", 30)
    async with PostgresStore.open(dsn, min_size=1, max_size=1) as store:
        stored = await stored_messages(store, [ROOM])
    try:
        acked = check(stored, [reader_a.log, reader_b.log, sender.log]).acked
        verdict = "clean"
    except AssertionError as exc:  # a violation is the finding: report it, do not hide it
        acked, verdict = len(sender.log.acks), f"**violations**: {str(exc)[:500]}"
    for peer in (reader_a, reader_b, sender):
        await peer.close()
    return {"wedges": rows, "acked": acked, "stored": len(stored),
            "sender_errors": len(sender.log.errors), "checker": verdict}


def wedge_tables(r: dict) -> str:
    rows = [[str(w["wedge"]), str(w["connections"]), fmt(w["detect_s"], 2), fmt(w["ready_s"], 2),
             fmt(w["back_after_detect_s"], 2)] for w in r["wedges"]]
    worst = max(w["detect_s"] for w in r["wedges"])
    return (table(["wedge", "connections silenced", "not ready after s", "ready again after s",
                   "resubscribed + backfilled s after detection"], rows)
            + f"\n\nSlowest detection {worst:.2f} s ({'within' if worst < DETECT_BOUND_S else '**over**'}"
            f" the bound {DETECT_BOUND_S:g} s). History checker: {r['checker']} — {r['acked']} acked, "
            f"{r['stored']} stored, {r['sender_errors']} send errors.")

