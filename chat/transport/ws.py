"""The /ws endpoint: handshake (subprotocol, auth, Origin), then the frame loop.

Each frame goes through chat/transport/inbound.py (rate limit, decode, validate, dispatch),
as the long-polling fallback's do. A bad frame gets an `error` frame and changes nothing else;
the connection stays open except for the documented close codes (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import time

import structlog
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from chat.errors import ChatError, Forbidden, FrameError
from chat.hub.personal import PersonalSubscriber
from chat.models import User
from chat.node import Node
from chat.protocol.codecs import Codec, choose
from chat.protocol.ratelimit import TokenBucket
from chat.transport import inbound
from chat.transport.admission import address_of, admit, check_address
from chat.transport.connection import Connection
from chat.transport.errors import error_response
from chat.transport.memberships import RoomLinks
from chat.transport.wire import format_index
from chat.transport.wsprotocol import handshake_over

log = structlog.get_logger("chat.ws")

# How long a new connection waits for its personal channel (notifications) before reading
# frames; it waits only for the broker subscription (chat/hub/personal.py).
PERSONAL_READY_WAIT_S = 2.0


class WebSocketEndpoint:
    """A plain ASGI app (not a Starlette function endpoint) so the hot path can use the raw
    ASGI `send` with messages shared by every connection."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        node: Node = scope["app"].state.node
        # No reference to the handshake's WebSocket object outlives the handshake: an idle
        # connection should hold only what it needs (docs/benchmarks.md, idle memory).
        conn = await self._handshake(WebSocket(scope, receive, send), node, send)
        if conn is None:
            return
        try:
            await self._serve(conn, node, receive)
        finally:
            node.handshakes.closed(conn.user_id)

    async def _serve(self, conn: Connection, node: Node, receive: Receive) -> None:
        metrics = node.metrics
        metrics.connections.inc()
        node.hub.sessions.add(conn)  # a logout closes it (chat/hub/sessions.py)
        personal = PersonalSubscriber.attach(node.hub, conn)
        try:
            # Frames are read once the channel is live, so a client's first answer (a pong)
            # means notifications reach it.
            await personal.ready(PERSONAL_READY_WAIT_S)
            await self._frames(conn, node, receive)
        except asyncio.CancelledError:
            # Cancelled by Connection._close_slow when the peer never drained: returning
            # lets uvicorn drop the TCP connection.
            pass
        finally:
            conn.dead = True
            node.hub.sessions.discard(conn)
            conn.rooms.close()
            personal.detach(node.hub)
            metrics.connections.dec()

    async def _handshake(self, websocket: WebSocket, node: Node, send: Send) -> Connection | None:
        """Accept the socket, or refuse it with an HTTP answer (chat/transport/admission.py;
        docs/protocol.md, "WebSocket"). A bad subprotocol counts as a failed attempt of the
        address too."""
        address = address_of(websocket)
        try:
            check_address(node, address)
            codec = choose(list(websocket.scope.get("subprotocols", [])))
            if codec is None:
                node.handshakes.failed(address, time.monotonic())
                raise FrameError("unsupported_subprotocol", "offer ecolink.v1.json or ecolink.v1.msgpack")
            user, session_key = await admit(websocket, node, address)
        except ChatError as exc:
            await _deny(websocket, exc)
            return None
        try:
            return await self._accept(websocket, node, send, codec, user, session_key)
        except BaseException:
            node.handshakes.closed(user.user_id)
            raise

    async def _accept(self, websocket: WebSocket, node: Node, send: Send, codec: Codec,
                      user: User, session_key: bytes) -> Connection:
        offered = websocket.scope.get("subprotocols") or []
        await websocket.accept(subprotocol=codec.subprotocol if offered else None)
        handshake_over(send)  # the handshake's request, response and headers go
        settings = node.settings
        return Connection(
            send,
            codec,
            format_index(codec),
            user,
            max_frames=settings.send_queue_frames,
            close_timeout_s=settings.slow_close_timeout_s,
            bucket=TokenBucket(settings.ws_rate_per_s, settings.ws_rate_burst, time.monotonic()),
            on_slow=node.metrics.slow_consumer_closes.inc,
            links=RoomLinks(node.rooms, node.presence, node.metrics.joined_rooms,
                            settings.max_joined_rooms),
            session_key=session_key,
        )

    async def _frames(self, conn: Connection, node: Node, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return  # websocket.disconnect
            if conn.dead:
                continue
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            if not await inbound.receive(conn, node, data):
                return


async def _deny(websocket: WebSocket, error: ChatError) -> None:
    """Refuse the handshake with an HTTP response (ASGI websocket.http.response extension),
    or a plain 403 where the server lacks it."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_response(error))
        _handshake_ended(websocket)
    else:
        await websocket.close(code=1008)


def _handshake_ended(websocket: WebSocket) -> None:
    """uvicorn's websockets-sansio protocol does not count a denial response as the end of the
    handshake and logs "ASGI callable returned without completing handshake" at ERROR for every
    refused connection (Kludex/uvicorn PR #3138, open; wsproto already counts it). Mark it as
    uvicorn itself will, so refusals log only their INFO access line."""
    protocol = getattr(getattr(websocket, "_send", None), "__self__", None)
    if protocol is not None and getattr(protocol, "close_sent", False) and hasattr(protocol, "handshake_complete"):
        protocol.handshake_complete = True


__all__ = ["WebSocketEndpoint", "Forbidden"]
