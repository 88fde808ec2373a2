"""The SQL of webinars (chat/store/webinars.py), shared by both stores: `?` placeholders for the
database handle (chat/store/database.py); a `{}` is filled with a dialect fragment by `bind()`.
Booleans come back as bool (PostgreSQL) or 0/1 (SQLite): converters call bool()."""

from __future__ import annotations

from chat.models import Webinar, WebinarPerson
from chat.store.conversation_sql import json_list
from chat.store.database import Row

WEBINAR_COLUMNS = (
    "w.room_id, w.title_en, w.title_zh, w.description, w.description_html, w.starts_at_ms,"
    " w.ends_at_ms, w.time_zone, w.created_by, w.created_at_ms, w.updated_at_ms, w.state,"
    " w.premoderated, w.chat_mode, w.slow_mode_s, w.results_public, w.guests_allowed,"
    " w.started_at_ms, w.ended_at_ms, w.sequence,"
    " (SELECT count(*) FROM webinar_registrations g WHERE g.room_id = w.room_id), w.attachments"
)
INSERT_ROOM = (
    "INSERT INTO rooms (room_id, kind, title_en, title_zh, created_by, created_at_ms)"
    " VALUES (?, 'webinar', ?, ?, ?, ?)"
)
INSERT_WEBINAR = (
    "INSERT INTO webinars (room_id, title_en, title_zh, description, description_html,"
    " starts_at_ms, ends_at_ms, time_zone, premoderated, chat_mode, slow_mode_s, guests_allowed,"
    " created_by, created_at_ms, updated_at_ms, attachments)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_PERSON = "INSERT INTO webinar_people (room_id, user_id, role) VALUES (?, ?, ?)"
DELETE_PEOPLE = "DELETE FROM webinar_people WHERE room_id = ?"
INSERT_LISTING = "INSERT INTO webinar_rooms (room_id, listed_in) VALUES (?, ?)"
DELETE_LISTINGS = "DELETE FROM webinar_rooms WHERE room_id = ?"
BY_ID = f"SELECT {WEBINAR_COLUMNS} FROM webinars w WHERE w.room_id = ?"
PEOPLE = (
    "SELECT p.room_id, p.user_id, u.display_name, p.role FROM webinar_people p"
    " JOIN users u ON u.user_id = p.user_id WHERE {} ORDER BY p.room_id, p.role, u.user_id"
)  # {}: p.room_id in the webinars
LISTINGS = "SELECT room_id, listed_in FROM webinar_rooms WHERE {} ORDER BY room_id, listed_in"
PERSON_ROLE = "SELECT role FROM webinar_people WHERE room_id = ? AND user_id = ?"

# The lists: upcoming (scheduled) and live ones soonest first, past ones (ended, cancelled)
# latest first; keyset paging on (starts_at_ms, room_id). {}: the listing-room filter or TRUE.
_LIST = f"SELECT {WEBINAR_COLUMNS} FROM webinars w WHERE "
LIST_FORWARD = (
    _LIST + "w.state = ? AND {} AND (w.starts_at_ms > ? OR (w.starts_at_ms = ? AND w.room_id > ?))"
    " ORDER BY w.starts_at_ms, w.room_id LIMIT ?"
)
LIST_PAST = (
    _LIST + "w.state IN ('ended', 'cancelled') AND {}"
    " AND (w.starts_at_ms < ? OR (w.starts_at_ms = ? AND w.room_id < ?))"
    " ORDER BY w.starts_at_ms DESC, w.room_id DESC LIMIT ?"
)
LISTED_IN = "EXISTS (SELECT 1 FROM webinar_rooms wr WHERE wr.room_id = w.room_id AND wr.listed_in = ?)"

# State changes: each only from the state it leaves, so two hosts (or two nodes' sweeps)
# racing change it once; the rows changed say who won.
START = ("UPDATE webinars SET state = 'live', started_at_ms = ?, updated_at_ms = ?"
         " WHERE room_id = ? AND state = 'scheduled'")
END = ("UPDATE webinars SET state = 'ended', ended_at_ms = ?, updated_at_ms = ?"
       " WHERE room_id = ? AND state = 'live'")
CANCEL = ("UPDATE webinars SET state = 'cancelled', ended_at_ms = ?, updated_at_ms = ?,"
          " sequence = sequence + 1 WHERE room_id = ? AND state = 'scheduled'")
# The sweep: live webinars past their end (and the grace), ended once whichever node runs it.
END_OVERDUE = (
    "UPDATE webinars SET state = 'ended', ended_at_ms = ?, updated_at_ms = ?"
    " WHERE room_id IN (SELECT room_id FROM webinars WHERE state = 'live' AND ends_at_ms < ?"
    " ORDER BY ends_at_ms LIMIT ?) AND state = 'live' RETURNING room_id"
)
SET_CHAT = ("UPDATE webinars SET chat_mode = ?, slow_mode_s = ?, updated_at_ms = ?"
            " WHERE room_id = ? AND state IN ('scheduled', 'live')")
# An edit: {} is "column = ?, …" from a fixed list of columns (chat/store/webinars.py).
EDIT = ("UPDATE webinars SET {}sequence = sequence + 1, updated_at_ms = ?"
        " WHERE room_id = ? AND state = 'scheduled'")
SET_ROOM_TITLES = "UPDATE rooms SET title_en = ?, title_zh = ? WHERE room_id = ?"
ROOM_TITLES = "SELECT title_en, title_zh FROM webinars WHERE room_id = ?"

REGISTER = (
    "INSERT INTO webinar_registrations (room_id, user_id, registered_at_ms) VALUES (?, ?, ?)"
    " ON CONFLICT (room_id, user_id) DO NOTHING"
)
UNREGISTER = "DELETE FROM webinar_registrations WHERE room_id = ? AND user_id = ?"
REGISTERED = "SELECT room_id FROM webinar_registrations WHERE user_id = ? AND {}"  # {}: room_id in
# What the audience chat's rules need on every send: (state, chat mode, slow seconds, the
# sender's role among the webinar's people or NULL). Binds the user, then the webinar.
CHAT_RULES = (
    "SELECT w.state, w.chat_mode, w.slow_mode_s, p.role FROM webinars w"
    " LEFT JOIN webinar_people p ON p.room_id = w.room_id AND p.user_id = ? WHERE w.room_id = ?"
)

# Slow mode: whether this (author, cid) is already stored (a repeated send is answered, never
# refused), and when the author's last message in the room was sent.
LAST_CHAT = (
    "SELECT (SELECT count(*) FROM messages WHERE room_id = ? AND author_id = ? AND cid = ?),"
    " (SELECT max(sent_at_ms) FROM messages WHERE room_id = ? AND author_id = ? AND kind = 'message')"
)

# A webinar change, told to every member registered for it but its author: one notification
# each, pointing at the change's entry in the webinar's log.
NOTIFY_REGISTERED = (
    "INSERT INTO notifications (user_id, kind, room_id, seq, message_id, actor_id, created_at_ms)"
    " SELECT g.user_id, CAST(? AS TEXT), m.room_id, m.seq, m.message_id, m.author_id, CAST(? AS BIGINT)"
    " FROM webinar_registrations g JOIN messages m ON m.room_id = g.room_id AND m.message_id = ?"
    " WHERE g.room_id = ? AND g.user_id <> m.author_id RETURNING notification_id, user_id"
)
ENTRY = (
    "SELECT m.room_id, m.seq, m.author_id, u.display_name, m.body FROM messages m"
    " JOIN users u ON u.user_id = m.author_id WHERE m.message_id = ?"
)


def webinar_from_row(row: Row, people: tuple[WebinarPerson, ...], listed_in: tuple[str, ...]) -> Webinar:
    return Webinar(
        webinar_id=row[0], title_en=row[1], title_zh=row[2], description=row[3],
        description_html=row[4], starts_at_ms=row[5], ends_at_ms=row[6], time_zone=row[7],
        created_by=row[8], created_at_ms=row[9], updated_at_ms=row[10], state=row[11],
        premoderated=bool(row[12]), chat_mode=row[13], slow_mode_s=row[14],
        results_public=bool(row[15]), guests_allowed=bool(row[16]), started_at_ms=row[17],
        ended_at_ms=row[18], sequence=row[19], people=people, listed_in=listed_in,
        registrations=row[20], attachments=json_list(row[21]),
    )
