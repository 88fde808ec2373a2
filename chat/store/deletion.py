"""Deleting an account (migration 0027; docs/protocol.md, "Deleting an account"): the user's
row stays, blanked, so that what they wrote and kept can still point at "deleted member"; every
personal row goes. One implementation for both stores over the database handle
(tests/contract/test_deletion_store.py)."""

from __future__ import annotations

from chat.errors import Conflict
from chat.store.database import Database

# The member's own rows that go with the account. Sessions go first (their hashes are returned
# so the node closes their sockets); blocks go both ways (the account no longer exists to block
# or be blocked).
PERSONAL_ROWS = (
    "DELETE FROM user_tags WHERE user_id = ?",
    "DELETE FROM blocks WHERE blocker_id = ? OR blocked_id = ?",
    "DELETE FROM room_settings WHERE user_id = ?",
    "DELETE FROM read_state WHERE user_id = ?",
    "DELETE FROM notifications WHERE user_id = ?",
    "DELETE FROM webinar_registrations WHERE user_id = ?",
    "DELETE FROM webinar_people WHERE user_id = ?",
    "DELETE FROM project_followers WHERE user_id = ?",
    "DELETE FROM recovery_codes WHERE user_id = ?",
    "DELETE FROM two_factor WHERE user_id = ?",
    "DELETE FROM account_tokens WHERE user_id = ?",
    "DELETE FROM mail_preferences WHERE user_id = ?",
    "DELETE FROM mail_digest_rooms WHERE user_id = ?",
    # Mail to them: what is queued is never sent; what was sent held their address.
    "DELETE FROM mail_outbox WHERE user_id = ?",
    "DELETE FROM mail_notice_state WHERE user_id = ?",
    "DELETE FROM spam_texts WHERE user_id = ?",
    "DELETE FROM project_members WHERE user_id = ?",
    # Unfinished uploads expire now: the files sweeper removes them with their stored parts.
    "UPDATE uploads SET expires_at_ms = 0 WHERE owner_id = ? AND file_id IS NULL",
    # Reports they filed stay for the moderators (reason, status); their free-text note goes.
    "UPDATE reports SET note = '' WHERE reporter_id = ?",
)
ADMINS = "SELECT user_id FROM users WHERE role = 'admin' ORDER BY user_id"
BLANK_USER = (
    "UPDATE users SET email = ?, display_name = '', password_hash = ?, role = 'member',"
    " affiliation = 'other', organisation = '', country = '', city = '', time_zone = 'UTC',"
    " time_zone_set = 0, bio = '', alt_name = '', search_key = '', email_verified_at_ms = NULL,"
    " deleted_at_ms = ?"
    " WHERE user_id = ? AND deleted_at_ms IS NULL AND guest_of IS NULL"
)


class DeletionMixin:
    """Mixed into each store after its base."""

    _db: Database

    async def delete_account(self, user_id: int, placeholder: str, password_hash: str,
                             now_ms: int) -> list[bytes] | None:
        """Blank the account and remove its personal rows; the ended sessions' hashes, None when
        it was already gone. Raises Conflict for the last admin (as change_role does)."""
        async with self._db.transaction() as conn:
            admins = await conn.fetch(ADMINS + conn.dialect.row_lock)  # locked: see change_role
            if [row[0] for row in admins] == [user_id]:
                raise Conflict("the last admin cannot delete their account; make another member admin first")
            if await conn.execute(BLANK_USER, placeholder, password_hash, now_ms, user_id) != 1:
                return None
            rows = await conn.fetch("DELETE FROM sessions WHERE user_id = ? RETURNING token_hash",
                                    user_id)
            for statement in PERSONAL_ROWS:
                await conn.execute(statement, *[user_id] * statement.count("?"))
        return [bytes(row[0]) for row in rows]

    async def account_deleted(self, user_id: int) -> bool:
        row = await self._db.fetch_one("SELECT deleted_at_ms FROM users WHERE user_id = ?", user_id)
        return row is not None and row[0] is not None

    async def is_last_admin(self, user_id: int) -> bool:
        return [row[0] for row in await self._db.fetch(ADMINS)] == [user_id]
