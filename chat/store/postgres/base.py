"""PostgresStore's base: the pool, the database handle (chat/store/postgres/database.py),
migrations.

Dialect differences from SQLite are held by chat/store/dialect.py. Functions ending in _txn run
inside a transaction their caller opened.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib.resources.abc import Traversable
from typing import Any, Self

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from chat.store import migrations
from chat.store.catalog import SEED_ROOMS
from chat.store.database import Database
from chat.store.postgres.database import PostgresDatabase
from chat.store.postgres.database import unavailable_on_disconnect as _unavailable_on_disconnect

# Any 64-bit constant works; it only has to be the same on every node (pg_advisory_lock docs).
MIGRATION_LOCK_KEY = 0x6563_6F6C_696E_6B00


async def _no_session_state(conn: asyncpg.Connection) -> None:
    """What the pool runs on a connection it takes back: nothing. asyncpg's default runs a
    reset query (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) on every
    release, one more round trip for every statement run on the pool (a webinar vote is one
    statement: it would be two). The store leaves no session state on a pooled connection: no
    SET, LISTEN, cursor or advisory lock (but the migrations' lock, released in their
    `finally`); an open transaction is still rolled back by asyncpg before this is called
    (docs/decisions.md, "Webinar votes")."""


# Every pool of the store's (create_pool's keywords). synchronous_commit=on: an ack means the
# commit is flushed to the WAL (invariant 1), whatever the server's default is. jit=off: a
# search over a million entries has a plan cost above jit_above_cost, and compiling it took
# 60 ms of a 100 ms search (docs/benchmarks.md, "Search"); no query of ours runs long enough to
# win it back.
POOL_OPTIONS: dict[str, Any] = {
    "server_settings": {"synchronous_commit": "on", "jit": "off", "application_name": "ecolink"},
    "reset": _no_session_state,
}


class PostgresBase:
    dialect = "postgres"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._db: Database = PostgresDatabase(pool)
        # The driver's pool, for what only the base does: migrations under an advisory lock,
        # ping, close.
        self._pool = pool

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, dsn: str, *, min_size: int = 2, max_size: int = 10) -> AsyncIterator[Self]:
        pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, **POOL_OPTIONS)
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

    async def migrate(self, source: Traversable | None = None) -> list[str]:
        """`source`: where the migration folders are (default: chat/store/migrations)."""
        applied: list[str] = []
        async with self._pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            try:
                await conn.execute(migrations.SCHEMA_TABLE_SQL)
                done = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
                for version, sql in migrations.load(self.dialect, source):
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
                await _seed_rooms(conn)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        return applied


async def _seed_rooms(conn: asyncpg.Connection | PoolConnectionProxy) -> None:
    """Insert the seed rooms that are missing and correct changed descriptions, one room per
    statement, outside any transaction. A node starting while others serve must never hold a
    lock on one room while it waits for another: the group commit locks the rooms of its batch
    (their heads), and an `ON CONFLICT DO UPDATE` over every seed room in one (atomic)
    executemany locked each existing row in catalog order, even unchanged — a node started
    during a rolling restart deadlocked with the live commits and exited (docs/reliability.md,
    case 4). `DO NOTHING` takes no row lock, and an UPDATE locks only a row whose description
    differs."""
    for r in SEED_ROOMS:
        await conn.execute(
            "INSERT INTO rooms (room_id, kind, title_en, title_zh, description_en, description_zh)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (room_id) DO NOTHING",
            r.room_id, r.kind, r.title_en, r.title_zh, r.description_en, r.description_zh)
        await conn.execute(  # written once per change, not on every start
            "UPDATE rooms SET description_en = $2, description_zh = $3 WHERE room_id = $1"
            " AND (description_en <> $2 OR description_zh <> $3)",
            r.room_id, r.description_en, r.description_zh)
