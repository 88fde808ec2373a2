"""The presence suite's load generator (``python -m bench.loadgen presence``), pinned to its own
core; it prints one JSON object.

``--observers`` clients (50) join one room and stay. ``--members`` other clients (1,000, each
its own account) are connected but not in the room. Then, round after round for ``--seconds``
(10), every member sends ``join`` at once, each sends one ``typing`` when its ``joined``
arrives, and once all have joined every member sends ``leave`` at once — 2,000 presence changes
per round, as fast as the server takes them. Meanwhile one observer sends ``--send-rate``
messages/s, so the message latency under churn is measured too.

Reported: presence and typing frames each observer received per second (mean and worst
observer, and the worst 1-second window), their bytes, the snapshot bytes members received with
their ``joined``, join latency, message latency p50/p99 during the churn, whether every observer
ended with the right set of online users, and the server's CPU over the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import msgpack

from bench.harness import positive_float, positive_int
from bench.probes import ServerProbe, TreeProbe, core_busy, core_busy_pct, own_cpu_split, pct
from bench.wsload import Stats, WsClient, close_all, log, register_users

_unpackb = msgpack.unpackb
_now_ns = time.monotonic_ns
PRESENCE_TAG = msgpack.packb("presence")
FULL_TAG = msgpack.packb("full") + msgpack.packb(True)


class Run:
    """What the observers saw."""

    def __init__(self, room: str, typing: bool) -> None:
        self.room = room
        self.typing = typing  # members send one `typing` when joined
        self.counting = False
        self.join_latencies_ns: list[int] = []
        self.member_snapshot_bytes = 0
        self.member_frames = 0
        self.member_change_bytes = 0  # presence changes members received while in the room


class Client(WsClient):
    """The load generator's client, plus presence/typing bookkeeping."""

    def __init__(self, stats: Stats, host: str, port: int, token: str | None, run: Run,
                 observer: bool) -> None:
        super().__init__(stats, host, port, token)
        self.run = run
        self.observer = observer
        self.online: dict[int, str] | None = None
        self.presence_at: list[int] = []  # arrival times (ns) of counted presence frames
        self.presence_bytes = 0
        self.typing = 0
        self.join_sent_ns = 0
        self.in_room = False
        self.answers: asyncio.Future[str] | None = None  # the next joined/left/error

    def expect(self) -> asyncio.Future[str]:
        self.answers = asyncio.get_running_loop().create_future()
        return self.answers

    def _answer(self, kind: str) -> None:
        if self.answers is not None and not self.answers.done():
            self.answers.set_result(kind)

    def on_message(self, payload: bytes, now: int) -> None:
        if not self.observer and PRESENCE_TAG in payload[:16]:
            # A member does not need the list: skip decoding 1,000-entry frames, so that the
            # load generator is not what limits the burst.
            if FULL_TAG in payload[:96]:
                self.run.member_snapshot_bytes += len(payload)
                self.run.member_frames += 1
            else:
                self.run.member_change_bytes += len(payload)
            return
        m = _unpackb(payload)
        kind = m["type"]
        run = self.run
        if kind == "presence":
            self._presence(m, len(payload), now)
        elif kind == "typing":
            if run.counting and self.observer:
                self.typing += 1
        elif kind == "joined":
            self.in_room = True
            if self.observer:
                super().on_message(payload, now)  # seq bookkeeping for message latency
            elif self.join_sent_ns:
                run.join_latencies_ns.append(now - self.join_sent_ns)
                if run.typing:
                    self.send_obj({"type": "typing", "room": run.room})
            self._answer(kind)
        elif kind == "left":
            self.in_room = False
            self._answer(kind)
        elif kind == "error":
            self.stats.record_error(m)
            self._answer(kind)
        elif self.observer:
            super().on_message(payload, now)  # message, ack

    def _presence(self, m: dict, size: int, now: int) -> None:
        if m["room"] != self.run.room:
            return
        came = {user["id"]: user["name"] for user in m["online"]}
        if m["full"]:
            self.online = came
            if not self.observer:
                self.run.member_snapshot_bytes += size
                self.run.member_frames += 1
            return
        if self.online is None:
            self.online = {}
        self.online.update(came)
        for user_id in m["offline"]:
            self.online.pop(user_id, None)
        if self.observer and self.run.counting:
            self.presence_at.append(now)
            self.presence_bytes += size


async def connect(host: str, port: int, tokens: list[str], stats: Stats, run: Run,
                  observer: bool, concurrency: int = 64) -> list[Client]:
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(concurrency)

    async def one(token: str) -> Client:
        async with sem:
            _, client = await loop.create_connection(
                lambda: Client(stats, host, port, token, run, observer), host, port)
            await asyncio.wait_for(client.opened, 30)
            return client

    return list(await asyncio.gather(*(one(token) for token in tokens)))


async def everyone(clients: list[Client], frame: dict, timeout_s: float = 60.0) -> list[str]:
    """Send `frame` to all clients at once; wait for each one's answer."""
    waits = [c.expect() for c in clients]
    now = _now_ns()
    for c in clients:
        if frame["type"] == "join":
            c.join_sent_ns = now
        c.send_obj(frame)
    return list(await asyncio.wait_for(asyncio.gather(*waits), timeout_s))


async def send_messages(sender: Client, room: str, rate: float, stop: asyncio.Event) -> int:
    sent = 0
    t0 = time.monotonic()
    pad = "x" * 40
    while not stop.is_set():
        cid = f"p{sent}"
        ts = _now_ns()
        sender.stats.pending[cid] = ts
        sender.send_obj({"type": "send", "room": room, "body": f"{ts} {pad}", "cid": cid})
        sent += 1
        delay = t0 + sent / rate - time.monotonic()
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                pass
    return sent


def max_in_window(times_ns: list[int], window_ns: int = 1_000_000_000) -> int:
    best, start = 0, 0
    for end, t in enumerate(times_ns):
        while t - times_ns[start] >= window_ns:
            start += 1
        best = max(best, end - start + 1)
    return best


async def run_presence(args: argparse.Namespace) -> dict:
    stats = Stats()
    run = Run(args.room, typing=args.presence and args.typing)
    probe = ServerProbe(args.server_pid)
    aux = TreeProbe(args.aux_pid, args.aux_db)
    tag = args.tag or f"{os.getpid()}-{int(time.time())}"
    observer_tokens = await register_users(args.host, args.port, args.observers, f"{tag}-obs")
    member_tokens = await register_users(args.host, args.port, args.members, f"{tag}-mem")
    observers = await connect(args.host, args.port, observer_tokens, stats, run, observer=True)
    members = await connect(args.host, args.port, member_tokens, stats, run, observer=False)
    log(f"{len(observers)} observers and {len(members)} members connected")
    answers = await everyone(observers, {"type": "join", "room": args.room})
    assert set(answers) == {"joined"}, answers
    # Let the observers' own arrival settle: every one of them sees all of them.
    expected = None if args.presence else set()
    deadline = time.monotonic() + 30
    while expected is None and time.monotonic() < deadline:
        views = [set(o.online or {}) for o in observers]
        if views[0] and all(v == views[0] for v in views) and len(views[0]) == len(observers):
            expected = views[0]
            break
        await asyncio.sleep(0.05)
    if expected is None:
        raise SystemExit("observers never saw each other: is presence working?")
    await asyncio.sleep(args.settle)

    stop = asyncio.Event()
    run.counting = True
    cpu0, aux0, t0 = probe.cpu_s(), aux.snapshot(), time.monotonic()
    own0, cores0 = sum(own_cpu_split()), core_busy()
    sender = asyncio.create_task(send_messages(observers[0], args.room, args.send_rate, stop))
    errors = rounds = 0
    while rounds == 0 or time.monotonic() - t0 < args.seconds:
        got = await everyone(members, {"type": "join", "room": args.room})
        errors += sum(kind != "joined" for kind in got)
        got = await everyone(members, {"type": "leave", "room": args.room})
        errors += sum(kind != "left" for kind in got)
        rounds += 1
    burst_s = time.monotonic() - t0
    log(f"{rounds} rounds of {len(members)} joins and leaves in {burst_s:.1f}s")
    # Until every observer's view is back to just the observers (the last coalesced change).
    deadline = time.monotonic() + 30
    while (args.presence and time.monotonic() < deadline
           and any(set(o.online or {}) != expected for o in observers)):
        await asyncio.sleep(0.01)
    converged = sum(set(o.online or {}) == expected for o in observers)
    # One more interval: a stray frame after convergence would be counted too.
    await asyncio.sleep(args.interval)
    window_s = time.monotonic() - t0
    stop.set()
    sent = await sender
    cpu1, aux1 = probe.cpu_s(), aux.snapshot()
    own1, cores1 = sum(own_cpu_split()), core_busy()
    run.counting = False
    await asyncio.sleep(0.5)  # last acks
    per_observer = [len(o.presence_at) for o in observers]
    rates = [n / window_s for n in per_observer]
    windows = [max_in_window(o.presence_at) for o in observers]
    typing_rates = [o.typing / window_s for o in observers]
    lat = sorted(stats.latencies_ns)
    joins = sorted(run.join_latencies_ns)
    changes = 2 * rounds * len(members)
    result = {
        "command": "presence",
        "observers": len(observers),
        "members": len(members),
        "rounds": rounds,
        "presence_changes": changes,
        "burst_s": burst_s,
        "window_s": window_s,
        "presence_frames_per_observer_mean": sum(per_observer) / len(per_observer),
        "presence_frames_per_observer_max": max(per_observer),
        "presence_frames_per_s_mean": sum(rates) / len(rates),
        "presence_frames_per_s_max": max(rates),
        "presence_frames_max_in_1s": max(windows),
        "presence_bytes_per_observer_mean": sum(o.presence_bytes for o in observers) / len(observers),
        "typing_frames_per_observer_mean": sum(o.typing for o in observers) / len(observers),
        "typing_frames_per_s_mean": sum(typing_rates) / len(typing_rates),
        "member_snapshots": run.member_frames,
        "member_snapshot_bytes": run.member_snapshot_bytes,
        "member_change_bytes": run.member_change_bytes,
        "join_p50_ms": pct(joins, 0.5),
        "join_p99_ms": pct(joins, 0.99),
        "messages_sent": sent,
        "messages_acked": stats.acks,
        "message_deliveries": stats.delivered,
        "message_p50_ms": pct(lat, 0.5),
        "message_p99_ms": pct(lat, 0.99),
        "message_missing": stats.missing,
        "message_duplicates": stats.duplicates,
        "converged_observers": converged,
        "errors": stats.errors + errors,
        "error_samples": stats.error_samples,
        "unexpected_closes": stats.unexpected_closes,
        "server_cpu_s": cpu1 - cpu0,
        "server_cpu_pct": 100 * (cpu1 - cpu0) / window_s,
        "server_cpu_us_per_change": 1e6 * (cpu1 - cpu0) / changes,
        "server_rss_mib": probe.rss_bytes() / 2**20,
        "loadgen_cpu_pct": 100 * (own1 - own0) / window_s,
        "core_busy_pct": core_busy_pct(cores0, cores1),
        "aux_cpu_pct": 100 * TreeProbe.delta(aux0, aux1) / window_s if aux.roots else None,
    }
    # CPU nobody of ours used, in % of one core: other work on the machine (see docs).
    result["foreign_cpu_pct"] = max(0.0, sum(result["core_busy_pct"].values())
                                    - result["server_cpu_pct"] - result["loadgen_cpu_pct"]
                                    - (result["aux_cpu_pct"] or 0.0))
    log(f"presence frames per observer: {result['presence_frames_per_observer_mean']:.1f} "
        f"({result['presence_frames_per_s_mean']:.2f}/s, at most {result['presence_frames_max_in_1s']} "
        f"in any second) for {changes} changes in {burst_s:.1f}s; server CPU "
        f"{result['server_cpu_pct']:.0f}%; message p99 {result['message_p99_ms']:.1f} ms; "
        f"{converged}/{len(observers)} observers converged")
    await close_all(observers + members)
    return result


def add_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--members", type=positive_int, default=1000)
    s.add_argument("--observers", type=positive_int, default=50)
    s.add_argument("--seconds", type=positive_float, default=10.0,
                   help="keep churning for this long, in whole rounds (default 10)")
    s.add_argument("--send-rate", type=positive_float, default=20.0,
                   help="messages/s one observer sends during the churn (default 20)")
    s.add_argument("--settle", type=positive_float, default=1.0)
    s.add_argument("--no-typing", dest="typing", action="store_false",
                   help="members do not send a typing indicator after each join")
    s.add_argument("--no-presence", dest="presence", action="store_false",
                   help="the server has no presence (an older build, for comparison): do not "
                        "wait for presence frames")
    s.add_argument("--interval", type=positive_float, default=0.5,
                   help="the server's ECOLINK_PRESENCE_INTERVAL_S (waited once after the end)")


COMMANDS = {"presence": ("members join and leave one room in bursts", add_arguments,
                         lambda a: a.members + a.observers, run_presence)}
