"""PostgresStore: the two steps of the append writer (chat/store/append.py) that are written per
backend because the statements differ: PostgreSQL finds repeated cids by joining
unnest($authors, $cids) and inserts a whole batch from unnest($arrays) in one statement (one
round trip and one statement text whatever the batch size); SQLite does each its own way
(sqlite/history.py). The rest of the writer and the read side are shared
(chat/store/append.py, chat/store/history.py)."""

from __future__ import annotations

from chat.models import Message, SendOutcome, SendRequest
from chat.store.append import AppendMixin
from chat.store.batch import group_by_room, new_message_id, stored_as
from chat.store.database import Connection, Row
from chat.store.postgres.base import PostgresBase
from chat.store.rows import MESSAGE_COLUMNS, MESSAGE_FROM, data_text, message_from_row
from chat.store.search import new_message_text

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

APPEND_MESSAGES = (
    "SELECT o_ord, o_seq, o_message_id, o_author_name, o_body, o_sent_at, o_kind, o_target_id, o_html,"
    " o_data, o_edited_at, o_deleted, o_role FROM ecolink_append_messages(CAST(? AS BIGINT),"
    " CAST(? AS text[]), CAST(? AS bigint[]), CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[]),"
    " CAST(? AS text[]), CAST(? AS text[]), CAST(? AS int[]), CAST(? AS bigint[]), CAST(? AS BOOLEAN),"
    " CAST(? AS text[]), CAST(? AS text[]), CAST(? AS boolean[]))"
)
NO_ROOM = SendOutcome(None, False, ("not_found", "no such room"))


def _plain(send: SendRequest) -> bool:
    return send.kind == "message" and send.target_id is None


class HistoryMixin(AppendMixin, PostgresBase):
    async def append_batch(self, sends: list[SendRequest], now_ms: int) -> list[SendOutcome]:
        if not sends or not all(_plain(send) for send in sends):
            return await super().append_batch(sends, now_ms)
        # The function's order: by room (the writers' lock order), batch order within a room.
        order = [index for indexed in group_by_room(sends).values() for index, _ in indexed]
        ordered = [sends[index] for index in order]
        ids = [new_message_id() for _ in ordered]
        mentions = [(ordinal, user_id) for ordinal, send in enumerate(ordered, 1) for user_id in send.mentions]
        texts = []
        if self.search_indexing:
            prepared = self._index_prepare(ordered)
            texts = [new_message_text(send.body, send.data, prepared) for send in ordered]
        rows = await self._db.fetch(
            APPEND_MESSAGES, now_ms, [s.room_id for s in ordered], [s.author_id for s in ordered],
            [s.cid for s in ordered], ids, [s.body for s in ordered], [s.html for s in ordered],
            [data_text(s.data) for s in ordered], [m[0] for m in mentions], [m[1] for m in mentions],
            self.search_indexing, [t[0] for t in texts], [t[1] for t in texts], [t[2] for t in texts])
        outcomes: dict[int, SendOutcome] = {}
        for row in rows:
            ordinal, seq, message_id = row[0], row[1], row[2]
            send, index = ordered[ordinal - 1], order[ordinal - 1]
            if seq is None:
                outcomes[index] = NO_ROOM
            elif message_id != ids[ordinal - 1]:  # stored before: the row as it is stored
                outcomes[index] = SendOutcome(message_from_row(
                    (send.room_id, seq, message_id, send.author_id, row[3], send.cid, *tuple(row)[4:])), created=False)
            else:
                outcomes[index] = SendOutcome(stored_as(send, seq, message_id, now_ms), created=True)
        return [outcomes[index] for index in range(len(sends))]

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
