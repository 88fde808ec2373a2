"""Connections that never finish their request head are closed (ECOLINK_HTTP_HEADER_TIMEOUT_S):
a silent socket, half a request line, a WebSocket upgrade missing its end, the next request
of a kept-alive connection; and so is a request whose body stops arriving
(ECOLINK_HTTP_BODY_TIMEOUT_S), while a slow body that keeps coming passes. Real sockets against a real node; no speed is asserted, only that
the server closed the connection (uvicorn alone keeps each of them open for ever)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest
from websockets.exceptions import InvalidStatus

from chat.config import Settings
from tests.support.client import WsClient, register
from tests.support.nodes import NodeServer, running_nodes
from tests.support.timing import timeout

# Twice what a client needs on a quiet machine: the node and the test share one loaded process.
HEAD_TIMEOUT_S = 1.0
# Longer than the head's: the slow body's pauses (a fifth of it) keep a wide margin, so a loop
# stalled on a loaded machine (the client and the node share it) cannot make one look silent.
BODY_TIMEOUT_S = 2.0
PIECES = 6  # pauses of BODY_TIMEOUT_S / 5 each: 2.4 s in all, longer than the deadline


@pytest.fixture
async def node(make_settings: Callable[..., Settings]) -> AsyncIterator[NodeServer]:
    async with running_nodes(make_settings(http_header_timeout_s=HEAD_TIMEOUT_S,
                                           http_body_timeout_s=BODY_TIMEOUT_S)) as [node]:
        yield node


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection; fails if it stays open
    (the bound is generous: many times the configured head timeout)."""
    return await asyncio.wait_for(reader.read(), max(3 * HEAD_TIMEOUT_S, timeout(10)))


@contextlib.asynccontextmanager
async def raw(node: NodeServer, first: bytes = b"") -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """A plain TCP connection to the node. `first` is in the node's receive queue before the
    node has even accepted the connection (a blocking connect and send, which the kernel
    completes from its listen backlog): the head deadline starts at the accept, so however long
    this process stalls, the bytes cannot arrive after it and meet a socket already closed."""
    sock = socket.create_connection(("127.0.0.1", node.port))
    if first:
        sock.sendall(first)
    reader, writer = await asyncio.open_connection(sock=sock)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def test_a_silent_connection_is_closed(node: NodeServer) -> None:
    async with raw(node) as (reader, _):
        assert await read_until_closed(reader) == b""  # nothing arrived, so nothing to answer


async def test_half_a_request_line_gets_408_and_is_closed(node: NodeServer) -> None:
    async with raw(node, b"GET /api/v1/roo") as (reader, _):
        answer = await read_until_closed(reader)
    assert answer.startswith(b"HTTP/1.1 408 "), answer


async def test_a_websocket_upgrade_that_never_ends_its_head_is_closed(node: NodeServer) -> None:
    head = (f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{node.port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")  # ... and never the blank line
    async with raw(node, head.encode()) as (reader, _):
        answer = await read_until_closed(reader)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert node.node.metrics.connections._value.get() == 0  # never reached the endpoint


async def test_the_next_request_on_a_kept_alive_connection_is_timed_too(node: NodeServer) -> None:
    async with raw(node, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") as (reader, writer):
        status = await asyncio.wait_for(reader.readline(), timeout(10))
        assert status.startswith(b"HTTP/1.1 200 "), status
        writer.write(b"GET /healthz HTTP/1.1\r\nHo")  # the next one stalls mid-header
        await writer.drain()
        rest = await read_until_closed(reader)
    assert b"HTTP/1.1 408 " in rest, rest


async def test_a_body_that_stops_arriving_gets_408_and_is_closed_while_a_slow_one_passes(
    node: NodeServer,
) -> None:
    """Slowloris on the body: a head declaring 40 bytes, then a trickle that stops. Before the
    body deadline uvicorn kept such a request waiting in read_body for ever. A body sent in
    pieces each within the deadline, longer in all than it, is answered as usual."""
    head = (b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 40\r\n\r\n")
    async with raw(node, head + b'{"email": ') as (reader, _):
        answer = await read_until_closed(reader)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert answer.endswith(b"request body not received")
    body = b'{"email": "nobody@example.test", "password": "x"}'
    async with raw(node, head.replace(b"40", str(len(body)).encode())) as (reader, writer):
        size = -(-len(body) // PIECES)
        for start in range(0, len(body), size):
            await asyncio.sleep(BODY_TIMEOUT_S / 5)
            writer.write(body[start:start + size])
            await writer.drain()
        status = await asyncio.wait_for(reader.readline(), timeout(10))
    assert status.startswith(b"HTTP/1.1 401 "), status  # answered: wrong credentials


async def test_an_open_websocket_is_not_cut(node: NodeServer) -> None:
    """The deadline is for the head only: a WebSocket idle for several head timeouts
    still serves."""
    account = await register(node.url)
    ws = await WsClient.connect(node.ws_url, account["token"], binary=False)
    await asyncio.sleep(3 * HEAD_TIMEOUT_S)
    await ws.send_frame({"type": "ping"})
    assert await ws.recv_until(lambda f: f["type"] == "pong")
    await ws.ws.close()


async def test_a_websocket_whose_session_cannot_be_checked_in_time_is_refused(
    production: Callable[..., Settings],
) -> None:
    """The upgrade's authentication runs under the same deadline: with the sessions table
    locked (a store that hangs), the handshake is refused with 503 instead of waiting."""
    settings = production(http_header_timeout_s=HEAD_TIMEOUT_S)
    async with running_nodes(settings) as [node]:
        account = await register(node.url)
        locker = await asyncpg.connect(settings.database_url)
        try:
            locked = locker.transaction()
            await locked.start()
            await locker.execute("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(InvalidStatus) as refused:
                await asyncio.wait_for(
                    WsClient.connect(node.ws_url, account["token"]), timeout(10))
            assert refused.value.response.status_code == 503
            await locked.rollback()
        finally:
            await locker.close()
        ws = await WsClient.connect(node.ws_url, account["token"])  # the lock is gone: served
        await ws.send_frame({"type": "ping"})
        assert await ws.recv_until(lambda f: f["type"] == "pong")
        await ws.ws.close()
