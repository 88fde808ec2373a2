"""SqliteStore: the two steps of the append writer (chat/store/append.py) that are written per
backend because the statements differ: SQLite finds repeated cids with `(author_id, cid) IN
(VALUES …)` and inserts a batch with executemany (one prepared statement, many rows: the fast
path on one local file); PostgreSQL does each with arrays (postgres/history.py). The rest of
the writer and the read side are shared (chat/store/append.py, chat/store/history.py)."""

from __future__ import annotations

from chat.models import Message, SendRequest
from chat.store.append import AppendMixin
from chat.store.database import Connection, Row
from chat.store.dialect import Param
from chat.store.rows import MESSAGE_COLUMNS, MESSAGE_FROM, data_text
from chat.store.sqlite.base import SqliteBase

INSERT_MESSAGE = (
    "INSERT INTO messages (room_id, seq, message_id, author_id, cid, body, sent_at_ms,"
    " kind, target_id, html, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class HistoryMixin(AppendMixin, SqliteBase):
    async def _existing_by_cid_txn(
        self, conn: Connection, room_id: str, sends: list[SendRequest]
    ) -> list[Row]:
        pairs = ", ".join("(?, ?)" for _ in sends)
        params: list[Param] = [room_id]
        for send in sends:
            params += [send.author_id, send.cid]
        return await conn.fetch(
            f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}"
            f" WHERE m.room_id = ? AND (m.author_id, m.cid) IN (VALUES {pairs})", *params)

    async def _insert_messages_txn(self, conn: Connection, room_id: str, messages: list[Message]) -> None:
        await conn.execute_many(INSERT_MESSAGE, [
            (m.room_id, m.seq, m.message_id, m.author_id, m.cid, m.body, m.sent_at_ms,
             m.kind, m.target_id, m.html, data_text(m.data)) for m in messages])
