"""The /ws endpoint: handshake (subprotocol, auth, Origin), then the frame loop.

Every frame costs the same checks in the same order: rate limit, decode, validate, dispatch.
A bad frame gets an `error` frame and changes nothing else; the connection stays open except
for the documented close codes (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from chat.accounts.service import token_hash
from chat.errors import (
    ChatError, Draining, Forbidden, FrameError, Internal, RateLimited, TooManyConnections, Unavailable,
)
from chat.logs import failure
from chat.hub.personal import PersonalSubscriber
from chat.models import User
from chat.node import Node
from chat.protocol import closecodes
from chat.protocol.codecs import Codec, DecodeError, choose
from chat.protocol.frames import (
    PONG, ClientFrame, Delete, Edit, Join, Leave, Ping, React, Send as SendFrame,
    Read, Typing, ack_frame, error_frame, left_frame, parse, usable_cid,
)
from chat.protocol.ratelimit import MENTION_COST, REPLAYED_PER_TOKEN, TokenBucket
from chat.transport.auth import check_origin, credentials
from chat.transport.connection import Connection
from chat.transport.errors import error_response
from chat.transport.memberships import RoomLinks
from chat.transport.wire import format_index

log = structlog.get_logger("chat.ws")

MAX_IN_FLIGHT_SENDS = 256
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
        """Accept the socket, or refuse it with an HTTP answer. The refusals a client can
        cause (bad subprotocol, credentials, Origin) count against its address; an address
        over the limit is refused before its credentials are looked up, and a member over
        the sockets cap before the upgrade (docs/protocol.md, "WebSocket")."""
        guard, address, now = node.handshakes, _address(websocket), time.monotonic()
        retry_s = guard.refused_for(address, now)
        if retry_s is not None:
            node.metrics.rate_limited.labels("handshake_failures").inc()
            await _deny(websocket, RateLimited(
                "too many failed connection attempts from this address; retry later",
                retry_after_s=retry_s))
            return None
        codec = choose(list(websocket.scope.get("subprotocols", [])))
        if codec is None:
            guard.failed(address, now)
            await _deny(websocket, FrameError("unsupported_subprotocol",
                                              "offer ecolink.v1.json or ecolink.v1.msgpack"))
            return None
        if node.draining:
            await _deny(websocket, Draining("this node is shutting down; try another"))
            return None
        creds = credentials(websocket)
        try:
            if creds.via_cookie:
                check_origin(websocket, node.settings.allowed_origins)
            # An upgrade is authenticated from its head alone, within the head's own deadline
            # (ECOLINK_HTTP_HEADER_TIMEOUT_S): a store that hangs must not keep sockets waiting.
            try:
                user = await asyncio.wait_for(node.accounts.authenticate(creds.token),
                                              node.settings.http_header_timeout_s)
            except TimeoutError:
                raise Unavailable("the session could not be checked in time; retry") from None
        except ChatError as exc:
            if exc.status < 500:
                guard.failed(address, time.monotonic())
            await _deny(websocket, exc)
            return None
        if not guard.open(user.user_id):
            node.metrics.rate_limited.labels("sockets").inc()
            await _deny(websocket, TooManyConnections(
                f"a member may have at most {guard.max_sockets_per_member} connections "
                "to a node; close some", retry_after_s=1.0))
            return None
        try:
            return await self._accept(websocket, node, send, codec, user, token_hash(creds.token or ""))
        except BaseException:
            guard.closed(user.user_id)
            raise

    async def _accept(self, websocket: WebSocket, node: Node, send: Send, codec: Codec,
                      user: User, session_key: bytes) -> Connection:
        offered = websocket.scope.get("subprotocols") or []
        await websocket.accept(subprotocol=codec.subprotocol if offered else None)
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
        settings = node.settings
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return  # websocket.disconnect
            if conn.dead:
                continue
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            now = time.monotonic()
            # Both the connection's own limit and the member's budget across all their
            # connections and HTTP writes (one token each for a plain frame).
            if not conn.bucket.take(now) or node.budgets.take(conn.user_id, now, 1) is not None:
                conn.strikes += 1
                if conn.strikes > settings.ws_rate_strikes:
                    await conn.close(closecodes.RATE_LIMITED, "too many frames; back off")
                    return
                self._error(conn, node, RateLimited("too many frames; slow down",
                                                    retry_after_s=conn.bucket.retry_after_s()),
                            _cid_of(conn, data))
                continue
            conn.strikes = 0
            try:
                frame = parse(conn.codec.decode(data), max_body_chars=settings.max_body_chars)
            except DecodeError as exc:
                self._error(conn, node, FrameError("bad_frame", str(exc)))
                continue
            except FrameError as exc:
                self._error(conn, node, exc, exc.cid)
                continue
            await self._dispatch(conn, node, frame)

    async def _dispatch(self, conn: Connection, node: Node, frame: ClientFrame) -> None:
        if isinstance(frame, (SendFrame, Edit, Delete, React)):
            extra = _extra_cost(node, frame)
            wait_s = node.budgets.take(conn.user_id, time.monotonic(), extra) if extra else None
            if wait_s is not None:
                node.metrics.rate_limited.labels("member").inc()
                self._error(conn, node, RateLimited(
                    "this message costs more than your budget has left; resend it later",
                    retry_after_s=wait_s), frame.cid)
                return
            if conn.in_flight >= MAX_IN_FLIGHT_SENDS:
                self._error(conn, node, RateLimited(
                    "too many sends waiting for their ack", retry_after_s=0.0), frame.cid)
                return
            conn.in_flight += 1
            asyncio.get_running_loop().create_task(self._send(conn, node, frame))
        elif isinstance(frame, Join):
            await self._join(conn, node, frame)
        elif isinstance(frame, Leave):
            conn.rooms.leave(frame.room_id)
            conn.send_frame(left_frame(frame.room_id))
        elif isinstance(frame, Ping):
            conn.send_frame(PONG)
        elif isinstance(frame, Read):
            await self._read(conn, node, frame)
        elif isinstance(frame, Typing):
            if frame.room_id in conn.rooms:
                node.presence.typing(conn.user, frame.room_id)  # throttled ones are dropped
            else:
                self._error(conn, node, FrameError("not_joined", "join the room first"))

    async def _send(self, conn: Connection, node: Node, frame: SendFrame | Edit | Delete | React) -> None:
        """Everything that takes a seq in the room: commit, then ack (or an error with cid)."""
        rooms, user = node.rooms, conn.user
        try:
            if isinstance(frame, SendFrame):
                message, _ = await rooms.send(user, frame.room_id, frame.cid, frame.body, frame.mentions)
            elif isinstance(frame, Edit):
                message, _ = await rooms.edit(user, frame.room_id, frame.message_id, frame.cid, frame.body)
            elif isinstance(frame, Delete):
                message, _ = await rooms.delete(user, frame.room_id, frame.message_id, frame.cid)
            else:
                message, _ = await rooms.react(user, frame.room_id, frame.message_id, frame.cid,
                                               frame.emoji, frame.add)
            conn.send_frame(ack_frame(message))
        except ChatError as exc:
            self._error(conn, node, exc, frame.cid)
        except Exception as exc:
            log.error("ws.send_failed", room=frame.room_id, **failure(exc))
            self._error(conn, node, Internal("internal error; retry"), frame.cid)
        finally:
            conn.in_flight -= 1

    async def _join(self, conn: Connection, node: Node, frame: Join) -> None:
        try:
            head = await conn.rooms.join(frame.room_id, frame.since)
        except ChatError as exc:
            self._error(conn, node, exc)
            return
        if frame.since is not None and head - frame.since <= node.settings.replay_limit:
            # A replay's price is known only now: charged as debt, it delays what the
            # member sends next (a resync replays nothing and costs nothing more).
            now = time.monotonic()
            node.budgets.bucket(conn.user_id, now).charge(now, (head - frame.since) / REPLAYED_PER_TOKEN)

    async def _read(self, conn: Connection, node: Node, frame: Read) -> None:
        """Raise the read position; no answer but an error (a moved position comes back as
        a `read` frame on the user's channel)."""
        try:
            await node.reads.mark_read(conn.user, frame.room_id, frame.seq)
        except ChatError as exc:
            self._error(conn, node, exc)
        except Exception as exc:
            log.error("ws.read_failed", room=frame.room_id, **failure(exc))
            self._error(conn, node, Internal("internal error; retry"))

    @staticmethod
    def _error(conn: Connection, node: Node, exc: ChatError, cid: str | None = None) -> None:
        """Every `error` frame goes out here; `retry` comes from the error's class."""
        node.metrics.frame_errors.labels(exc.code).inc()
        conn.send_frame(error_frame(exc, cid))


def _extra_cost(node: Node, frame: SendFrame | Edit | Delete | React) -> float:
    """What a send or edit costs beyond its frame: rendering a costly body, and each member
    its mentions notify."""
    if isinstance(frame, SendFrame):
        extra = node.renderer.cost_tokens(frame.body) + MENTION_COST * len(frame.mentions)
    elif isinstance(frame, Edit):
        extra = node.renderer.cost_tokens(frame.body)
    else:
        return 0.0
    # With the frame's own token, at most one burst: the costliest send must still fit.
    return min(extra, node.budgets.burst - 1)


def _address(websocket: WebSocket) -> str:
    client = websocket.client
    return client.host if client else "unknown"


def _cid_of(conn: Connection, data: Any) -> str | None:
    """The cid of a frame refused before validation, so the client knows which send failed."""
    try:
        doc = conn.codec.decode(data)
    except DecodeError:
        return None
    return usable_cid(doc.get("cid")) if isinstance(doc, dict) else None


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
