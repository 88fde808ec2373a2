"""ReadService: each member's last-read position per room (topics and news threads are rooms
too), unread counts, and "read by" in direct conversations.

A position is a seq of the room's log. It only ever rises (an older or equal one changes
nothing), and may not pass the room's head: every seq a client has seen was committed first,
so a seq past the head is a client bug, refused like a `since` ahead of the head. Read
positions are not log entries: they take no seq and are never replayed. When one rises, the
member's own connections (all nodes) get a `read` frame on their personal channel, and in a
direct room the members who have it open get the same frame (read receipts are shown only
there: in the platform's open rooms they would tell everyone who reads what, and when).
"""

from __future__ import annotations

from typing import Any

from chat.errors import InvalidInput
from chat.hub.hub import Hub
from chat.hub.personal import personal_channel
from chat.models import Room, User
from chat.rooms.service import RoomService
from chat.store.port import Store

RECEIPT_KINDS = ("direct",)
# How much a room notifies a member: every message, only mentions of them, or nothing (muted:
# no notification and no weight in unread totals). Without a stored choice: all for direct
# conversations, mentions elsewhere.
NOTIFY_LEVELS = ("all", "mentions", "none")


def default_notify(room: Room) -> str:
    return "all" if room.kind in RECEIPT_KINDS else "mentions"


def read_frame(room_id: str, user_id: int, name: str, seq: int) -> dict[str, Any]:
    return {"type": "read", "room": room_id, "user": {"id": user_id, "name": name}, "seq": seq}


class ReadService:
    def __init__(self, store: Store, hub: Hub, rooms: RoomService) -> None:
        self._store = store
        self._hub = hub
        self._rooms = rooms

    async def mark_read(self, user: User, room_id: str, seq: int) -> int:
        """Raise the user's position in a room they may see to `seq` (NotFound for any other
        room; InvalidInput for a seq below 0 or past the head). Returns the position now."""
        if type(seq) is not int or seq < 0:
            raise InvalidInput("'seq' must be a whole number >= 0", details={"seq": "must be >= 0"})
        room = await self._rooms.visible_room(user, room_id)
        if seq > room.head_seq:
            raise InvalidInput(f"'seq' is past the room's head ({room.head_seq})",
                               details={"seq": "past the room's head"})
        position, moved = await self._store.advance_read(user.user_id, room_id, seq)
        if moved:
            self._announce(room, user, position)
        return position

    async def summaries(self, user: User, room_ids: list[str]) -> dict[str, tuple[int, int]]:
        """(last-read seq, unread) for each of these rooms (or topic and news threads) in one
        query. Only for rooms the caller already knows the user may see — a listing such as
        RoomService.list_rooms — as nothing here checks."""
        return await self._store.read_summaries(user.user_id, room_ids)

    async def mark_all_read(self, user: User) -> list[str]:
        """Raise the user's position to the head in every room of their listing that has
        anything past it; the ids of the rooms that moved. One statement per such room, each
        announced like mark_read."""
        rooms = await self._rooms.list_rooms(user)
        positions = await self._store.read_summaries(user.user_id, [room.room_id for room in rooms])
        moved_rooms = []
        for room in rooms:
            if positions.get(room.room_id, (0, 0))[0] < room.head_seq:
                position, moved = await self._store.advance_read(user.user_id, room.room_id, room.head_seq)
                if moved:
                    self._announce(room, user, position)
                    moved_rooms.append(room.room_id)
        return moved_rooms

    async def set_notify(self, user: User, room_id: str, notify: str | None) -> str:
        """Store how much a room the user may see notifies them (NotFound for any other room;
        InvalidInput for a level not in NOTIFY_LEVELS); None goes back to the default. Returns
        the level now in force."""
        if notify is not None and notify not in NOTIFY_LEVELS:
            raise InvalidInput("'notify' must be all, mentions, none or null", details={"notify": "unknown level"})
        room = await self._rooms.visible_room(user, room_id)
        await self._store.set_room_notify(user.user_id, room_id, notify)
        level = notify or default_notify(room)
        # Every connection of theirs, on every node: the mute shows on each device at once.
        self._hub.broadcast(personal_channel(user.user_id), {"type": "room_settings", "room": room_id, "notify": level})
        return level

    async def notify_levels(self, user: User, rooms: list[Room]) -> dict[str, str]:
        """The level in force for each of these rooms (a listing the user may see), in one query."""
        stored = await self._store.room_notify_levels(user.user_id, [room.room_id for room in rooms])
        return {room.room_id: stored.get(room.room_id) or default_notify(room) for room in rooms}

    async def read_by(self, user: User, room_id: str) -> list[tuple[int, str, int]]:
        """(user_id, name, seq) of every current member of a direct room the user is in; in
        any other room they may see, only their own position. NotFound otherwise."""
        room = await self._rooms.visible_room(user, room_id)
        if room.kind in RECEIPT_KINDS:
            return await self._store.member_reads(room_id)
        return [(user.user_id, user.display_name, await self._store.read_position(user.user_id, room_id))]

    def _announce(self, room: Room, user: User, seq: int) -> None:
        frame = read_frame(room.room_id, user.user_id, user.display_name, seq)
        self._hub.broadcast(personal_channel(user.user_id), frame)
        if room.kind in RECEIPT_KINDS:
            self._hub.broadcast(room.room_id, frame)
