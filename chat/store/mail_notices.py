"""What the email producers (chat/mail/notices.py, reminders.py, digests.py) read and claim:
unread notifications due for an email and each member's batch of them (migration 0030,
mail_notice_state), one-off pieces of periodic work claimed by one node (mail_jobs), the
webinars about to start and their audiences. One implementation for both stores over the
database handle (chat/store/database.py)."""

from __future__ import annotations

from chat.models import DigestRoom, DigestThread, NoticeItem, User
from chat.store import conversation_sql as q
from chat.store.accounts import USER_COLUMNS, user_from_row
from chat.store.database import Database, bind
from chat.store.notifications import NOT_FROM_BLOCKED, excerpt, visible_to

MAILED_KINDS = "('mention', 'reply', 'direct')"
# The notification `n` is still unread: not marked read, and its room not read past it.
_UNREAD = (
    f"n.kind IN {MAILED_KINDS} AND n.read_at_ms IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM read_state rs WHERE rs.user_id = n.user_id"
    " AND rs.room_id = n.room_id AND rs.last_read_seq >= n.seq)"
)
# Members with an unread notification made in (since, cutoff], not yet dealt with, whose batch
# is not held by a node and who were not mailed within the delay.
DUE = (
    "SELECT n.user_id FROM notifications n LEFT JOIN mail_notice_state s ON s.user_id = n.user_id"
    " WHERE n.created_at_ms > ? AND n.created_at_ms <= ?"
    f" AND n.notification_id > COALESCE(s.mailed_through_id, 0) AND {_UNREAD}"
    " AND COALESCE(s.lease_until_ms, 0) <= ? AND COALESCE(s.last_mailed_ms, 0) <= ?"
    " GROUP BY n.user_id ORDER BY n.user_id LIMIT ?"
)
ENSURE_STATE = "INSERT INTO mail_notice_state (user_id) VALUES (?) ON CONFLICT (user_id) DO NOTHING"
# Take the member's batch: a lapsed batch as it was, else everything made up to newest_ms.
# The row lock makes one node win; the loser's WHERE no longer holds.
CLAIM = (
    "UPDATE mail_notice_state SET lease_until_ms = ?, batch_through_id = COALESCE(batch_through_id,"
    " (SELECT max(n.notification_id) FROM notifications n WHERE n.user_id = ? AND n.created_at_ms <= ?))"
    " WHERE user_id = ? AND lease_until_ms <= ? AND last_mailed_ms <= ?"
    " RETURNING mailed_through_id, batch_through_id"
)
RELEASE = "UPDATE mail_notice_state SET batch_through_id = NULL, lease_until_ms = 0 WHERE user_id = ?"
ITEMS = (
    "SELECT n.notification_id, n.kind, n.room_id, r.kind, r.title_en, r.title_zh, t.title, n.seq,"
    " n.message_id, u.display_name, m.body, m.data FROM notifications n"
    " JOIN users u ON u.user_id = n.actor_id JOIN messages m ON m.message_id = n.message_id"
    " JOIN rooms r ON r.room_id = n.room_id LEFT JOIN topics t ON t.topic_id = n.room_id"
    f" WHERE n.user_id = ? AND n.notification_id > ? AND n.notification_id <= ? AND {_UNREAD}"
    " AND NOT m.deleted"
    # A room the member muted sends no email either.
    " AND NOT EXISTS (SELECT 1 FROM room_settings x WHERE x.user_id = n.user_id"
    " AND x.room_id = n.room_id AND x.notify = 'none')"
    " AND " + visible_to("n.user_id") + NOT_FROM_BLOCKED + " ORDER BY n.notification_id LIMIT ?"
)
FINISH = (
    "UPDATE mail_notice_state SET mailed_through_id = batch_through_id, batch_through_id = NULL,"
    " lease_until_ms = 0, last_mailed_ms = CASE WHEN ? > last_mailed_ms THEN ? ELSE last_mailed_ms END"
    " WHERE user_id = ? AND batch_through_id = ? RETURNING user_id"
)

CLAIM_JOB = (
    "INSERT INTO mail_jobs (job_key, lease_until_ms) VALUES (?, ?) ON CONFLICT (job_key) DO UPDATE"
    " SET lease_until_ms = excluded.lease_until_ms"
    " WHERE mail_jobs.done_at_ms IS NULL AND mail_jobs.lease_until_ms <= ? RETURNING job_key"
)
FINISH_JOB = "UPDATE mail_jobs SET done_at_ms = ? WHERE job_key = ?"
JOBS_DONE = "SELECT job_key FROM mail_jobs WHERE done_at_ms IS NOT NULL AND {}"
PRUNE_JOBS = "DELETE FROM mail_jobs WHERE done_at_ms < ?"

STARTING = (
    "SELECT room_id, starts_at_ms FROM webinars WHERE state = 'scheduled'"
    " AND starts_at_ms > ? AND starts_at_ms <= ? ORDER BY starts_at_ms, room_id"
)


def mailable(alias: str = "users") -> str:
    """The member (users row `alias`) may get notification mail (notices, reminders, digests):
    not a guest, not deleted, their address verified, no suspension or ban in force at the
    one `?` it takes (now). Account mail (verification, reset) is not asked this."""
    a = f"{alias}."
    return (f"{a}guest_of IS NULL AND {a}deleted_at_ms IS NULL AND {a}email_verified_at_ms IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM sanctions x WHERE x.user_id = " + a + "user_id"
            " AND x.kind IN ('suspend', 'ban') AND x.lifted_at_ms IS NULL"
            " AND (x.until_ms IS NULL OR x.until_ms > ?))")


AUDIENCE = (
    f"SELECT {USER_COLUMNS}, time_zone, time_zone_set FROM users WHERE user_id IN (SELECT user_id"
    " FROM webinar_registrations WHERE room_id = ? UNION SELECT user_id FROM webinar_people"
    f" WHERE room_id = ?) AND {mailable()} ORDER BY user_id"
)
MEMBER = f"SELECT {USER_COLUMNS} FROM users WHERE user_id = ? AND {mailable()}"

# Members who chose a digest (migration 0025), with the zone they set (their morning).
DIGEST_MEMBERS = (
    f"SELECT {', '.join('u.' + c for c in USER_COLUMNS.split(', '))}, u.time_zone, u.time_zone_set, p.digest"
    " FROM mail_preferences p JOIN users u ON u.user_id = p.user_id"
    f" WHERE p.digest IN ('daily', 'weekly') AND u.user_id > ? AND {mailable('u')} ORDER BY u.user_id LIMIT ?"
)
# Each of the rooms the member may see, with its messages in [from, to).
DIGEST_ROOMS = (
    "SELECT r.room_id, r.title_en, r.title_zh, (SELECT count(*) FROM messages m WHERE m.room_id = r.room_id"
    " AND m.kind = 'message' AND NOT m.deleted AND m.sent_at_ms >= ? AND m.sent_at_ms < ?)"
    " FROM rooms r WHERE {} AND " + q.VISIBLE
)
# Topics and news posts started in [from, to) in those rooms, the most answered first.
DIGEST_THREADS = (
    "SELECT tr.room_id, t.topic_id, t.kind, t.title, t.reply_count FROM topics t"
    " JOIN topic_rooms tr ON tr.topic_id = t.topic_id"
    " WHERE {} AND t.created_at_ms >= ? AND t.created_at_ms < ?"
    " ORDER BY t.reply_count DESC, t.created_at_ms DESC, t.topic_id"
)


class MailNoticesMixin:
    """Mixed into each store after its base (tests/contract/test_mail_notices_store.py)."""

    _db: Database

    # -- unread notifications ---------------------------------------------------------------

    async def mail_notices_due(self, since_ms: int, cutoff_ms: int, now_ms: int, mailed_before_ms: int,
                               limit: int) -> list[int]:
        rows = await self._db.fetch(DUE, since_ms, cutoff_ms, now_ms, mailed_before_ms, limit)
        return [row[0] for row in rows]

    async def claim_mail_notices(self, user_id: int, newest_ms: int, now_ms: int, lease_ms: int,
                                 mailed_before_ms: int) -> tuple[int, int] | None:
        async with self._db.transaction() as conn:
            await conn.execute(ENSURE_STATE, user_id)
            row = await conn.fetch_one(CLAIM, now_ms + lease_ms, user_id, newest_ms, user_id, now_ms,
                                       mailed_before_ms)
            if row is None:
                return None
            after, through = row
            if through is None or through <= after:
                await conn.execute(RELEASE, user_id)
                return None
        return after, through

    async def mail_notice_items(self, user_id: int, after_id: int, through_id: int,
                                limit: int) -> list[NoticeItem]:
        rows = await self._db.fetch(ITEMS, user_id, after_id, through_id, limit)
        return [NoticeItem(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                           row[9], excerpt(row[10], False, row[11])) for row in rows]

    async def mail_member(self, user_id: int, now_ms: int) -> User | None:
        row = await self._db.fetch_one(MEMBER, user_id, now_ms)
        return user_from_row(row) if row else None

    async def finish_mail_notices(self, user_id: int, through_id: int, mailed_at_ms: int | None) -> bool:
        mailed = mailed_at_ms or 0
        async with self._db.transaction() as conn:
            row = await conn.fetch_one(FINISH, mailed, mailed, user_id, through_id)
        return row is not None

    # -- one-off pieces of work -------------------------------------------------------------

    async def claim_mail_job(self, job_key: str, now_ms: int, lease_ms: int) -> bool:
        async with self._db.transaction() as conn:
            row = await conn.fetch_one(CLAIM_JOB, job_key, now_ms + lease_ms, now_ms)
        return row is not None

    async def finish_mail_job(self, job_key: str, now_ms: int) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(FINISH_JOB, now_ms, job_key)

    async def mail_jobs_done(self, job_keys: list[str]) -> set[str]:
        if not job_keys:
            return set()
        sql, params = bind(JOBS_DONE, self._db.dialect.in_list("job_key", job_keys, "text"))
        return {row[0] for row in await self._db.fetch(sql, *params)}

    async def prune_mail_jobs(self, done_before_ms: int) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(PRUNE_JOBS, done_before_ms)

    # -- webinar reminders ------------------------------------------------------------------

    async def webinars_starting(self, after_ms: int, until_ms: int) -> list[tuple[str, int]]:
        return [(row[0], row[1]) for row in await self._db.fetch(STARTING, after_ms, until_ms)]

    async def webinar_audience(self, webinar_id: str, now_ms: int) -> list[tuple[User, str | None]]:
        rows = await self._db.fetch(AUDIENCE, webinar_id, webinar_id, now_ms)
        return [(user_from_row(row), row[6] if row[7] else None) for row in rows]

    # -- digests ----------------------------------------------------------------------------

    async def digest_members(self, after_id: int, limit: int, now_ms: int) -> list[tuple[User, str | None, str]]:
        rows = await self._db.fetch(DIGEST_MEMBERS, after_id, now_ms, limit)
        return [(user_from_row(row), row[6] if row[7] else None, row[8]) for row in rows]

    async def digest_contents(self, user_id: int, room_ids: list[str], from_ms: int,
                              to_ms: int) -> list[DigestRoom]:
        if not room_ids:
            return []
        sql, params = bind(DIGEST_ROOMS, from_ms, to_ms, self._db.dialect.in_list("r.room_id", room_ids, "text"),
                           user_id, user_id)
        rooms = await self._db.fetch(sql, *params)
        visible = [row[0] for row in rooms]
        threads: dict[str, list[DigestThread]] = {room: [] for room in visible}
        if visible:
            sql, params = bind(DIGEST_THREADS, self._db.dialect.in_list("tr.room_id", visible, "text"),
                               from_ms, to_ms)
            for row in await self._db.fetch(sql, *params):
                threads[row[0]].append(DigestThread(row[1], row[2], row[3], row[4]))
        order = {room: index for index, room in enumerate(room_ids)}
        return sorted((DigestRoom(row[0], row[1], row[2], row[3], tuple(threads[row[0]])) for row in rooms),
                      key=lambda room: order[room.room_id])
