"""Several nodes starting together against one fresh database apply each migration exactly once
(PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE), and the rooms are seeded once."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import Counter
from pathlib import Path

import asyncpg

from chat.store import migrations
from chat.store.catalog import SEED_ROOMS
from chat.store.postgres import PostgresStore
from chat.store.sqlite import SqliteStore
from tests.support.timing import timeout

NODES = 5


def versions(dialect: str) -> list[str]:
    return [version for version, _ in migrations.load(dialect)]


def assert_applied_once(results: list[list[str]], dialect: str) -> None:
    applied = Counter(version for result in results for version in result)
    assert applied == Counter(versions(dialect)), results  # each version by exactly one node
    assert versions(dialect), "no migration files were found"


async def test_concurrent_postgres_migrations_apply_each_version_once(empty_pg_database):
    async with contextlib.AsyncExitStack() as stack:
        stores = [await stack.enter_async_context(PostgresStore.open(empty_pg_database, min_size=1, max_size=2))
                  for _ in range(NODES)]
        results = await asyncio.wait_for(asyncio.gather(*(s.migrate() for s in stores)), timeout(30))
        assert_applied_once(results, "postgres")
        again = await asyncio.gather(*(s.migrate() for s in stores))
        assert again == [[]] * NODES
    conn = await asyncpg.connect(empty_pg_database)
    try:
        rows = await conn.fetch("SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version")
        assert [(r[0], r[1]) for r in rows] == [(v, 1) for v in versions("postgres")]
        rooms = await conn.fetch("SELECT room_id FROM rooms ORDER BY room_id")
        assert [r[0] for r in rooms] == sorted(room.room_id for room in SEED_ROOMS)
        # and nobody is left holding the migration lock (in this database)
        held = await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
        assert held == 0
    finally:
        await conn.close()


async def test_concurrent_sqlite_migrations_apply_each_version_once(tmp_path: Path):
    path = tmp_path / "ecolink.db"
    async with contextlib.AsyncExitStack() as stack:
        # Opened one after the other: on a fresh file, two opens racing each other can fail
        # in PRAGMA journal_mode=WAL ("database is locked"; it ignores busy_timeout).
        stores = [await stack.enter_async_context(SqliteStore.open(path)) for _ in range(2)]
        results = await asyncio.wait_for(asyncio.gather(*(s.migrate() for s in stores)), timeout(30))
        assert_applied_once(results, "sqlite")
        assert await asyncio.gather(*(s.migrate() for s in stores)) == [[], []]
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version")
        assert rows.fetchall() == [(v, 1) for v in versions("sqlite")]
        assert db.execute("SELECT count(*) FROM rooms").fetchone() == (len(SEED_ROOMS),)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_sqlite_migrate_while_a_node_holds_the_file_open(tmp_path: Path):
    """`ecolink migrate` against the data dir of a running embedded node waits for the
    writer lock instead of failing, and finds nothing to do."""
    path = tmp_path / "ecolink.db"
    async with SqliteStore.open(path) as running:
        assert await running.migrate() == versions("sqlite")
        async with SqliteStore.open(path) as second:
            assert await second.migrate() == []


async def test_postgres_seeding_while_commits_lock_rooms_does_not_deadlock(pg_dsn: str):
    """A node starting while others serve runs migrate() against live traffic. The seeding of
    the rooms used to lock every existing seed room in catalog order in one transaction, even
    unchanged; a commit locking two of those rooms in the other order deadlocked with it and
    PostgreSQL aborted one of them (the starting node exited). Here a transaction holds the
    last seed room (as a commit holds its room's head) while migrate() runs, then takes the
    first: both finish, nothing is refused."""
    first, last = SEED_ROOMS[0].room_id, SEED_ROOMS[-1].room_id
    holder = await asyncpg.connect(pg_dsn)
    try:
        async with PostgresStore.open(pg_dsn, min_size=1, max_size=1) as store:
            async with holder.transaction():
                await holder.execute("SELECT 1 FROM rooms WHERE room_id = $1 FOR UPDATE", last)
                migrating = asyncio.create_task(store.migrate())
                await asyncio.sleep(0.3)  # migrate() is at (or past) the last room by now
                await asyncio.wait_for(
                    holder.execute("SELECT 1 FROM rooms WHERE room_id = $1 FOR UPDATE", first),
                    timeout(10))
            assert await asyncio.wait_for(migrating, timeout(10)) == []
    finally:
        await holder.close()
