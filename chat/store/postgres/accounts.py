"""PostgresStore: users and sessions (attempt counters: chat/store/attempts.py)."""

from __future__ import annotations

import asyncpg

from chat.errors import EmailTaken
from chat.models import Role, User
from chat.store.postgres.base import USER_COLUMNS, PostgresBase, _unavailable_on_disconnect, _user


class AccountsMixin(PostgresBase):
    # -- accounts --------------------------------------------------------------------------

    async def create_user(
        self, email: str, display_name: str, password_hash: str, role: Role, now_ms: int
    ) -> User:
        with _unavailable_on_disconnect():
            try:
                row = await self._pool.fetchrow(
                    "INSERT INTO users (email, display_name, password_hash, role, created_at_ms)"
                    f" VALUES ($1, $2, $3, $4, $5) RETURNING {USER_COLUMNS}",
                    email, display_name, password_hash, role, now_ms,
                )
            except asyncpg.UniqueViolationError as exc:
                raise EmailTaken("an account with this email exists") from exc
        return _user(row)

    async def user_credentials(self, email: str) -> tuple[User, str] | None:
        with _unavailable_on_disconnect():
            row = await self._pool.fetchrow(
                f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1", email
            )
        return (_user(row), row[5]) if row else None

    async def set_role(self, user_id: int, role: Role) -> None:
        with _unavailable_on_disconnect():
            await self._pool.execute("UPDATE users SET role = $2 WHERE user_id = $1", user_id, role)

    async def create_session(self, token_hash: bytes, user_id: int, expires_ms: int) -> None:
        with _unavailable_on_disconnect():
            await self._pool.execute(
                "INSERT INTO sessions (token_hash, user_id, expires_ms) VALUES ($1, $2, $3)",
                token_hash, user_id, expires_ms,
            )

    async def session_user(self, token_hash: bytes, now_ms: int) -> User | None:
        with _unavailable_on_disconnect():
            row = await self._pool.fetchrow(
                "SELECT u.user_id, u.email, u.display_name, u.role, u.created_at_ms"
                " FROM sessions s JOIN users u ON u.user_id = s.user_id"
                " WHERE s.token_hash = $1 AND s.expires_ms > $2",
                token_hash, now_ms,
            )
        return _user(row) if row else None

    async def delete_session(self, token_hash: bytes) -> int | None:
        with _unavailable_on_disconnect():
            return await self._pool.fetchval(
                "DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id", token_hash
            )

    async def live_sessions(self, token_hashes: list[bytes], now_ms: int) -> set[bytes]:
        if not token_hashes:
            return set()
        with _unavailable_on_disconnect():
            rows = await self._pool.fetch(
                "SELECT token_hash FROM sessions WHERE token_hash = ANY($1::bytea[])"
                " AND expires_ms > $2",
                token_hashes, now_ms,
            )
        return {bytes(row[0]) for row in rows}

