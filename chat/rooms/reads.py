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
