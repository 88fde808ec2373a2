"""MemoryBroker: in-process fan-out. Single node only — it cannot reach other processes.

Several MemoryBroker instances may share one MemoryBus (tests use that to run contract tests
with two "nodes" in one process); by default each broker has its own bus.
"""

from __future__ import annotations

import asyncio

from chat.broker.port import BrokerListener


class MemoryBus:
    def __init__(self) -> None:
        self.brokers: list[MemoryBroker] = []


class MemoryBroker:
    def __init__(self, bus: MemoryBus | None = None) -> None:
        self.healthy = True
        self._bus = bus or MemoryBus()
        self._bus.brokers.append(self)
        self._rooms: set[str] = set()
        self._listener: BrokerListener | None = None

    def bind(self, listener: BrokerListener) -> None:
        self._listener = listener

    async def subscribe(self, room_id: str) -> None:
        self._rooms.add(room_id)

    async def unsubscribe(self, room_id: str) -> None:
        self._rooms.discard(room_id)

    async def publish(self, items: list[tuple[str, bytes]]) -> None:
        loop = asyncio.get_running_loop()
        for broker in self._bus.brokers:
            listener = broker._listener
            if listener is None:
                continue
            for room_id, payload in items:
                if room_id in broker._rooms:
                    # call_soon: the listener never runs inside the publisher's call stack,
                    # as with a real network broker.
                    loop.call_soon(listener.on_broker_message, room_id, payload)

    async def close(self) -> None:
        self._bus.brokers.remove(self)
