"""The export suite's live traffic (``python -m bench.loadgen export-live``): a busy room that must
not stall while the node streams an export (or, in the files suite, takes uploads); it prints one
JSON object. The suites run it through bench/busyroom.py.

--receivers WebSocket clients join the room (--room) and one more member sends to it at a paced
--rate, each body carrying the sender's ``monotonic_ns``. It runs until --stop-file exists (or
--max-seconds pass), after touching --ready-file once everyone has joined, then waits a moment
for the last deliveries. It returns every delivery as [send time ns, latency µs] (monotonic
clock: the suite compares these with the moments its exports started and ended, in the same
clock) and every send's acknowledgement the same way, plus anything missing, duplicated or
refused, and the round trips of WebSocket pings sent every --ping-ms (answered by the node's
event loop, no database: a stall there is the loop's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

import msgpack

from bench.harness import positive_float, positive_int
from bench.wsload import OP_PING, OP_PONG, Stats, WsClient, close_all, log, register_users

_now_ns = time.monotonic_ns


class LiveClient(WsClient):
    """Records each delivery's (send time, latency); the sender also its acks."""

    def __init__(self, stats: Stats, host: str, port: int, token: str | None, sink: list[list[int]],
                 acks: list[list[int]] | None = None) -> None:
        super().__init__(stats, host, port, token)
        self.sink = sink
        self.acks = acks
        self.pending: dict[str, int] = {}
        self.pongs: list[list[int]] | None = None

    def on_message(self, payload: bytes, now: int) -> None:
        m = msgpack.unpackb(payload)
        kind = m.get("type")
        if kind == "message" and self.acks is None:
            body = m.get("body", "")
            try:
                sent = int(body[: body.index(" ")])
            except ValueError:
                sent = None
            super().on_message(payload, now)  # seq bookkeeping: missing and duplicates
            if sent is not None:
                self.sink.append([sent, (now - sent) // 1000])
        elif kind == "ack" and self.acks is not None:
            sent = self.pending.pop(m.get("cid"), None)
            if sent is not None:
                self.acks.append([sent, (now - sent) // 1000])
        elif kind in ("joined", "error"):
            super().on_message(payload, now)

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_PONG and len(payload) == 8 and self.pongs is not None:
            sent = int.from_bytes(payload, "big")
            self.pongs.append([sent, (_now_ns() - sent) // 1000])
        else:
            super()._control(opcode, payload)


def add_live_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--receivers", type=positive_int, default=50)
    p.add_argument("--rate", type=positive_float, default=20.0, help="sends per second")
    p.add_argument("--ready-file", type=Path, required=True)
    p.add_argument("--stop-file", type=Path, required=True)
    p.add_argument("--max-seconds", type=positive_float, default=3600.0)
    p.add_argument("--ping-ms", type=positive_int, default=20,
                   help="the sender also pings the node this often: the pong's round trip is the event "
                        "loop's responsiveness, without the database (default 20)")
    p.add_argument("--accounts", type=positive_int, default=5,
                   help="accounts the receivers share (the node's socket cap per member is lifted)")
    p.add_argument("--texts", type=Path,
                   help="a JSON list of texts the bodies carry in turn after the send time (default: "
                        "one English sentence); the search suite sends bilingual ones")


async def join(args: argparse.Namespace, client: LiveClient) -> LiveClient:
    await asyncio.get_running_loop().create_connection(lambda: client, args.host, args.port)
    await asyncio.wait_for(client.opened, 30)
    client.send_obj({"type": "join", "room": args.room})
    await asyncio.wait_for(client.joined, 30)
    return client


async def run_live(args: argparse.Namespace) -> dict:
    stats = Stats()
    tag = args.tag or f"{os.getpid()}-{int(time.time())}"
    tokens = await register_users(args.host, args.port, args.accounts + 1, tag)
    deliveries: list[list[int]] = []
    acks: list[list[int]] = []
    t0 = time.monotonic()
    receivers = [await join(args, LiveClient(stats, args.host, args.port, tokens[1 + i % args.accounts], deliveries))
                 for i in range(args.receivers)]
    sender = await join(args, LiveClient(stats, args.host, args.port, tokens[0], deliveries, acks))
    log(f"{len(receivers)} receivers and the sender joined in {time.monotonic() - t0:.1f} s")
    args.ready_file.write_text(str(_now_ns()))
    log(f"{args.receivers} receivers and a sender at {args.rate:g}/s in {args.room}")
    pongs: list[list[int]] = []
    sender.pongs = pongs

    async def pinger() -> None:
        while True:
            sender.send_frame(OP_PING, _now_ns().to_bytes(8, "big"))
            await asyncio.sleep(args.ping_ms / 1000)

    pinging = asyncio.create_task(pinger())
    texts = json.loads(args.texts.read_text("utf-8")) if args.texts else ["live traffic during an export"]
    interval = 1.0 / args.rate
    started = time.monotonic()
    next_at = started
    sent = 0
    while not args.stop_file.exists() and time.monotonic() - started < args.max_seconds:
        now = time.monotonic()
        if now < next_at:
            await asyncio.sleep(next_at - now)
        next_at += interval
        ts = _now_ns()
        cid = f"live-{sent}"
        sender.pending[cid] = ts
        sender.send_obj({"type": "send", "room": args.room, "body": f"{ts} {texts[sent % len(texts)]}",
                         "cid": cid})
        sent += 1
    pinging.cancel()
    await asyncio.sleep(3.0)  # the last deliveries
    received = [c.received for c in receivers]
    result = {
        "receivers": len(receivers), "sent": sent, "seconds": time.monotonic() - started,
        "deliveries": deliveries, "acks": acks, "pings": pongs, "unacked": len(sender.pending),
        "short": sum(max(0, sent - r) for r in received), "missing": stats.missing,
        "duplicates": stats.duplicates, "errors": stats.errors, "error_samples": stats.error_samples,
        "unexpected_closes": stats.unexpected_closes,
    }
    await close_all([*receivers, sender])
    return result


COMMANDS = {
    "export-live": ("a busy room's deliveries while exports run", add_live_arguments,
                    lambda a: a.receivers + 1, run_live),
}
