"""PostgresStore: the two steps of the append writer (chat/store/append.py) that are written per
backend because the statements differ: PostgreSQL finds repeated cids by joining
unnest($authors, $cids) and inserts a whole batch from unnest($arrays) in one statement (one
round trip and one statement text whatever the batch size); SQLite does each its own way
(sqlite/history.py). The rest of the writer and the read side are shared
(chat/store/append.py, chat/store/history.py)."""

from __future__ import annotations

from chat.models import Message, SendRequest
from chat.store.append import AppendMixin
from chat.store.database import Connection, Row
from chat.store.postgres.base import PostgresBase
from chat.store.rows import MESSAGE_COLUMNS, MESSAGE_FROM, data_text

EXISTING_BY_CID = (
    f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}"
    " JOIN unnest(CAST(? AS bigint[]), CAST(? AS text[])) AS k(author_id, cid)"
    " ON m.author_id = k.author_id AND m.cid = k.cid WHERE m.room_id = ?"
)
INSERT_MESSAGES = (
    "INSERT INTO messages (room_id, seq, message_id, author_id, cid, body, sent_at_ms,"
    " kind, target_id, html, data)"
    " SELECT CAST(? AS TEXT), * FROM unnest(CAST(? AS bigint[]), CAST(? AS text[]),"
    " CAST(? AS bigint[]), CAST(? AS text[]), CAST(? AS text[]), CAST(? AS bigint[]),"
    " CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[]))"
)


class HistoryMixin(AppendMixin, PostgresBase):
    async def _existing_by_cid_txn(
        self, conn: Connection, room_id: str, sends: list[SendRequest]
    ) -> list[Row]:
        return await conn.fetch(EXISTING_BY_CID, [send.author_id for send in sends],
                                [send.cid for send in sends], room_id)

    async def _insert_messages_txn(self, conn: Connection, room_id: str, messages: list[Message]) -> None:
        await conn.execute(
            INSERT_MESSAGES, room_id,
            [m.seq for m in messages], [m.message_id for m in messages],
            [m.author_id for m in messages], [m.cid for m in messages],
            [m.body for m in messages], [m.sent_at_ms for m in messages],
            [m.kind for m in messages], [m.target_id for m in messages],
            [m.html for m in messages], [data_text(m.data) for m in messages])
