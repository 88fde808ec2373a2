"""Memberships: the rooms one WebSocket connection has joined, and what follows each one.

A membership is four things kept in step: the room in the connection's set, the joined-rooms
gauge, the hub's subscription (through the room service, which checks who may see the room)
and presence. Every way in or out — join, rejoin, refused join, leave, eviction by the hub,
disconnect — goes through this class, and every way out through one method (`_forget`), so no
path can update three of the four (centrifuge's client has one `unsubscribe` behind both
Unsubscribe() and Close() for the same reason). It does no I/O of its own: tests drive it with
recording doubles of the room service and the presence tracker.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from chat.errors import ChatError, FrameError
from chat.hub.subscriber import Subscriber
from chat.models import User


class RoomDoor(Protocol):
    """The room service's side of a membership (chat/rooms/service.py)."""

    async def join(self, user: User, subscriber: Subscriber, room_id: str, since: int | None) -> int:
        """Check the user may see the room, then subscribe; returns the seq joined at."""

    def leave(self, subscriber: Subscriber, room_id: str) -> None:
        """Unsubscribe; a no-op for a room the subscriber is not in."""


class PresenceDoor(Protocol):
    """The presence tracker's side (chat/presence/tracker.py)."""

    async def joined(self, subscriber: Subscriber, user: User, room_id: str) -> None: ...

    def left(self, subscriber: Subscriber, room_id: str) -> None: ...


class Gauge(Protocol):
    def inc(self, amount: float = 1) -> None: ...

    def dec(self, amount: float = 1) -> None: ...


@dataclass(frozen=True, slots=True)
class RoomLinks:
    """What a connection's memberships are linked to on its node."""

    rooms: RoomDoor
    presence: PresenceDoor
    joined_rooms: Gauge
    max_rooms: int


class Memberships:
    __slots__ = ("_subscriber", "_user", "_links", "_joined")

    def __init__(self, subscriber: Subscriber, user: User, links: RoomLinks | None) -> None:
        self._subscriber: Subscriber | None = subscriber  # None once closed
        self._user = user
        self._links = links
        self._joined: set[str] = set()

    def __contains__(self, room_id: object) -> bool:
        return room_id in self._joined

    def __len__(self) -> int:
        return len(self._joined)

    def __iter__(self) -> Iterator[str]:
        return iter(self._joined)

    async def join(self, room_id: str, since: int | None) -> int:
        """Join the room, or rejoin it (restarting its stream from `since`); returns the seq
        joined at. Raises ChatError when refused: a refused join leaves nothing behind, a
        refused rejoin keeps the membership as it was (the hub's feed does the same)."""
        links = self._need_links()
        subscriber = self._need_subscriber()
        rejoin = room_id in self._joined
        if not rejoin:
            if len(self._joined) >= links.max_rooms:
                raise FrameError("too_many_rooms", f"a connection joins at most {links.max_rooms} rooms")
            # Counted before the hub answers, so a disconnect meanwhile forgets it too.
            self._joined.add(room_id)
            links.joined_rooms.inc()
        try:
            head = await links.rooms.join(self._user, subscriber, room_id, since)
        except ChatError:
            if not rejoin:
                self._forget(room_id, unsubscribe=True)
            raise
        # An eviction or a disconnect may have ended the membership while the hub answered:
        # presence must not count a member who is gone.
        if room_id in self._joined:
            await links.presence.joined(subscriber, self._user, room_id)
        return head

    def leave(self, room_id: str) -> None:
        """Leave the room (a `leave` frame). A no-op for a room not joined."""
        self._forget(room_id, unsubscribe=True)

    def evicted(self, room_id: str) -> None:
        """The hub already took the connection out of the room (it may no longer see it)."""
        self._forget(room_id, unsubscribe=False)

    def close(self) -> None:
        """The connection ended: leave every room."""
        for room_id in list(self._joined):
            self._forget(room_id, unsubscribe=True)
        # The connection holds this object and this object the connection: a reference cycle,
        # which would keep the whole closed connection (its socket, protocol, buffers, ~60
        # objects) until a full collection. Broken here, it is freed as soon as its endpoint
        # returns (tests/e2e/test_connection_garbage.py).
        self._subscriber = None

    def _forget(self, room_id: str, *, unsubscribe: bool) -> None:
        """The one way out of a room."""
        if room_id not in self._joined:
            return
        links, subscriber = self._need_links(), self._need_subscriber()
        self._joined.discard(room_id)
        links.joined_rooms.dec()
        if unsubscribe:
            links.rooms.leave(subscriber, room_id)
        links.presence.left(subscriber, room_id)  # idempotent: also after a refused join

    def _need_subscriber(self) -> Subscriber:
        if self._subscriber is None:
            raise RuntimeError("this connection has closed: it joins and leaves nothing more")
        return self._subscriber

    def _need_links(self) -> RoomLinks:
        if self._links is None:
            raise RuntimeError("this connection was made without RoomLinks: pass links= to "
                               "Connection to let it join rooms")
        return self._links
