"""Read state: each member's last-read seq per room (topics and news threads are rooms too),
unread counts and "read by". One implementation for both stores over the database handle
(chat/store/database.py): the statements below are the same on PostgreSQL and SQLite
(UPSERT … WHERE … RETURNING needs SQLite 3.35; Python 3.11 links 3.40)."""

from __future__ import annotations

from chat.store.database import Database, bind

# Unread counts stop here: a room with more shows UNREAD_CAP ("999+" in a client). This bounds
# the work of one count to an index range scan of at most this many messages, whatever the
# room's history (docs/decisions.md, "Read state and notifications").
UNREAD_CAP = 1000

# Raise a position, never lower it. RETURNING yields a row only when the position moved.
ADVANCE = (
    "INSERT INTO read_state (user_id, room_id, last_read_seq) VALUES (?, ?, ?)"
    " ON CONFLICT (user_id, room_id) DO UPDATE SET last_read_seq = excluded.last_read_seq"
    " WHERE read_state.last_read_seq < excluded.last_read_seq"
    " RETURNING last_read_seq"
)
POSITION = "SELECT last_read_seq FROM read_state WHERE user_id = ? AND room_id = ?"

# One statement for every room of a listing (no query per room). Unread: messages (not edits,
# reactions …) by others, not deleted, after the position; counted up to UNREAD_CAP through
# the (room_id, seq) primary key.
SUMMARIES = (
    "SELECT r.room_id, COALESCE(rs.last_read_seq, 0),"
    " (SELECT count(*) FROM (SELECT 1 FROM messages m WHERE m.room_id = r.room_id"
    " AND m.seq > COALESCE(rs.last_read_seq, 0) AND m.kind = 'message' AND NOT m.deleted"
    f" AND m.author_id <> ? LIMIT {UNREAD_CAP}) AS unread)"
    " FROM rooms r LEFT JOIN read_state rs ON rs.room_id = r.room_id AND rs.user_id = ?"
    " WHERE {}"
)  # {}: r.room_id in the rooms

# Every current member of a room with their position (0 when they never marked one).
MEMBER_READS = (
    "SELECT u.user_id, u.display_name, COALESCE(rs.last_read_seq, 0) FROM room_members rm"
    " JOIN users u ON u.user_id = rm.user_id"
    " LEFT JOIN read_state rs ON rs.user_id = rm.user_id AND rs.room_id = rm.room_id"
    " WHERE rm.room_id = ? AND rm.removed_at_ms IS NULL ORDER BY u.user_id"
)


class ReadsMixin:
    """Mixed into each store after its base (tests/contract/test_reads_store.py)."""

    _db: Database

    async def advance_read(self, user_id: int, room_id: str, seq: int) -> tuple[int, bool]:
        if seq > 0:
            async with self._db.transaction() as conn:
                moved = await conn.fetch_one(ADVANCE, user_id, room_id, seq)
            if moved:
                return moved[0], True
        return await self.read_position(user_id, room_id), False

    async def read_position(self, user_id: int, room_id: str) -> int:
        row = await self._db.fetch_one(POSITION, user_id, room_id)
        return row[0] if row else 0

    async def read_summaries(self, user_id: int, room_ids: list[str]) -> dict[str, tuple[int, int]]:
        if not room_ids:
            return {}
        sql, params = bind(SUMMARIES, user_id, user_id,
                           self._db.dialect.in_list("r.room_id", room_ids, "text"))
        rows = await self._db.fetch(sql, *params)
        return {row[0]: (row[1], row[2]) for row in rows}

    async def member_reads(self, room_id: str) -> list[tuple[int, str, int]]:
        return [(row[0], row[1], row[2]) for row in await self._db.fetch(MEMBER_READS, room_id)]
