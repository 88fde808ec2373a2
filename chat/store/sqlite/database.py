"""SqliteDatabase: the Database handle (chat/store/database.py) on aiosqlite.

One writer connection behind an asyncio lock (a transaction spans awaits, and SQLite
serialises writers anyway) and one reader connection, which WAL lets read during a write.
Every write transaction begins with BEGIN IMMEDIATE, which takes the write lock up front: reads
inside it see final state, and it stands in for PostgreSQL's row locks (Dialect.row_lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence

import aiosqlite

from chat.errors import Unavailable
from chat.store.database import Connection, Row, UniqueViolation
from chat.store.dialect import SQLITE, Dialect, Param, sqlite_fold


@contextlib.contextmanager
def unavailable_on_error() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:  # disk full, locked past busy_timeout, I/O error
        raise Unavailable("the database is not available; retry") from exc


@contextlib.contextmanager
def _mapped_errors() -> Iterator[None]:
    """The handle's errors: Unavailable, and UniqueViolation for a unique constraint."""
    try:
        with unavailable_on_error():
            yield
    except sqlite3.IntegrityError as exc:
        if SQLITE.is_unique_violation(exc):
            raise UniqueViolation("a unique constraint was violated") from exc
        raise


class SqliteConnection:
    """Statements on the writer, inside the transaction SqliteDatabase.transaction opened."""

    dialect: Dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *params: Param) -> list[Row]:
        with _mapped_errors():
            return list(await self._conn.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, *params: Param) -> Row | None:
        rows = await self.fetch(sql, *params)
        return rows[0] if rows else None

    async def execute(self, sql: str, *params: Param) -> int:
        with _mapped_errors():
            cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Param]]) -> None:
        if rows:
            with _mapped_errors():
                await self._conn.executemany(sql, rows)


class SqliteDatabase:
    dialect: Dialect = SQLITE

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.writer = writer
        self.reader = reader
        self._write_lock = asyncio.Lock()
        self._read = SqliteConnection(reader)

    async def register_functions(self) -> None:
        """The functions our SQL calls that SQLite lacks (Dialect.fold_function)."""
        for conn in (self.writer, self.reader):
            await conn.create_function(SQLITE.fold_function, 1, sqlite_fold, deterministic=True)

    @contextlib.asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The driver's connection inside BEGIN IMMEDIATE … COMMIT: for the migrations, which
        run whole script files statement by statement (sqlite/base.py)."""
        async with self._write_lock:
            with unavailable_on_error():
                await self.writer.execute("BEGIN IMMEDIATE")
                try:
                    yield self.writer
                except BaseException:
                    await self.writer.execute("ROLLBACK")
                    raise
                await self.writer.execute("COMMIT")

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.write_transaction() as conn:
            yield SqliteConnection(conn)

    async def fetch(self, sql: str, *params: Param) -> list[Row]:
        return await self._read.fetch(sql, *params)

    async def fetch_one(self, sql: str, *params: Param) -> Row | None:
        return await self._read.fetch_one(sql, *params)

    async def execute(self, sql: str, *params: Param) -> int:
        async with self.transaction() as conn:
            return await conn.execute(sql, *params)

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Param]]) -> None:
        if rows:
            async with self.transaction() as conn:
                await conn.execute_many(sql, rows)
