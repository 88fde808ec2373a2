"""Rows in a store: those the contract tests (tests/contract) put in before the operation under
test, and a node's tables read back whole by the e2e tests."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

import asyncpg

from chat.config import Settings
from chat.models import User

NOW = 1_700_000_000_000  # the tests' fixed "now", in ms since the epoch


async def users(store: Any, *names: str, now: int = NOW) -> list[User]:
    """One member per name, with the email <name>@example.test, created at `now`."""
    return [await store.create_user(f"{n}@example.test", n, "h", "member", now) for n in names]


async def mail_members(store: Any, *names: str, now: int = NOW) -> list[User]:
    """As users(), each address verified: members notification mail may go to."""
    made = await users(store, *names, now=now)
    for user in made:
        await store.set_email_verified(user.user_id, now)
    return made


async def table_rows(settings: Settings, table: str) -> list[dict[str, Any]]:
    """Every row of `table` in the store a node with `settings` uses, read directly (SQL
    outside the node, to see what it really stored)."""
    if settings.database_url:
        conn = await asyncpg.connect(settings.database_url)
        try:
            return [dict(row) for row in await conn.fetch(f"SELECT * FROM {table}")]
        finally:
            await conn.close()
    with contextlib.closing(sqlite3.connect(settings.sqlite_path)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(f"SELECT * FROM {table}")]
