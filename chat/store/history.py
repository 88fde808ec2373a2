"""Rooms and the room log, read side: one implementation for both stores over the database
handle (chat/store/database.py). The write side is the append writer (group commit),
chat/store/append.py, shared too but for its two per-backend steps."""

from __future__ import annotations

from chat.models import Message, Room
from chat.store.database import Database, bind
from chat.store.rows import (
    MESSAGE_COLUMNS, MESSAGE_FROM, Reactions, group_reactions, message_from_row,
)

ROOM_COLUMNS = "room_id, kind, title_en, title_zh, head_seq, status, description_en, description_zh"
# Past any seq a room will reach: "before the end" when paging back from the newest.
NO_BOUND = 2**62


class HistoryReadsMixin:
    """Mixed into each store, whose base supplies `_db` (tests/contract/test_store.py)."""

    _db: Database

    async def list_rooms(self, kinds: tuple[str, ...]) -> list[Room]:
        sql, params = bind(f"SELECT {ROOM_COLUMNS} FROM rooms WHERE {{}} ORDER BY kind DESC, room_id",
                           self._db.dialect.in_list("kind", list(kinds), "text"))
        return [Room(*row) for row in await self._db.fetch(sql, *params)]

    async def rooms_after(self, kinds: tuple[str, ...], after: str, limit: int) -> list[Room]:
        key = self._db.dialect.code_point_order("room_id")
        sql, params = bind(f"SELECT {ROOM_COLUMNS} FROM rooms WHERE {{}} AND {key} > ? ORDER BY {key} LIMIT ?",
                           self._db.dialect.in_list("kind", list(kinds), "text"), after, limit)
        return [Room(*row) for row in await self._db.fetch(sql, *params)]

    async def get_room(self, room_id: str) -> Room | None:
        row = await self._db.fetch_one(f"SELECT {ROOM_COLUMNS} FROM rooms WHERE room_id = ?", room_id)
        return Room(*row) if row else None

    async def room_heads(self, room_ids: list[str]) -> dict[str, int]:
        if not room_ids:
            return {}
        sql, params = bind("SELECT room_id, head_seq FROM rooms WHERE {}",
                           self._db.dialect.in_list("room_id", room_ids, "text"))
        return {row[0]: row[1] for row in await self._db.fetch(sql, *params)}

    async def messages_after(self, room_id: str, after_seq: int, limit: int) -> list[Message]:
        rows = await self._db.fetch(
            f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}"
            " WHERE m.room_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?",
            room_id, after_seq, limit,
        )
        return [message_from_row(row) for row in rows]

    async def messages_before(self, room_id: str, before_seq: int, limit: int) -> list[Message]:
        rows = await self._db.fetch(
            f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}"
            " WHERE m.room_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?",
            room_id, before_seq, limit,
        )
        return [message_from_row(row) for row in reversed(rows)]

    async def message_page(
        self, room_id: str, *, after: int | None, before: int | None, limit: int
    ) -> tuple[list[Message], Reactions]:
        if after is not None:
            where, order, bound = "m.seq > ?", "m.seq", after
        else:
            where, order, bound = "m.seq < ?", "m.seq DESC", before if before is not None else NO_BOUND
        rows = await self._db.fetch(
            f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}"
            f" WHERE m.room_id = ? AND m.kind = 'message' AND {where} ORDER BY {order} LIMIT ?",
            room_id, bound, limit,
        )
        messages = sorted((message_from_row(row) for row in rows), key=lambda m: m.seq)
        if not messages:
            return messages, {}
        sql, params = bind(
            "SELECT message_id, emoji, user_id FROM reactions WHERE {}"
            " ORDER BY message_id, emoji, user_id",
            self._db.dialect.in_list("message_id", [m.message_id for m in messages], "text"))
        return messages, group_reactions(await self._db.fetch(sql, *params))

    async def timeline_events(
        self, room_id: str, *, above: int, below: int, limit: int, newest: bool
    ) -> list[Message]:
        rows = await self._db.fetch(
            f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}"
            " WHERE m.room_id = ? AND m.kind IN ('status', 'membership', 'webinar') AND m.seq > ? AND m.seq < ?"
            f" ORDER BY m.seq{' DESC' if newest else ''} LIMIT ?",
            room_id, above, below, limit,
        )
        return sorted((message_from_row(row) for row in rows), key=lambda m: m.seq)

    async def message_versions(self, room_id: str, message_id: str) -> list[tuple[int, str, int, int]] | None:
        found = await self._db.fetch_one(
            "SELECT deleted FROM messages WHERE room_id = ? AND message_id = ? AND kind = 'message'",
            room_id, message_id)
        if found is None:
            return None
        rows = await self._db.fetch(
            "SELECT version, body, edited_at_ms, editor_id FROM message_versions"
            " WHERE message_id = ? ORDER BY version", message_id)
        return [(row[0], row[1], row[2], row[3]) for row in rows]
