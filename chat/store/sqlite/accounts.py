"""SqliteStore: users and sessions (attempt counters: chat/store/attempts.py)."""

from __future__ import annotations

import sqlite3

from chat.errors import EmailTaken
from chat.models import Role, User
from chat.store.sqlite.base import USER_COLUMNS, SqliteBase, _unavailable_on_error

LIVE_SESSIONS_CHUNK = 500


class AccountsMixin(SqliteBase):
    # -- accounts --------------------------------------------------------------------------

    async def create_user(
        self, email: str, display_name: str, password_hash: str, role: Role, now_ms: int
    ) -> User:
        try:
            async with self._transaction() as conn:
                cursor = await conn.execute(
                    "INSERT INTO users (email, display_name, password_hash, role, created_at_ms)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (email, display_name, password_hash, role, now_ms),
                )
                user_id = cursor.lastrowid
        except sqlite3.IntegrityError as exc:
            raise EmailTaken("an account with this email exists") from exc
        return User(user_id, email, display_name, role, now_ms)

    async def user_credentials(self, email: str) -> tuple[User, str] | None:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = ?", (email,)
            )
        return (User(*rows[0][:5]), rows[0][5]) if rows else None

    async def set_role(self, user_id: int, role: Role) -> None:
        async with self._transaction() as conn:
            await conn.execute("UPDATE users SET role = ? WHERE user_id = ?", (role, user_id))

    async def create_session(self, token_hash: bytes, user_id: int, expires_ms: int) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO sessions (token_hash, user_id, expires_ms) VALUES (?, ?, ?)",
                (token_hash, user_id, expires_ms),
            )

    async def session_user(self, token_hash: bytes, now_ms: int) -> User | None:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                "SELECT u.user_id, u.email, u.display_name, u.role, u.created_at_ms"
                " FROM sessions s JOIN users u ON u.user_id = s.user_id"
                " WHERE s.token_hash = ? AND s.expires_ms > ?",
                (token_hash, now_ms),
            )
        return User(*rows[0]) if rows else None

    async def delete_session(self, token_hash: bytes) -> int | None:
        async with self._transaction() as conn:
            rows = await conn.execute_fetchall(
                "DELETE FROM sessions WHERE token_hash = ? RETURNING user_id", (token_hash,)
            )
        return rows[0][0] if rows else None

    async def live_sessions(self, token_hashes: list[bytes], now_ms: int) -> set[bytes]:
        live: set[bytes] = set()
        # In chunks well under SQLite's bound-parameter limit (32766 since 3.32).
        for start in range(0, len(token_hashes), LIVE_SESSIONS_CHUNK):
            chunk = token_hashes[start:start + LIVE_SESSIONS_CHUNK]
            marks = ", ".join("?" * len(chunk))
            with _unavailable_on_error():
                rows = await self._reader.execute_fetchall(
                    f"SELECT token_hash FROM sessions WHERE token_hash IN ({marks})"
                    " AND expires_ms > ?",
                    (*chunk, now_ms),
                )
            live.update(bytes(row[0]) for row in rows)
        return live

