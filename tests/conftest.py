"""Fixtures: real PostgreSQL and Redis (tests/support/services.py), a private Redis a test may
kill, stores and brokers for the contract tests, and settings for real nodes. Each run works in
its own databases and its own Redis key prefix; each test that stores files in S3, in its own
bucket of a real S3 server (moto's, on loopback); each test that mails, its own SMTP server
(aiosmtpd's, on loopback: the `mailbox` fixture)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from chat.blobs.local import LocalBlobs
from chat.broker.memory import MemoryBroker, MemoryBus
from chat.broker.redis import RedisBroker
from chat.config import Settings
from chat.store.postgres import PostgresStore
from chat.store.sqlite import SqliteStore
from tests.support import services
from tests.support.mailbox import Mailbox
from tests.support.services import S3Endpoint, ThrowawayRedis

RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def pg_admin() -> str:
    return services.postgres_admin_dsn()


@pytest.fixture(scope="session")
def redis_url() -> str:
    return services.redis_url()


@pytest.fixture(scope="session")
async def pg_template(pg_admin: str) -> AsyncIterator[str]:
    """A migrated database that each test's database is copied from (fast CREATE DATABASE)."""
    name = f"ecolink_t{RUN_ID}_tpl"
    dsn = await services.create_database(pg_admin, name)
    async with PostgresStore.open(dsn, min_size=1, max_size=2) as store:
        await store.migrate()
    yield name
    await services.drop_database(pg_admin, name)


_db_counter = iter(range(1, 10**9))


@contextlib.asynccontextmanager
async def fresh_database(pg_admin: str, pg_template: str) -> AsyncIterator[str]:
    name = f"ecolink_t{RUN_ID}_{next(_db_counter)}"
    dsn = await services.create_database(pg_admin, name, template=pg_template)
    try:
        yield dsn
    finally:
        await services.drop_database(pg_admin, name)


@pytest.fixture
async def pg_dsn(pg_admin: str, pg_template: str) -> AsyncIterator[str]:
    async with fresh_database(pg_admin, pg_template) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def s3_endpoint() -> S3Endpoint:
    """The run's S3 server (moto's on loopback, or ECOLINK_TEST_S3_URL) and its keys."""
    return services.s3_endpoint()


_bucket_counter = iter(range(1, 10**9))


@pytest.fixture
def s3_bucket(s3_endpoint: S3Endpoint) -> Iterator[str]:
    """A bucket name of the test's own (not yet created: the S3 backend creates it at start-up),
    dropped with its objects afterwards. Sync, so async fixtures may ask for it by name."""
    name = f"ecolink-t{RUN_ID.replace('_', '-')}-{next(_bucket_counter)}".lower()
    yield name
    services.drop_bucket_blocking(s3_endpoint, name)


@pytest.fixture
def s3_settings(s3_endpoint: S3Endpoint, s3_bucket: str) -> dict[str, object]:
    """Settings overrides that put a node's files in the test's bucket:
    `make_settings(**s3_settings)`."""
    return {
        "s3_url": s3_endpoint.url,
        "s3_bucket": s3_bucket,
        "s3_access_key": s3_endpoint.access_key,
        "s3_secret_key": s3_endpoint.secret_key,
    }


@pytest.fixture(params=["local", "s3"])
async def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[object]:
    """Each blob store backend, empty (contract tests): a local folder, a bucket in S3."""
    if request.param == "local":
        local = LocalBlobs(tmp_path / "files")
        await local.prepare()
        yield local
        return
    from chat.blobs.s3 import S3Blobs  # here: aiobotocore takes a second to import

    endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
    bucket: str = request.getfixturevalue("s3_bucket")
    async with S3Blobs.open(endpoint.url, bucket=bucket, access_key=endpoint.access_key,
                            secret_key=endpoint.secret_key) as s3:
        yield s3


@pytest.fixture
def redis_prefix() -> str:
    return f"ecolink-test:{uuid.uuid4().hex[:10]}:"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server of the test's own on loopback (aiosmtpd, tests/support/mailbox.py),
    started: `make_settings(**mailbox.settings)` sends a node's mail there."""
    box = Mailbox().start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def private_redis() -> Iterator[ThrowawayRedis]:
    """A redis-server of the test's own, which it may kill, pause or restart without
    disturbing the shared one."""
    server = ThrowawayRedis().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, pg_admin: str, pg_template: str
) -> AsyncIterator[object]:
    """Each store backend, migrated and empty (contract tests)."""
    if request.param == "sqlite":
        async with SqliteStore.open(tmp_path / "ecolink.db") as sqlite_store:
            await sqlite_store.migrate()
            yield sqlite_store
    else:
        async with fresh_database(pg_admin, pg_template) as dsn, \
                PostgresStore.open(dsn, min_size=1, max_size=4) as pg_store:
            yield pg_store


@pytest.fixture(params=["memory", "redis"])
async def broker_factory(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], object]]:
    """Makes brokers of one backend that reach each other (two "nodes" in one process)."""
    opened: list[object] = []
    if request.param == "memory":
        bus = MemoryBus()

        async def make() -> object:
            broker = MemoryBroker(bus)
            opened.append(broker)
            return broker

        yield make
    else:
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
        contexts = []

        async def make() -> object:
            context = RedisBroker.open(url, prefix)
            contexts.append(context)
            return await context.__aenter__()

        yield make
        for context in contexts:
            await context.__aexit__(None, None, None)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test node; production=True needs pg_dsn/redis passed in."""

    def make(**overrides: object) -> Settings:
        base: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "argon2_profile": "cheapest",
            "log_level": "warning",
            "unsubscribe_linger_s": 0.2,
            "sweep_interval_s": 1.0,
            # Tests register many accounts from 127.0.0.1; tests/e2e/test_login_limits.py sets it.
            "register_per_address_max": 100_000,
            # Always on, and cheap: tests/support/client.py solves it (~16 hashes).
            "registration_pow_bits": 4,
            # Every test's accounts are new and send alike texts to many rooms: the tests of
            # these limits (tests/e2e/test_abuse_limits.py) turn them on.
            "new_account_hours": 0,
            "spam_max_rooms": 0,
            # One test process starts hundreds of nodes: frozen, each one's objects would stay.
            "gc_freeze": False,
        }
        base.update(overrides)
        return Settings(_env_file=None, **base)

    return make


@pytest.fixture(params=["embedded", "production"])
async def backend(
    request: pytest.FixtureRequest,
    make_settings: Callable[..., Settings],
    pg_admin: str,
    pg_template: str,
    redis_url: str,
    redis_prefix: str,
) -> AsyncIterator[Callable[..., Settings]]:
    """Settings maker for either mode: embedded (SQLite + memory, one node) or production
    (PostgreSQL + Redis). Production nodes made by it share one database and Redis prefix."""
    if request.param == "embedded":
        yield make_settings
        return
    async with fresh_database(pg_admin, pg_template) as dsn:

        def make(**overrides: object) -> Settings:
            return make_settings(database_url=dsn, redis_url=redis_url, redis_prefix=redis_prefix,
                                 **overrides)

        yield make


@pytest.fixture
async def production(
    make_settings: Callable[..., Settings],
    pg_admin: str,
    pg_template: str,
    redis_url: str,
    redis_prefix: str,
) -> AsyncIterator[Callable[..., Settings]]:
    """Settings maker for production nodes (PostgreSQL + Redis) sharing one database and one
    Redis prefix: for cross-node tests, which embedded mode (one node by design) cannot run."""
    async with fresh_database(pg_admin, pg_template) as dsn:

        def make(**overrides: object) -> Settings:
            return make_settings(database_url=dsn, redis_url=redis_url, redis_prefix=redis_prefix,
                                 **overrides)

        yield make


def pytest_unconfigure(config: pytest.Config) -> None:
    # The run's throwaway servers (PostgreSQL in RAM, say) go with the process that started
    # them, also in a pytest-xdist worker, which may exit without running atexit handlers.
    services.close_owned()
