"""RoomService: what members do with rooms — list, read history, join, send."""

from __future__ import annotations

from chat.errors import InvalidInput, NotFound
from chat.hub.hub import Hub
from chat.hub.subscriber import Subscriber
from chat.models import Message, Room, SendRequest, User
from chat.rooms.committer import GroupCommitter
from chat.store.catalog import SEED_ROOMS
from chat.store.port import Store

PUBLIC_KINDS = ("sector", "city")
CATALOG_ORDER = {room.room_id: index for index, room in enumerate(SEED_ROOMS)}
MAX_PAGE = 200


class RoomService:
    def __init__(self, store: Store, hub: Hub, committer: GroupCommitter) -> None:
        self._store = store
        self._hub = hub
        self._committer = committer

    async def list_rooms(self, user: User) -> list[Room]:
        """The rooms the user can see: every sector and city room."""
        rooms = await self._store.list_rooms(PUBLIC_KINDS)
        return sorted(rooms, key=lambda room: CATALOG_ORDER.get(room.room_id, len(CATALOG_ORDER)))

    async def visible_room(self, user: User, room_id: str) -> Room:
        """The room if the user may see it; NotFound otherwise (also for rooms that exist but
        are not theirs, so ids do not leak)."""
        room = await self._store.get_room(room_id)
        if room is None or room.kind not in PUBLIC_KINDS:
            raise NotFound("no such room")
        return room

    async def history(
        self, user: User, room_id: str, *, after: int | None, before: int | None, limit: int
    ) -> list[Message]:
        """Messages in seq order: after `after`, or the page just before `before`, or the
        latest page when neither is given."""
        if after is not None and before is not None:
            raise InvalidInput("give either 'after' or 'before', not both")
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"'limit' must be between 1 and {MAX_PAGE}")
        room = await self.visible_room(user, room_id)
        if after is not None:
            return await self._store.messages_after(room_id, after, limit)
        return await self._store.messages_before(
            room_id, before if before is not None else room.head_seq + 1, limit
        )

    async def send(self, user: User, room_id: str, cid: str, body: str) -> tuple[Message, bool]:
        """Store a message durably; returns it and whether it is new (False for a repeated
        cid, which returns the original). Raises NotFound for an unknown room."""
        outcome = await self._committer.submit(
            SendRequest(room_id, user.user_id, user.display_name, cid, body)
        )
        if outcome.message is None:
            raise NotFound("no such room")
        return outcome.message, outcome.created

    async def join(self, user: User, subscriber: Subscriber, room_id: str, since: int | None) -> int:
        await self.visible_room(user, room_id)
        return await self._hub.join(subscriber, room_id, since)

    def leave(self, subscriber: Subscriber, room_id: str) -> None:
        self._hub.leave(subscriber, room_id)
