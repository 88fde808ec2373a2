"""The Broker contract (chat/broker/port.py), run on the memory and Redis brokers."""

from __future__ import annotations

import asyncio

from tests.support.timing import timeout


class Recorder:
    """A listener that records what it is told."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.states: list[bool] = []
        self.arrived = asyncio.Event()

    def on_broker_message(self, room_id: str, payload: bytes) -> None:
        self.messages.append((room_id, payload))
        self.arrived.set()

    def on_broker_state(self, healthy: bool) -> None:
        self.states.append(healthy)

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(timeout(5)):
            while len(self.messages) < count:
                self.arrived.clear()
                await self.arrived.wait()


async def wait_subscribed() -> None:
    # Redis confirms SUBSCRIBE asynchronously; a publish right after may precede it.
    await asyncio.sleep(0.1)


async def test_publish_reaches_every_subscribed_node_in_order(broker_factory):
    a, b = await broker_factory(), await broker_factory()
    ra, rb = Recorder(), Recorder()
    a.bind(ra)
    b.bind(rb)
    await a.subscribe("zhuhai")
    await b.subscribe("zhuhai")
    await wait_subscribed()
    payloads = [bytes([i]) * 3 for i in range(50)]
    await a.publish([("zhuhai", p) for p in payloads])
    await ra.wait_for(50)
    await rb.wait_for(50)
    assert ra.messages == rb.messages == [("zhuhai", p) for p in payloads]


async def test_only_subscribed_rooms_arrive_and_unsubscribe_stops_them(broker_factory):
    a, b = await broker_factory(), await broker_factory()
    rb = Recorder()
    a.bind(Recorder())
    b.bind(rb)
    await b.subscribe("hefei")
    await b.subscribe("hefei")  # idempotent
    await wait_subscribed()
    await a.publish([("guilin", b"not for b"), ("hefei", b"for b")])
    await rb.wait_for(1)
    await b.unsubscribe("hefei")
    await b.unsubscribe("hefei")  # idempotent
    await wait_subscribed()
    await a.publish([("hefei", b"after unsubscribe")])
    await asyncio.sleep(0.2)
    assert rb.messages == [("hefei", b"for b")]


async def test_payload_bytes_are_opaque(broker_factory):
    a = await broker_factory()
    ra = Recorder()
    a.bind(ra)
    await a.subscribe("qingdao")
    await wait_subscribed()
    payload = bytes(range(256)) + "中文".encode()
    await a.publish([("qingdao", payload)])
    await ra.wait_for(1)
    assert ra.messages == [("qingdao", payload)]
    assert a.healthy
