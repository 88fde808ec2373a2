"""The node's WebSocket protocol: uvicorn's websockets-sansio protocol, leaner per connection.

An idle joined connection is mostly what the server keeps for it (docs/benchmarks.md, "Idle
memory"; issue 17 asks at most 16 KiB). Of uvicorn's protocol, three things are kept for no use
once the connection is open:

* its inbound `asyncio.Queue` and its `writable` `asyncio.Event`: five deques between them,
  each allocating a 64-slot block when made (~3.7 KiB a connection), though an idle
  connection's queue is empty and nobody waits for `writable`. `Inbox` and `Flag` do what
  uvicorn asks of them (put_nowait/get/empty; set/clear/is_set/wait) and hold a container only
  while something is in it;
* the handshake's request and response (their headers, ~4 KiB) and the ASGI scope's header
  list: `release_handshake` drops them once the endpoint accepted the connection
  (chat/transport/ws.py); nothing reads them after the handshake.

And `connection_lost` releases the transport's reference cycle (chat/transport/server.py,
release_transport). tests/e2e/test_connection_garbage.py and tests/unit/test_wsprotocol.py.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class Inbox:
    """The part of asyncio.Queue uvicorn's protocol uses (put_nowait, get, empty, qsize), for one
    reader at a time (the endpoint's receive loop), holding a deque only while not empty.
    put_nowait never hands an item to the reader directly: it queues it and wakes the reader,
    which takes it, so a reader cancelled as it is woken loses nothing (as asyncio.Queue)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            if self._waiter is not None:
                raise RuntimeError("Inbox has one reader at a time")
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        assert self._items is not None
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item


class Flag:
    """The part of asyncio.Event uvicorn's protocol uses (set, clear, is_set, wait), with a list
    of waiters only while someone waits (a paused transport: rare)."""

    __slots__ = ("_value", "_waiters")

    def __init__(self, value: bool = False) -> None:
        self._value = value
        self._waiters: list[asyncio.Future[bool]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if self._value:
            return
        self._value = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(True)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            return await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
                if not self._waiters:
                    self._waiters = None


def release_transport(transport: asyncio.BaseTransport) -> None:
    """Break the reference cycle a closed socket transport keeps on CPython 3.11.

    asyncio's selector transport holds `_read_ready_cb`, a bound method of itself, and 3.11
    never drops it (3.12 does, on close: CPython gh-100348). So every closed connection's
    transport and socket wait in a cycle for the garbage collector's next full collection
    instead of being freed when the connection ends. Called from the protocols'
    connection_lost, after the transport stopped reading; a transport without the attribute
    (3.12+, uvloop) is left alone (tests/e2e/test_connection_garbage.py)."""
    if getattr(transport, "_read_ready_cb", None) is not None and transport.is_closing():
        transport._read_ready_cb = None  # type: ignore[attr-defined]


class NodeWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol with a lean inbox and writable flag, the handshake's
    objects released once accepted, and its transport released when the connection is lost."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Flag(self.writable.is_set())  # type: ignore[assignment]

    def release_handshake(self) -> None:
        """The connection is open: drop the handshake's request, response and header list."""
        if not self.handshake_complete:
            return
        request = getattr(self, "request", None)
        if request is not None:
            # websockets' parser keeps the request in its generator's frame for the
            # connection's life: emptied, its headers' strings go now.
            request.headers.clear()
        self.request = None  # type: ignore[assignment]
        self.response = None  # type: ignore[assignment]
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["headers"] = []

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        release_transport(self.transport)


def handshake_over(send: Any) -> None:
    """Called by the endpoint once it accepted the connection through `send` (uvicorn's bound
    send): the node's protocol releases the handshake's objects; another server, nothing."""
    owner = getattr(send, "__self__", None)
    if isinstance(owner, NodeWebSocketProtocol):
        owner.release_handshake()
