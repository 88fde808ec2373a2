"""PostgresStore's base: the pool, error mapping, row converters, migrations.

Dialect differences from SQLite are listed in docs/decisions.md ("Where the stores differ").
Functions ending in _txn run inside a transaction their caller opened.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Iterator
from typing import Any, Self

import asyncpg

from chat.errors import Unavailable
from chat.models import User
from chat.store import migrations
from chat.store.catalog import SEED_ROOMS
from chat.store.conversation_sql import numbered

# Any 64-bit constant works; it only has to be the same on every node (pg_advisory_lock docs).
MIGRATION_LOCK_KEY = 0x6563_6F6C_696E_6B00

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



def _user(row: asyncpg.Record) -> User:
    return User(row[0], row[1], row[2], row[3], row[4])


class PostgresBase:
    dialect = "postgres"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, dsn: str, *, min_size: int = 2, max_size: int = 10) -> AsyncIterator[Self]:
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

    # -- the shared-SQL primitives (chat/store/conversations.py) ----------------------------

    async def _q_fetch(self, sql: str, *params: Any, conn: Any = None) -> list[Any]:
        with _unavailable_on_disconnect():
            return await (conn or self._pool).fetch(_numbered(sql), *params)

    async def _q_execute(self, sql: str, *params: Any, conn: Any = None) -> None:
        with _unavailable_on_disconnect():
            await (conn or self._pool).execute(_numbered(sql), *params)

    @contextlib.asynccontextmanager
    async def _q_transaction(self) -> AsyncIterator[Any]:
        with _unavailable_on_disconnect():
            async with self._pool.acquire() as conn, conn.transaction():
                yield conn


@functools.lru_cache(maxsize=256)
def _numbered(sql: str) -> str:
    return numbered(sql)
