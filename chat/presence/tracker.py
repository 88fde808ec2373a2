"""PresenceTracker: this node's side of presence and typing.

It learns local joins, leaves and disconnects from the transport — O(1) counts; a joiner also
gets the room's snapshot, encoded once per state and format, and only a room's first local
member costs a backend read — and does everything else in one background task, in *ticks* at
most one per `interval_s` (leading edge: the first change after a quiet spell goes out
at once, a burst waits for the next tick). A tick

1. writes this node's changed entries to the Presence backend in one call, which announces the
   changed rooms to the other nodes;
2. re-reads every room that changed here or that another node announced (or whose entries from
   another node are due to expire: that is how a dead node's users fade), merges in this node's
   own users, and sends the room's local members one `presence` frame with the difference from
   what they were last told (nothing if there is none).

So a client gets at most one presence frame per room per `interval_s`, however many members
come and go, on however many nodes. Each node tells only its own members (the hub's local-only
broadcast) from the shared backend: frames computed on different nodes never race each other,
and the last tick after the last change shows the final state everywhere.

Every `ttl_s / 3` (the heartbeat) the tick also rewrites all of this node's entries so they
outlive the TTL while the node lives; after the backend reconnects it rewrites them at once and
announces them (Redis may have restarted empty).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import structlog
from prometheus_client import Counter

from chat.clock import Clock
from chat.errors import ChatError, Unavailable
from chat.hub.hub import Hub
from chat.hub.subscriber import Subscriber, WireFormat
from chat.metrics import Metrics
from chat.models import User
from chat.presence.frames import presence_frame, presence_label
from chat.presence.port import Presence, PresentUser, RoomPresence
from chat.presence.typing import TypingBatcher

log = structlog.get_logger("chat.presence")

RECHECK_MARGIN_S = 0.05  # look a moment after an entry's expiry, not a moment before
RETRY_START_S = 0.1
RETRY_CAP_S = 2.0
SHUTDOWN_TIMEOUT_S = 2.0


class PresenceTracker:
    def __init__(
        self,
        presence: Presence,
        hub: Hub,
        formats: list[WireFormat],
        clock: Clock,
        metrics: Metrics,
        *,
        interval_s: float,
        typing_interval_s: float,
    ) -> None:
        self.interval_s = interval_s
        self.heartbeat_s = presence.ttl_s / 3
        self._presence = presence
        self._hub = hub
        self._formats = formats
        self._clock = clock
        # Local truth: the connections joined to each room here, and per user their count.
        self._members: dict[str, dict[Subscriber, User]] = {}
        self._users: dict[str, dict[int, tuple[str, int]]] = {}  # room -> user_id -> (name, count)
        self._changed: dict[str, set[int]] = {}  # room -> users to write at the next tick
        # What the backend holds for this node, as of the last successful write.
        self._written: dict[str, dict[int, str]] = {}
        # What this node's members of each room were last told, and its snapshot per format.
        self._shown: dict[str, dict[int, str]] = {}
        self._snapshots: dict[tuple[str, int], Any] = {}
        self._loading: dict[str, asyncio.Task[None]] = {}  # rooms whose first view is being read
        self._stale: set[str] = set()  # rooms other nodes changed
        self._recheck: dict[str, float] = {}  # room -> loop time when another node's entry expires
        self._resync = False  # the backend reconnected: rewrite and re-read everything
        self._wake = asyncio.Event()
        self._last_tick = float("-inf")
        self._next_heartbeat = 0.0
        r = metrics.registry
        self.frames = Counter("ecolink_presence_frames", "Presence frames sent: 'change' per "
                              "room fan-out, 'snapshot' per joiner", ["kind"], registry=r)
        self.failures = Counter("ecolink_presence_failures", "Presence backend calls that "
                                "failed (retried)", registry=r)
        self.typing_frames = Counter("ecolink_typing", "Typing indicators: 'sent' (in a "
                                     "frame) or 'throttled' (dropped)", ["outcome"], registry=r)
        # Children looked up once: labels() takes a lock and a dict lookup per call.
        self._snapshots_sent = self.frames.labels("snapshot")
        self._changes_sent = self.frames.labels("change")
        self._typing = TypingBatcher(
            hub.broadcast, clock, throttle_s=typing_interval_s, interval_s=interval_s,
            on_sent=self.typing_frames.labels("sent").inc,
            on_dropped=self.typing_frames.labels("throttled").inc,
        )
        presence.bind(self)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[PresenceTracker]:
        task = asyncio.create_task(self._run_forever(), name="presence-tracker")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._typing.close()
            # Leave nothing for the TTL to clean up: other nodes see our users go now.
            if self._written:
                offline = {room: list(users) for room, users in self._written.items()}
                try:
                    async with asyncio.timeout(SHUTDOWN_TIMEOUT_S):
                        await self._presence.update({}, offline)
                except Exception as exc:
                    log.warning("presence.clear_failed", error=type(exc).__name__)

    # -- local members (called by the transport) ---------------------------------------------

    async def joined(self, subscriber: Subscriber, user: User, room_id: str) -> None:
        """Count `subscriber` (of `user`) as a local member of the room — call it once its join
        succeeded, again on a rejoin (idempotent) — and send it the room's presence: a full
        `presence` frame, as its node's members were last told (the joiner itself arrives in
        the next change if it was not online yet)."""
        self._add(subscriber, user, room_id)
        if room_id not in self._shown:
            # One backend read per room, however many join at once (a reconnect storm).
            loading = self._loading.get(room_id)
            if loading is None:
                loading = asyncio.get_running_loop().create_task(self._first_view(room_id))
                self._loading[room_id] = loading
            await asyncio.shield(loading)
            if subscriber not in self._members.get(room_id, ()) or room_id not in self._shown:
                return  # it left (or the connection ended) meanwhile
        if not subscriber.dead:
            subscriber.push(self._snapshot(room_id, subscriber.codec_index))
            self._snapshots_sent.inc()

    async def _first_view(self, room_id: str) -> None:
        """What a room's first local member is told: the other nodes' users and ours."""
        try:
            others = (await self._presence.online([room_id]))[room_id]
        except Exception as exc:
            # Answer with what this node knows; the next tick tries the backend again.
            log.warning("presence.read_failed", room=room_id, error=type(exc).__name__)
            self.failures.inc()
            others = RoomPresence()
            self._stale.add(room_id)
            self._wake.set()
        finally:
            self._loading.pop(room_id, None)
        if room_id in self._members and room_id not in self._shown:  # else a tick got there first
            self._set_shown(room_id, {**others.users, **self._written.get(room_id, {})})
            self._schedule_recheck(room_id, others.expires_at_ms)

    def left(self, subscriber: Subscriber, room_id: str) -> None:
        """`subscriber` is no longer a member of the room here. Idempotent."""
        members = self._members.get(room_id)
        user = members.pop(subscriber, None) if members is not None else None
        if user is None:
            return
        if not members:
            del self._members[room_id]
            self._forget_view(room_id)
        users = self._users[room_id]
        name, count = users[user.user_id]
        if count > 1:
            users[user.user_id] = (name, count - 1)
            return
        del users[user.user_id]
        if not users:
            del self._users[room_id]
        self._mark(room_id, user.user_id)

    def disconnected(self, subscriber: Subscriber, room_ids: Iterable[str]) -> None:
        for room_id in room_ids:
            self.left(subscriber, room_id)

    def typing(self, user: User, room_id: str) -> bool:
        """Tell the room's members, on every node, that `user` is typing — unless this node let
        one through for the same user and room less than the typing interval ago (then nothing
        happens; returns False). Batched per room like presence (chat/presence/typing.py). The
        caller checks that the user joined the room."""
        return self._typing.typing(user, room_id)

    async def online(self, room_id: str) -> list[PresentUser]:
        """Everyone online in the room now, on any node, by user id. Raises Unavailable when the
        backend cannot be read. The caller checks that the user may see the room."""
        try:
            others = (await self._presence.online([room_id]))[room_id]
        except ChatError:
            raise
        except Exception as exc:
            self.failures.inc()
            raise Unavailable("presence is unavailable; retry") from exc
        users = dict(others.users)
        users.update((user_id, name) for user_id, (name, _) in self._users.get(room_id, {}).items())
        return [PresentUser(user_id, users[user_id]) for user_id in sorted(users)]

    def _add(self, subscriber: Subscriber, user: User, room_id: str) -> None:
        members = self._members.setdefault(room_id, {})
        if subscriber in members:
            return
        members[subscriber] = user
        users = self._users.setdefault(room_id, {})
        name, count = users.get(user.user_id, ("", 0))
        label = presence_label(user)
        users[user.user_id] = (label, count + 1)
        if count == 0 or name != label:
            self._mark(room_id, user.user_id)

    def _mark(self, room_id: str, user_id: int) -> None:
        self._changed.setdefault(room_id, set()).add(user_id)
        self._wake.set()

    # -- other nodes (called by the backend) -------------------------------------------------

    def on_presence_changed(self, room_ids: list[str] | None) -> None:
        if room_ids is None:
            self._resync = True
        else:
            self._stale.update(room for room in room_ids if room in self._members)
        self._wake.set()

    # -- what local members see --------------------------------------------------------------

    def _set_shown(self, room_id: str, users: dict[int, str]) -> None:
        self._shown[room_id] = users
        for index in range(len(self._formats)):
            self._snapshots.pop((room_id, index), None)

    def _snapshot(self, room_id: str, codec_index: int) -> Any:
        """The full presence frame of a room, encoded once per format until it changes."""
        key = (room_id, codec_index)
        wire = self._snapshots.get(key)
        if wire is None:
            frame = presence_frame(room_id, self._shown[room_id], full=True)
            wire = self._snapshots[key] = self._formats[codec_index].wrap(frame)
        return wire

    def _forget_view(self, room_id: str) -> None:
        self._shown.pop(room_id, None)
        for index in range(len(self._formats)):
            self._snapshots.pop((room_id, index), None)
        self._recheck.pop(room_id, None)
        self._stale.discard(room_id)

    def _show(self, room_id: str, users: dict[int, str]) -> None:
        """Tell the room's local members what changed since they were last told."""
        before = self._shown[room_id]
        came = {user_id: name for user_id, name in users.items() if before.get(user_id) != name}
        went = [user_id for user_id in before if user_id not in users]
        if not came and not went:
            return
        self._set_shown(room_id, users)
        self._hub.broadcast(room_id, presence_frame(room_id, came, went, full=False), local_only=True)
        self._changes_sent.inc()

    def _schedule_recheck(self, room_id: str, expires_at_ms: int | None) -> None:
        if expires_at_ms is None:
            self._recheck.pop(room_id, None)
            return
        delay_s = max(0.0, (expires_at_ms - self._clock.now_ms()) / 1000)
        self._recheck[room_id] = asyncio.get_running_loop().time() + delay_s + RECHECK_MARGIN_S

    # -- the tick ----------------------------------------------------------------------------

    async def _run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        retry_s = RETRY_START_S
        while True:
            self._wake.clear()
            pending = bool(self._changed or self._stale or self._resync)
            due = self._next_heartbeat
            if pending:
                due = 0.0
            if self._recheck:
                due = min(due, min(self._recheck.values()))
            due = max(due, self._last_tick + self.interval_s)
            now = loop.time()
            if due > now:
                if pending:  # only the interval holds it back: no event can make it sooner
                    await asyncio.sleep(due - now)
                else:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(due - now):
                            await self._wake.wait()
                continue
            self._last_tick = now
            try:
                await self.tick()
                retry_s = RETRY_START_S
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the loop never dies: the backend may be restarting
                log.warning("presence.tick_failed", error=type(exc).__name__, retry_in_s=retry_s)
                self.failures.inc()
                await asyncio.sleep(retry_s)
                retry_s = min(retry_s * 2, RETRY_CAP_S)

    async def tick(self) -> None:
        """Write local changes (and the heartbeat when due), then update local members."""
        now = asyncio.get_running_loop().time()
        resync, self._resync = self._resync, False
        changed, self._changed = self._changed, {}
        online, offline = self._local_changes(changed)
        try:
            if online or offline:
                await self._presence.update(online, offline)
        except BaseException:
            for room_id, pending in changed.items():
                self._changed.setdefault(room_id, set()).update(pending)
            self._resync = self._resync or resync
            raise
        for room_id, users in online.items():
            written = self._written.setdefault(room_id, {})
            written.update((user.user_id, user.name) for user in users)
        for room_id, user_ids in offline.items():
            written = self._written.get(room_id, {})
            for user_id in user_ids:
                written.pop(user_id, None)
            if not written:
                self._written.pop(room_id, None)

        if resync or now >= self._next_heartbeat:
            entries = {room_id: [PresentUser(user_id, name) for user_id, name in users.items()]
                       for room_id, users in self._written.items()}
            try:
                if entries:
                    await self._presence.update(entries, {}, announce=resync)
            except BaseException:
                self._resync = self._resync or resync
                raise
            self._next_heartbeat = now + self.heartbeat_s
            self._typing.prune()

        due = [room_id for room_id, at in self._recheck.items() if at <= now]
        for room_id in due:
            del self._recheck[room_id]
        rooms = set(changed) | self._stale | set(due)
        if resync:
            rooms |= set(self._members)
        self._stale.clear()
        rooms &= self._members.keys()
        if not rooms:
            return
        ordered = sorted(rooms)
        try:
            states = await self._presence.online(ordered)
        except BaseException:
            self._stale.update(rooms)
            raise
        for room_id in ordered:
            if room_id not in self._members:
                continue  # it emptied meanwhile
            if room_id not in self._shown:
                # Its first view is being read (joined()); that read may predate ours, so
                # compare with it at the next tick.
                self._stale.add(room_id)
                continue
            state = states[room_id]
            self._show(room_id, {**state.users, **self._written.get(room_id, {})})
            self._schedule_recheck(room_id, state.expires_at_ms)

    def _local_changes(
        self, changed: dict[str, set[int]]
    ) -> tuple[dict[str, list[PresentUser]], dict[str, list[int]]]:
        """What to write for the users whose local state changed: who is online here now (or
        under a new name) and was not written so, and who was written but is gone."""
        online: dict[str, list[PresentUser]] = {}
        offline: dict[str, list[int]] = {}
        for room_id, user_ids in changed.items():
            users = self._users.get(room_id, {})
            written = self._written.get(room_id, {})
            for user_id in user_ids:
                entry = users.get(user_id)
                if entry is None:
                    if user_id in written:
                        offline.setdefault(room_id, []).append(user_id)
                elif written.get(user_id) != entry[0]:
                    online.setdefault(room_id, []).append(PresentUser(user_id, entry[0]))
        return online, offline
