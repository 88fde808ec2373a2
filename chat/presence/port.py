"""The Presence port: which users are online in which rooms, on every node.

A node writes only its own entries — "user U is online in room R through this node" — and reads
everyone's. An entry lives `ttl_s` after it was last written, so the entries of a node that dies
without saying goodbye fade out on their own; a live node rewrites all of its entries every
ttl_s / 3 (the heartbeat, chat/presence/tracker.py).

Contract (tests/contract/test_presence.py runs it against each backend):
- update() is idempotent: writing an entry again only moves its expiry to now + ttl_s; removing
  an entry that does not exist is a no-op. Entries are keyed by (room, node, user): the same user
  on two nodes is two entries, and stays online until both are gone.
- online() never returns this node's own entries (the caller knows them better than the backend
  does, including changes it has not written yet) nor expired ones; a user online through several
  other nodes appears once.
- With `announce=True`, update() tells every other node's listener which rooms changed, after
  the change is visible to their reads. Announcements are hints: a backend may lose them while
  disconnected, and then calls `on_presence_changed(None)` once it is back.
- Backend failures raise (a ChatError subclass or the driver's error); nothing is half-applied
  in a way a later successful update() would not repair.
- Time comes from the Clock the backend was given: expiry is a wall-clock instant, so nodes
  sharing a backend need clocks in step to well under ttl_s (NTP).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PresentUser:
    user_id: int
    name: str


@dataclass(frozen=True, slots=True)
class RoomPresence:
    """Who is online in one room through the other nodes."""

    users: dict[int, str] = field(default_factory=dict)  # user_id -> display name
    # The earliest instant (ms since the epoch) at which one of those entries expires unless its
    # node refreshes it: when to look again to notice a node that died. None: no entries.
    expires_at_ms: int | None = None


class PresenceListener(Protocol):
    def on_presence_changed(self, room_ids: list[str] | None) -> None:
        """Another node changed these rooms (None: anything may have changed, e.g. after the
        backend reconnected). Called on the event loop; must not block."""


class Presence(Protocol):
    node_id: str
    ttl_s: float

    def bind(self, listener: PresenceListener) -> None:
        """Set the one listener of this node for other nodes' announcements."""

    async def update(
        self,
        online: Mapping[str, Sequence[PresentUser]],
        offline: Mapping[str, Sequence[int]],
        *,
        announce: bool = True,
    ) -> None:
        """Write this node's entries: `online` (room -> users) live for ttl_s from now (again,
        if they existed), `offline` (room -> user ids) are removed. With `announce`, tell the
        other nodes which rooms changed."""

    async def online(self, room_ids: Sequence[str]) -> dict[str, RoomPresence]:
        """For each room, the users online through other nodes (unexpired entries only)."""
