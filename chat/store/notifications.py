"""Notifications: who a new message concerns (mentions, replies in their topics, direct
messages; never from someone they blocked), and each member's list of them. One
implementation for both stores over the database handle (chat/store/database.py)."""

from __future__ import annotations

import json

from chat.models import Notification
from chat.store import conversation_sql as q
from chat.store.database import Database, Row, bind
from chat.store.dialect import Fragment, Param

EXCERPT_CHARS = 200
INSERT_CHUNK = 500  # rows per INSERT: 7 parameters each, far below either store's limit
# When one message concerns a user in several ways, the first of these wins.
PRECEDENCE = ("mention", "reply", "direct")


def visible_to(user_column: str) -> str:
    """The rooms' visibility rule (chat/store/conversation_sql.py VISIBLE, whose only
    placeholders are the user) for a user named by a column, about the room aliased `r`."""
    return q.VISIBLE.replace("?", user_column)


_NEW = "{} AND m.kind = 'message' AND NOT m.deleted"  # {}: m.message_id in the new messages
# (kind, recipient, message) for every way each message concerns someone other than its author
# who may see its room; then the message's columns. The id list repeats once per branch.
CANDIDATES = (
    "SELECT c.kind, c.user_id, m.message_id, m.room_id, m.seq, m.author_id, u.display_name, m.body, m.data"
    " FROM (SELECT 'mention' AS kind, n.user_id AS user_id, m.message_id AS message_id"
    " FROM mentions n JOIN messages m ON m.message_id = n.message_id"
    " JOIN rooms r ON r.room_id = m.room_id"
    f" WHERE {_NEW} AND n.user_id <> m.author_id AND {visible_to('n.user_id')}"
    " UNION ALL SELECT 'reply', t.author_id, m.message_id FROM messages m"
    " JOIN topics t ON t.topic_id = m.room_id JOIN rooms r ON r.room_id = m.room_id"
    f" WHERE {_NEW} AND t.author_id <> m.author_id AND {visible_to('t.author_id')}"
    " UNION ALL SELECT 'direct', rm.user_id, m.message_id FROM messages m"
    " JOIN rooms r ON r.room_id = m.room_id"
    " JOIN room_members rm ON rm.room_id = r.room_id AND rm.removed_at_ms IS NULL"
    f" WHERE {_NEW} AND r.kind = 'direct' AND rm.user_id <> m.author_id) c"
    " JOIN messages m ON m.message_id = c.message_id JOIN users u ON u.user_id = m.author_id"
    # Nothing from someone the recipient blocked (docs/decisions.md, "Consent in direct
    # conversations").
    " WHERE NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = c.user_id AND b.blocked_id = m.author_id)"
)
INSERT = (
    "INSERT INTO notifications (user_id, kind, room_id, seq, message_id, actor_id, created_at_ms)"
    " VALUES {rows} RETURNING notification_id, user_id, message_id"
)
# Nor those the recipient got from someone they blocked since (for the notifications `n`).
NOT_FROM_BLOCKED = (" AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = n.user_id"
                    " AND b.blocked_id = n.actor_id)")
# Newest first by id (keyset paging), only rooms the member may still see: someone removed
# from a direct conversation no longer sees its notifications either. {}: "unread only" or "".
LIST = (
    "SELECT n.notification_id, n.user_id, n.kind, n.room_id, n.seq, n.message_id, n.actor_id,"
    " u.display_name, m.body, m.deleted, n.created_at_ms, n.read_at_ms, m.data"
    " FROM notifications n JOIN users u ON u.user_id = n.actor_id"
    " JOIN messages m ON m.message_id = n.message_id JOIN rooms r ON r.room_id = n.room_id"
    " WHERE n.user_id = ? AND n.notification_id < ?{} AND " + visible_to("n.user_id")
    + NOT_FROM_BLOCKED + " ORDER BY n.notification_id DESC LIMIT ?"
)
UNREAD_COUNT = (
    "SELECT count(*) FROM notifications n JOIN rooms r ON r.room_id = n.room_id"
    " WHERE n.user_id = ? AND n.read_at_ms IS NULL AND " + visible_to("n.user_id") + NOT_FROM_BLOCKED
)
MARK_READ = (
    "UPDATE notifications SET read_at_ms = ? WHERE user_id = ? AND read_at_ms IS NULL AND {}"
    " RETURNING notification_id"
)  # {}: which ones (notification_id in a list, or TRUE for all)


def excerpt_names(attachments: object) -> str:
    """"📎 a.pdf, 📎 b.png": what a notification says of a message's files."""
    if not isinstance(attachments, list):
        return ""
    return ", ".join(f"📎 {a['name']}" for a in attachments if isinstance(a, dict) and isinstance(a.get("name"), str))


def excerpt(body: str, deleted: bool, data: str | None = None) -> str:
    """The start of a message's body; for a message of attachments alone, their names
    ("📎 report.pdf")."""
    if deleted:
        return ""
    if not body.strip() and data and "attachments" in data:
        try:
            body = excerpt_names(json.loads(data).get("attachments"))
        except (ValueError, AttributeError):
            body = ""
    return body[:EXCERPT_CHARS]


class NotificationsMixin:
    """Mixed into each store after its base (tests/contract/test_notifications_store.py)."""

    _db: Database

    async def create_notifications(self, message_ids: list[str], now_ms: int) -> list[Notification]:
        if not message_ids:
            return []
        new = self._db.dialect.in_list("m.message_id", message_ids, "text")
        sql, params = bind(CANDIDATES, new, new, new)
        rows = await self._db.fetch(sql, *params)
        chosen: dict[tuple[str, int], Row] = {}
        for row in sorted(rows, key=lambda row: PRECEDENCE.index(row[0])):
            chosen.setdefault((row[2], row[1]), row)
        pending = sorted(chosen.values(), key=lambda row: (row[3], row[4], row[1]))
        created: list[Notification] = []
        async with self._db.transaction() as conn:
            for start in range(0, len(pending), INSERT_CHUNK):
                chunk = pending[start:start + INSERT_CHUNK]
                values: list[Param] = []
                for kind, user_id, message_id, room_id, seq, actor_id, _, _, _ in chunk:
                    values += [user_id, kind, room_id, seq, message_id, actor_id, now_ms]
                sql = INSERT.format(rows=", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk)))
                ids = {(row[2], row[1]): row[0] for row in await conn.fetch(sql, *values)}
                created += [
                    Notification(ids[(message_id, user_id)], user_id, kind, room_id, seq, message_id,
                                 actor_id, actor_name, excerpt(body, False, data), now_ms)
                    for kind, user_id, message_id, room_id, seq, actor_id, actor_name, body, data in chunk
                ]
        return created

    async def list_notifications(
        self, user_id: int, *, unread_only: bool, before_id: int, limit: int
    ) -> list[Notification]:
        sql = LIST.format(" AND n.read_at_ms IS NULL" if unread_only else "")
        rows = await self._db.fetch(sql, user_id, before_id, limit)
        return [
            Notification(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                         excerpt(row[8], bool(row[9]), row[12]), row[10], row[11])
            for row in rows
        ]

    async def unread_notifications(self, user_id: int) -> int:
        row = await self._db.fetch_one(UNREAD_COUNT, user_id)
        return row[0] if row else 0

    async def mark_notifications_read(
        self, user_id: int, notification_ids: list[int] | None, now_ms: int
    ) -> list[int]:
        if notification_ids is not None and not notification_ids:
            return []
        which = (Fragment("TRUE", ()) if notification_ids is None
                 else self._db.dialect.in_list("notification_id", notification_ids, "bigint"))
        sql, params = bind(MARK_READ, now_ms, user_id, which)
        async with self._db.transaction() as conn:
            rows = await conn.fetch(sql, *params)
        return sorted(row[0] for row in rows)
