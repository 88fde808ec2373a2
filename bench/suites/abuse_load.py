"""The abuse suite's load generator (``python -m bench.loadgen abuse``), pinned to its own core;
it prints one JSON object.

``--observers`` members (20) join one room; each sends a short message every
``1/--observer-rate`` seconds (2/s each) and receives everyone's. One attacker, on
``--attacker-sockets`` connections (6), sends bodies of ``--attack-pattern`` (``![``) filling
the body limit, at ``--attack-rate`` sends/s over all its sockets (what the node does not take
comes back as ``rate_limited``). A prober asks ``/healthz`` every ``--probe-interval`` seconds
on a fresh connection, like a load balancer.

Reported: the observers' ack latency and delivery latency (p50, p99, max), the /healthz latency
(p50, p99, max), the attacker's sends offered, acked and refused per second, and the server's
CPU (its render workers included). It counts the costly bodies a render worker rendered and
those stored as plain text.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import time

from bench.harness import positive_float, positive_int
from bench.probes import ServerProbe, core_busy, core_busy_pct, own_cpu_split, pct
from bench.wsload import Stats, WsClient, close_all, http_json, log, register_users

_now_ns = time.monotonic_ns


async def connect(host: str, port: int, tokens: list[str], stats: Stats) -> list[WsClient]:
    loop = asyncio.get_running_loop()
    clients = []
    for token in tokens:
        _, client = await loop.create_connection(lambda t=token: WsClient(stats, host, port, t),
                                                 host, port)
        await asyncio.wait_for(client.opened, 30)
        clients.append(client)
    return clients


async def paced(rate: float, stop: asyncio.Event, send) -> int:
    """Call send(n) `rate` times a second until stop; returns how many were sent."""
    sent, t0 = 0, time.monotonic()
    while not stop.is_set():
        send(sent)
        sent += 1
        delay = t0 + sent / rate - time.monotonic()
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                pass
    return sent


async def probe_health(host: str, port: int, interval_s: float, stop: asyncio.Event,
                       out: list[int]) -> None:
    request = f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
    while not stop.is_set():
        t0 = _now_ns()
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(request)
        raw = await reader.read()
        writer.close()
        if b" 200 " in raw[:16]:
            out.append(_now_ns() - t0)
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except TimeoutError:
            pass


async def run_abuse(args: argparse.Namespace) -> dict:
    stats, attack = Stats(), Stats()
    probe = ServerProbe(args.server_pid)
    tag = args.tag or f"{os.getpid()}-{int(time.time())}"
    observer_tokens = await register_users(args.host, args.port, args.observers, f"{tag}-obs")
    [attacker_token] = await register_users(args.host, args.port, 1, f"{tag}-att")
    observers = await connect(args.host, args.port, observer_tokens, stats)
    for o in observers:
        o.send_obj({"type": "join", "room": args.room})
    await asyncio.wait_for(asyncio.gather(*(o.joined for o in observers)), 30)
    attackers = await connect(args.host, args.port, [attacker_token] * args.attacker_sockets, attack)
    log(f"{len(observers)} observers joined; the attacker has {len(attackers)} sockets")
    body = (args.attack_pattern * args.max_body_chars)[: args.max_body_chars - 8]
    pad = "x" * 40

    def observer_send(o: WsClient, n: int) -> None:
        cid = f"o{id(o)}-{n}"
        ts = _now_ns()
        stats.pending[cid] = ts
        o.send_obj({"type": "send", "room": args.room, "body": f"{ts} {pad}", "cid": cid})

    def attacker_send(n: int) -> None:
        cid = f"a{n}"
        attack.pending[cid] = _now_ns()
        attackers[n % len(attackers)].send_obj(
            {"type": "send", "room": args.room, "body": f"{body}{n:08d}", "cid": cid})

    stop = asyncio.Event()
    health: list[int] = []
    cpu0, t0 = probe.cpu_s(), time.monotonic()
    own0, cores0 = sum(own_cpu_split()), core_busy()
    tasks = [asyncio.create_task(paced(args.observer_rate, stop, lambda n, o=o: observer_send(o, n)))
             for o in observers]
    attacker_task = asyncio.create_task(paced(args.attack_rate, stop, attacker_send))
    prober = asyncio.create_task(probe_health(args.host, args.port, args.probe_interval, stop, health))
    await asyncio.sleep(args.seconds)
    stop.set()
    window_s = time.monotonic() - t0
    offered = await attacker_task
    observer_sent = sum(await asyncio.gather(*tasks))
    await prober
    cpu1 = probe.cpu_s()
    own1, cores1 = sum(own_cpu_split()), core_busy()
    deadline = time.monotonic() + 30  # the last answers
    while (stats.pending or attack.pending) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    _, metrics = await http_json(args.host, args.port, "GET", "/metrics")
    renders = {outcome: int(float(n)) for outcome, n in re.findall(
        r'^ecolink_renders_total\{outcome="([^"]+)"\} (\S+)$', str(metrics), re.M)}
    acks, lat, health = (sorted(stats.ack_latencies_ns), sorted(stats.latencies_ns), sorted(health))
    refused = attack.errors
    result = {
        "command": "abuse",
        "observers": len(observers),
        "attacker_sockets": len(attackers),
        "window_s": window_s,
        "attack_offered_per_s": offered / window_s,
        "attack_acked_per_s": attack.acks / window_s,
        "attack_refused_per_s": refused / window_s,
        "attack_unanswered": len(attack.pending),
        "attack_error_samples": [e.get("code") for e in attack.error_samples],
        "renders": renders,  # costly bodies: by a worker, or stored as plain text (why)
        "observer_sent": observer_sent,
        "observer_acked": stats.acks,
        "observer_unanswered": len(stats.pending),
        "observer_errors": stats.errors,
        "ack_p50_ms": pct(acks, 0.5), "ack_p99_ms": pct(acks, 0.99), "ack_max_ms": pct(acks, 1.0),
        "delivery_p50_ms": pct(lat, 0.5), "delivery_p99_ms": pct(lat, 0.99),
        "delivery_max_ms": pct(lat, 1.0),
        "healthz_n": len(health), "healthz_p50_ms": pct(health, 0.5),
        "healthz_p99_ms": pct(health, 0.99), "healthz_max_ms": pct(health, 1.0),
        "server_cpu_pct": 100 * (cpu1 - cpu0) / window_s,
        "loadgen_cpu_pct": 100 * (own1 - own0) / window_s,
        "unexpected_closes": stats.unexpected_closes + attack.unexpected_closes,
    }
    # CPU nobody of ours used, in % of one core: other work on the machine (see docs).
    busy = sum(core_busy_pct(cores0, cores1).values())
    result["foreign_cpu_pct"] = max(0.0, busy - result["server_cpu_pct"] - result["loadgen_cpu_pct"])
    log(f"attacker {result['attack_offered_per_s']:.0f}/s offered, "
        f"{result['attack_acked_per_s']:.1f}/s acked; observers' ack p99 "
        f"{result['ack_p99_ms']:.1f} ms, delivery p99 {result['delivery_p99_ms']:.1f} ms, "
        f"/healthz p99 {result['healthz_p99_ms']:.1f} ms; server CPU {result['server_cpu_pct']:.0f}%")
    await close_all(observers + attackers)
    return result


def add_arguments(s: argparse.ArgumentParser) -> None:
    s.set_defaults(room="clean-energy")
    s.add_argument("--observers", type=positive_int, default=20)
    s.add_argument("--observer-rate", type=positive_float, default=2.0,
                   help="messages/s each observer sends (default 2)")
    s.add_argument("--attacker-sockets", type=positive_int, default=6)
    s.add_argument("--attack-rate", type=positive_float, default=100.0,
                   help="worst-case sends/s the attacker offers over all its sockets (default 100)")
    s.add_argument("--attack-pattern", default="![", help="repeated to fill the body (default ![)")
    s.add_argument("--max-body-chars", type=positive_int, default=10000,
                   help="the server's ECOLINK_MAX_BODY_CHARS (default 10000)")
    s.add_argument("--seconds", type=positive_float, default=10.0)
    s.add_argument("--probe-interval", type=positive_float, default=0.05)


COMMANDS = {"abuse": ("one member sends worst-case bodies; the others measure", add_arguments,
                      lambda a: a.observers + a.attacker_sockets, run_abuse)}
