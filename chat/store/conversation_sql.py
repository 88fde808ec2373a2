"""The SQL of direct rooms, membership, access and topics, shared by both stores. Written with
`?` placeholders for the database handle (chat/store/database.py); a `{}` is filled with a
dialect fragment by `bind()` (an IN list). Booleans come back as bool (PostgreSQL) or 0/1
(SQLite): converters call bool()."""

from __future__ import annotations

import json
from typing import Any

from chat.models import Room, Topic
from chat.store.database import Row

ROOM_COLUMNS = "r.room_id, r.kind, r.title_en, r.title_zh, r.head_seq, r.status"

# Whether user ? may see room r: the platform's rooms and webinars are open to members; a direct
# room to its current members; a topic or news thread to whoever may see one of the rooms it is
# listed in.
_MEMBER = ("EXISTS (SELECT 1 FROM room_members rm WHERE rm.room_id = {room}"
           " AND rm.user_id = {user} AND rm.removed_at_ms IS NULL)")
VISIBLE = (
    "(r.kind IN ('sector', 'city', 'webinar')"
    " OR (r.kind = 'direct' AND " + _MEMBER.format(room="r.room_id", user="?") + ")"
    " OR (r.kind IN ('topic', 'news') AND EXISTS (SELECT 1 FROM topic_rooms tr"
    " JOIN rooms p ON p.room_id = tr.room_id WHERE tr.topic_id = r.room_id"
    " AND (p.kind IN ('sector', 'city') OR (p.kind = 'direct' AND "
    + _MEMBER.format(room="p.room_id", user="?") + ")))))"
)
# VISIBLE binds the user id twice.

ROOM_ACCESS = f"SELECT {ROOM_COLUMNS}, {VISIBLE} FROM rooms r WHERE r.room_id = ?"
# The same rule for many (room, user) pairs at once: {pairs} is `PAIR` repeated, joined by ", ".
# The casts give the VALUES columns (column1, column2 in both dialects) their types.
PAIR = "(CAST(? AS TEXT), CAST(? AS BIGINT))"
VISIBLE_PAIRS = (
    "SELECT v.column1, v.column2 FROM (VALUES {pairs}) v JOIN rooms r ON r.room_id = v.column1"
    " WHERE " + VISIBLE.replace("?", "v.column2")
)

DIRECT_ROOMS = (
    f"SELECT {ROOM_COLUMNS} FROM rooms r JOIN room_members me ON me.room_id = r.room_id"
    " WHERE r.kind = 'direct' AND me.user_id = ? AND me.removed_at_ms IS NULL"
    " ORDER BY r.created_at_ms DESC, r.room_id"
)
ROOM_MEMBERS = (
    # A zone nobody set is NULL: never shown as the member's local time.
    "SELECT rm.room_id, u.user_id, u.display_name,"
    " CASE WHEN u.time_zone_set = 1 THEN u.time_zone END FROM room_members rm"
    " JOIN users u ON u.user_id = rm.user_id"
    " WHERE rm.removed_at_ms IS NULL AND {} ORDER BY rm.room_id, u.user_id"
)  # {}: rm.room_id in the rooms
# {}: user_id in the ids. Members only: a webinar's guest is nobody to add to a conversation
# or a webinar's people (docs/protocol.md, "Guests (webinars)").
USERS_BY_ID = ("SELECT user_id, display_name FROM users WHERE guest_of IS NULL AND deleted_at_ms IS NULL"
               " AND {}")
DIRECT_BY_KEY = f"SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.member_key = ?"
# Two people opening the same conversation at once: one insert wins, the other finds it.
INSERT_DIRECT = (
    "INSERT INTO rooms (room_id, kind, title_en, title_zh, created_by, created_at_ms, member_key,"
    " origin_key, status) VALUES (?, 'direct', ?, ?, ?, ?, ?, ?, 'open')"
    " ON CONFLICT (member_key) DO NOTHING RETURNING room_id"
)
MEMBER_COUNT = "SELECT count(*) FROM room_members WHERE room_id = ? AND removed_at_ms IS NULL"
THREADS_IN_ROOM = "SELECT topic_id FROM topic_rooms WHERE room_id = ?"
INSERT_ROOM = (
    "INSERT INTO rooms (room_id, kind, title_en, title_zh, created_by, created_at_ms, member_key, status)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
# Only ever run after the caller checked the member may come (back) in: it clears
# left_for_good (add_member refuses such a member; rejoining is their own act).
INSERT_MEMBER = (
    "INSERT INTO room_members (room_id, user_id, added_at_ms, added_by) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (room_id, user_id) DO UPDATE SET removed_at_ms = NULL,"
    " added_at_ms = excluded.added_at_ms, added_by = excluded.added_by, left_for_good = FALSE"
)
REMOVE_MEMBER = (
    "UPDATE room_members SET removed_at_ms = ?, left_for_good = (left_for_good OR ?)"
    " WHERE room_id = ? AND user_id = ? AND removed_at_ms IS NULL"
)
# A member who left for good stays out of every new conversation of the same people that
# someone else starts: whether one of the users ({}: rm.user_id in the list), other than user ?,
# left for good a room that started with the members of key ? or had them when they left
# (binds key twice).
LEFT_BEFORE = (
    "SELECT 1 FROM room_members rm JOIN rooms r ON r.room_id = rm.room_id"
    " WHERE {} AND rm.user_id <> ? AND rm.left_for_good"
    " AND rm.removed_at_ms IS NOT NULL AND (r.origin_key = ? OR rm.left_with = ?) LIMIT 1"
)
# What a member leaving for good leaves behind: who was there (left_with) and how far the log
# went (left_at_seq; the caller holds the room's lock, so head_seq cannot move meanwhile).
MARK_LEFT = (
    "UPDATE room_members SET left_with = ?, left_at_seq = (SELECT head_seq FROM rooms WHERE room_id = ?)"
    " WHERE room_id = ? AND user_id = ?"
)
# Whether anyone wrote in the room since the member left it for good (NULL: left before this
# was recorded, so assume they did).
# Anything but people coming and going (kind "membership") counts as written.
WRITTEN_SINCE_LEFT = (
    "SELECT EXISTS (SELECT 1 FROM messages m JOIN room_members rm ON rm.room_id = m.room_id"
    " WHERE m.room_id = ? AND rm.user_id = ? AND m.seq > COALESCE(rm.left_at_seq, -1)"
    " AND m.kind <> 'membership')"
)
# A leaver's fresh conversation takes over the old room's member_key (only if it still holds it).
RELEASE_MEMBER_KEY = "UPDATE rooms SET member_key = NULL WHERE room_id = ? AND member_key = ?"
# (is a current member, left for good, added by) of one user in one room; no row: never a member.
MEMBER_STATE = (
    "SELECT removed_at_ms IS NULL, left_for_good, added_by FROM room_members"
    " WHERE room_id = ? AND user_id = ?"
)
CURRENT_MEMBER_IDS = "SELECT user_id FROM room_members WHERE room_id = ? AND removed_at_ms IS NULL"
# Takes the room row's lock (Dialect.row_lock; SQLite's BEGIN IMMEDIATE serialises writers
# anyway): adds and leaves of one room run one after the other, so a leave is never overtaken by
# an add that checked before it. {}: the dialect's row lock.
LOCK_ROOM = "SELECT 1 FROM rooms WHERE room_id = ?{}"
# A direct room whose members changed is no longer "the conversation of exactly these people".
FORGET_MEMBER_KEY = "UPDATE rooms SET member_key = NULL WHERE room_id = ?"

# -- blocks: blocker_id no longer hears from blocked_id -----------------------------------------
BLOCK = (
    "INSERT INTO blocks (blocker_id, blocked_id, created_at_ms) VALUES (?, ?, ?)"
    " ON CONFLICT (blocker_id, blocked_id) DO NOTHING"
)
UNBLOCK = "DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?"
BLOCKED_USERS = (
    "SELECT u.user_id, u.display_name FROM blocks b JOIN users u ON u.user_id = b.blocked_id"
    " WHERE b.blocker_id = ? ORDER BY b.created_at_ms, u.user_id"
)
# Whether any of the users blocked another of them ({}: blocker_id, then blocked_id, in the list).
BLOCK_AMONG = "SELECT 1 FROM blocks WHERE {} AND {} AND blocker_id <> blocked_id LIMIT 1"
# Whether user ? and one of the others blocked the other, either way ({}: blocked_id, then
# blocker_id, in the others).
BLOCK_WITH = "SELECT 1 FROM blocks WHERE (blocker_id = ? AND {}) OR (blocked_id = ? AND {}) LIMIT 1"

TOPIC_COLUMNS = (
    "t.topic_id, t.kind, t.title, t.summary, t.body, t.body_html, t.author_id, u.display_name,"
    " t.created_at_ms, t.last_activity_ms, t.reply_count, t.resolved, t.pinned,"
    " t.origin_room_id, t.origin_message_id, u.role, t.attachments"
)
TOPIC_FROM = "FROM topics t JOIN users u ON u.user_id = t.author_id"
INSERT_TOPIC = (
    "INSERT INTO topics (topic_id, kind, title, summary, body, body_html, origin_room_id,"
    " origin_message_id, author_id, created_at_ms, last_activity_ms, attachments)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_TOPIC_ROOM = "INSERT INTO topic_rooms (topic_id, room_id) VALUES (?, ?)"
TOPIC_ROOMS = "SELECT topic_id, room_id FROM topic_rooms WHERE {} ORDER BY room_id"  # {}: topic_id in
TOPICS_IN_ROOM = (
    f"SELECT {TOPIC_COLUMNS} {TOPIC_FROM} JOIN topic_rooms tr ON tr.topic_id = t.topic_id"
    " WHERE tr.room_id = ? AND t.kind = ?"
    " ORDER BY t.pinned DESC, t.last_activity_ms DESC, t.topic_id LIMIT ?"
)
NEWS_FEED = (
    f"SELECT {TOPIC_COLUMNS} {TOPIC_FROM} WHERE t.kind = 'news' AND t.created_at_ms < ?"
    " AND EXISTS (SELECT 1 FROM topic_rooms tr JOIN rooms p ON p.room_id = tr.room_id"
    " WHERE tr.topic_id = t.topic_id AND p.kind IN ('sector', 'city'))"
    " ORDER BY t.created_at_ms DESC, t.topic_id LIMIT ?"
)
TOPIC_BY_ID = f"SELECT {TOPIC_COLUMNS} {TOPIC_FROM} WHERE t.topic_id = ?"


def room_from_row(row: Row) -> Room:
    return Room(row[0], row[1], row[2], row[3], row[4], row[5])


def topic_from_row(row: Row, room_ids: tuple[str, ...]) -> Topic:
    return Topic(
        topic_id=row[0], kind=row[1], title=row[2], summary=row[3], body=row[4],
        body_html=row[5], author_id=row[6], author_name=row[7], created_at_ms=row[8],
        last_activity_ms=row[9], reply_count=row[10], resolved=bool(row[11]),
        pinned=bool(row[12]), room_ids=room_ids, origin_room_id=row[13],
        origin_message_id=row[14], author_role=row[15], attachments=json_list(row[16]),
    )


def json_list(text: object) -> tuple[dict[str, Any], ...]:
    """A stored JSON list of attachment wire dicts ("[]" when there are none)."""
    try:
        value = json.loads(text) if isinstance(text, str) and text else []
    except ValueError:
        return ()
    return tuple(v for v in value if isinstance(v, dict)) if isinstance(value, list) else ()
