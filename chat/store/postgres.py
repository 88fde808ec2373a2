"""PostgresStore: history and accounts in PostgreSQL through an asyncpg pool.

Dialect differences from SQLite are listed in docs/decisions.md ("Where the stores differ").
Functions ending in _txn run inside a transaction their caller opened.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import asyncpg

from chat.errors import EmailTaken, Unavailable
from chat.models import Message, Role, Room, SendOutcome, SendRequest, User
from chat.store import migrations
from chat.store.batch import group_by_room, plan_room
from chat.store.catalog import SEED_ROOMS

# Any 64-bit constant works; it only has to be the same on every node (pg_advisory_lock docs).
MIGRATION_LOCK_KEY = 0x6563_6F6C_696E_6B00

MESSAGE_COLUMNS = (
    "m.room_id, m.seq, m.message_id, m.author_id, u.display_name, m.cid, m.body, m.sent_at_ms"
)
USER_COLUMNS = "user_id, email, display_name, role, created_at_ms"

# InternalClientError: a pooled connection that has read the server's FATAL shutdown notice but
# not yet its EOF refuses the next query with "cannot switch to state …; another operation (2)
# is in progress" — the database is going away, so callers must see Unavailable and retry.
_DRIVER_DOWN = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
                asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError,
                asyncpg.InternalClientError)


@contextlib.contextmanager
def _unavailable_on_disconnect() -> Iterator[None]:
    try:
        yield
    except _DRIVER_DOWN as exc:
        raise Unavailable("the database is unreachable; retry") from exc


def _message(row: asyncpg.Record) -> Message:
    return Message(*row)


def _user(row: asyncpg.Record) -> User:
    return User(row[0], row[1], row[2], row[3], row[4])


class PostgresStore:
    dialect = "postgres"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, dsn: str, *, min_size: int = 2, max_size: int = 10) -> AsyncIterator[PostgresStore]:
        # synchronous_commit=on: an ack means the commit is flushed to the WAL (invariant 1),
        # whatever the server's default is.
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            server_settings={"synchronous_commit": "on", "application_name": "ecolink"},
        )
        try:
            yield cls(pool)
        finally:
            await pool.close()

    async def close(self) -> None:
        await self._pool.close()

    async def ping(self) -> None:
        with _unavailable_on_disconnect():
            await self._pool.fetchval("SELECT 1", timeout=2)

    # -- migrations ------------------------------------------------------------------------

    async def migrate(self) -> list[str]:
        applied: list[str] = []
        async with self._pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            try:
                await conn.execute(migrations.SCHEMA_TABLE_SQL)
                done = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
                for version, sql in migrations.load(self.dialect):
                    if version in done:
                        continue
                    async with conn.transaction():
                        await conn.execute(sql)
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, applied_at_ms)"
                            " VALUES ($1, (extract(epoch from now()) * 1000)::bigint)",
                            version,
                        )
                    applied.append(version)
                await conn.executemany(
                    "INSERT INTO rooms (room_id, kind, title_en, title_zh) VALUES ($1, $2, $3, $4)"
                    " ON CONFLICT (room_id) DO NOTHING",
                    [(r.room_id, r.kind, r.title_en, r.title_zh) for r in SEED_ROOMS],
                )
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        return applied

    # -- rooms and history -----------------------------------------------------------------

    async def list_rooms(self, kinds: tuple[str, ...]) -> list[Room]:
        with _unavailable_on_disconnect():
            rows = await self._pool.fetch(
                "SELECT room_id, kind, title_en, title_zh, head_seq FROM rooms"
                " WHERE kind = ANY($1::text[]) ORDER BY kind DESC, room_id",
                list(kinds),
            )
        return [Room(*row) for row in rows]

    async def get_room(self, room_id: str) -> Room | None:
        with _unavailable_on_disconnect():
            row = await self._pool.fetchrow(
                "SELECT room_id, kind, title_en, title_zh, head_seq FROM rooms WHERE room_id = $1",
                room_id,
            )
        return Room(*row) if row else None

    async def room_heads(self, room_ids: list[str]) -> dict[str, int]:
        with _unavailable_on_disconnect():
            rows = await self._pool.fetch(
                "SELECT room_id, head_seq FROM rooms WHERE room_id = ANY($1::text[])", room_ids
            )
        return {row[0]: row[1] for row in rows}

    async def append_batch(self, sends: list[SendRequest], now_ms: int) -> list[SendOutcome]:
        outcomes: list[SendOutcome | None] = [None] * len(sends)
        with _unavailable_on_disconnect():
            async with self._pool.acquire() as conn, conn.transaction():
                for room_id, indexed in group_by_room(sends).items():
                    for index, outcome in (await self._append_room_txn(conn, room_id, indexed, now_ms)).items():
                        outcomes[index] = outcome
        return outcomes  # type: ignore[return-value]

    async def _append_room_txn(
        self,
        conn: asyncpg.Connection,
        room_id: str,
        indexed: list[tuple[int, SendRequest]],
        now_ms: int,
    ) -> dict[int, SendOutcome]:
        head = await conn.fetchval(
            "SELECT head_seq FROM rooms WHERE room_id = $1 FOR UPDATE", room_id
        )
        if head is None:
            return {index: SendOutcome(None, created=False) for index, _ in indexed}
        rows = await conn.fetch(
            f"SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.user_id = m.author_id"
            " JOIN unnest($2::bigint[], $3::text[]) AS k(author_id, cid)"
            " ON m.author_id = k.author_id AND m.cid = k.cid"
            " WHERE m.room_id = $1",
            room_id,
            [send.author_id for _, send in indexed],
            [send.cid for _, send in indexed],
        )
        existing = {(row[3], row[5]): _message(row) for row in rows}
        plan = plan_room(indexed, existing, head, now_ms)
        if plan.new_messages:
            new = plan.new_messages
            await conn.execute(
                "INSERT INTO messages (room_id, seq, message_id, author_id, cid, body, sent_at_ms)"
                " SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[],"
                " $6::text[], $7::bigint[])",
                room_id,
                [m.seq for m in new],
                [m.message_id for m in new],
                [m.author_id for m in new],
                [m.cid for m in new],
                [m.body for m in new],
                [m.sent_at_ms for m in new],
            )
            await conn.execute(
                "UPDATE rooms SET head_seq = $2 WHERE room_id = $1", room_id, plan.head_seq
            )
        return plan.outcomes

    async def messages_after(self, room_id: str, after_seq: int, limit: int) -> list[Message]:
        with _unavailable_on_disconnect():
            rows = await self._pool.fetch(
                f"SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.user_id = m.author_id"
                " WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3",
                room_id, after_seq, limit,
            )
        return [_message(row) for row in rows]

    async def messages_before(self, room_id: str, before_seq: int, limit: int) -> list[Message]:
        with _unavailable_on_disconnect():
            rows = await self._pool.fetch(
                f"SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.user_id = m.author_id"
                " WHERE m.room_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3",
                room_id, before_seq, limit,
            )
        return [_message(row) for row in reversed(rows)]

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

    async def delete_session(self, token_hash: bytes) -> None:
        with _unavailable_on_disconnect():
            await self._pool.execute("DELETE FROM sessions WHERE token_hash = $1", token_hash)

    async def record_login_failure(self, key: str, now_ms: int) -> None:
        with _unavailable_on_disconnect():
            await self._pool.execute(
                "INSERT INTO login_failures (key, at_ms) VALUES ($1, $2)", key, now_ms
            )

    async def count_login_failures(self, key: str, since_ms: int) -> int:
        with _unavailable_on_disconnect():
            # Old rows are pruned on the way: the table only ever holds one window.
            await self._pool.execute("DELETE FROM login_failures WHERE at_ms < $1", since_ms)
            return await self._pool.fetchval(
                "SELECT count(*) FROM login_failures WHERE key = $1 AND at_ms >= $2", key, since_ms
            )

    async def clear_login_failures(self, key: str) -> None:
        with _unavailable_on_disconnect():
            await self._pool.execute("DELETE FROM login_failures WHERE key = $1", key)
