"""Open the store the settings name: PostgreSQL when a database URL is set, else SQLite; with
the settings the store itself reads (search_indexing)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from chat.config import Settings
from chat.store.port import Store


@contextlib.asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    if settings.database_url:
        from chat.store.postgres import PostgresStore

        async with PostgresStore.open(
            settings.database_url, min_size=settings.pg_pool_min, max_size=settings.pg_pool_max
        ) as store:
            store.search_indexing = settings.search_indexing
            yield store
    else:
        from chat.store.sqlite import SqliteStore

        async with SqliteStore.open(settings.sqlite_path) as store:
            store.search_indexing = settings.search_indexing
            yield store
