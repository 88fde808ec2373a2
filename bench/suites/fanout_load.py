"""The fan-out suite's load generator (``python -m bench.loadgen steps|idle``), pinned to its
own core; it prints one JSON object.

``steps``  N subscribers join one room; a few of them also send at a paced, rising rate. Each
           body carries the sender's ``monotonic_ns`` so every receiver computes end-to-end
           latency. Per step: deliveries/s, latency p50/p99/max, ack latency, messages missing
           or duplicated per subscriber, error frames, unexpected closes, the server's CPU and
           RSS (psutil on ``--server-pid`` and its children) and this process's own CPU.
           With ``--steady N``: N steps at one rate, none adapted (the soak's bulk load).
           With ``--also PORT:PID`` (repeatable): more nodes serving the same room (one database
           and Redis); the subscribers are spread over the nodes, the senders are the first
           node's, and CPU, RSS and loop lag are the nodes' together (the big-room suite).
``idle``   K warm-up connections, then N more that join the room and stay idle; the server's RSS
           before and after gives its memory per idle joined connection.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from bench.harness import positive_float, positive_int, rate_list
from bench.probes import LoopLagProbe, ServerProbe, TreeProbe, core_busy, core_busy_pct, own_cpu_split, pct
from bench.wsload import HotLoop, Stats, WsClient, close_all, log, open_clients, register_users

_now_ns = time.monotonic_ns


async def run_steps(args: argparse.Namespace) -> dict:
    stats = Stats()
    probe = ServerProbe(args.server_pid, [pid for _, pid in args.also])
    aux = TreeProbe(args.aux_pid, args.aux_db)
    tag = args.tag or f"{os.getpid()}-{int(time.time())}"
    tokens: list[str | None] = [None]
    if args.register:
        tokens = list(await register_users(args.host, args.port, args.subscribers, tag))
    clients: list[WsClient] = []
    ports = ports_of(args)
    for index, port in enumerate(ports):  # the first node gets the remainder, and the senders
        count = args.subscribers // len(ports) + (args.subscribers % len(ports) if index == 0 else 0)
        start = len(clients)
        clients += await open_clients(args.host, port, tokens[start:start + count] or tokens, count, stats,
                                      args.room, args.connect_concurrency, args.source_addr)
    # The room may already have history: every subscriber expects the seq after its join.
    stats.max_acked_seq = max(c.next_seq - 1 for c in clients)
    await asyncio.sleep(0.5)
    hot = HotLoop(clients, stats)
    results: list[dict] = []
    try:
        # Rising rates until the first failure, then bisect between the last pass and it;
        # with --steady N, the first rate N times whatever each step gives (the soak's load).
        plan = [args.rates[0]] * args.steady if args.steady else list(args.rates)
        lo: float | None = None  # highest passing rate so far
        hi: float | None = None  # lowest failing rate so far
        rising = True
        refine_left = args.refine
        step_no = 0
        retried = -1  # step number of the last repeated step
        while plan:
            rate = plan.pop(0)
            step_no += 1
            row = measure_step(args, hot, clients, stats, probe, aux, step_no, rate)
            row["refine"] = not rising
            results.append(row)
            log(
                f"rate {rate:g}/s: {row['deliveries_per_s']:.0f} deliveries/s "
                f"p50 {row['p50_ms']:.1f} ms p99 {row['p99_ms']:.1f} ms "
                f"(first delivery p99 {row['first_p99_ms']:.1f}, spread p99 "
                f"{row['spread_p99_ms']:.1f}) "
                f"dropped {row['dropped']} server {row['server_cpu_pct']:.0f}% cpu "
                f"{row['server_cpu_us_per_delivery'] or 0:.1f} us/delivery, "
                f"loadgen {row['loadgen_cpu_pct']:.0f}% cpu, other processes "
                f"{row['foreign_cpu_pct']:.0f}% cpu"
                + ("" if row["ok"] else "  FAIL")
            )
            if stats.error_samples:
                log("error frames:", stats.error_samples[:3])
                stats.error_samples.clear()
            if not hot.by_fd:
                log("every connection is closed; stopping")
                break
            if args.steady:
                continue
            if (not row["ok"] and not row["dropped"] and retried != step_no - 1
                    and row["foreign_cpu_pct"] > args.retry_noisy_pct):
                # Too slow while other processes took CPU: run it once more, and let the
                # repeat decide (both rows are reported). A drop is never blamed on noise.
                row["superseded"] = True
                retried = step_no
                log(f"rate {rate:g}/s failed while other processes used "
                    f"{row['foreign_cpu_pct']:.0f}% of a core; repeating it once")
                plan.insert(0, rate)
                deadline = time.monotonic() + 2 * args.pause
                while (left := deadline - time.monotonic()) > 0:
                    hot.poll(left)
                continue
            if row["ok"]:
                lo = rate if lo is None else max(lo, rate)
            else:
                hi = rate if hi is None else min(hi, rate)
                if rising:
                    rising, plan = False, []
            if (not rising and refine_left > 0 and lo is not None and hi is not None
                    and hi - lo > args.refine_min):
                refine_left -= 1
                plan = [round((lo + hi) / 2, 1)]
            if plan:  # let a backlog from a failed step clear before the next one
                deadline = time.monotonic() + (args.pause if row["ok"] else 2 * args.pause)
                while (left := deadline - time.monotonic()) > 0:
                    hot.poll(left)
    finally:
        hot.close()
    if stats.close_codes:
        log("close codes:", stats.close_codes)
    await close_all(clients)
    return {
        "command": "steps",
        "subscribers": len(clients),
        "senders": args.senders,
        "step_seconds": args.step_seconds,
        "body_bytes": args.body_bytes,
        "close_codes": stats.close_codes,
        "steps": results,
    }


def measure_step(
    args: argparse.Namespace,
    hot: HotLoop,
    clients: list[WsClient],
    stats: Stats,
    probe: ServerProbe,
    aux: TreeProbe,
    step_no: int,
    rate: float,
) -> dict:
    """Send ``rate`` messages/s for ``args.step_seconds``, drain, and return the step's row."""
    senders = clients[: args.senders]
    pad = "x" * max(0, args.body_bytes - 20)
    room = args.room
    stats.latencies_ns = []
    stats.ack_latencies_ns = []
    stats.first_ns = {}
    stats.last_ns = {}
    base = (stats.delivered, stats.missing, stats.duplicates, stats.errors,
            stats.unexpected_closes, stats.acks)
    total = max(1, int(round(rate * args.step_seconds)))
    rss_max = probe.rss_bytes()
    cores0 = core_busy()
    aux0 = aux.snapshot()
    lags = [LoopLagProbe(args.host, port) for port in ports_of(args)]
    lag0 = [probe_.read() for probe_ in lags]
    cpu0, own0, t0 = probe.cpu_s(), own_cpu_split(), time.monotonic()
    next_rss = t0 + 0.5
    sent = 0
    while sent < total:
        now = time.monotonic()
        due = min(total, int((now - t0) * rate) + 1)
        while sent < due:
            cid = f"s{step_no}-{sent}"
            ts = _now_ns()
            stats.pending[cid] = ts
            senders[sent % len(senders)].send_obj(
                {"type": "send", "room": room, "body": f"{ts} {pad}", "cid": cid}
            )
            sent += 1
        if now >= next_rss:
            rss_max = max(rss_max, probe.rss_bytes())
            next_rss = now + 0.5
        delay = t0 + sent / rate - time.monotonic()
        hot.poll(delay if delay > 0 else 0)
    t_send_end = time.monotonic()
    window_s = t_send_end - t0
    delivered_in_window = stats.delivered - base[0]

    # Drain: every send acked (or refused) and every open subscriber at the newest seq.
    drain_deadline = t_send_end + args.drain_timeout
    while time.monotonic() < drain_deadline:
        if not stats.pending and all(
            c.next_seq > stats.max_acked_seq for c in clients if c.is_open
        ):
            break
        hot.poll(0.01)
    t_end = time.monotonic()
    cpu1, own1 = probe.cpu_s(), own_cpu_split()
    cores1 = core_busy()
    aux1 = aux.snapshot()
    rss_max = max(rss_max, probe.rss_bytes())
    lag = LoopLagProbe.worst([LoopLagProbe.step(start, probe_.read()) for probe_, start in zip(lags, lag0, strict=True)])

    unacked = len(stats.pending)
    stats.pending.clear()
    # Whatever a subscriber still lacks after the drain counts as missing (closed ones too).
    lagging = sum(max(0, stats.max_acked_seq - (c.next_seq - 1)) for c in clients)
    for c in clients:
        if c.next_seq <= stats.max_acked_seq:
            c.next_seq = stats.max_acked_seq + 1
    lat = sorted(stats.latencies_ns)
    ack = sorted(stats.ack_latencies_ns)
    first = sorted(stats.first_ns.values())
    spread = sorted(stats.last_ns[s] - f for s, f in stats.first_ns.items())
    delivered = stats.delivered - base[0]
    wall = t_end - t0
    server_cpu = cpu1 - cpu0
    own_cpu = sum(own1) - sum(own0)
    row = {
        "rate": rate,
        "sent": total,
        "acked": stats.acks - base[5],
        "offered_deliveries_per_s": rate * len(clients),
        "deliveries": delivered,
        "deliveries_per_s": delivered_in_window / window_s,
        "deliveries_per_s_incl_drain": delivered / wall,
        "p50_ms": pct(lat, 0.50),
        "p99_ms": pct(lat, 0.99),
        "max_ms": lat[-1] / 1e6 if lat else float("nan"),
        "first_p50_ms": pct(first, 0.50),
        "first_p99_ms": pct(first, 0.99),
        "spread_p50_ms": pct(spread, 0.50),
        "spread_p99_ms": pct(spread, 0.99),
        "ack_p50_ms": pct(ack, 0.50),
        "ack_p99_ms": pct(ack, 0.99),
        "missing": stats.missing - base[1] + lagging,
        "duplicates": stats.duplicates - base[2],
        "unacked": unacked,
        "errors": stats.errors - base[3],
        "unexpected_closes": stats.unexpected_closes - base[4],
        "drain_s": t_end - t_send_end,
        "server_cpu_pct": 100 * server_cpu / wall,
        "server_cpu_us_per_delivery": 1e6 * server_cpu / delivered if delivered else None,
        "server_rss_mib": rss_max / 2**20,
        "loadgen_cpu_pct": 100 * own_cpu / wall,
        "loadgen_user_pct": 100 * (own1[0] - own0[0]) / wall,
        "loadgen_us_per_delivery": 1e6 * own_cpu / delivered if delivered else None,
        "core_busy_pct": core_busy_pct(cores0, cores1),
        "aux_cpu_pct": 100 * TreeProbe.delta(aux0, aux1) / wall if aux.roots else None,
        **lag,
    }
    # CPU that neither the server, the load generator nor PostgreSQL/Redis used, summed over
    # all cores, in % of one core: other work on the machine that can disturb the figures.
    busy = row["core_busy_pct"]
    row["foreign_cpu_pct"] = max(0.0, sum(busy.values()) - row["server_cpu_pct"]
                                 - row["loadgen_cpu_pct"] - (row["aux_cpu_pct"] or 0.0))
    row["dropped"] = (row["missing"] + row["duplicates"] + row["unacked"]
                      + row["unexpected_closes"] + row["errors"])
    row["ok"] = row["dropped"] == 0 and row["p99_ms"] < args.p99_ms
    row["loadgen_saturated"] = row["loadgen_cpu_pct"] > args.loadgen_cpu_limit
    return row


def ports_of(args: argparse.Namespace) -> list[int]:
    """The ports of the nodes the room's subscribers connect to: --port, then each --also's."""
    return [args.port, *(port for port, _ in getattr(args, "also", []))]


def node_at(text: str) -> tuple[int, int]:
    """--also's PORT:PID."""
    port, sep, pid = text.partition(":")
    if not sep or not port.isdigit() or not pid.isdigit() or not 0 < int(port) < 65536 or int(pid) <= 0:
        raise argparse.ArgumentTypeError(f"expected PORT:PID (e.g. 8001:12345), got {text!r}")
    return int(port), int(pid)


async def run_idle(args: argparse.Namespace) -> dict:
    stats = Stats()
    probe = ServerProbe(args.server_pid)
    tag = args.tag or f"{os.getpid()}-{int(time.time())}"
    tokens: list[str | None] = [None]
    if args.register:
        tokens = list(await register_users(args.host, args.port, args.users, tag))
    warm = await open_clients(args.host, args.port, tokens, args.warmup, stats, args.room,
                              args.connect_concurrency, args.source_addr)
    await asyncio.sleep(args.settle)
    rss_before = probe.rss_bytes()
    lags = LoopLagProbe(args.host, args.port)
    lag0 = await asyncio.to_thread(lags.read)
    t0 = time.monotonic()
    idle = await open_clients(args.host, args.port, tokens, args.connections, stats, args.room,
                              args.connect_concurrency, args.source_addr)
    connect_s = time.monotonic() - t0
    lag1 = await asyncio.to_thread(lags.read)
    await asyncio.sleep(args.settle)
    rss_after = probe.rss_bytes()
    # Then the node holds them, idle: its loop's lag meanwhile (garbage collection over every
    # connection's objects is what stalls an idle node).
    lag2 = await asyncio.to_thread(lags.read)
    await asyncio.sleep(args.hold)
    lag3 = await asyncio.to_thread(lags.read)
    still_open = sum(c.is_open for c in idle)
    await close_all(warm + idle)
    return {
        "command": "idle",
        "warmup": len(warm),
        "connections": len(idle),
        "still_open": still_open,
        "connect_s": connect_s,
        "rss_before_mib": rss_before / 2**20,
        "rss_after_mib": rss_after / 2**20,
        "kib_per_connection": (rss_after - rss_before) / 1024 / max(1, len(idle)),
        "lag_connecting": LoopLagProbe.step(lag0, lag1),
        "lag_idle": LoopLagProbe.step(lag2, lag3),
        "hold_s": args.hold,
        "unexpected_closes": stats.unexpected_closes,
        "errors": stats.errors,
    }


def add_steps_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--subscribers", type=positive_int, default=1000)
    s.add_argument("--also", type=node_at, action="append", default=[], metavar="PORT:PID",
                   help="another node serving the room (the same database and Redis): the "
                        "subscribers are spread over the nodes, the senders stay on --port")
    s.add_argument("--senders", type=positive_int, default=10)
    s.add_argument("--rates", type=rate_list, default=rate_list("10,25,50,75,100,125,150"))
    s.add_argument("--step-seconds", type=positive_float, default=5.0)
    s.add_argument("--steady", type=positive_int, default=None, metavar="N",
                   help="N steps at the first of --rates, none adapted, repeated or bisected")
    s.add_argument("--drain-timeout", type=positive_float, default=10.0)
    s.add_argument("--pause", type=float, default=1.0, help="seconds between steps")
    s.add_argument("--p99-ms", type=positive_float, default=50.0)
    s.add_argument("--refine", type=int, default=3,
                   help="after the first failing rate, bisect this many times between it "
                        "and the last passing rate")
    s.add_argument("--retry-noisy-pct", type=positive_float, default=15.0,
                   help="repeat a failing step once when other processes used more than this "
                        "(%% of one core) during it")
    s.add_argument("--refine-min", type=positive_float, default=2.0,
                   help="stop bisecting when the interval is narrower than this (sends/s)")
    s.add_argument("--body-bytes", type=positive_int, default=64)
    s.add_argument("--loadgen-cpu-limit", type=positive_float, default=90.0)


def add_idle_arguments(i: argparse.ArgumentParser) -> None:
    i.add_argument("--connections", type=positive_int, default=10000)
    i.add_argument("--warmup", type=positive_int, default=100)
    i.add_argument("--users", type=positive_int, default=100)
    i.add_argument("--settle", type=positive_float, default=3.0)
    i.add_argument("--hold", type=positive_float, default=30.0,
                   help="seconds the connections then stay idle while the loop's lag is read")


# name: (help, add_arguments, connections needed, run)
COMMANDS = {
    "steps": ("rising send rates, one room", add_steps_arguments,
              lambda a: a.subscribers, run_steps),
    "idle": ("memory per idle joined connection", add_idle_arguments,
             lambda a: a.connections + a.warmup, run_idle),
}
