"""Connection: one WebSocket's outgoing side — a bounded queue that never blocks the hub.

The hub calls push() with ASGI send messages shared by every connection (built once per
event). A frame is written at once when the socket takes it; a writer task exists only while
a write waits for the socket, so neither an idle nor a keeping-up connection costs a task. When the queue is full the client is not reading fast enough: the connection
stops taking frames and closes with 4008 (slow consumer; resume with `since`), so no other
reader ever waits for it (invariant 6).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, MutableMapping
from typing import Any

import structlog
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from chat.errors import Internal
from chat.models import User
from chat.protocol import closecodes
from chat.protocol.codecs import Codec
from chat.protocol.frames import error_frame
from chat.protocol.ratelimit import TokenBucket
from chat.transport.memberships import Memberships, RoomLinks

log = structlog.get_logger("chat.ws")

# An ASGI `send` (starlette.types.Send).
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
# What push() calls: it drives the coroutine by hand, so the send must return one.
CoroutineSend = Callable[[MutableMapping[str, Any]], Coroutine[Any, Any, None]]


def coroutine_send(send: Send) -> CoroutineSend:
    """`send` itself when it is an async function (uvicorn's is), else one that awaits it."""
    if inspect.iscoroutinefunction(send):
        return send

    async def awaiting(message: MutableMapping[str, Any]) -> None:
        await send(message)

    return awaiting


class Connection:
    __slots__ = (
        "codec", "codec_index", "dead", "user", "rooms", "bucket", "strikes", "in_flight",
        "_send", "_queue", "_max_frames", "_writer", "_close_timeout_s", "_owner", "_on_slow",
        "_socket", "session_key",
        "__weakref__",
    )

    def __init__(
        self,
        send: Send,
        codec: Codec,
        codec_index: int,
        user: User,
        *,
        max_frames: int,
        close_timeout_s: float,
        bucket: TokenBucket,
        on_slow: Callable[[], None],
        links: RoomLinks | None = None,
        session_key: bytes = b"",
    ) -> None:
        self.codec = codec
        self.codec_index = codec_index
        self.dead = False
        self.user = user
        # The rooms it joined; every join and leave goes through it (chat/transport/memberships.py).
        self.rooms = Memberships(self, user, links)
        self.bucket = bucket
        self.strikes = 0
        self.in_flight = 0
        self._send = coroutine_send(send)
        # Frames waiting behind a write the socket has not taken yet; exists only then.
        self._queue: deque[dict[str, Any]] | None = None
        self._max_frames = max_frames
        self._writer: asyncio.Task[None] | None = None
        self._close_timeout_s = close_timeout_s
        self._owner = asyncio.current_task()  # the endpoint task reading this socket
        self._on_slow = on_slow
        self._socket = _uvicorn_protocol(send)
        self.session_key = session_key  # the hash of the token it authenticated with

    def push(self, frame: dict[str, Any]) -> None:
        if self.dead:
            return
        queue = self._queue
        if queue is not None:  # a write is waiting for the socket: queue behind it
            if len(queue) >= self._max_frames:
                self._overflow()
                return
            queue.append(frame)
            return
        # Nothing is waiting and the socket takes data: write the prebuilt frame straight to
        # it, as websockets.broadcast() does — the same checks uvicorn's send() makes first.
        sock = self._socket
        raw = frame.get("ecolink.frame")
        if (raw is not None and sock is not None and sock.writable.is_set()
                and not sock.close_sent and not sock.transport.is_closing()):
            sock.transport.write(raw)
            return
        # Else write now, without a task. uvicorn's send() only suspends while
        # the transport is paused (its pause_writing flow control); otherwise it runs to the
        # end in one step, so driving the coroutine by hand completes it here. If it does
        # suspend, a writer task takes over that same coroutine and the queue behind it.
        coro = self._send(frame)
        try:
            waiting_on = coro.send(None)
        except StopIteration:
            return
        except Exception:
            self.dead = True  # the client went away; the reader sees it too
            return
        self._queue = deque()
        self._writer = asyncio.get_running_loop().create_task(self._write(coro, waiting_on))

    @property
    def user_id(self) -> int:
        return self.user.user_id

    @property
    def queued(self) -> int:
        """Frames waiting behind a write the socket has not taken (at most max_frames)."""
        queue = self._queue
        return 0 if queue is None else len(queue)

    def evicted(self, room_id: str) -> None:
        self.rooms.evicted(room_id)

    def session_ended(self) -> None:
        """Its session ended (chat/hub/sessions.py): stop delivering at once, then close with
        SESSION_ENDED so the client does not reconnect with the dead token."""
        if self.dead:
            return
        asyncio.get_running_loop().create_task(
            self.close(closecodes.SESSION_ENDED, "session ended: log in again"))

    def send_frame(self, frame: dict[str, Any]) -> None:
        """Queue a frame built for this connection alone (ack, error, pong …).

        A frame that cannot be encoded (a string with an unpaired surrogate has no UTF-8 form)
        becomes an `internal` error frame: failing inside the socket's send instead would
        leave the connection open but deaf, reading frames and answering none.
        """
        try:
            message = _send_message(self.codec, frame)
        except (ValueError, TypeError, OverflowError) as exc:  # UnicodeEncodeError is a ValueError
            log.error("ws.unencodable_frame", frame_type=frame.get("type"), error=type(exc).__name__)
            message = _send_message(self.codec, error_frame(Internal("a reply could not be encoded")))
        self.push(message)

    async def _write(self, started: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        queue, send = self._queue, self._send
        assert queue is not None
        try:
            await _Resume(started, waiting_on)
            while queue:
                await send(queue.popleft())
        except Exception:
            # The client went away (ClientDisconnected, OSError): the reader sees it too.
            self.dead = True
        finally:
            self._writer = None
            self._queue = None

    def _overflow(self) -> None:
        self.dead = True
        if self._writer is not None:
            self._writer.cancel()
        self._on_slow()
        asyncio.get_running_loop().create_task(self._close_slow())

    async def _close_slow(self) -> None:
        """Send close 4008 once the socket drains; if it never does, drop the connection."""
        message = {"type": "websocket.close", "code": closecodes.SLOW_CONSUMER,
                   "reason": "slow consumer: reconnect and resume with since"}
        try:
            async with asyncio.timeout(self._close_timeout_s):
                await self._send(message)
        except Exception:
            # The peer reads nothing at all: end the endpoint task; uvicorn then closes the
            # TCP connection.
            if self._owner is not None:
                self._owner.cancel()

    async def close(self, code: int, reason: str) -> None:
        if self.dead:
            return
        self.dead = True
        if self._writer is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._close_timeout_s):
                    await asyncio.shield(self._drain())
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._close_timeout_s):
                await self._send({"type": "websocket.close", "code": code, "reason": reason})

    async def _drain(self) -> None:
        while self._writer is not None:
            await asyncio.sleep(0.01)


def _uvicorn_protocol(send: Any) -> Any:
    """uvicorn's websockets-sansio protocol behind an ASGI `send`, when that is what serves
    the connection (its `send` is a bound method of it); None for any other server, which
    then gets every frame through ASGI. Only the attributes used above are relied on."""
    owner = getattr(send, "__self__", None)
    if not isinstance(owner, WebSocketsSansIOProtocol):  # the node's is a subclass (chat/transport/wsprotocol.py)
        return None
    if not all(hasattr(owner, name) for name in ("writable", "close_sent", "transport")):
        return None
    return owner


class _Resume:
    """Await a coroutine that was already started by hand and is suspended on `waiting_on`
    (what its first send(None) yielded): the rest of it runs as part of the awaiting task,
    exactly as `yield from` would have run it."""

    __slots__ = ("_coro", "_waiting_on")

    def __init__(self, coro: Coroutine[Any, Any, Any], waiting_on: Any) -> None:
        self._coro = coro
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, to_yield = self._coro, self._waiting_on
        while True:
            try:
                sent = yield to_yield
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - cancellation goes into the coroutine
                try:
                    to_yield = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    to_yield = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


def _send_message(codec: Codec, frame: dict[str, Any]) -> dict[str, Any]:
    """The ASGI `websocket.send` message of one frame in this connection's format."""
    encoded = codec.encode(frame)
    if isinstance(encoded, str):
        encoded.encode()  # the server's send will: fail here, where send_frame handles it
        return {"type": "websocket.send", "text": encoded}
    return {"type": "websocket.send", "bytes": encoded}
