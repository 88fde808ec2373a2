"""The client suite's senders: accounts over HTTP, and WebSocket bots (msgpack, the
``websockets`` client) that seed a room or keep messages arriving, each under the node's
per-connection frame limit."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

from bench.harness import BenchError

PER_SENDER_MAX = 45.0  # what one sender may send per second, a margin under the limit
SEEDERS = 25  # WebSocket connections that seed the rooms in parallel
BODIES = [
    "Minutes of the **district heating** call: next review in March.",
    "绿色建筑评价标准的最新版本已经发布，请大家查看附件。",
    "Could the Zhuhai pilot share its figures on rooftop solar for 2025?",
    "We measured 18% less energy use after the retrofit of block C — details in the report.",
    "好的，我们下周二上午九点开会讨论。",
    "Link to the tender: see the *municipal finance* room.",
]


async def register(base: str, name: str) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        response = await http.post("/api/v1/accounts", json={
            "email": f"{name.lower()}@bench.example", "password": "a long secret", "display_name": name})
    if response.status_code != 201:
        raise BenchError(f"registering {name} failed: {response.status_code} {response.text}")
    return response.json()


class Bot:
    """One WebSocket sender (msgpack). A reader task drains its socket (acks, errors), so the
    node never sees it as a slow consumer."""

    def __init__(self, ws: Any, name: str) -> None:
        self.ws, self.name = ws, name
        self.acks = 0
        self.errors: list[dict[str, Any]] = []
        self._cids = itertools.count(1)
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, base: str, name: str) -> Bot:
        import websockets

        token = (await register(base, name))["token"]
        ws = await websockets.connect(base.replace("http", "ws", 1) + "/ws", open_timeout=30,
                                      subprotocols=["ecolink.v1.msgpack"],
                                      additional_headers={"Authorization": f"Bearer {token}"})
        return cls(ws, name)

    async def _read(self) -> None:
        import msgpack

        with contextlib.suppress(Exception):
            async for data in self.ws:
                frame = msgpack.unpackb(data)
                if frame.get("type") == "ack":
                    self.acks += 1
                elif frame.get("type") == "error":
                    self.errors.append(frame)

    async def send_paced(self, room: str, count: int, per_s: float, tag: str) -> None:
        """`count` messages at `per_s`, on an absolute schedule (no drift)."""
        import msgpack

        start = time.monotonic()
        for n in range(count):
            delay = start + n / per_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            body = f"{tag} {n + 1}: {BODIES[n % len(BODIES)]}"
            await self.ws.send(msgpack.packb({"type": "send", "room": room, "body": body,
                                              "cid": f"{tag}-{next(self._cids)}"}))

    async def wait_acks(self, expected: int, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.acks < expected:
            if self.errors:
                raise BenchError(f"{self.name} got errors: {self.errors[:3]}")
            if time.monotonic() > deadline:
                raise BenchError(f"{self.name}: {self.acks} of {expected} acks after {timeout_s:.0f} s")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@contextlib.asynccontextmanager
async def bots(base: str, count: int, prefix: str) -> AsyncIterator[list[Bot]]:
    opened = [await Bot.connect(base, f"{prefix}{n}") for n in range(1, count + 1)]
    try:
        yield opened
    finally:
        for bot in opened:
            await bot.close()


async def seed(base: str, room: str, count: int) -> float:
    """`count` messages from SEEDERS connections in parallel, each under the rate limit; returns
    the seconds it took (every send acked, i.e. committed)."""
    started = time.monotonic()
    async with bots(base, min(SEEDERS, count), f"Seeder-{room}-") as senders:
        shares = [count // len(senders) + (i < count % len(senders)) for i in range(len(senders))]
        await asyncio.gather(*(s.send_paced(room, n, PER_SENDER_MAX, f"seed-{i}")
                               for i, (s, n) in enumerate(zip(senders, shares, strict=True))))
        for sender, n in zip(senders, shares, strict=True):
            await sender.wait_acks(n)
    return time.monotonic() - started
