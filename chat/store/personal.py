"""What the server holds about one member, read for their personal archive (GET
/api/v1/me/export; chat/export/personal.py): each kind of row paged by a key (keyset, through
the indexes of migration 0017), never a whole table. One implementation for both stores over
the database handle."""

from __future__ import annotations

import json
from typing import Any, Literal

from chat.models import Notification, OwnLink, Topic, OwnMessage, OwnRead, OwnReaction, OwnWebinarItem
from chat.store import conversation_sql as q
from chat.store.database import Database, bind
from chat.store.notifications import EXCERPT_CHARS, visible_to

# The member's messages room by room, in seq order, after the key (room_id, seq); with the
# room's kind and titles. Row values compare as tuples in both dialects (SQLite 3.15+).
MESSAGES = (
    "SELECT m.room_id, r.kind, r.title_en, r.title_zh, m.seq, m.message_id, m.sent_at_ms, m.body,"
    " m.edited_at_ms, m.deleted FROM messages m JOIN rooms r ON r.room_id = m.room_id"
    " WHERE m.author_id = ? AND m.kind = 'message' AND (m.room_id, m.seq) > (?, ?)"
    " ORDER BY m.room_id, m.seq LIMIT ?"
)
# Reactions on a page of messages, with who reacted (display names), in a stable order.
REACTIONS_ON = (
    "SELECT x.message_id, x.emoji, u.display_name FROM reactions x"
    " JOIN users u ON u.user_id = x.user_id WHERE {} ORDER BY x.message_id, x.emoji, x.user_id"
)
GIVEN = (
    "SELECT x.message_id, x.emoji, m.room_id, m.seq FROM reactions x"
    " JOIN messages m ON m.message_id = x.message_id"
    " WHERE x.user_id = ? AND (x.message_id, x.emoji) > (?, ?) ORDER BY x.message_id, x.emoji LIMIT ?"
)
# Every notification the member has, oldest first by id; the excerpt only while the member may
# still see the room and the message is not deleted (as GET /api/v1/notifications shows it).
NOTIFICATIONS = (
    "SELECT n.notification_id, n.user_id, n.kind, n.room_id, n.seq, n.message_id, n.actor_id,"
    " u.display_name, CASE WHEN m.deleted OR NOT " + visible_to("n.user_id")
    + f" THEN '' ELSE substr(m.body, 1, {EXCERPT_CHARS}) END, n.created_at_ms, n.read_at_ms"
    " FROM notifications n JOIN users u ON u.user_id = n.actor_id"
    " JOIN messages m ON m.message_id = n.message_id JOIN rooms r ON r.room_id = n.room_id"
    " WHERE n.user_id = ? AND n.notification_id > ? ORDER BY n.notification_id LIMIT ?"
)
READS = (
    "SELECT rs.room_id, r.kind, r.title_en, r.title_zh, rs.last_read_seq, r.head_seq"
    " FROM read_state rs JOIN rooms r ON r.room_id = rs.room_id"
    " WHERE rs.user_id = ? AND rs.room_id > ? ORDER BY rs.room_id LIMIT ?"
)
# Ties to rooms: bounded by the member's own rooms, read at once.
LINKS = (
    "SELECT 'member', room_id, added_at_ms, removed_at_ms,"
    " CASE WHEN left_for_good THEN 'left' ELSE NULL END FROM room_members WHERE user_id = ?"
    " UNION ALL SELECT 'registered', room_id, registered_at_ms, NULL, NULL"
    " FROM webinar_registrations WHERE user_id = ?"
    " UNION ALL SELECT role, room_id, NULL, NULL, NULL FROM webinar_people WHERE user_id = ?"
    " UNION ALL SELECT 'notify', room_id, NULL, NULL, notify FROM room_settings WHERE user_id = ?"
)
QUESTIONS = (
    "SELECT question_id, room_id, created_at_ms, body, anonymous, state, answer, updated_at_ms"
    " FROM webinar_questions WHERE author_id = ? AND question_id > ? ORDER BY question_id LIMIT ?"
)
VOTES = (
    "SELECT v.question_id, q.room_id FROM webinar_votes v"
    " JOIN webinar_questions q ON q.question_id = v.question_id"
    " WHERE v.user_id = ? AND v.question_id > ? ORDER BY v.question_id LIMIT ?"
)
POLL_ANSWERS = (
    "SELECT a.poll_id, p.room_id, a.answered_at_ms, a.choices, p.question_en, p.question_zh"
    " FROM webinar_poll_answers a JOIN webinar_polls p ON p.poll_id = a.poll_id"
    " WHERE a.user_id = ? AND a.poll_id > ? ORDER BY a.poll_id LIMIT ?"
)
# The topics and news posts the member started (their post is in the topics row, not the log).
TOPICS = f"SELECT {q.TOPIC_COLUMNS} {q.TOPIC_FROM} WHERE t.author_id = ? AND t.topic_id > ? ORDER BY t.topic_id LIMIT ?"
WebinarItemKind = Literal["question", "vote", "poll_answer"]


class PersonalMixin:
    """Mixed into each store after its base (tests/contract/test_personal_store.py)."""

    _db: Database

    async def own_messages(self, user_id: int, after: tuple[str, int], limit: int) -> list[OwnMessage]:
        rows = await self._db.fetch(MESSAGES, user_id, after[0], after[1], limit)
        if not rows:
            return []
        # A deleted message shows no reactions (as in transcripts, chat/store/exports.py).
        ids = [r[5] for r in rows if not r[9]]
        reactions: dict[str, dict[str, list[str]]] = {}
        if ids:
            sql, params = bind(REACTIONS_ON, self._db.dialect.in_list("x.message_id", ids, "text"))
            for message_id, emoji, name in await self._db.fetch(sql, *params):
                reactions.setdefault(message_id, {}).setdefault(emoji, []).append(name)
        return [
            OwnMessage(row[0], row[1], row[2], row[3], row[4], row[5], row[6],
                       "" if row[9] else row[7], row[8], bool(row[9]),
                       tuple((emoji, tuple(names)) for emoji, names in reactions.get(row[5], {}).items()))
            for row in rows
        ]

    async def own_topics(self, user_id: int, after: str, limit: int) -> list[Topic]:
        rows = await self._db.fetch(TOPICS, user_id, after, limit)
        if not rows:
            return []
        listed: dict[str, list[str]] = {row[0]: [] for row in rows}
        sql, params = bind(q.TOPIC_ROOMS, self._db.dialect.in_list("topic_id", list(listed), "text"))
        for topic_id, room_id in await self._db.fetch(sql, *params):
            listed[topic_id].append(room_id)
        return [q.topic_from_row(row, tuple(listed[row[0]])) for row in rows]

    async def own_reactions(self, user_id: int, after: tuple[str, str], limit: int) -> list[OwnReaction]:
        rows = await self._db.fetch(GIVEN, user_id, after[0], after[1], limit)
        return [OwnReaction(row[0], row[1], row[2], row[3]) for row in rows]

    async def own_notifications(self, user_id: int, after_id: int, limit: int) -> list[Notification]:
        rows = await self._db.fetch(NOTIFICATIONS, user_id, after_id, limit)
        return [Notification(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                             row[8], row[9], row[10]) for row in rows]

    async def own_reads(self, user_id: int, after_room: str, limit: int) -> list[OwnRead]:
        rows = await self._db.fetch(READS, user_id, after_room, limit)
        return [OwnRead(row[0], row[1], row[2], row[3], row[4], row[5]) for row in rows]

    async def own_links(self, user_id: int) -> list[OwnLink]:
        rows = await self._db.fetch(LINKS, user_id, user_id, user_id, user_id)
        links = [OwnLink(row[0], row[1], row[2], row[3], row[4]) for row in rows]
        return sorted(links, key=lambda link: (link.relation, link.room_id))

    async def own_webinar_items(self, user_id: int, kind: WebinarItemKind, after: str,
                                limit: int) -> list[OwnWebinarItem]:
        if kind == "question":
            rows = await self._db.fetch(QUESTIONS, user_id, after, limit)
            return [OwnWebinarItem("question", row[0], row[1], row[2], {
                "body": row[3], "anonymous": bool(row[4]), "state": row[5], "answer": row[6],
                "updated_at_ms": row[7]}) for row in rows]
        if kind == "vote":
            rows = await self._db.fetch(VOTES, user_id, after, limit)
            return [OwnWebinarItem("vote", row[0], row[1], None, {}) for row in rows]
        rows = await self._db.fetch(POLL_ANSWERS, user_id, after, limit)
        items: list[OwnWebinarItem] = []
        for row in rows:
            choices: Any = json.loads(row[3])
            items.append(OwnWebinarItem("poll_answer", row[0], row[1], row[2], {
                "choices": choices, "question": {"en": row[4], "zh": row[5]}}))
        return items
