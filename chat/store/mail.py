"""Email's tables (migration 0025): the outbox every email goes through, and members' email
preferences with their digest rooms. One implementation for both stores over the database
handle; claims lock with Dialect.skip_locked (tests/contract/test_mail_store.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chat.models import MAIL_SWITCH_KINDS, DigestFrequency, MailPreferences, OutboxMail
from chat.store.database import Database, Row, UniqueViolation
from chat.store.rows import data_text

COLUMNS = ("mail_id, recipient, kind, user_id, dedupe_key, subject, text_body, html_body, headers,"
           " status, attempts, due_ms, lease_until_ms, created_ms, sent_ms, last_error")
INSERT = (f"INSERT INTO mail_outbox ({COLUMNS}) VALUES"
          " (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, 0, ?, NULL, NULL)")
# The queued rows due now whose lease (if any) lapsed, oldest due first, claimed in one
# statement: the lease moves on and the attempt is counted before anyone sends.
CLAIM = (
    "UPDATE mail_outbox SET lease_until_ms = ?, attempts = attempts + 1"
    " WHERE mail_id IN (SELECT mail_id FROM mail_outbox WHERE status = 'queued' AND due_ms <= ?"
    " AND lease_until_ms <= ? ORDER BY due_ms, created_ms LIMIT ?{})"
    f" RETURNING {COLUMNS}"
)
# Only while the claim is still this sender's (attempts says which claim): a sender whose lease
# lapsed and whose row another node claimed again changes nothing.
RENEW = "UPDATE mail_outbox SET lease_until_ms = ? WHERE mail_id = ? AND status = 'queued' AND attempts = ?"
# A mail done with keeps no address, no words and no links (reset and verification links are
# live secrets); the row stays as a record (id, kind, member, subject, times) until pruned.
BLANKED = "recipient = '', text_body = '', html_body = '', headers = '{}'"
MARK_SENT = (f"UPDATE mail_outbox SET status = 'sent', sent_ms = ?, lease_until_ms = 0, last_error = NULL, {BLANKED}"
             " WHERE mail_id = ? AND status = 'queued' AND attempts = ?")
RETRY = ("UPDATE mail_outbox SET due_ms = ?, lease_until_ms = 0, last_error = ?"
         " WHERE mail_id = ? AND status = 'queued' AND attempts = ?")
FAIL = (f"UPDATE mail_outbox SET status = 'failed', lease_until_ms = 0, last_error = ?, {BLANKED}"
        " WHERE mail_id = ? AND status = 'queued' AND attempts = ?")
READ = f"SELECT {COLUMNS} FROM mail_outbox WHERE mail_id = ?"
BY_KEY = f"SELECT {COLUMNS} FROM mail_outbox WHERE dedupe_key = ?"
NEXT_DUE = ("SELECT min(CASE WHEN lease_until_ms > due_ms THEN lease_until_ms ELSE due_ms END)"
            " FROM mail_outbox WHERE status = 'queued'")
PRUNE = ("DELETE FROM mail_outbox WHERE status <> 'queued'"
         " AND CASE WHEN sent_ms IS NULL THEN created_ms ELSE sent_ms END < ?")
COUNTS = "SELECT status, count(*) FROM mail_outbox GROUP BY status"

PREFS = "SELECT switches, digest, language FROM mail_preferences WHERE user_id = ?"
DIGEST_ROOMS = "SELECT room_id FROM mail_digest_rooms WHERE user_id = ? ORDER BY room_id"
UPSERT_PREFS = (
    "INSERT INTO mail_preferences (user_id, switches, digest, language, updated_ms) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (user_id) DO UPDATE SET switches = excluded.switches, digest = excluded.digest,"
    " language = excluded.language, updated_ms = excluded.updated_ms"
)
USER_EXISTS = "SELECT 1 FROM users WHERE user_id = ?"
CLEAR_ROOMS = "DELETE FROM mail_digest_rooms WHERE user_id = ?"
ADD_ROOM = "INSERT INTO mail_digest_rooms (user_id, room_id) VALUES (?, ?) ON CONFLICT DO NOTHING"


def mail_from_row(row: Row) -> OutboxMail:
    headers: Any = json.loads(row[8])
    return OutboxMail(
        mail_id=row[0], recipient=row[1], kind=row[2], user_id=row[3], dedupe_key=row[4],
        subject=row[5], text=row[6], html=row[7],
        headers={str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
        status=row[9], attempts=row[10], due_ms=row[11], lease_until_ms=row[12], created_ms=row[13],
        sent_ms=row[14], last_error=row[15])


def prefs_from_rows(row: Row | None, rooms: Sequence[Row]) -> MailPreferences:
    if row is None:
        return MailPreferences(switches={kind: True for kind in MAIL_SWITCH_KINDS})
    stored: Any = json.loads(row[0])
    switches = {kind: bool(stored.get(kind, True)) if isinstance(stored, dict) else True
                for kind in MAIL_SWITCH_KINDS}
    digest: DigestFrequency = row[1] if row[1] in ("daily", "weekly") else "off"
    language = row[2] if row[2] in ("en", "zh") else None
    return MailPreferences(switches, digest, tuple(r[0] for r in rooms), language)


class MailMixin:
    """Mixed into each store after its base (tests/contract/test_mail_store.py)."""

    _db: Database

    # -- the outbox ---------------------------------------------------------------------------

    async def enqueue_mail(self, mail: OutboxMail) -> bool:
        try:
            async with self._db.transaction() as conn:
                await conn.execute(INSERT, mail.mail_id, mail.recipient, mail.kind, mail.user_id,
                                   mail.dedupe_key, mail.subject, mail.text, mail.html,
                                   data_text(mail.headers), mail.due_ms, mail.created_ms)
        except UniqueViolation:
            return False
        return True

    async def claim_mail(self, now_ms: int, lease_ms: int, limit: int) -> list[OutboxMail]:
        async with self._db.transaction() as conn:
            rows = await conn.fetch(CLAIM.format(conn.dialect.skip_locked), now_ms + lease_ms,
                                    now_ms, now_ms, limit)
        return sorted((mail_from_row(row) for row in rows), key=lambda m: (m.due_ms, m.created_ms))

    async def mark_mail_sent(self, mail_id: str, attempt: int, now_ms: int) -> bool:
        return await self._db.execute(MARK_SENT, now_ms, mail_id, attempt) == 1

    async def renew_mail_lease(self, mail_id: str, attempt: int, until_ms: int) -> bool:
        return await self._db.execute(RENEW, until_ms, mail_id, attempt) == 1

    async def prune_mail(self, before_ms: int) -> int:
        return await self._db.execute(PRUNE, before_ms)

    async def retry_mail(self, mail_id: str, attempt: int, due_ms: int, error: str) -> bool:
        return await self._db.execute(RETRY, due_ms, error, mail_id, attempt) == 1

    async def fail_mail(self, mail_id: str, attempt: int, error: str) -> bool:
        return await self._db.execute(FAIL, error, mail_id, attempt) == 1

    async def outbox_mail(self, mail_id: str) -> OutboxMail | None:
        row = await self._db.fetch_one(READ, mail_id)
        return mail_from_row(row) if row is not None else None

    async def outbox_mail_by_key(self, dedupe_key: str) -> OutboxMail | None:
        row = await self._db.fetch_one(BY_KEY, dedupe_key)
        return mail_from_row(row) if row is not None else None

    async def next_mail_due_ms(self) -> int | None:
        row = await self._db.fetch_one(NEXT_DUE)
        return int(row[0]) if row is not None and row[0] is not None else None

    async def mail_counts(self) -> dict[str, int]:
        counts = {"queued": 0, "sent": 0, "failed": 0}
        for status, count in await self._db.fetch(COUNTS):
            counts[str(status)] = int(count)
        return counts

    # -- preferences ----------------------------------------------------------------------------

    async def mail_preferences(self, user_id: int) -> MailPreferences:
        row = await self._db.fetch_one(PREFS, user_id)
        rooms = await self._db.fetch(DIGEST_ROOMS, user_id) if row is not None else []
        return prefs_from_rows(row, rooms)

    async def set_mail_preferences(self, user_id: int, prefs: MailPreferences, now_ms: int) -> None:
        switches = {kind: bool(prefs.switches.get(kind, True)) for kind in MAIL_SWITCH_KINDS}
        async with self._db.transaction() as conn:
            await conn.execute(UPSERT_PREFS, user_id, data_text(switches), prefs.digest,
                               prefs.language, now_ms)
            await conn.execute(CLEAR_ROOMS, user_id)
            await conn.execute_many(ADD_ROOM, [(user_id, room) for room in prefs.digest_rooms])

    async def turn_mail_off(self, user_id: int, kind: str, now_ms: int) -> bool:
        """One kind off (the digest: frequency off), the rest kept; False when it already was
        or the member no longer exists."""
        async with self._db.transaction() as conn:
            if await conn.fetch_one(USER_EXISTS, user_id) is None:
                return False
            row = await conn.fetch_one(PREFS + conn.dialect.row_lock, user_id)
            rooms = await conn.fetch(DIGEST_ROOMS, user_id) if row is not None else []
            prefs = prefs_from_rows(row, rooms)
            if not prefs.wants(kind):
                return False
            switches = {k: (False if k == kind else v) for k, v in prefs.switches.items()}
            digest = "off" if kind == "digest" else prefs.digest
            await conn.execute(UPSERT_PREFS, user_id, data_text(switches), digest, prefs.language, now_ms)
        return True
