"""SqliteStore's base: opening the file, the database handle, migrations.

The embedded default: one SQLite file in WAL mode through aiosqlite.

Single node only: the in-process broker cannot tell other processes about new messages, and
SQLite serialises writers anyway. The connections and transactions are the handle's
(chat/store/sqlite/database.py); shared store operations use it as `self._db`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from importlib.resources.abc import Traversable
from typing import Self

import aiosqlite

from chat.store import migrations
from chat.store.catalog import SEED_ROOMS
from chat.store.database import Database
from chat.store.sqlite.database import SqliteDatabase
from chat.store.sqlite.database import unavailable_on_error as _unavailable_on_error

# synchronous=FULL: in WAL mode NORMAL may lose the last commits on power loss, and an ack
# must mean durable (invariant 1; https://www.sqlite.org/pragma.html#pragma_synchronous).
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


class SqliteBase:
    dialect = "sqlite"

    def __init__(self, db: SqliteDatabase) -> None:
        self._db: Database = db
        self._sqlite_db = db
        # The driver's connections, for what only the base does: migrations, ping, close.
        self._writer = db.writer
        self._reader = db.reader

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
            db = SqliteDatabase(writer, reader)
            await db.register_functions()
            yield cls(db)
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
        async with self._sqlite_db.write_transaction() as conn:
            yield conn

    # -- migrations ------------------------------------------------------------------------

    async def migrate(self, source: Traversable | None = None) -> list[str]:
        """`source`: where the migration folders are (default: chat/store/migrations)."""
        applied: list[str] = []
        async with self._transaction() as conn:
            await conn.execute(migrations.SCHEMA_TABLE_SQL)
            done = {r[0] for r in await conn.execute_fetchall("SELECT version FROM schema_migrations")}
            for version, sql in migrations.load(self.dialect, source):
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
                "INSERT INTO rooms (room_id, kind, title_en, title_zh, description_en, description_zh)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (room_id) DO UPDATE"
                " SET description_en = excluded.description_en, description_zh = excluded.description_zh"
                " WHERE rooms.description_en <> excluded.description_en"
                " OR rooms.description_zh <> excluded.description_zh",  # written once, not on every start
                [(r.room_id, r.kind, r.title_en, r.title_zh, r.description_en, r.description_zh)
                 for r in SEED_ROOMS],
            )
        return applied


def _statements(sql: str) -> list[str]:
    """Split a migration file into statements (our files have no ';' inside literals). A
    CREATE TRIGGER's body holds statements of its own: it runs on to its END."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    statements: list[str] = []
    pending = ""
    for part in "\n".join(lines).split(";"):
        part = (pending + ";" + part if pending else part).strip()
        pending = ""
        if part.upper().startswith("CREATE TRIGGER") and not part.upper().endswith("END"):
            pending = part
        elif part:
            statements.append(part)
    if pending:
        raise ValueError("a CREATE TRIGGER without its END")
    return statements


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
