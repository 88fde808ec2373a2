"""Account recovery (migration 0026): mailed single-use tokens, the verified mark, password and
email changes, and the session list's details. One implementation for both stores over the
database handle (tests/contract/test_recovery_store.py)."""

from __future__ import annotations

from chat.errors import EmailTaken
from chat.models import SessionInfo, TokenPurpose, UsedToken
from chat.store.database import Connection, Database, UniqueViolation

TAKE = ("UPDATE account_tokens SET used_ms = ? WHERE token_hash = ? AND purpose = ?"
        " AND used_ms IS NULL AND expires_ms > ? RETURNING user_id, email")


async def _take(conn: Connection, token_hash: str, purpose: TokenPurpose, now_ms: int) -> UsedToken | None:
    row = await conn.fetch_one(TAKE, now_ms, token_hash, purpose, now_ms)
    return UsedToken(row[0], row[1]) if row else None


class RecoveryMixin:
    """Mixed into each store after its base."""

    _db: Database

    async def create_account_token(self, token_hash: str, purpose: TokenPurpose, user_id: int,
                                   email: str, now_ms: int, expires_ms: int) -> None:
        async with self._db.transaction() as conn:
            # A new link replaces the member's earlier unused ones of the same purpose.
            await conn.execute("DELETE FROM account_tokens WHERE user_id = ? AND purpose = ?"
                               " AND used_ms IS NULL", user_id, purpose)
            await conn.execute(
                "INSERT INTO account_tokens (token_hash, purpose, user_id, email, created_ms,"
                " expires_ms) VALUES (?, ?, ?, ?, ?, ?)",
                token_hash, purpose, user_id, email, now_ms, expires_ms)

    async def live_token_user(self, token_hash: str, purpose: TokenPurpose, now_ms: int) -> int | None:
        row = await self._db.fetch_one(
            "SELECT user_id FROM account_tokens WHERE token_hash = ? AND purpose = ?"
            " AND used_ms IS NULL AND expires_ms > ?", token_hash, purpose, now_ms)
        return row[0] if row else None

    async def verify_email(self, token_hash: str, now_ms: int) -> int | None:
        async with self._db.transaction() as conn:
            token = await _take(conn, token_hash, "verify", now_ms)
            if token is None:
                return None
            changed = await conn.execute(
                "UPDATE users SET email_verified_at_ms = COALESCE(email_verified_at_ms, ?)"
                " WHERE user_id = ? AND email = ?", now_ms, token.user_id, token.email)
            return token.user_id if changed else None

    async def reset_password(self, token_hash: str, password_hash: str, now_ms: int) -> int | None:
        async with self._db.transaction() as conn:
            token = await _take(conn, token_hash, "reset", now_ms)
            if token is None:
                return None
            # The link reached the member's mailbox: that proves the address too.
            changed = await conn.execute(
                "UPDATE users SET password_hash = ?,"
                " email_verified_at_ms = COALESCE(email_verified_at_ms, ?)"
                " WHERE user_id = ? AND email = ?", password_hash, now_ms, token.user_id, token.email)
            return token.user_id if changed else None

    async def change_email(self, token_hash: str, now_ms: int) -> tuple[int, str] | None:
        try:
            async with self._db.transaction() as conn:
                token = await _take(conn, token_hash, "email_change", now_ms)
                if token is None:
                    return None
                row = await conn.fetch_one("SELECT email FROM users WHERE user_id = ?", token.user_id)
                if row is None:
                    return None
                await conn.execute(
                    "UPDATE users SET email = ?, email_verified_at_ms = ? WHERE user_id = ?",
                    token.email, now_ms, token.user_id)
                return token.user_id, row[0]
        except UniqueViolation as exc:
            raise EmailTaken("an account with this email exists") from exc

    async def email_verified_at(self, user_id: int) -> int | None:
        row = await self._db.fetch_one("SELECT email_verified_at_ms FROM users WHERE user_id = ?", user_id)
        return row[0] if row else None

    async def set_email_verified(self, user_id: int, now_ms: int) -> None:
        await self._db.execute("UPDATE users SET email_verified_at_ms = COALESCE(email_verified_at_ms, ?)"
                               " WHERE user_id = ?", now_ms, user_id)

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self._db.execute("UPDATE users SET password_hash = ? WHERE user_id = ?",
                               password_hash, user_id)

    async def touch_session(self, token_hash: bytes, now_ms: int) -> None:
        await self._db.execute("UPDATE sessions SET last_seen_ms = ? WHERE token_hash = ?",
                               now_ms, token_hash)

    async def user_sessions(self, user_id: int, now_ms: int) -> list[SessionInfo]:
        rows = await self._db.fetch(
            "SELECT token_hash, created_at_ms, last_seen_ms, user_agent, address, expires_ms"
            " FROM sessions WHERE user_id = ? AND expires_ms > ?"
            " ORDER BY COALESCE(last_seen_ms, created_at_ms, 0) DESC, token_hash", user_id, now_ms)
        return [SessionInfo(bytes(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]
