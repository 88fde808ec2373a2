"""PostgresStore: the append writer (group commit). Kept per backend on purpose: PostgreSQL
locks the room row (SELECT … FOR UPDATE; several nodes write at once), looks up repeated cids by
joining unnest($authors, $cids) and inserts a batch from unnest($arrays) in one statement;
SQLite does each differently (sqlite/history.py). The read side is shared:
chat/store/history.py."""

from __future__ import annotations

import asyncpg

from chat.models import THREAD_KINDS, SendOutcome, SendRequest
from chat.store.batch import RoomPlan, group_by_room, plan_room
from chat.store.postgres.base import PostgresBase, _unavailable_on_disconnect
from chat.store.rows import (
    MESSAGE_COLUMNS, MESSAGE_FROM, TARGET_COLUMNS, data_json, message_from_row, target_from_row,
)


class HistoryMixin(PostgresBase):
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
        locked = await conn.fetchrow(
            "SELECT head_seq, kind FROM rooms WHERE room_id = $1 FOR UPDATE", room_id
        )
        head, room_kind = locked if locked else (None, None)
        if head is None:
            return {index: SendOutcome(None, False, ("not_found", "no such room")) for index, _ in indexed}
        rows = await conn.fetch(
            f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}"
            " JOIN unnest($2::bigint[], $3::text[]) AS k(author_id, cid)"
            " ON m.author_id = k.author_id AND m.cid = k.cid"
            " WHERE m.room_id = $1",
            room_id,
            [send.author_id for _, send in indexed],
            [send.cid for _, send in indexed],
        )
        existing = {(row[3], row[5]): message_from_row(row) for row in rows}
        target_ids = sorted({send.target_id for _, send in indexed if send.target_id})
        targets, reactions = {}, set()
        if target_ids:
            targets = {row[0]: target_from_row(row) for row in await conn.fetch(
                f"SELECT {TARGET_COLUMNS} FROM messages m"
                " WHERE m.room_id = $1 AND m.message_id = ANY($2::text[])", room_id, target_ids)}
            reactions = {tuple(row) for row in await conn.fetch(
                "SELECT message_id, user_id, emoji FROM reactions WHERE message_id = ANY($1::text[])",
                target_ids)}
        plan = plan_room(indexed, existing, head, now_ms, targets, reactions)
        if plan.new_messages:
            await self._write_plan_txn(conn, room_id, plan, now_ms)
            if plan.room_status is not None:
                await conn.execute("UPDATE rooms SET status = $2 WHERE room_id = $1", room_id, plan.room_status)
            if plan.replies and room_kind in THREAD_KINDS:
                await conn.execute(
                    "UPDATE topics SET reply_count = reply_count + $2, last_activity_ms = $3"
                    " WHERE topic_id = $1", room_id, plan.replies, now_ms)
        return plan.outcomes

    async def _write_plan_txn(self, conn: asyncpg.Connection, room_id: str, plan: RoomPlan,
                              now_ms: int) -> None:
        new = plan.new_messages
        await conn.execute(
            "INSERT INTO messages (room_id, seq, message_id, author_id, cid, body, sent_at_ms,"
            " kind, target_id, html, data)"
            " SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[],"
            " $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[])",
            room_id,
            [m.seq for m in new],
            [m.message_id for m in new],
            [m.author_id for m in new],
            [m.cid for m in new],
            [m.body for m in new],
            [m.sent_at_ms for m in new],
            [m.kind for m in new],
            [m.target_id for m in new],
            [m.html for m in new],
            [data_json(m.data) for m in new],
        )
        if plan.updates:
            await conn.executemany(
                "UPDATE messages SET body = $2, html = $3, deleted = $4,"
                " edited_at_ms = CASE WHEN $5 THEN $6::bigint ELSE edited_at_ms END"
                " WHERE message_id = $1",
                [(t.message_id, t.body, "" if t.deleted else plan.edited_html.get(t.message_id, ""),
                  t.deleted, t.message_id in plan.edited_html, now_ms)
                 for t in plan.updates.values()],
            )
            deleted = plan.deleted
            if deleted:
                # A delete leaves a tombstone: no body, no earlier versions (neither as rows
                # nor as the edit events of the log), no reactions.
                await conn.execute("DELETE FROM message_versions WHERE message_id = ANY($1::text[])", deleted)
                await conn.execute(
                    "UPDATE messages SET body = '', html = '' WHERE target_id = ANY($1::text[])"
                    " AND kind = 'edit'", deleted)
                await conn.execute("DELETE FROM reactions WHERE message_id = ANY($1::text[])", deleted)
        live_versions = [v for v in plan.versions if not plan.updates[v[0]].deleted]
        if live_versions:
            await conn.executemany(
                "INSERT INTO message_versions (message_id, version, body, edited_at_ms, editor_id)"
                " VALUES ($1, $2, $3, $4, $5)", live_versions)
        if plan.reactions_added:
            await conn.executemany(
                "INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, $3)"
                " ON CONFLICT DO NOTHING", plan.reactions_added)
        if plan.reactions_removed:
            await conn.executemany(
                "DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
                plan.reactions_removed)
        if plan.mentions:
            await conn.executemany(
                "INSERT INTO mentions (message_id, user_id) SELECT $1, $2"
                " WHERE EXISTS (SELECT 1 FROM users WHERE user_id = $2) ON CONFLICT DO NOTHING",
                plan.mentions)
        await conn.execute("UPDATE rooms SET head_seq = $2 WHERE room_id = $1", room_id, plan.head_seq)
