"""Users and sessions: one implementation for both stores over the database handle
(chat/store/database.py). The attempt counters behind login and registration limits are
chat/store/attempts.py, written once the same way."""

from __future__ import annotations

from chat.errors import EmailTaken
from chat.models import Role, User
from chat.store.database import Database, Row, UniqueViolation, bind

USER_COLUMNS = "user_id, email, display_name, role, created_at_ms, guest_of"
# Far below SQLite's bound-parameter limit (32766 since 3.32); one array on PostgreSQL anyway.
LIVE_SESSIONS_CHUNK = 500


def user_from_row(row: Row) -> User:
    return User(row[0], row[1], row[2], row[3], row[4], guest_of=row[5])


class UsersMixin:
    """Mixed into each store, whose base supplies `_db` (tests/contract/test_store.py)."""

    _db: Database

    async def create_user(
        self, email: str, display_name: str, password_hash: str, role: Role, now_ms: int
    ) -> User:
        try:
            async with self._db.transaction() as conn:
                row = await conn.fetch_one(
                    "INSERT INTO users (email, display_name, password_hash, role, created_at_ms)"
                    f" VALUES (?, ?, ?, ?, ?) RETURNING {USER_COLUMNS}",
                    email, display_name, password_hash, role, now_ms,
                )
        except UniqueViolation as exc:
            raise EmailTaken("an account with this email exists") from exc
        assert row is not None  # INSERT … RETURNING yields the row it inserted
        return user_from_row(row)

    async def create_guest(
        self, webinar_id: str, placeholder: str, display_name: str, password_hash: str, now_ms: int
    ) -> User:
        try:
            async with self._db.transaction() as conn:
                row = await conn.fetch_one(
                    "INSERT INTO users (email, display_name, password_hash, role, created_at_ms,"
                    f" guest_of) VALUES (?, ?, ?, 'member', ?, ?) RETURNING {USER_COLUMNS}",
                    placeholder, display_name, password_hash, now_ms, webinar_id,
                )
        except UniqueViolation as exc:
            raise EmailTaken("an account with this email exists") from exc
        assert row is not None  # INSERT … RETURNING yields the row it inserted
        return user_from_row(row)

    async def user_by_id(self, user_id: int) -> User | None:
        row = await self._db.fetch_one(f"SELECT {USER_COLUMNS} FROM users WHERE user_id = ?", user_id)
        return user_from_row(row) if row else None

    async def user_credentials(self, email: str) -> tuple[User, str] | None:
        row = await self._db.fetch_one(
            f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = ? AND guest_of IS NULL",
            email)
        return (user_from_row(row), row[6]) if row else None

    async def set_role(self, user_id: int, role: Role) -> None:
        await self._db.execute("UPDATE users SET role = ? WHERE user_id = ?", role, user_id)

    async def create_session(self, token_hash: bytes, user_id: int, expires_ms: int, *,
                             created_ms: int | None = None, user_agent: str | None = None,
                             address: str | None = None) -> None:
        await self._db.execute(
            "INSERT INTO sessions (token_hash, user_id, expires_ms, created_at_ms, last_seen_ms,"
            " user_agent, address) VALUES (?, ?, ?, ?, ?, ?, ?)",
            token_hash, user_id, expires_ms, created_ms, created_ms, user_agent, address)

    async def session_user(self, token_hash: bytes, now_ms: int) -> User | None:
        row = await self._db.fetch_one(
            "SELECT u.user_id, u.email, u.display_name, u.role, u.created_at_ms, u.guest_of"
            " FROM sessions s JOIN users u ON u.user_id = s.user_id"
            " WHERE s.token_hash = ? AND s.expires_ms > ?",
            token_hash, now_ms,
        )
        return user_from_row(row) if row else None

    async def delete_session(self, token_hash: bytes) -> int | None:
        async with self._db.transaction() as conn:
            row = await conn.fetch_one("DELETE FROM sessions WHERE token_hash = ? RETURNING user_id",
                                       token_hash)
        return row[0] if row else None

    async def live_sessions(self, token_hashes: list[bytes], now_ms: int) -> set[bytes]:
        live: set[bytes] = set()
        for start in range(0, len(token_hashes), LIVE_SESSIONS_CHUNK):
            chunk = token_hashes[start:start + LIVE_SESSIONS_CHUNK]
            sql, params = bind("SELECT token_hash FROM sessions WHERE {} AND expires_ms > ?",
                               self._db.dialect.in_list("token_hash", chunk, "bytea"), now_ms)
            live.update(bytes(row[0]) for row in await self._db.fetch(sql, *params))
        return live
