"""Moderation: members' reports, the moderators' queue, and the sanctions on members (warnings,
mutes in a room, suspensions, bans) that sends and logins are checked against (migration 0028;
the rules are chat/moderation/). One implementation for both stores over the database handle."""

from __future__ import annotations

from chat.models import Report, ReportedMessage, ReportStatus, Sanction, SanctionKind
from chat.store.database import Database, Row, UniqueViolation

REPORT_COLUMNS = (
    "r.report_id, r.reporter_id, ru.display_name, r.target_user_id, tu.display_name, r.room_id,"
    " r.message_id, r.reason, r.note, r.status, r.created_at_ms, r.resolution, r.resolved_by,"
    " r.resolved_at_ms, r.message_body, r.message_author_name, r.message_sent_at_ms, r.message_seq"
)
REPORT_FROM = ("FROM reports r JOIN users ru ON ru.user_id = r.reporter_id"
               " JOIN users tu ON tu.user_id = r.target_user_id")
INSERT_REPORT = (
    "INSERT INTO reports (reporter_id, target_user_id, room_id, message_id, reason, note, created_at_ms,"
    " message_body, message_author_name, message_sent_at_ms, message_seq)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING report_id"
)
# The copy a report of a message keeps: the message as it is when reported.
MESSAGE_COPY = ("SELECT m.body, u.display_name, m.sent_at_ms, m.seq FROM messages m"
                " JOIN users u ON u.user_id = m.author_id WHERE m.room_id = ? AND m.message_id = ?")
SAME_OPEN = (f"SELECT {REPORT_COLUMNS} {REPORT_FROM} WHERE r.reporter_id = ? AND r.target_user_id = ?"
             " AND r.status = 'open' AND {}")
# Open reports oldest first (first come, first seen) after a cursor; closed ones newest first.
OPEN_PAGE = f"SELECT {REPORT_COLUMNS} {REPORT_FROM} WHERE r.status = 'open' AND r.report_id > ? ORDER BY r.report_id LIMIT ?"
CLOSED_PAGE = (f"SELECT {REPORT_COLUMNS} {REPORT_FROM} WHERE r.status <> 'open' AND r.report_id < ?"
               " ORDER BY r.report_id DESC LIMIT ?")
ABOUT = f"SELECT {REPORT_COLUMNS} {REPORT_FROM} WHERE r.target_user_id = ? ORDER BY r.report_id DESC LIMIT ?"
RESOLVE = ("UPDATE reports SET status = ?, resolution = ?, resolved_by = ?, resolved_at_ms = ?"
           " WHERE report_id = ? AND status = 'open' RETURNING report_id")
OPEN_COUNT = "SELECT count(*) FROM reports WHERE status = 'open'"
MESSAGE_AUTHOR = ("SELECT author_id, deleted FROM messages WHERE room_id = ? AND message_id = ?"
                  " AND kind = 'message'")

SANCTION_COLUMNS = ("sanction_id, user_id, kind, room_id, until_ms, reason, actor_id, report_id,"
                    " created_at_ms, lifted_at_ms, lifted_by")
INSERT_SANCTION = (
    "INSERT INTO sanctions (user_id, kind, room_id, until_ms, reason, actor_id, report_id, created_at_ms)"
    f" VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {SANCTION_COLUMNS}"
)
IN_FORCE = "kind = ? AND lifted_at_ms IS NULL AND (until_ms IS NULL OR until_ms > ?)"
# The one in force longest (no end first, then the latest end).
IN_FORCE_ONE = (f"SELECT {SANCTION_COLUMNS} FROM sanctions WHERE user_id = ? AND {IN_FORCE} AND {{}}"
                " ORDER BY CASE WHEN until_ms IS NULL THEN 1 ELSE 0 END DESC, until_ms DESC LIMIT 1")
LIFT = (f"UPDATE sanctions SET lifted_at_ms = ?, lifted_by = ? WHERE user_id = ? AND {IN_FORCE} AND {{}}"
        f" RETURNING {SANCTION_COLUMNS}")
OF_USER = f"SELECT {SANCTION_COLUMNS} FROM sanctions WHERE user_id = ? ORDER BY sanction_id DESC LIMIT ?"


def report_from_row(row: Row) -> Report:
    message = None if row[14] is None else ReportedMessage(row[14], row[15], row[16], row[17])
    return Report(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9], row[10],
                  resolution=row[11], resolved_by=row[12], resolved_at_ms=row[13], message=message)


def sanction_from_row(row: Row) -> Sanction:
    return Sanction(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                    lifted_at_ms=row[9], lifted_by=row[10])


def room_is(room_id: str | None) -> tuple[str, tuple[str, ...]]:
    return ("room_id IS NULL", ()) if room_id is None else ("room_id = ?", (room_id,))


class ModerationMixin:
    """Mixed into each store after its base (tests/contract/test_moderation_store.py)."""

    _db: Database

    async def message_author(self, room_id: str, message_id: str) -> tuple[int, bool] | None:
        row = await self._db.fetch_one(MESSAGE_AUTHOR, room_id, message_id)
        return (row[0], bool(row[1])) if row else None

    async def add_report(self, reporter_id: int, target_user_id: int, room_id: str | None,
                         message_id: str | None, reason: str, note: str, now_ms: int) -> tuple[Report, bool]:
        same = SAME_OPEN.format("r.message_id IS NULL" if message_id is None else "r.message_id = ?")
        params = (reporter_id, target_user_id) + (() if message_id is None else (message_id,))
        try:
            async with self._db.transaction() as conn:
                copy = (None if room_id is None or message_id is None
                        else await conn.fetch_one(MESSAGE_COPY, room_id, message_id))
                row = await conn.fetch_one(INSERT_REPORT, reporter_id, target_user_id, room_id, message_id,
                                           reason, note, now_ms, *(copy or (None, None, None, None)))
                assert row is not None  # INSERT … RETURNING yields its row
                created = await conn.fetch_one(f"SELECT {REPORT_COLUMNS} {REPORT_FROM} WHERE r.report_id = ?",
                                               row[0])
        except UniqueViolation:
            existing = await self._db.fetch_one(same, *params)
            assert existing is not None  # the open report the unique index found
            return report_from_row(existing), False
        assert created is not None
        return report_from_row(created), True

    async def get_report(self, report_id: int) -> Report | None:
        row = await self._db.fetch_one(f"SELECT {REPORT_COLUMNS} {REPORT_FROM} WHERE r.report_id = ?", report_id)
        return report_from_row(row) if row else None

    async def report_page(self, open_reports: bool, cursor: int | None, limit: int) -> list[Report]:
        if open_reports:
            rows = await self._db.fetch(OPEN_PAGE, cursor if cursor is not None else 0, limit)
        else:
            rows = await self._db.fetch(CLOSED_PAGE, cursor if cursor is not None else 2**62, limit)
        return [report_from_row(row) for row in rows]

    async def open_report_count(self) -> int:
        row = await self._db.fetch_one(OPEN_COUNT)
        return int(row[0]) if row else 0

    async def reports_about(self, user_id: int, limit: int) -> list[Report]:
        return [report_from_row(row) for row in await self._db.fetch(ABOUT, user_id, limit)]

    async def close_report(self, report_id: int, status: ReportStatus, resolution: str | None,
                           actor_id: int, now_ms: int) -> bool:
        async with self._db.transaction() as conn:
            row = await conn.fetch_one(RESOLVE, status, resolution, actor_id, now_ms, report_id)
        return row is not None

    async def add_sanction(self, user_id: int, kind: SanctionKind, room_id: str | None, until_ms: int | None,
                           reason: str, actor_id: int | None, report_id: int | None, now_ms: int) -> Sanction:
        async with self._db.transaction() as conn:
            row = await conn.fetch_one(INSERT_SANCTION, user_id, kind, room_id, until_ms, reason, actor_id,
                                       report_id, now_ms)
        assert row is not None  # INSERT … RETURNING yields its row
        return sanction_from_row(row)

    async def sanction_in_force(self, user_id: int, kind: SanctionKind, room_id: str | None,
                                now_ms: int) -> Sanction | None:
        where, params = room_is(room_id)
        row = await self._db.fetch_one(IN_FORCE_ONE.format(where), user_id, kind, now_ms, *params)
        return sanction_from_row(row) if row else None

    async def lift_sanctions(self, user_id: int, kind: SanctionKind, room_id: str | None, actor_id: int,
                             now_ms: int) -> list[Sanction]:
        where, params = room_is(room_id)
        async with self._db.transaction() as conn:
            rows = await conn.fetch(LIFT.format(where), now_ms, actor_id, user_id, kind, now_ms, *params)
        return sorted((sanction_from_row(row) for row in rows), key=lambda s: s.sanction_id)

    async def sanctions_of(self, user_id: int, limit: int) -> list[Sanction]:
        return [sanction_from_row(row) for row in await self._db.fetch(OF_USER, user_id, limit)]
