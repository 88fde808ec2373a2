"""Long-polling sessions: a Connection (chat/transport/connection.py) whose socket is an outbox
of numbered frames that the client fetches over plain HTTP (chat/transport/poll.py).

The session hands the Connection an ASGI-style `send`: a `websocket.send` message appends its
JSON text (already encoded, shared with every other JSON reader of the event) to the outbox, a
`websocket.close` ends the session with its code. So the hub's fan-out, room memberships,
presence, the personal channel (chat/hub/personal.py) and logout (chat/hub/sessions.py) treat
a polling client exactly as a WebSocket.

Frames are numbered 1, 2, 3 … per session. A GET with `after=N` acknowledges every frame up to
N (the session forgets them) and returns the frames after N: a response lost on the way is
fetched again with the same `after`, so a flaky link loses nothing. More than
`send_queue_frames` unacknowledged frames close the session with 4008 (slow consumer), as a
socket's full queue does. A session nobody fetched from for `poll_idle_s` is closed like a
dropped socket, then forgotten: its client gets `poll_session_gone` and resumes on a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, MutableMapping
from typing import Any

import structlog

from chat.errors import BadRequest, PollSessionGone
from chat.hub.personal import PersonalSubscriber
from chat.models import User
from chat.node import Node
from chat.protocol import closecodes
from chat.protocol.codecs import JSON
from chat.protocol.ratelimit import TokenBucket
from chat.transport.connection import Connection
from chat.transport.memberships import RoomLinks
from chat.transport.wire import format_index

log = structlog.get_logger("chat.poll")

# How long opening a session waits for its personal channel (as a WebSocket does before
# reading frames: chat/transport/ws.py).
PERSONAL_READY_WAIT_S = 2.0
# One response holds at most this many frames, and stops before this many characters (but
# always holds one frame); the rest follow on the next GET, at once.
MAX_RESPONSE_FRAMES = 256
MAX_RESPONSE_CHARS = 1_000_000
SLOW_REASON = "slow consumer: open a new session and resume with since"


class PollSession:
    """One polling client: its Connection, its outbox and the GET that waits on it."""

    __slots__ = ("session_id", "session_key", "conn", "personal", "closed", "last_seen", "polling",
                 "_texts", "_first", "_next", "_max_frames", "_waiter", "_on_end", "_on_slow")

    def __init__(self, session_id: str, session_key: bytes, *, max_frames: int,
                 on_end: Callable[[PollSession], None], on_slow: Callable[[], None]) -> None:
        self.session_id = session_id
        self.session_key = session_key
        self.conn: Connection | None = None
        self.personal: PersonalSubscriber | None = None  # its personal channel, while open
        self.closed: tuple[int, str] | None = None  # (code, reason) once ended
        self.last_seen = time.monotonic()
        self.polling = 0  # GETs under way: a session being polled is never idle
        self._texts: deque[str] = deque()  # frames _first, _first + 1 … not yet acknowledged
        self._first = 1
        self._next = 1  # the number the next frame gets
        self._max_frames = max_frames
        self._waiter: asyncio.Future[bool] | None = None
        self._on_end = on_end
        self._on_slow = on_slow

    async def send(self, message: MutableMapping[str, Any]) -> None:
        """The Connection's ASGI `send`. Never suspends, so Connection.push completes it at once."""
        kind = message["type"]
        if kind == "websocket.send":
            if self.closed is not None:
                return
            if len(self._texts) >= self._max_frames:
                if self.conn is not None:
                    self.conn.dead = True
                self._on_slow()
                self.end(closecodes.SLOW_CONSUMER, SLOW_REASON)
                return
            self._texts.append(message["text"])
            self._next += 1
            self._wake(True)
        elif kind == "websocket.close":
            self.end(int(message.get("code", closecodes.NORMAL)), str(message.get("reason", "")))

    def end(self, code: int, reason: str) -> None:
        """End the session (idempotent): stop delivering, leave every room, and answer the
        waiting GET with the close."""
        if self.closed is not None:
            return
        self.closed = (code, reason)
        if self.conn is not None:
            self.conn.dead = True
        # Not from inside this call: it may come from the hub's fan-out, whose feeds the
        # teardown changes.
        asyncio.get_running_loop().call_soon(self._on_end, self)
        self._wake(True)

    def owned_by(self, session_key: bytes) -> bool:
        return hmac.compare_digest(self.session_key, session_key)

    def acknowledge(self, after: int) -> None:
        """Forget the frames up to `after`. Raises BadRequest for an `after` the session cannot
        answer: behind what was acknowledged already, or past the last frame."""
        if after > self._next - 1:
            raise BadRequest(f"'after' is past the last frame of this session ({self._next - 1})")
        if after < self._first - 1:
            raise BadRequest("'after' is behind frames this session already had acknowledged "
                             f"(up to {self._first - 1})")
        texts = self._texts
        while self._first <= after:
            texts.popleft()
            self._first += 1

    def pending(self) -> bool:
        return bool(self._texts) or self.closed is not None

    def supersede(self) -> None:
        """A newer GET came: an older one still waiting returns now, empty."""
        self._wake(False)

    async def wait(self, wait_s: float) -> bool:
        """Wait up to wait_s for a frame or the end; False when a newer GET took over."""
        self.supersede()
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        try:
            await asyncio.wait((waiter,), timeout=wait_s)
        finally:
            if self._waiter is waiter:
                self._waiter = None
        return not waiter.done() or waiter.result()

    def body(self, after: int) -> bytes:
        """The response to a GET after `after` (acknowledged already): the waiting frames as
        they were encoded for the wire, joined without decoding them again."""
        if after != self._first - 1:
            # A newer GET acknowledged more meanwhile: this one is stale, and answered empty.
            return b'{"frames":[],"last":' + str(after).encode() + b"}"
        texts, size = self._texts, 0
        chosen: list[str] = []
        for text in texts:
            if chosen and (len(chosen) >= MAX_RESPONSE_FRAMES or size + len(text) > MAX_RESPONSE_CHARS):
                break
            chosen.append(text)
            size += len(text)
        tail = ""
        if self.closed is not None and len(chosen) == len(texts):
            code, reason = self.closed
            tail = ',"closed":' + JSON.encode({"code": code, "reason": reason})
        last = after + len(chosen)
        return ('{"frames":[' + ",".join(chosen) + '],"last":' + str(last) + tail + "}").encode()

    def _wake(self, value: bool) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(value)


class PollSessions:
    """This node's polling sessions, by id; `running` sweeps the idle ones."""

    def __init__(self) -> None:
        self._sessions: dict[str, PollSession] = {}
        self._node: Node | None = None

    def __len__(self) -> int:
        return len(self._sessions)

    @contextlib.asynccontextmanager
    async def running(self, node: Node) -> AsyncIterator[PollSessions]:
        self._node = node
        sweeper = asyncio.create_task(self._sweep_forever(node.settings.poll_idle_s), name="poll-sweep")
        try:
            yield self
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            self.drain()
            await asyncio.sleep(0)  # the sessions' teardowns, while the node is still open
            self._sessions.clear()
            self._node = None

    def drain(self) -> None:
        """The node is shutting down: refuse new sessions and close every one with 1012, so
        waiting GETs answer at once and their clients resume on another node."""
        if self._node is None:
            return
        self._node.draining = True
        for session in list(self._sessions.values()):
            session.end(closecodes.SERVICE_RESTART, "the node is shutting down: resume on another")

    async def open(self, node: Node, user: User, session_key: bytes) -> PollSession:
        """A new session for an admitted member (one connection counted for them, which the
        session gives back when it ends, or at once if opening it fails)."""
        settings = node.settings
        session = PollSession(secrets.token_urlsafe(24), session_key,
                              max_frames=settings.send_queue_frames,
                              on_end=self._ended, on_slow=node.metrics.slow_consumer_closes.inc)
        registered = False
        try:
            conn = Connection(
                session.send, JSON, format_index(JSON), user,
                max_frames=settings.send_queue_frames,
                close_timeout_s=settings.slow_close_timeout_s,
                bucket=TokenBucket(settings.ws_rate_per_s, settings.ws_rate_burst, time.monotonic()),
                on_slow=node.metrics.slow_consumer_closes.inc,
                links=RoomLinks(node.rooms, node.presence, node.metrics.joined_rooms,
                                settings.max_joined_rooms),
                session_key=session_key,
            )
            session.conn = conn
            self._sessions[session.session_id] = session
            registered = True
            node.metrics.poll_sessions.inc()
            node.hub.sessions.add(conn)  # a logout closes it (chat/hub/sessions.py)
            session.personal = PersonalSubscriber.attach(node.hub, conn)
            await session.personal.ready(PERSONAL_READY_WAIT_S)
        except BaseException:
            if registered:
                self.forget(session)  # its teardown gives the connection back
            else:
                node.handshakes.closed(user.user_id)
            raise
        return session

    def get(self, session_id: str, session_key: bytes) -> PollSession:
        """The session, if this node holds it and it was opened with this token."""
        session = self._sessions.get(session_id)
        if session is None or not session.owned_by(session_key):
            raise PollSessionGone()
        return session

    def forget(self, session: PollSession) -> None:
        """Close (if open) and drop a session: its id answers `poll_session_gone` from now on."""
        session.end(closecodes.NORMAL, "closed by the client")
        self._sessions.pop(session.session_id, None)

    def _ended(self, session: PollSession) -> None:
        """Undo what `open` did, as the WebSocket endpoint does when its socket ends."""
        node, conn, personal = self._node, session.conn, session.personal
        # The connection's send is this session's bound method: dropping the session's side of
        # the pair leaves no reference cycle (docs/decisions.md, "Closed connections leave no
        # reference cycle").
        session.personal, session.conn = None, None
        if node is None or conn is None:
            return
        node.hub.sessions.discard(conn)
        conn.rooms.close()
        if personal is not None:
            personal.detach(node.hub)
        node.metrics.poll_sessions.dec()
        node.handshakes.closed(conn.user_id)

    async def _sweep_forever(self, idle_s: float) -> None:
        every_s = min(max(idle_s / 4, 0.05), 5.0)
        while True:
            await asyncio.sleep(every_s)
            now = time.monotonic()
            for session in list(self._sessions.values()):
                if session.polling == 0 and now - session.last_seen > idle_s:
                    if session.closed is None:
                        log.info("poll.idle_closed")
                    session.end(closecodes.NORMAL, "no poll for too long")
                    self._sessions.pop(session.session_id, None)

