"""SqliteStore: rooms and the room log (group commit, history reads)."""

from __future__ import annotations

import aiosqlite

from chat.models import Message, Room, SendOutcome, SendRequest
from chat.store.batch import group_by_room, plan_room
from chat.store.sqlite.base import MESSAGE_COLUMNS, SqliteBase, _unavailable_on_error


class HistoryMixin(SqliteBase):
    # -- rooms and history -----------------------------------------------------------------

    async def list_rooms(self, kinds: tuple[str, ...]) -> list[Room]:
        marks = ",".join("?" * len(kinds))
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                "SELECT room_id, kind, title_en, title_zh, head_seq FROM rooms"
                f" WHERE kind IN ({marks}) ORDER BY kind DESC, room_id",
                kinds,
            )
        return [Room(*row) for row in rows]

    async def get_room(self, room_id: str) -> Room | None:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                "SELECT room_id, kind, title_en, title_zh, head_seq FROM rooms WHERE room_id = ?",
                (room_id,),
            )
        return Room(*rows[0]) if rows else None

    async def room_heads(self, room_ids: list[str]) -> dict[str, int]:
        if not room_ids:
            return {}
        marks = ",".join("?" * len(room_ids))
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                f"SELECT room_id, head_seq FROM rooms WHERE room_id IN ({marks})", room_ids
            )
        return {row[0]: row[1] for row in rows}

    async def append_batch(self, sends: list[SendRequest], now_ms: int) -> list[SendOutcome]:
        outcomes: list[SendOutcome | None] = [None] * len(sends)
        async with self._transaction() as conn:
            for room_id, indexed in group_by_room(sends).items():
                for index, outcome in (await self._append_room_txn(conn, room_id, indexed, now_ms)).items():
                    outcomes[index] = outcome
        return outcomes  # type: ignore[return-value]

    async def _append_room_txn(
        self,
        conn: aiosqlite.Connection,
        room_id: str,
        indexed: list[tuple[int, SendRequest]],
        now_ms: int,
    ) -> dict[int, SendOutcome]:
        heads = await conn.execute_fetchall("SELECT head_seq FROM rooms WHERE room_id = ?", (room_id,))
        if not heads:
            return {index: SendOutcome(None, created=False) for index, _ in indexed}
        pairs = ",".join("(?, ?)" for _ in indexed)
        params: list[object] = [room_id]
        for _, send in indexed:
            params += [send.author_id, send.cid]
        rows = await conn.execute_fetchall(
            f"SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.user_id = m.author_id"
            f" WHERE m.room_id = ? AND (m.author_id, m.cid) IN (VALUES {pairs})",
            params,
        )
        existing = {(row[3], row[5]): Message(*row) for row in rows}
        plan = plan_room(indexed, existing, heads[0][0], now_ms)
        if plan.new_messages:
            await conn.executemany(
                "INSERT INTO messages (room_id, seq, message_id, author_id, cid, body, sent_at_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(m.room_id, m.seq, m.message_id, m.author_id, m.cid, m.body, m.sent_at_ms)
                 for m in plan.new_messages],
            )
            await conn.execute(
                "UPDATE rooms SET head_seq = ? WHERE room_id = ?", (plan.head_seq, room_id)
            )
        return plan.outcomes

    async def messages_after(self, room_id: str, after_seq: int, limit: int) -> list[Message]:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                f"SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.user_id = m.author_id"
                " WHERE m.room_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?",
                (room_id, after_seq, limit),
            )
        return [Message(*row) for row in rows]

    async def messages_before(self, room_id: str, before_seq: int, limit: int) -> list[Message]:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                f"SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.user_id = m.author_id"
                " WHERE m.room_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?",
                (room_id, before_seq, limit),
            )
        return [Message(*row) for row in reversed(rows)]

