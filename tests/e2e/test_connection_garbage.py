"""A closed connection is freed when it ends, not at the garbage collector's next full
collection: nothing of it is left in a reference cycle. What a cycle would keep (the
connection, its uvicorn protocol, websockets' parser, queues, buffers, the transport and its
socket) waits in the oldest generation, where a node of 10,000 connections pays for it with
long full collections and the allocator with pinned arenas (docs/decisions.md, "Closed
connections leave no reference cycle"). Two cycles were found this way and broken:
Connection <-> Memberships (chat/transport/memberships.py `close`), and CPython 3.11's socket
transport and its own `_read_ready_cb` (chat/transport/wsprotocol.py `release_transport`).

The node runs in this process: the collector sees its objects and the test clients' alike, so
the garbage is looked at by type, for the server's side."""

from __future__ import annotations

import asyncio
import gc
from collections import Counter

from chat.transport.connection import Connection
from chat.transport.wsprotocol import Flag, Inbox, NodeWebSocketProtocol
from tests.support.client import WsClient, bearer, http_client, register, send_acked
from tests.support.nodes import running_nodes
from tests.support.poll import PollPeer
from tests.support.history import eventually

# Types of a node's connection: ours, the ASGI server's and the WebSocket library's.
SERVER_SIDE = ("chat.", "uvicorn.", "starlette.", "websockets.server", "websockets.http11")


def _server_garbage(port: int) -> Counter[str]:
    """Collect once with DEBUG_SAVEALL: what only a cycle kept, of the node's side (its types,
    and socket transports whose local port is the node's; the test clients' are not)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        kinds = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage
                        if _of_server(o, port))
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
    return kinds


def _of_server(o: object, port: int) -> bool:
    if isinstance(o, asyncio.BaseTransport):
        sockname = o.get_extra_info("sockname")
        return isinstance(sockname, tuple) and sockname[1] == port
    return type(o).__module__.startswith(SERVER_SIDE)


async def _churn(node, account: dict, clients: int) -> None:
    """`clients` HTTP connections that ask one thing, as many WebSocket connections that join,
    see a message and close, and two long-polling sessions that join and close."""
    for _ in range(clients):
        async with http_client(node.url) as http:
            assert (await http.get("/api/v1/me", headers=bearer(account["token"]))).status_code == 200
    sockets = [await WsClient.connect(node.ws_url, account["token"]) for _ in range(clients)]
    for ws in sockets:
        await ws.join("zhuhai")
    await send_acked(sockets[0], "zhuhai", "hello", f"c-{id(sockets)}")
    for ws in sockets:
        await ws.close()
    polls = [await PollPeer.open(node.url, account) for _ in range(2)]  # the long-polling fallback
    for peer in polls:
        await peer.join("zhuhai")
        await peer.close()
    await eventually(lambda: node.node.metrics.poll_sessions._value.get() == 0, "every poll session ended")
    await eventually(lambda: node.node.metrics.connections._value.get() == 0, "every connection closed")


async def test_closed_connections_leave_nothing_for_the_collector(backend):
    async with running_nodes(backend()) as [node]:
        account = await register(node.url, "ann")
        await _churn(node, account, 2)  # the node's first connections make its lazy objects
        gc.collect()
        gc.disable()  # no automatic collection may free a cycle before the test looks
        try:
            await _churn(node, account, 5)
            await asyncio.sleep(0.2)  # uvicorn's side of each close
            garbage = _server_garbage(node.port)
        finally:
            gc.enable()
    assert not garbage, garbage


async def test_an_open_connection_keeps_no_handshake_and_writes_straight_to_its_socket(make_settings):
    """The node's WebSocket protocol (chat/transport/wsprotocol.py NodeWebSocketProtocol) drops
    the handshake's request, response and header list once the connection is accepted, uses the
    lean inbox and flag, and is still found by the connection, so events are written to the
    socket without the ASGI send (chat/transport/connection.py)."""
    async with running_nodes(make_settings()) as [node]:
        account = await register(node.url, "ann")
        ws = await WsClient.connect(node.ws_url, account["token"])
        try:
            await ws.join("zhuhai")
            [conn] = [o for o in gc.get_objects()
                      if isinstance(o, Connection) and not o.dead and o.user_id == account["user"]["id"]]
            protocol = conn._socket
            assert isinstance(protocol, NodeWebSocketProtocol)
            assert (protocol.request, protocol.response, protocol.scope["headers"]) == (None, None, [])
            assert isinstance(protocol.queue, Inbox) and isinstance(protocol.writable, Flag)
            await send_acked(ws, "zhuhai", "still speaks", "c-lean")  # and works without them
        finally:
            await ws.close()
