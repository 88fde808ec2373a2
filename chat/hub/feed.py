"""RoomFeed: the ordered stream of one room on this node.

A single task per room applies everything in order — events from local commits and from the
broker, catch-ups from the store, joins — so the feed's `last_seq` only ever grows by one and
every local member sees seq after seq with no hole and no duplicate (invariants 2, 4
and 5). Joins run in the same task so a joiner's replay ends exactly where live delivery starts.

A big room's event is handed to its members in slices of `fan_out_slice`, the feed yielding
to the event loop between two: 10,000 members take ~100 ms of writes, which in one step would
stall every other connection, commit and room on the node for as long. The feed's next item
waits for the slices to end, so the room's order holds; a member who leaves meanwhile is
skipped (no message after its `left`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog

from chat.logs import failure
from chat.errors import FrameError, NotFound, Unavailable
from chat.hub.subscriber import Subscriber, WireFormat
from chat.protocol.codecs import MSGPACK
from chat.protocol.frames import joined_frame, left_frame, message_frame, resync_frame
from chat.store.port import Store

T = TypeVar("T")

log = structlog.get_logger("chat.hub")

CATCH_UP_PAGE = 500
RETRY_START_S = 0.05
RETRY_CAP_S = 2.0


@dataclass(slots=True)
class Event:
    seq: int
    frame: dict[str, Any]
    packed: bytes  # the msgpack wire frame (also the body of its bus envelope, chat/protocol/bus.py)


@dataclass(slots=True)
class Ephemeral:
    """A frame outside the room's sequence (typing, presence …): delivered to the members
    present now, in order with the events around it, never stored or replayed."""

    frame: dict[str, Any]


@dataclass(slots=True)
class Evict:
    """Remove every subscriber of a user who may no longer see the room (removed from a
    direct conversation), telling each with a `left` frame."""

    user_id: int
    # When given, only these (the ones the sweep found without access): a connection that
    # rejoined after being added back since the check is not caught.
    only: frozenset[Subscriber] | None = None


@dataclass(slots=True)
class JoinRequest:
    subscriber: Subscriber
    since: int | None
    done: asyncio.Future[int]
    # Checked in the feed's own order, so a removal that commits before this join is applied
    # cannot be overtaken by it (its eviction runs either before, or after the add).
    authorize: Callable[[], Awaitable[bool]] | None = None


@dataclass(slots=True)
class Leave:
    subscriber: Subscriber


class CatchUp:
    """Read the store from last_seq on (after a gap, a reconnect or a sweep)."""


CATCH_UP = CatchUp()


class RoomFeed:
    def __init__(
        self,
        room_id: str,
        *,
        store: Store,
        formats: list[WireFormat],
        replay_limit: int,
        subscribe: Callable[[str], Any],
        fan_out_slice: int = 500,
        count_deliveries: Callable[[int], None],
        logged: bool = True,
    ) -> None:
        self.room_id = room_id
        # False for a feed with no log in the store (a personal channel, chat/hub/personal.py):
        # it starts at head 0 without asking the store, and the sweep never catches it up.
        self.logged = logged
        self.last_seq = -1  # unknown until started
        self.members: list[dict[Subscriber, None]] = [{} for _ in formats]
        self._store = store
        self._formats = formats
        self._replay_limit = replay_limit
        self._slice = fan_out_slice
        self._budget = fan_out_slice  # deliveries left before the feed yields to the loop
        self._subscribe = subscribe
        self._count = count_deliveries
        self._inbox: deque[Event | Ephemeral | Evict | JoinRequest | Leave | CatchUp] = deque()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"feed:{room_id}")
        self.linger: asyncio.TimerHandle | None = None
        self.pending_joins = 0  # joins queued but not applied: the feed is not idle
        # The hub's access re-checks (Hub.sweep): joins are authorized (a room not open to
        # every member), and the seq up to which its members were last checked.
        self.private = False
        self.checked_seq = -1

    @property
    def member_count(self) -> int:
        return sum(len(group) for group in self.members)

    def post(self, item: Event | Ephemeral | Evict | JoinRequest | Leave | CatchUp) -> None:
        self._inbox.append(item)
        self._wake.set()

    def drop(self, subscriber: Subscriber) -> None:
        """Forget a subscriber now (it is dead; no frame can reach it any more)."""
        self.members[subscriber.codec_index].pop(subscriber, None)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        for item in self._inbox:
            if isinstance(item, JoinRequest) and not item.done.done():
                item.done.set_exception(Unavailable("the room feed closed; join again"))

    # -- the feed task ---------------------------------------------------------------------

    async def _run(self) -> None:
        await self._start()
        while True:
            while self._inbox:
                if self._budget <= 0:
                    await self._yield()
                item = self._inbox.popleft()
                try:
                    await self._apply(item)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # A bug must not kill the room for everyone: log it, answer a waiting
                    # joiner (it may rejoin), and go on.
                    log.error("feed.apply_failed", room=self.room_id, **failure(exc))
                    if isinstance(item, JoinRequest) and not item.done.done():
                        item.done.set_exception(Unavailable("joining failed; join again"))
            self._wake.clear()
            if not self._inbox:
                await self._wake.wait()
                self._budget = self._slice  # it waited: others ran

    async def _start(self) -> None:
        # Subscribe before reading the head: whatever is committed after the read then
        # arrives through the broker (or the sweep), and anything older is a duplicate.
        await self._subscribe(self.room_id)
        self.last_seq = await self._retry(self._read_head)

    async def _read_head(self) -> int:
        if not self.logged:
            return 0  # no room and no log: no query per connecting user
        heads = await self._store.room_heads([self.room_id])
        return heads.get(self.room_id, 0)

    async def _apply(self, item: Event | Ephemeral | Evict | JoinRequest | Leave | CatchUp) -> None:
        if isinstance(item, Event):
            if item.seq <= self.last_seq:
                return  # already delivered (the broker echo of a local commit, or a backfill)
            if item.seq > self.last_seq + 1:
                await self._catch_up(until_seq=item.seq - 1)
            await self._deliver(item)
        elif isinstance(item, Ephemeral):
            await self._fan_out(item.frame, None)
        elif isinstance(item, Evict):
            self._evict(item.user_id, item.only)
        elif isinstance(item, JoinRequest):
            await self._join(item)
        elif isinstance(item, Leave):
            self.drop(item.subscriber)
        else:
            await self._catch_up(until_seq=None)

    async def _deliver(self, event: Event) -> None:
        self.last_seq = event.seq
        delivered = await self._fan_out(event.frame, event.packed)
        if delivered:
            self._count(delivered)

    async def _fan_out(self, frame: dict[str, Any], packed: bytes | None) -> int:
        """Encode once per wire format and put the same bytes on every member's queue, a
        slice of members per turn of the event loop."""
        delivered = 0
        for index, group in enumerate(self.members):
            if not group:
                continue
            wire = self._formats[index].wrap(frame, packed)
            if len(group) <= self._budget:  # the turn's budget covers them (small rooms)
                for subscriber in group:
                    subscriber.push(wire)
                self._budget -= len(group)
                delivered += len(group)
                continue
            for subscriber in list(group):  # the group may change while the feed yields
                if self._budget <= 0:
                    await self._yield()
                if subscriber in group:  # not left (or dropped) since the slicing began
                    subscriber.push(wire)
                    delivered += 1
                self._budget -= 1
        return delivered

    async def _yield(self) -> None:
        """Let the loop run other work, then start a new turn's budget. The budget spans
        items: a burst of events for a mid-sized room yields too."""
        await asyncio.sleep(0)
        self._budget = self._slice

    def _evict(self, user_id: int, only: frozenset[Subscriber] | None) -> None:
        for index, group in enumerate(self.members):
            leaving = [subscriber for subscriber in group if subscriber.user_id == user_id
                       and (only is None or subscriber in only)]
            for subscriber in leaving:
                del group[subscriber]
                subscriber.push(self._formats[index].wrap(left_frame(self.room_id, "removed")))
                subscriber.evicted(self.room_id)

    async def _catch_up(self, until_seq: int | None) -> None:
        """Deliver committed messages after last_seq from the store, up to until_seq."""
        while until_seq is None or self.last_seq < until_seq:
            # partial binds last_seq now: every retry asks for the same page.
            page = await self._retry(
                functools.partial(self._store.messages_after, self.room_id, self.last_seq, CATCH_UP_PAGE)
            )
            for message in page:
                if until_seq is not None and message.seq > until_seq:
                    return
                frame = message_frame(message)
                await self._deliver(Event(message.seq, frame, MSGPACK.encode(frame)))
            if len(page) < CATCH_UP_PAGE:
                if until_seq is not None and self.last_seq < until_seq:
                    # The broker announced a seq the store does not show yet: cannot happen
                    # with commit-before-publish on one primary; say so instead of skipping.
                    log.error("feed.gap_not_in_store", room=self.room_id, have=self.last_seq,
                              want=until_seq)
                return

    async def _join(self, request: JoinRequest) -> None:
        subscriber, since = request.subscriber, request.since
        if request.done.done():
            return
        if subscriber.dead:
            request.done.set_result(self.last_seq)  # nothing to send to; the caller is ending
            return
        if request.authorize is not None and not await request.authorize():
            self.drop(subscriber)
            request.done.set_exception(NotFound("no such room"))
            return
        if since is not None and since > self.last_seq:
            await self._catch_up(until_seq=None)  # this node may lag the store a little
            if since > self.last_seq:
                # A refused rejoin leaves an existing membership as it was.
                request.done.set_exception(
                    FrameError("invalid", f"'since' is ahead of the room's head ({self.last_seq})")
                )
                return
        # A rejoin restarts this subscriber's stream of the room from `since`.
        self.drop(subscriber)
        head = self.last_seq
        fmt = self._formats[subscriber.codec_index]
        if since is not None and head - since > self._replay_limit:
            # Invariant 5: never a silent truncation — say the replay was skipped.
            subscriber.push(fmt.wrap(resync_frame(self.room_id, head)))
            since = None
        subscriber.push(fmt.wrap(joined_frame(self.room_id, head)))
        if since is not None and since < head:
            messages = await self._retry(
                lambda: self._store.messages_after(self.room_id, since, head - since)
            )
            for message in messages:
                if message.seq <= head:
                    subscriber.push(fmt.wrap(message_frame(message)))
        if not subscriber.dead:
            self.members[subscriber.codec_index][subscriber] = None
        request.done.set_result(head)

    async def _retry(self, read: Callable[[], Awaitable[T]]) -> T:
        """Run a store read until it succeeds: the feed must not skip what it cannot read."""
        delay = RETRY_START_S
        while True:
            try:
                return await read()
            except Unavailable:
                log.warning("feed.store_unavailable", room=self.room_id, retry_in_s=delay)
            except Exception as exc:
                # Not a known outage: log it loudly, but a read is safe to repeat, and
                # giving up would leave the room's readers behind for good.
                log.error("feed.store_read_failed", room=self.room_id, retry_in_s=delay, **failure(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_CAP_S)
