"""The database handle every shared store operation is written against: a few typed calls, one
implementation per backend (chat/store/sqlite/database.py, chat/store/postgres/database.py).

SQL goes in with `?` placeholders; the handle prepares it for its driver through its Dialect
(chat/store/dialect.py), maps a lost database to Unavailable and a unique-constraint violation
to UniqueViolation. Functions that take a Connection (and end in _txn) run inside the
transaction their caller opened.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from chat.store.dialect import Dialect, Fragment, Param


class Row(Protocol):
    """One result row, indexed by column position: what sqlite3.Row and asyncpg.Record both
    are (neither is a typing Sequence). Its values' types depend on the statement, so the row
    converters next to each statement give them their types (chat/store/rows.py …)."""

    def __getitem__(self, index: int, /) -> Any: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...


class UniqueViolation(Exception):
    """A write broke a unique constraint. Raised by the handle, so store code never catches a
    driver's exception; the store turns it into the ChatError it means (EmailTaken …)."""


class Connection(Protocol):
    """Statements on one connection, inside a transaction (Database.transaction)."""

    @property
    def dialect(self) -> Dialect: ...

    async def fetch(self, sql: str, *params: Param) -> list[Row]:
        """Every row the statement returns."""
        ...

    async def fetch_one(self, sql: str, *params: Param) -> Row | None:
        """The first row, or None."""
        ...

    async def execute(self, sql: str, *params: Param) -> int:
        """Runs a statement; the number of rows it changed."""
        ...

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Param]]) -> None:
        """Runs the statement once per parameter row (nothing when there is none)."""
        ...


class Database(Connection, Protocol):
    """The store's database. fetch/fetch_one read outside any transaction (SQLite: the reader
    connection, which WAL lets read during a write; PostgreSQL: any pooled connection);
    execute/execute_many outside a transaction commit on their own."""

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """A write transaction: committed when the block ends, rolled back when it raises."""
        ...


def bind(sql: str, *parts: Fragment | Param) -> tuple[str, tuple[Param, ...]]:
    """`sql` with each `{}` replaced by the next Fragment's SQL, and the parameters of the
    whole statement in placeholder order: a plain value binds one `?` of `sql`, a Fragment its
    own. Keeps the values next to the placeholders they fill, however fragments are mixed in."""
    fragments = [part.sql for part in parts if isinstance(part, Fragment)]
    params: list[Param] = []
    for part in parts:
        if isinstance(part, Fragment):
            params.extend(part.params)
        else:
            params.append(part)
    return sql.format(*fragments), tuple(params)
