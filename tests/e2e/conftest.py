"""Fixtures for the e2e tests: a private PostgreSQL server a test may kill or restart without
disturbing the shared one (tests/support/services.py), production nodes on the private Redis of
tests/conftest.py, and an empty database for the migration tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from chat.config import Settings
from tests.support import services
from tests.support.services import ThrowawayPostgres, ThrowawayRedis


@pytest.fixture
async def empty_pg_database(pg_admin: str) -> AsyncIterator[str]:
    """A database with no schema at all (the shared template is already migrated)."""
    name = f"ecolink_empty_{uuid.uuid4().hex[:10]}"
    dsn = await services.create_database(pg_admin, name)
    try:
        yield dsn
    finally:
        await services.drop_database(pg_admin, name)


@pytest.fixture
def private_postgres() -> Iterator[ThrowawayPostgres]:
    server = ThrowawayPostgres().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
async def production_private_redis(
    make_settings: Callable[..., Settings], pg_dsn: str, private_redis: ThrowawayRedis,
    redis_prefix: str,
) -> AsyncIterator[Callable[..., Settings]]:
    """Settings maker for production nodes sharing one fresh database and a private Redis."""

    def make(**overrides: object) -> Settings:
        return make_settings(database_url=pg_dsn, redis_url=private_redis.url,
                             redis_prefix=redis_prefix, **overrides)

    yield make
