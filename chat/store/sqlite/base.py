"""SqliteStore's base: connections, transactions, error mapping, migrations.

The embedded default: one SQLite file in WAL mode through aiosqlite.

Single node only: the in-process broker cannot tell other processes about new messages, and
SQLite serialises writers anyway. One writer connection (behind an asyncio lock, since a
transaction spans awaits) and one reader connection, which WAL lets read during a write.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from typing import Any, Self
from pathlib import Path

import aiosqlite

from chat.errors import Unavailable
from chat.store import migrations
from chat.store.catalog import SEED_ROOMS

USER_COLUMNS = "user_id, email, display_name, role, created_at_ms"

# synchronous=FULL: in WAL mode NORMAL may lose the last commits on power loss, and an ack
# must mean durable (invariant 1; https://www.sqlite.org/pragma.html#pragma_synchronous).
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


@contextlib.contextmanager
def _unavailable_on_error() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:  # disk full, locked past busy_timeout, I/O error
        raise Unavailable("the database is not available; retry") from exc


class SqliteBase:
    dialect = "sqlite"

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, path: Path) -> AsyncIterator[Self]:
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await aiosqlite.connect(path, isolation_level=None)
        reader = await aiosqlite.connect(path, isolation_level=None)
        try:
            for conn in (writer, reader):
                for pragma in PRAGMAS:
                    await _execute_retrying_lock(conn, pragma)
            yield cls(writer, reader)
        finally:
            await reader.close()
            await writer.close()

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()

    async def ping(self) -> None:
        with _unavailable_on_error():
            await self._reader.execute_fetchall("SELECT 1")

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE takes the write lock up front, so reads inside see final state."""
        async with self._write_lock:
            with _unavailable_on_error():
                await self._writer.execute("BEGIN IMMEDIATE")
                try:
                    yield self._writer
                except BaseException:
                    await self._writer.execute("ROLLBACK")
                    raise
                await self._writer.execute("COMMIT")

    # -- migrations ------------------------------------------------------------------------

    async def migrate(self) -> list[str]:
        applied: list[str] = []
        async with self._transaction() as conn:
            await conn.execute(migrations.SCHEMA_TABLE_SQL)
            done = {r[0] for r in await conn.execute_fetchall("SELECT version FROM schema_migrations")}
            for version, sql in migrations.load(self.dialect):
                if version in done:
                    continue
                # executescript would COMMIT our transaction; run the statements one by one.
                for statement in _statements(sql):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at_ms)"
                    " VALUES (?, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))",
                    (version,),
                )
                applied.append(version)
            await conn.executemany(
                "INSERT INTO rooms (room_id, kind, title_en, title_zh) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (room_id) DO NOTHING",
                [(r.room_id, r.kind, r.title_en, r.title_zh) for r in SEED_ROOMS],
            )
        return applied

    # -- the shared-SQL primitives (chat/store/conversations.py) ----------------------------

    async def _q_fetch(self, sql: str, *params: Any, conn: Any = None) -> list[Any]:
        with _unavailable_on_error():
            return list(await (conn or self._reader).execute_fetchall(sql, params))

    async def _q_execute(self, sql: str, *params: Any, conn: Any = None) -> None:
        if conn is None:
            async with self._transaction() as writer:
                await writer.execute(sql, params)
            return
        await conn.execute(sql, params)

    @contextlib.asynccontextmanager
    async def _q_transaction(self) -> AsyncIterator[Any]:
        async with self._transaction() as conn:
            yield conn

def _statements(sql: str) -> list[str]:
    """Split a migration file into statements (our files have no ';' inside literals)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


async def _execute_retrying_lock(conn: aiosqlite.Connection, sql: str) -> None:
    """Switching a fresh file to WAL takes a lock that busy_timeout does not wait for, so two
    processes opening the same new file at once (a node and `ecolink migrate`) retry briefly."""
    for attempt in range(50):
        try:
            await conn.execute(sql)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 49:
                raise
            await asyncio.sleep(0.02 * (1 + attempt % 5))
