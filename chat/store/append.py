"""The append writer (group commit): one implementation for both stores over the database handle
(chat/store/database.py). A batch of sends is planned per room (chat/store/batch.py) and
written in one transaction, so every ack means committed (invariant 1) and seqs are gapless
(invariant 2).

The room is locked by reading its head with Dialect.row_lock (PostgreSQL: the row lock, several
nodes write at once; SQLite: nothing, the handle's BEGIN IMMEDIATE already serialises writers).
Two steps stay per backend, because there the statements truly differ for speed
(chat/store/{sqlite,postgres}/history.py): finding a batch's repeated (author, cid) pairs, and
inserting the new messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat.models import THREAD_KINDS, Message, SendOutcome, SendRequest
from chat.store.batch import RoomPlan, group_by_room, plan_room
from chat.store.database import Connection, Database, Row, bind
from chat.store.rows import TARGET_COLUMNS, message_from_row, target_from_row

ROOM_HEAD = "SELECT head_seq, kind FROM rooms WHERE room_id = ?{}"  # {}: the dialect's row lock
TARGETS = f"SELECT {TARGET_COLUMNS} FROM messages m WHERE m.room_id = ? AND {{}}"  # {}: message_id in
TARGET_REACTIONS = "SELECT message_id, user_id, emoji FROM reactions WHERE {}"  # {}: message_id in
UPDATE_MESSAGE = (
    "UPDATE messages SET body = ?, html = ?, deleted = ?,"
    " edited_at_ms = CASE WHEN ? THEN CAST(? AS BIGINT) ELSE edited_at_ms END WHERE message_id = ?"
)
# A delete leaves a tombstone: no body, no earlier versions (neither as rows nor as the edit
# events of the log that a replay with `since` would send again), no reactions. {}: the ids.
DELETE_VERSIONS = "DELETE FROM message_versions WHERE {}"
BLANK_EDIT_EVENTS = "UPDATE messages SET body = '', html = '' WHERE {} AND kind = 'edit'"
DELETE_REACTIONS_OF = "DELETE FROM reactions WHERE {}"
INSERT_VERSION = (
    "INSERT INTO message_versions (message_id, version, body, edited_at_ms, editor_id)"
    " VALUES (?, ?, ?, ?, ?)"
)
ADD_REACTION = "INSERT INTO reactions (message_id, user_id, emoji) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
REMOVE_REACTION = "DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?"
# Only members that exist are mentioned: a mention of a deleted account, or of a webinar's
# guest (docs/protocol.md, "Guests (webinars)"), changes nothing and notifies no one.
INSERT_MENTION = (
    "INSERT INTO mentions (message_id, user_id) SELECT CAST(? AS TEXT), user_id FROM users"
    " WHERE user_id = ? AND guest_of IS NULL ON CONFLICT DO NOTHING"
)
SET_STATUS = "UPDATE rooms SET status = ? WHERE room_id = ?"
COUNT_REPLIES = "UPDATE topics SET reply_count = reply_count + ?, last_activity_ms = ? WHERE topic_id = ?"
SET_HEAD = "UPDATE rooms SET head_seq = ? WHERE room_id = ?"


class AppendMixin:
    """Mixed into each store through its history module, which supplies the two steps that
    differ (tests/contract/test_group_commit.py, test_deleted_text.py)."""

    _db: Database
    search_indexing: bool  # SearchMixin's: index the batch's messages in its transaction

    if TYPE_CHECKING:  # SearchMixin's (chat/store/search.py), later in each store's bases
        async def _index_plan_txn(self, conn: Connection, room_id: str, plan: RoomPlan) -> None: ...

    async def _existing_by_cid_txn(
        self, conn: Connection, room_id: str, sends: list[SendRequest]
    ) -> list[Row]:
        """MESSAGE_COLUMNS rows of the room's messages with one of the sends' (author, cid)."""
        raise NotImplementedError

    async def _insert_messages_txn(self, conn: Connection, room_id: str, messages: list[Message]) -> None:
        """Insert the new messages (all of one room)."""
        raise NotImplementedError

    async def append_batch(self, sends: list[SendRequest], now_ms: int) -> list[SendOutcome]:
        outcomes: dict[int, SendOutcome] = {}  # by the send's index: every send gets one
        async with self._db.transaction() as conn:
            for room_id, indexed in group_by_room(sends).items():
                outcomes.update(await self._append_room_txn(conn, room_id, indexed, now_ms))
        return [outcomes[index] for index in range(len(sends))]

    async def _append_room_txn(
        self, conn: Connection, room_id: str, indexed: list[tuple[int, SendRequest]], now_ms: int
    ) -> dict[int, SendOutcome]:
        head = await conn.fetch_one(ROOM_HEAD.format(conn.dialect.row_lock), room_id)
        if head is None:
            return {index: SendOutcome(None, False, ("not_found", "no such room")) for index, _ in indexed}
        rows = await self._existing_by_cid_txn(conn, room_id, [send for _, send in indexed])
        existing = {(row[3], row[5]): message_from_row(row) for row in rows}
        target_ids = sorted({send.target_id for _, send in indexed if send.target_id})
        targets, reactions = {}, set()
        if target_ids:
            sql, params = bind(TARGETS, room_id, conn.dialect.in_list("m.message_id", target_ids, "text"))
            targets = {row[0]: target_from_row(row) for row in await conn.fetch(sql, *params)}
            sql, params = bind(TARGET_REACTIONS, conn.dialect.in_list("message_id", target_ids, "text"))
            reactions = {(row[0], row[1], row[2]) for row in await conn.fetch(sql, *params)}
        plan = plan_room(indexed, existing, head[0], now_ms, targets, reactions)
        if plan.new_messages:
            await self._write_plan_txn(conn, room_id, plan, now_ms)
            if plan.room_status is not None:
                await conn.execute(SET_STATUS, plan.room_status, room_id)
            if plan.replies and head[1] in THREAD_KINDS:
                await conn.execute(COUNT_REPLIES, plan.replies, now_ms, room_id)
        return plan.outcomes

    async def _write_plan_txn(self, conn: Connection, room_id: str, plan: RoomPlan, now_ms: int) -> None:
        await self._insert_messages_txn(conn, room_id, plan.new_messages)
        await conn.execute_many(UPDATE_MESSAGE, [
            (t.body, "" if t.deleted else plan.edited_html.get(t.message_id, ""), t.deleted,
             t.message_id in plan.edited_html, now_ms, t.message_id)
            for t in plan.updates.values()])
        if plan.deleted:
            for statement, column in ((DELETE_VERSIONS, "message_id"), (BLANK_EDIT_EVENTS, "target_id"),
                                      (DELETE_REACTIONS_OF, "message_id")):
                sql, params = bind(statement, conn.dialect.in_list(column, plan.deleted, "text"))
                await conn.execute(sql, *params)
        await conn.execute_many(INSERT_VERSION, [v for v in plan.versions if not plan.updates[v[0]].deleted])
        await conn.execute_many(ADD_REACTION, plan.reactions_added)
        await conn.execute_many(REMOVE_REACTION, plan.reactions_removed)
        await conn.execute_many(INSERT_MENTION, plan.mentions)
        await conn.execute(SET_HEAD, plan.head_seq, room_id)
        if self.search_indexing:
            await self._index_plan_txn(conn, room_id, plan)
