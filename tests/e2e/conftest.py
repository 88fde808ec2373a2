"""Fixtures for fault tests: a private PostgreSQL server a test may kill or restart without
disturbing the shared one (tests/support/services.py), and production nodes on the private
Redis of tests/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from chat.config import Settings
from tests.support.services import ThrowawayPostgres, ThrowawayRedis


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
