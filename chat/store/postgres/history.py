"""PostgresStore: rooms and the room log (group commit, history reads)."""

from __future__ import annotations

import asyncpg

from chat.models import Message, Room, SendOutcome, SendRequest
from chat.store.batch import group_by_room, plan_room
from chat.store.postgres.base import MESSAGE_COLUMNS, PostgresBase, _message, _unavailable_on_disconnect


class HistoryMixin(PostgresBase):
    # -- rooms and history -----------------------------------------------------------------

    async def list_rooms(self, kinds: tuple[str, ...]) -> list[Room]:
        with _unavailable_on_disconnect():
            rows = await self._pool.fetch(
                "SELECT room_id, kind, title_en, title_zh, head_seq FROM rooms"
                " WHERE kind = ANY($1::text[]) ORDER BY kind DESC, room_id",
                list(kinds),
            )
        return [Room(*row) for row in rows]

    async def get_room(self, room_id: str) -> Room | None:
        with _unavailable_on_disconnect():
            row = await self._pool.fetchrow(
                "SELECT room_id, kind, title_en, title_zh, head_seq FROM rooms WHERE room_id = $1",
                room_id,
            )
        return Room(*row) if row else None

    async def room_heads(self, room_ids: list[str]) -> dict[str, int]:
        with _unavailable_on_disconnect():
            rows = await self._pool.fetch(
                "SELECT room_id, head_seq FROM rooms WHERE room_id = ANY($1::text[])", room_ids
            )
        return {row[0]: row[1] for row in rows}

    async def append_batch(self, sends: list[SendRequest], now_ms: int) -> list[SendOutcome]:
        outcomes: list[SendOutcome | None] = [None] * len(sends)
        with _unavailable_on_disconnect():
            async with self._pool.acquire() as conn, conn.transaction():
                for room_id, indexed in group_by_room(sends).items():
                    for index, outcome in (await self._append_room_txn(conn, room_id, indexed, now_ms)).items():
                        outcomes[index] = outcome
        return outcomes  # type: ignore[return-value]

    async def _append_room_txn(
        self,
        conn: asyncpg.Connection,
        room_id: str,
        indexed: list[tuple[int, SendRequest]],
        now_ms: int,
    ) -> dict[int, SendOutcome]:
        head = await conn.fetchval(
            "SELECT head_seq FROM rooms WHERE room_id = $1 FOR UPDATE", room_id
        )
        if head is None:
            return {index: SendOutcome(None, created=False) for index, _ in indexed}
        rows = await conn.fetch(
            f"SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.user_id = m.author_id"
            " JOIN unnest($2::bigint[], $3::text[]) AS k(author_id, cid)"
            " ON m.author_id = k.author_id AND m.cid = k.cid"
            " WHERE m.room_id = $1",
            room_id,
            [send.author_id for _, send in indexed],
            [send.cid for _, send in indexed],
        )
        existing = {(row[3], row[5]): _message(row) for row in rows}
        plan = plan_room(indexed, existing, head, now_ms)
        if plan.new_messages:
            new = plan.new_messages
            await conn.execute(
                "INSERT INTO messages (room_id, seq, message_id, author_id, cid, body, sent_at_ms)"
                " SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[],"
                " $6::text[], $7::bigint[])",
                room_id,
                [m.seq for m in new],
                [m.message_id for m in new],
                [m.author_id for m in new],
                [m.cid for m in new],
                [m.body for m in new],
                [m.sent_at_ms for m in new],
            )
            await conn.execute(
                "UPDATE rooms SET head_seq = $2 WHERE room_id = $1", room_id, plan.head_seq
            )
        return plan.outcomes

    async def messages_after(self, room_id: str, after_seq: int, limit: int) -> list[Message]:
        with _unavailable_on_disconnect():
            rows = await self._pool.fetch(
                f"SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.user_id = m.author_id"
                " WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3",
                room_id, after_seq, limit,
            )
        return [_message(row) for row in rows]

    async def messages_before(self, room_id: str, before_seq: int, limit: int) -> list[Message]:
        with _unavailable_on_disconnect():
            rows = await self._pool.fetch(
                f"SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.user_id = m.author_id"
                " WHERE m.room_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3",
                room_id, before_seq, limit,
            )
        return [_message(row) for row in reversed(rows)]

