"""What transcript exports read (chat/export/service.py): a time range as a seq range, the room
log page by page by seq (keyset, never the whole room), reactions with names, who took part,
and a webinar's questions as its board shows them. One implementation for both stores over the
database handle (chat/store/database.py); tests/contract/test_exports_store.py runs it on each.

Every read is a plain SELECT outside a transaction: an export reads pages over seconds or
minutes, and holding a transaction (or a pooled connection) that long would cost the live
traffic. The service reads the room's head once and pages up to it, so entries appended while
an export runs are not in it, and each page is consistent in itself.
"""

from __future__ import annotations

from chat.models import Message, Question
from chat.store import board_sql
from chat.store.database import Database, bind
from chat.store.rows import MESSAGE_COLUMNS, MESSAGE_FROM, message_from_row

# The room log's kinds a transcript shows: messages (in their final state: edits and deletes
# change them in place) and the events about the room. Edits, deletes and reactions are folded
# into their message; the board's events (question, question_state, poll) have sections of their
# own in a webinar's export.
EXPORT_KINDS = ("message", "topic", "status", "membership", "webinar")
_KINDS_SQL = "(" + ", ".join(f"'{kind}'" for kind in EXPORT_KINDS) + ")"

FIRST_AT_OR_AFTER = ("SELECT seq FROM messages WHERE room_id = ? AND sent_at_ms >= ?"
                     " ORDER BY sent_at_ms, seq LIMIT 1")
LAST_BEFORE = ("SELECT seq FROM messages WHERE room_id = ? AND sent_at_ms < ?"
               " ORDER BY sent_at_ms DESC, seq DESC LIMIT 1")
HEAD = "SELECT head_seq FROM rooms WHERE room_id = ?"
PAGE = (f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM} WHERE m.room_id = ? AND m.seq > ? AND m.seq <= ?"
        f" AND m.kind IN {_KINDS_SQL} ORDER BY m.seq LIMIT ?")
COUNT = f"SELECT count(*) FROM messages WHERE room_id = ? AND seq > ? AND seq <= ? AND kind IN {_KINDS_SQL}"
# Who reacted, in the order they (last) reacted: the seq of their latest reaction event on the
# message (messages_target index), then their id. {}: message_id IN the page's messages.
REACTIONS = (
    "SELECT r.message_id, r.emoji, u.display_name FROM reactions r JOIN users u ON u.user_id = r.user_id"
    " WHERE {} ORDER BY r.message_id, {emoji},"
    " (SELECT max(e.seq) FROM messages e WHERE e.target_id = r.message_id AND e.kind = 'reaction'"
    " AND e.author_id = r.user_id), r.user_id"
)
PARTICIPANTS = (
    "SELECT DISTINCT u.display_name FROM messages m JOIN users u ON u.user_id = m.author_id"
    " WHERE m.room_id = ? AND m.seq > ? AND m.seq <= ? AND m.kind = 'message'"
)
# Authors of replies in the threads listed in a room, sent in [from, to).
THREAD_PARTICIPANTS = (
    "SELECT DISTINCT u.display_name FROM topic_rooms tr JOIN messages m ON m.room_id = tr.topic_id"
    " JOIN users u ON u.user_id = m.author_id"
    " WHERE tr.room_id = ? AND m.kind = 'message' AND m.sent_at_ms >= ? AND m.sent_at_ms < ?"
)
# A webinar's questions asked in [from, to), oldest first after a (created_at_ms, question_id)
# key: every one (viewer NULL: its hosts), or what VISIBLE_QUESTIONS shows the viewer (the
# visible states, and their own pending ones): the board's own SQL (chat/store/board_sql.py)
# with a range and a keyset instead of its newest-first limit.
_QUESTION_PAGE = (
    " AND q.created_at_ms >= ? AND q.created_at_ms < ?"
    " AND (q.created_at_ms > ? OR (q.created_at_ms = ? AND q.question_id > ?))"
    " ORDER BY q.created_at_ms, q.question_id LIMIT ?"
)
ALL_QUESTIONS = board_sql.ALL_QUESTIONS.split(" ORDER BY")[0] + _QUESTION_PAGE
VISIBLE_QUESTIONS = board_sql.VISIBLE_QUESTIONS.split(" ORDER BY")[0] + _QUESTION_PAGE
NO_END = 2**62

# message_id -> [(emoji, [names in the order they reacted])], emojis in code-point order.
NamedReactions = dict[str, list[tuple[str, list[str]]]]


class ExportsMixin:
    """Mixed into each store (tests/contract/test_exports_store.py)."""

    _db: Database

    async def export_span(self, room_id: str, from_ms: int | None, to_ms: int | None) -> tuple[int, int]:
        row = await self._db.fetch_one(HEAD, room_id)
        head = 0 if row is None else int(row[0])
        after, upto = 0, head
        if from_ms is not None:
            first = await self._db.fetch_one(FIRST_AT_OR_AFTER, room_id, from_ms)
            after = head if first is None else int(first[0]) - 1
        if to_ms is not None:
            last = await self._db.fetch_one(LAST_BEFORE, room_id, to_ms)
            upto = 0 if last is None else min(int(last[0]), head)
        return after, max(upto, after)

    async def export_page(self, room_id: str, after: int, upto: int, limit: int) -> tuple[list[Message], NamedReactions]:
        rows = await self._db.fetch(PAGE, room_id, after, upto, limit)
        entries = [message_from_row(row) for row in rows]
        ids = [m.message_id for m in entries if m.kind == "message" and not m.deleted]
        if not ids:
            return entries, {}
        sql, params = bind(REACTIONS.replace("{emoji}", self._db.dialect.code_point_order("r.emoji")),
                           self._db.dialect.in_list("r.message_id", ids, "text"))
        reactions: NamedReactions = {}
        for message_id, emoji, name in await self._db.fetch(sql, *params):
            per_message = reactions.setdefault(message_id, [])
            if not per_message or per_message[-1][0] != emoji:
                per_message.append((emoji, []))
            per_message[-1][1].append(name)
        return entries, reactions

    async def export_count(self, room_id: str, after: int, upto: int) -> int:
        row = await self._db.fetch_one(COUNT, room_id, after, upto)
        return 0 if row is None else int(row[0])

    async def export_participants(self, room_id: str, after: int, upto: int, *,
                                  threads_from_ms: int | None = None,
                                  threads_to_ms: int | None = None, threads: bool = False) -> list[str]:
        names = {row[0] for row in await self._db.fetch(PARTICIPANTS, room_id, after, upto)}
        if threads:
            rows = await self._db.fetch(THREAD_PARTICIPANTS, room_id, threads_from_ms or 0,
                                        NO_END if threads_to_ms is None else threads_to_ms)
            names.update(row[0] for row in rows)
        return sorted(names, key=lambda name: (name.casefold(), name))

    async def export_questions(self, webinar_id: str, viewer_id: int | None, from_ms: int | None,
                               to_ms: int | None, after: tuple[int, str] | None,
                               limit: int) -> list[Question]:
        at, question_id = after if after is not None else (-1, "")
        start, end = from_ms or 0, NO_END if to_ms is None else to_ms
        if viewer_id is None:
            rows = await self._db.fetch(ALL_QUESTIONS, webinar_id, start, end, at, at, question_id, limit)
        else:
            rows = await self._db.fetch(VISIBLE_QUESTIONS, webinar_id, viewer_id, start, end, at, at,
                                        question_id, limit)
        return [board_sql.question_from_row(row) for row in rows]
