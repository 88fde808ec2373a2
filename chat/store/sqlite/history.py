"""SqliteStore: the append writer (group commit). Kept per backend on purpose: SQLite locks the
room by BEGIN IMMEDIATE (one writer per file), looks up repeated cids with `(author_id, cid)
IN (VALUES …)` and inserts a batch with executemany; PostgreSQL does each differently
(postgres/history.py). The read side is shared: chat/store/history.py."""

from __future__ import annotations

import aiosqlite

from chat.models import THREAD_KINDS, SendOutcome, SendRequest
from chat.store.batch import RoomPlan, group_by_room, plan_room
from chat.store.rows import (
    MESSAGE_COLUMNS, MESSAGE_FROM, TARGET_COLUMNS, data_json, message_from_row, target_from_row,
)
from chat.store.sqlite.base import SqliteBase


class HistoryMixin(SqliteBase):
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
        heads = await conn.execute_fetchall("SELECT head_seq, kind FROM rooms WHERE room_id = ?", (room_id,))
        if not heads:
            return {index: SendOutcome(None, False, ("not_found", "no such room")) for index, _ in indexed}
        pairs = ",".join("(?, ?)" for _ in indexed)
        params: list[object] = [room_id]
        for _, send in indexed:
            params += [send.author_id, send.cid]
        rows = await conn.execute_fetchall(
            f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}"
            f" WHERE m.room_id = ? AND (m.author_id, m.cid) IN (VALUES {pairs})",
            params,
        )
        existing = {(row[3], row[5]): message_from_row(row) for row in rows}
        target_ids = sorted({send.target_id for _, send in indexed if send.target_id})
        targets, reactions = {}, set()
        if target_ids:
            marks = ",".join("?" * len(target_ids))
            targets = {row[0]: target_from_row(row) for row in await conn.execute_fetchall(
                f"SELECT {TARGET_COLUMNS} FROM messages m"
                f" WHERE m.room_id = ? AND m.message_id IN ({marks})", [room_id, *target_ids])}
            reactions = {tuple(row) for row in await conn.execute_fetchall(
                f"SELECT message_id, user_id, emoji FROM reactions WHERE message_id IN ({marks})",
                target_ids)}
        plan = plan_room(indexed, existing, heads[0][0], now_ms, targets, reactions)
        if plan.new_messages:
            await self._write_plan_txn(conn, room_id, plan, now_ms)
            if plan.room_status is not None:
                await conn.execute("UPDATE rooms SET status = ? WHERE room_id = ?", (plan.room_status, room_id))
            if plan.replies and heads[0][1] in THREAD_KINDS:
                await conn.execute(
                    "UPDATE topics SET reply_count = reply_count + ?, last_activity_ms = ?"
                    " WHERE topic_id = ?", (plan.replies, now_ms, room_id))
        return plan.outcomes

    async def _write_plan_txn(self, conn: aiosqlite.Connection, room_id: str, plan: RoomPlan,
                              now_ms: int) -> None:
        await conn.executemany(
            "INSERT INTO messages (room_id, seq, message_id, author_id, cid, body, sent_at_ms,"
            " kind, target_id, html, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(m.room_id, m.seq, m.message_id, m.author_id, m.cid, m.body, m.sent_at_ms,
              m.kind, m.target_id, m.html, data_json(m.data)) for m in plan.new_messages],
        )
        if plan.updates:
            await conn.executemany(
                "UPDATE messages SET body = ?, html = ?, deleted = ?,"
                " edited_at_ms = CASE WHEN ? THEN ? ELSE edited_at_ms END WHERE message_id = ?",
                [(t.body, "" if t.deleted else plan.edited_html.get(t.message_id, ""),
                  int(t.deleted), int(t.message_id in plan.edited_html), now_ms, t.message_id)
                 for t in plan.updates.values()],
            )
            deleted = [(message_id,) for message_id in plan.deleted]
            # A delete leaves a tombstone: no body, no earlier versions (neither as rows nor as
            # the edit events of the log), no reactions.
            await conn.executemany("DELETE FROM message_versions WHERE message_id = ?", deleted)
            await conn.executemany(
                "UPDATE messages SET body = '', html = '' WHERE target_id = ? AND kind = 'edit'", deleted)
            await conn.executemany("DELETE FROM reactions WHERE message_id = ?", deleted)
        await conn.executemany(
            "INSERT INTO message_versions (message_id, version, body, edited_at_ms, editor_id)"
            " VALUES (?, ?, ?, ?, ?)",
            [v for v in plan.versions if not plan.updates[v[0]].deleted])
        await conn.executemany(
            "INSERT INTO reactions (message_id, user_id, emoji) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING", plan.reactions_added)
        await conn.executemany(
            "DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?",
            plan.reactions_removed)
        await conn.executemany(
            "INSERT INTO mentions (message_id, user_id) SELECT ?, user_id FROM users"
            " WHERE user_id = ? ON CONFLICT DO NOTHING", plan.mentions)
        await conn.execute("UPDATE rooms SET head_seq = ? WHERE room_id = ?", (plan.head_seq, room_id))
