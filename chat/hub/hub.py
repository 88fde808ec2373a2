"""Hub: the room feeds of this node, the broker subscriptions behind them, and the sweep.

- One broker subscription per room with local members, reference-counted by the feed's member
  count; when the last member leaves, the feed lingers a moment so a quick rejoin does not
  churn Redis (docs/decisions.md, "Fan-out path").
- Local commits go straight to the local feed (no round trip through Redis) and are published
  for the other nodes. Everything published is a bus envelope (chat/protocol/bus.py: kind,
  sending node, body); the node's own echo is dropped from the header alone, and a room event
  already delivered is dropped by seq.
- The sweep compares every local feed with the store's head now and then (often while the broker
  is down), so a lost publish or a lost subscription costs latency, never a message. It also
  re-checks who may see the private rooms, so a lost eviction lets through at most one
  sweep interval of messages, and which of the node's sessions still exist, so a lost
  "session ended" closes its sockets one sweep late (chat/hub/sessions.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from datetime import datetime
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog

from chat.broker.port import Broker
from chat.clock import Clock
from chat.hub.feed import CATCH_UP, Ephemeral, Event, Evict, JoinRequest, Leave, RoomFeed
from chat.hub.personal import is_personal, personal_channel
from chat.hub.sessions import LiveSessions
from chat.hub.subscriber import Subscriber, WireFormat
from chat.metrics import Metrics
from chat.models import Message
from chat.protocol import bus
from chat.protocol.codecs import MSGPACK
from chat.protocol.frames import message_frame
from chat.store.port import Store

log = structlog.get_logger("chat.hub")


class Hub:
    def __init__(
        self,
        *,
        store: Store,
        broker: Broker,
        formats: list[WireFormat],
        clock: Clock,
        metrics: Metrics,
        replay_limit: int,
        linger_s: float,
        fan_out_slice: int = 500,
        sweep_interval_s: float,
        degraded_poll_s: float,
    ) -> None:
        self.node_id = secrets.token_hex(4)
        self._bus = bus.BusWriter(self.node_id)
        self._store = store
        self._broker = broker
        self._formats = formats
        self._clock = clock
        self._metrics = metrics
        self._replay_limit = replay_limit
        self._fan_out_slice = fan_out_slice
        self._linger_s = linger_s
        self._sweep_interval_s = sweep_interval_s
        self._degraded_poll_s = degraded_poll_s
        self.feeds: dict[str, RoomFeed] = {}
        self.sessions = LiveSessions()  # the transport adds and discards its connections
        self._sweep_now = asyncio.Event()
        self._recheck_all = False  # the broker came back: check every private feed's members
        # Readiness after a broker loss (caught_up): None until a sweep after the broker's return
        # read the store's heads, then the seq each feed must reach to have every message it
        # missed while unsubscribed (later ones arrive through the new subscription).
        self._backfill: dict[str, int] | None = {}
        self._broker_changes = 0
        self._outbox: list[tuple[str, bytes]] = []
        self._outbox_ready = asyncio.Event()
        broker.bind(self)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Hub]:
        tasks = [
            asyncio.create_task(self._sweep_forever(), name="hub-sweep"),
            asyncio.create_task(self._publish_forever(), name="hub-publish"),
        ]
        try:
            yield self
        finally:
            await self._flush_outbox()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for feed in list(self.feeds.values()):
                await feed.close()
            self.feeds.clear()

    # -- members ---------------------------------------------------------------------------

    async def join(self, subscriber: Subscriber, room_id: str, since: int | None,
                   authorize: Callable[[], Awaitable[bool]] | None = None) -> int:
        """Add a subscriber to a room: it receives `joined` (and `resync` if the gap is over
        the replay limit), the messages after `since`, then every later message live.
        Returns the seq the subscriber joined at. Raises FrameError for a bad `since`."""
        feed = self.feeds.get(room_id)
        if feed is None:
            feed = RoomFeed(
                room_id,
                store=self._store,
                formats=self._formats,
                replay_limit=self._replay_limit,
                fan_out_slice=self._fan_out_slice,
                subscribe=self._broker.subscribe,
                count_deliveries=self._metrics.deliveries.inc,
                logged=not is_personal(room_id),
            )
            self.feeds[room_id] = feed
            self._metrics.room_feeds.set(len(self.feeds))
        if authorize is not None:
            feed.private = True  # who may see it can change: the sweep re-checks its members
        if feed.linger is not None:
            feed.linger.cancel()
            feed.linger = None
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        feed.post(JoinRequest(subscriber, since, done, authorize))
        feed.pending_joins += 1
        try:
            return await done
        finally:
            feed.pending_joins -= 1
            self._maybe_linger(feed)

    def leave(self, subscriber: Subscriber, room_id: str) -> None:
        feed = self.feeds.get(room_id)
        if feed is None:
            return
        feed.drop(subscriber)
        feed.post(Leave(subscriber))  # also drops it if its join is still queued
        self._maybe_linger(feed)

    def disconnect(self, subscriber: Subscriber, room_ids: set[str]) -> None:
        for room_id in room_ids:
            self.leave(subscriber, room_id)

    def _maybe_linger(self, feed: RoomFeed) -> None:
        if feed.member_count or feed.pending_joins or feed.linger is not None:
            return
        loop = asyncio.get_running_loop()
        feed.linger = loop.call_later(
            self._linger_s, lambda: asyncio.ensure_future(self._close_if_idle(feed))
        )

    async def _close_if_idle(self, feed: RoomFeed) -> None:
        feed.linger = None
        if feed.member_count or feed.pending_joins or self.feeds.get(feed.room_id) is not feed:
            return
        del self.feeds[feed.room_id]
        self._metrics.room_feeds.set(len(self.feeds))
        await feed.close()
        if feed.room_id not in self.feeds:
            await self._broker.unsubscribe(feed.room_id)

    # -- events ----------------------------------------------------------------------------

    def committed(self, messages: list[Message]) -> None:
        """Fan out freshly committed messages here, and queue them for the other nodes.

        Publishing runs in its own task so a slow or absent Redis never holds up commits.
        """
        for message in messages:
            frame = message_frame(message)
            packed = MSGPACK.encode(frame)  # the msgpack wire frame, also the envelope's body
            feed = self.feeds.get(message.room_id)
            if feed is not None:
                feed.post(Event(message.seq, frame, packed))
            self._outbox.append((message.room_id, self._bus.room_event(packed)))
        self._outbox_ready.set()

    async def _publish_forever(self) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            await self._flush_outbox()

    async def _flush_outbox(self) -> None:
        items, self._outbox = self._outbox, []
        if items:
            await self._broker.publish(items)  # never raises; a lost hint is swept up

    def broadcast(self, room_id: str, frame: dict[str, Any], *, local_only: bool = False) -> None:
        """Send an ephemeral frame (not in the room's sequence, never stored) to the room's
        members on every node, or with `local_only` on this node alone (presence: each node
        tells its own members). Best effort: while Redis is down only local members get it."""
        feed = self.feeds.get(room_id)
        if feed is not None:
            feed.post(Ephemeral(frame))
        if local_only:
            return
        self._outbox.append((room_id, self._bus.ephemeral(frame)))
        self._outbox_ready.set()

    def evict(self, room_id: str, user_id: int) -> None:
        """Take a user out of a room's live stream on every node (they were removed from it).
        Their connections get `left` with reason "removed"."""
        feed = self.feeds.get(room_id)
        if feed is not None:
            feed.post(Evict(user_id))
        self._outbox.append((room_id, self._bus.eviction(user_id)))
        self._outbox_ready.set()

    def end_session(self, user_id: int, session_key: bytes) -> None:
        """Close every WebSocket of a session that has ended (it is gone from the store), here
        at once and on the other nodes through the user's personal channel. Best effort like
        every publish: the sweep closes whatever a lost publish left open."""
        closed = self.sessions.end(session_key)
        if closed:
            log.info("hub.session_ended", user_id=user_id, connections=closed)
        self._outbox.append((personal_channel(user_id),
                             self._bus.session_ended(user_id, session_key)))
        self._outbox_ready.set()

    def on_broker_message(self, room_id: str, payload: bytes) -> None:
        feed = self.feeds.get(room_id)
        if feed is None or self._bus.is_own(payload):
            return  # our own echo: every local feed had it first, without a round trip
        try:
            envelope = bus.decode(payload)
        except bus.BusError as exc:
            log.warning("hub.bad_broker_payload", room=room_id, error=str(exc))
            return
        kind, body = envelope.kind, envelope.body
        if kind is bus.ROOM_EVENT and envelope.wire is not None:
            if body["seq"] > feed.last_seq:  # else a message the feed already caught up
                self._observe_lag(body)
                feed.post(Event(body["seq"], body, envelope.wire))
        elif kind is bus.EPHEMERAL:
            feed.post(Ephemeral(body))
        elif kind is bus.EVICTION:
            feed.post(Evict(body))
        elif kind is bus.SESSION_ENDED and is_personal(room_id):
            user_id, session_key = body
            closed = self.sessions.end(session_key)
            if closed:
                log.info("hub.session_ended", user_id=user_id, connections=closed)
        else:
            log.warning("hub.unexpected_broker_payload", room=room_id, kind=kind.name)

    def _observe_lag(self, frame: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            sent_ms = datetime.fromisoformat(frame["sent_at"]).timestamp() * 1000
            self._metrics.broker_lag_seconds.observe(max(0.0, self._clock.now_ms() - sent_ms) / 1000)

    def on_broker_state(self, healthy: bool) -> None:
        self._metrics.broker_up.set(1 if healthy else 0)
        # Either way, look at the store now: on loss to start polling, on recovery to fetch
        # whatever Redis dropped while we were away (evictions too: see _recheck_access).
        if healthy:
            self._recheck_all = True
        self._backfill = None
        self._broker_changes += 1
        self._sweep_now.set()

    def caught_up(self) -> bool:
        """False from a broker loss until every feed has what was committed before the first
        sweep after the broker's return read the heads: resubscribed *and* backfilled."""
        targets = self._backfill
        if targets is None:
            return False
        for room_id, seq in list(targets.items()):
            feed = self.feeds.get(room_id)
            if feed is not None and feed.last_seq < seq:
                return False
            del targets[room_id]
        return True

    # -- the sweep -------------------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        while True:
            # Often while the broker is down, or back but its backfill's heads not yet read.
            healthy = self._broker.healthy and self._backfill is not None
            interval = self._sweep_interval_s if healthy else self._degraded_poll_s
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._sweep_now.wait()
            self._sweep_now.clear()
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the loop never dies; the store may be restarting
                log.warning("hub.sweep_failed", error=type(exc).__name__)

    async def sweep(self) -> None:
        """Catch up every feed that is behind the store's head; in a private room, only after
        evicting whoever may no longer see it. Then close the connections of sessions that
        ended or expired."""
        await self._sweep_rooms()
        await self._end_dead_sessions()

    async def _end_dead_sessions(self) -> None:
        keys = self.sessions.keys()
        if not keys:
            return
        live = await self._store.live_sessions(keys, self._clock.now_ms())
        for key in keys:
            if key not in live:
                closed = self.sessions.end(key)
                if closed:
                    log.info("hub.session_ended", connections=closed, found_by="sweep")

    async def _sweep_rooms(self) -> None:
        # Personal channels (chat/hub/personal.py) have no log to fall behind.
        feeds = [feed for feed in self.feeds.values() if feed.last_seq >= 0 and feed.logged]
        changes, healthy = self._broker_changes, self._broker.healthy
        heads = await self._store.room_heads([feed.room_id for feed in feeds]) if feeds else {}
        if self._backfill is None and healthy and changes == self._broker_changes:
            # Subscribed before these heads were read: the feeds miss nothing beyond them.
            self._backfill = {feed.room_id: heads.get(feed.room_id, 0) for feed in feeds}
        if not feeds:
            return
        behind = [feed for feed in feeds if heads.get(feed.room_id, 0) > feed.last_seq]
        for feed in behind:
            if not feed.private:
                feed.post(CATCH_UP)
        await self._recheck_access(feeds, heads)
        for feed in behind:
            if feed.private:
                feed.post(CATCH_UP)  # after its evictions, in the feed's order

    async def _recheck_access(self, feeds: list[RoomFeed], heads: dict[str, int]) -> None:
        """Evict the members of private feeds who may no longer see the room.

        A removal reaches the other nodes as a broker message (`evict`); one published while
        Redis is down, or lost, would leave the removed user's connections there subscribed,
        fed by the sweep or by other nodes' publishes. So each sweep asks the store, by the
        joins' own rule and in one batched query, about the members of every private feed
        with something new to deliver since it was last checked — and about all of them on
        the first sweep after the broker is back, when ephemeral frames flow again."""
        recheck_all, self._recheck_all = self._recheck_all, False
        due: dict[str, tuple[RoomFeed, int]] = {}
        subscribers: dict[tuple[str, int], list[Subscriber]] = {}
        for feed in feeds:
            # Every seq up to `seq` was committed before the query below, so before any
            # removal it does not see.
            seq = max(feed.last_seq, heads.get(feed.room_id, 0))
            if not feed.private or not (recheck_all or seq > feed.checked_seq):
                continue
            due[feed.room_id] = (feed, seq)
            for group in feed.members:
                for subscriber in group:
                    subscribers.setdefault((feed.room_id, subscriber.user_id), []).append(subscriber)
        try:
            visible = await self._store.visible_pairs(list(subscribers)) if subscribers else set()
        except BaseException:
            self._recheck_all = self._recheck_all or recheck_all
            raise
        for (room_id, user_id), found in subscribers.items():
            if (room_id, user_id) not in visible:
                log.info("hub.access_revoked", room=room_id, user_id=user_id)
                due[room_id][0].post(Evict(user_id, frozenset(found)))
        for feed, seq in due.values():
            feed.checked_seq = max(feed.checked_seq, seq)

    def stats(self) -> dict[str, Any]:
        rooms = [feed for feed in self.feeds.values() if feed.logged]
        return {"rooms": len(rooms), "members": sum(f.member_count for f in rooms)}
