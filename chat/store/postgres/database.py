"""PostgresDatabase: the Database handle (chat/store/database.py) on an asyncpg pool.

Reads outside a transaction take any pooled connection; a transaction holds one connection
from BEGIN to COMMIT. Placeholders are numbered by the dialect (`?` -> $n).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from chat.errors import Unavailable
from chat.store.database import Connection, Row, UniqueViolation
from chat.store.dialect import POSTGRES, Dialect, Param

# InternalClientError: a pooled connection that has read the server's FATAL shutdown notice but
# not yet its EOF refuses the next query with "cannot switch to state …; another operation (2)
# is in progress" — the database is going away, so callers must see Unavailable and retry.
DRIVER_DOWN = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
               asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError,
               asyncpg.InternalClientError)


@contextlib.contextmanager
def unavailable_on_disconnect() -> Iterator[None]:
    try:
        yield
    except DRIVER_DOWN as exc:
        raise Unavailable("the database is unreachable; retry") from exc


@contextlib.contextmanager
def _mapped_errors() -> Iterator[None]:
    """The handle's errors: Unavailable, and UniqueViolation for a unique constraint."""
    try:
        with unavailable_on_disconnect():
            yield
    except asyncpg.PostgresError as exc:
        if POSTGRES.is_unique_violation(exc):
            raise UniqueViolation("a unique constraint was violated") from exc
        raise


def _changed(status: str) -> int:
    """Rows changed, from a command tag ("UPDATE 3", "INSERT 0 1"; none for "SELECT 1"…)."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() and status.split(" ", 1)[0] in _COUNTED else 0


_COUNTED = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "COPY"})


class _Statements:
    """fetch/execute over something asyncpg can run statements on (a pool or a connection)."""

    dialect: Dialect = POSTGRES

    def __init__(self, runner: asyncpg.Pool | PoolConnectionProxy) -> None:
        self._runner = runner

    async def fetch(self, sql: str, *params: Param) -> list[Row]:
        with _mapped_errors():
            records = await self._runner.fetch(POSTGRES.prepare(sql), *params)
        return list(records)  # list is invariant: a list[Record] is a list[Row] only as a copy

    async def fetch_one(self, sql: str, *params: Param) -> Row | None:
        with _mapped_errors():
            return await self._runner.fetchrow(POSTGRES.prepare(sql), *params)

    async def execute(self, sql: str, *params: Param) -> int:
        with _mapped_errors():
            return _changed(await self._runner.execute(POSTGRES.prepare(sql), *params))

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Param]]) -> None:
        if rows:
            with _mapped_errors():
                await self._runner.executemany(POSTGRES.prepare(sql), rows)


class PostgresConnection(_Statements):
    """Statements on the connection of a transaction PostgresDatabase.transaction opened."""


class PostgresDatabase(_Statements):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self.pool = pool

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        with unavailable_on_disconnect():
            async with self.pool.acquire() as conn, conn.transaction():
                yield PostgresConnection(conn)
