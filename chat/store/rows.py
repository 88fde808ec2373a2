"""Column lists and row converters both stores share (their SQL for these is the same)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chat.models import Message, TargetState
from chat.store.database import Row



def author_role_sql(alias: str) -> str:
    """The author's role as frames mark it (models.AuthorRole), from the users row `alias`:
    'guest' for a webinar's guest (users.guest_of set), else the stored role."""
    return f"CASE WHEN {alias}.guest_of IS NULL THEN {alias}.role ELSE 'guest' END"


# The room log joined with the author's current display name and role (or guest mark).
MESSAGE_COLUMNS = (
    "m.room_id, m.seq, m.message_id, m.author_id, u.display_name, m.cid, m.body, m.sent_at_ms,"
    " m.kind, m.target_id, m.html, m.data, m.edited_at_ms, m.deleted, " + author_role_sql("u")
)
MESSAGE_FROM = "FROM messages m JOIN users u ON u.user_id = m.author_id"
TARGET_COLUMNS = (
    "m.message_id, m.author_id, m.kind, m.deleted, m.body,"
    " (SELECT count(*) FROM message_versions v WHERE v.message_id = m.message_id)"
)


def message_from_row(row: Row) -> Message:
    return Message(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
        kind=row[8], target_id=row[9], html=row[10], data=json.loads(row[11]),
        edited_at_ms=row[12], deleted=bool(row[13]), author_role=row[14],
    )


def target_from_row(row: Row) -> TargetState:
    return TargetState(row[0], row[1], row[2], bool(row[3]), row[4], int(row[5]))


def data_text(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# message_id -> emoji -> user ids, in a stable order.
Reactions = dict[str, dict[str, list[int]]]


def group_reactions(rows: Sequence[Row]) -> Reactions:
    """(message_id, emoji, user_id) rows, ordered, into the nested map history returns."""
    grouped: Reactions = {}
    for message_id, emoji, user_id in rows:
        grouped.setdefault(message_id, {}).setdefault(emoji, []).append(user_id)
    return grouped
