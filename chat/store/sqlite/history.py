"""SqliteStore: rooms and the room log (group commit, history reads)."""

from __future__ import annotations

import aiosqlite

from chat.models import THREAD_KINDS, Message, Room, SendOutcome, SendRequest
from chat.store.batch import RoomPlan, group_by_room, plan_room
from chat.store.rows import (
    MESSAGE_COLUMNS, MESSAGE_FROM, TARGET_COLUMNS, Reactions, data_text, group_reactions,
    message_from_row, target_from_row,
)
from chat.store.sqlite.base import SqliteBase, _unavailable_on_error


class HistoryMixin(SqliteBase):
    # -- rooms and history -----------------------------------------------------------------

    async def list_rooms(self, kinds: tuple[str, ...]) -> list[Room]:
        marks = ",".join("?" * len(kinds))
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                "SELECT room_id, kind, title_en, title_zh, head_seq, status FROM rooms"
                f" WHERE kind IN ({marks}) ORDER BY kind DESC, room_id",
                kinds,
            )
        return [Room(*row) for row in rows]

    async def get_room(self, room_id: str) -> Room | None:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                "SELECT room_id, kind, title_en, title_zh, head_seq, status FROM rooms WHERE room_id = ?",
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
              m.kind, m.target_id, m.html, data_text(m.data)) for m in plan.new_messages],
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

    async def messages_after(self, room_id: str, after_seq: int, limit: int) -> list[Message]:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}"
                " WHERE m.room_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?",
                (room_id, after_seq, limit),
            )
        return [message_from_row(row) for row in rows]

    async def messages_before(self, room_id: str, before_seq: int, limit: int) -> list[Message]:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}"
                " WHERE m.room_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?",
                (room_id, before_seq, limit),
            )
        return [message_from_row(row) for row in reversed(rows)]

    async def message_page(
        self, room_id: str, *, after: int | None, before: int | None, limit: int
    ) -> tuple[list[Message], Reactions]:
        if after is not None:
            where, order, bound = "m.seq > ?", "m.seq", after
        else:
            where, order, bound = "m.seq < ?", "m.seq DESC", before if before is not None else 2**62
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}"
                f" WHERE m.room_id = ? AND m.kind = 'message' AND {where} ORDER BY {order} LIMIT ?",
                (room_id, bound, limit),
            )
            messages = sorted((message_from_row(row) for row in rows), key=lambda m: m.seq)
            ids = [m.message_id for m in messages]
            reaction_rows = await self._reader.execute_fetchall(
                "SELECT message_id, emoji, user_id FROM reactions"
                f" WHERE message_id IN ({','.join('?' * len(ids))}) ORDER BY message_id, emoji, user_id",
                ids) if ids else []
        return messages, group_reactions(reaction_rows)

    async def message_versions(self, room_id: str, message_id: str) -> list[tuple[int, str, int, int]] | None:
        with _unavailable_on_error():
            found = await self._reader.execute_fetchall(
                "SELECT deleted FROM messages WHERE room_id = ? AND message_id = ? AND kind = 'message'",
                (room_id, message_id))
            if not found:
                return None
            rows = await self._reader.execute_fetchall(
                "SELECT version, body, edited_at_ms, editor_id FROM message_versions"
                " WHERE message_id = ? ORDER BY version", (message_id,))
        return [tuple(row) for row in rows]
