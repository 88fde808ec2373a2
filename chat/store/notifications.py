"""Notifications: who a new message concerns (mentions, replies in their topics, direct
messages; never from someone they blocked), and each member's list of them. One implementation for both stores over the
shared-SQL primitives (`_q_fetch`, `_q_transaction`; see chat/store/conversations.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chat.models import Notification
from chat.store import conversation_sql as q

EXCERPT_CHARS = 200
INSERT_CHUNK = 500  # rows per INSERT: 7 parameters each, far below either store's limit
# When one message concerns a user in several ways, the first of these wins.
PRECEDENCE = ("mention", "reply", "direct")


def visible_to(user_column: str) -> str:
    """The rooms' visibility rule (chat/store/conversation_sql.py VISIBLE, whose only
    placeholders are the user) for a user named by a column, about the room aliased `r`."""
    return q.VISIBLE.replace("?", user_column)


_NEW = "m.message_id IN ({marks}) AND m.kind = 'message' AND NOT m.deleted"
# (kind, recipient, message) for every way each message concerns someone other than its author
# who may see its room; then the message's columns. The marks repeat once per branch.
CANDIDATES = (
    "SELECT c.kind, c.user_id, m.message_id, m.room_id, m.seq, m.author_id, u.display_name, m.body"
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
# from a direct conversation no longer sees its notifications either.
LIST = (
    "SELECT n.notification_id, n.user_id, n.kind, n.room_id, n.seq, n.message_id, n.actor_id,"
    " u.display_name, m.body, m.deleted, n.created_at_ms, n.read_at_ms"
    " FROM notifications n JOIN users u ON u.user_id = n.actor_id"
    " JOIN messages m ON m.message_id = n.message_id JOIN rooms r ON r.room_id = n.room_id"
    " WHERE n.user_id = ? AND n.notification_id < ?{unread_only} AND " + visible_to("n.user_id")
    + NOT_FROM_BLOCKED + " ORDER BY n.notification_id DESC LIMIT ?"
)
UNREAD_COUNT = (
    "SELECT count(*) FROM notifications n JOIN rooms r ON r.room_id = n.room_id"
    " WHERE n.user_id = ? AND n.read_at_ms IS NULL AND " + visible_to("n.user_id") + NOT_FROM_BLOCKED
)
MARK_READ = (
    "UPDATE notifications SET read_at_ms = ? WHERE user_id = ? AND read_at_ms IS NULL{only}"
    " RETURNING notification_id"
)


def excerpt(body: str, deleted: bool) -> str:
    return "" if deleted else body[:EXCERPT_CHARS]


class NotificationsMixin:
    """Mixed into each store after its base (tests/contract/test_notifications_store.py)."""

    _q_fetch: Any
    _q_transaction: Any

    async def create_notifications(self, message_ids: list[str], now_ms: int) -> list[Notification]:
        if not message_ids:
            return []
        marks = q.marks(len(message_ids))
        rows = await self._q_fetch(CANDIDATES.format(marks=marks), *(message_ids * 3))
        chosen: dict[tuple[str, int], Sequence[Any]] = {}
        for row in sorted(rows, key=lambda row: PRECEDENCE.index(row[0])):
            chosen.setdefault((row[2], row[1]), row)
        pending = sorted(chosen.values(), key=lambda row: (row[3], row[4], row[1]))
        created: list[Notification] = []
        async with self._q_transaction() as conn:
            for start in range(0, len(pending), INSERT_CHUNK):
                chunk = pending[start:start + INSERT_CHUNK]
                params: list[Any] = []
                for kind, user_id, message_id, room_id, seq, actor_id, _, _ in chunk:
                    params += [user_id, kind, room_id, seq, message_id, actor_id, now_ms]
                sql = INSERT.format(rows=", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk)))
                ids = {(row[2], row[1]): row[0] for row in await self._q_fetch(sql, *params, conn=conn)}
                created += [
                    Notification(ids[(message_id, user_id)], user_id, kind, room_id, seq, message_id,
                                 actor_id, actor_name, excerpt(body, False), now_ms)
                    for kind, user_id, message_id, room_id, seq, actor_id, actor_name, body in chunk
                ]
        return created

    async def list_notifications(
        self, user_id: int, *, unread_only: bool, before_id: int, limit: int
    ) -> list[Notification]:
        sql = LIST.format(unread_only=" AND n.read_at_ms IS NULL" if unread_only else "")
        rows = await self._q_fetch(sql, user_id, before_id, limit)
        return [
            Notification(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                         excerpt(row[8], bool(row[9])), row[10], row[11])
            for row in rows
        ]

    async def unread_notifications(self, user_id: int) -> int:
        return (await self._q_fetch(UNREAD_COUNT, user_id))[0][0]

    async def mark_notifications_read(
        self, user_id: int, notification_ids: list[int] | None, now_ms: int
    ) -> list[int]:
        if notification_ids is not None and not notification_ids:
            return []
        only = "" if notification_ids is None else (
            f" AND notification_id IN ({q.marks(len(notification_ids))})")
        async with self._q_transaction() as conn:
            rows = await self._q_fetch(MARK_READ.format(only=only), now_ms, user_id,
                                       *(notification_ids or ()), conn=conn)
        return sorted(row[0] for row in rows)
