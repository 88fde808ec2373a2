"""Tests for tests/support/services.py, against real servers: real kills, real restarts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
import redis.exceptions

from tests.support import services

REPO_ROOT = Path(__file__).resolve().parents[2]


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_free_port_can_be_bound() -> None:
    port = services.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


async def test_redis_url_answers_ping() -> None:
    client = aioredis.Redis.from_url(services.redis_url())
    try:
        assert await client.ping() is True
    finally:
        await client.aclose()
    assert services.redis_url() == services.redis_url()  # cached: one server per run


async def test_postgres_admin_dsn_is_superuser_on_postgres_db() -> None:
    # Called from inside a running loop on purpose: the sync helper must cope with that.
    conn = await asyncpg.connect(services.postgres_admin_dsn())
    try:
        assert await conn.fetchval("SELECT current_database()") == "postgres"
        assert await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    finally:
        await conn.close()


async def test_create_database_from_template0_then_copy_then_drop() -> None:
    admin = services.postgres_admin_dsn()
    source, copy = _unique("ecolink_src"), _unique("ecolink_copy")
    try:
        dsn = await services.create_database(admin, source)
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("SELECT current_database()") == source
            # The default is C.UTF-8 so that pg_trgm and friends see CJK text.
            assert await conn.fetchval("SHOW lc_ctype") == "C.UTF-8"
            assert await conn.fetchval("SHOW server_encoding") == "UTF8"
            await conn.execute("CREATE TABLE t (v text); INSERT INTO t VALUES ('生态城')")
        finally:
            await conn.close()

        copy_dsn = await services.create_database(admin, copy, template=source)
        conn = await asyncpg.connect(copy_dsn)
        try:
            assert await conn.fetchval("SELECT v FROM t") == "生态城"
        finally:
            await conn.close()

        # WITH (FORCE): an open connection must not block the drop.
        lingering = await asyncpg.connect(copy_dsn)
        await services.drop_database(admin, copy)
        assert lingering.is_closed() or not await _still_usable(lingering)
    finally:
        await services.drop_database(admin, copy)
        await services.drop_database(admin, source)

    conn = await asyncpg.connect(admin)
    try:
        names = await conn.fetch("SELECT datname FROM pg_database WHERE datname = ANY($1)", [source, copy])
        assert names == []
    finally:
        await conn.close()


async def _still_usable(conn: asyncpg.Connection) -> bool:
    try:
        await conn.fetchval("SELECT 1")
        return True
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        return False
    finally:
        conn.terminate()


async def test_drop_database_missing_is_a_no_op() -> None:
    await services.drop_database(services.postgres_admin_dsn(), _unique("ecolink_never"))


async def test_overlong_database_name_is_refused() -> None:
    # PostgreSQL would silently truncate it, and the returned DSN would name the wrong database.
    with pytest.raises(ValueError):
        await services.create_database(services.postgres_admin_dsn(), "x" * 64)


@pytest.mark.parametrize(
    ("admin", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:5432/postgres", "postgresql://postgres@127.0.0.1:5432/db_1"),
        ("postgres://u:p@h:1/postgres?sslmode=disable", "postgres://u:p@h:1/db_1?sslmode=disable"),
        ("host=h port=1 dbname=postgres user=u", "host=h port=1 dbname='db_1' user=u"),
        ("host=h user=u", "host=h user=u dbname='db_1'"),
    ],
)
def test_database_dsn_replaces_only_the_database(admin: str, expected: str) -> None:
    assert services.database_dsn(admin, "db_1") == expected


async def test_throwaway_redis_kill_and_restart_on_same_port() -> None:
    with services.ThrowawayRedis() as server:
        port = server.port
        client = aioredis.Redis.from_url(server.url, socket_timeout=2)
        try:
            await client.set("k", "v")
            assert await client.ping() is True

            server.kill()
            assert not server.running
            with pytest.raises(redis.exceptions.ConnectionError):
                await client.ping()

            server.restart()
            assert server.port == port
            assert await client.ping() is True  # the same client reconnects to the same URL
            assert await client.get("k") is None  # nothing is persisted across restarts
        finally:
            await client.aclose()
    assert not _accepts(port)


async def test_throwaway_redis_pause_makes_it_unresponsive() -> None:
    with services.ThrowawayRedis() as server:
        client = aioredis.Redis.from_url(server.url, socket_timeout=0.3)
        try:
            assert await client.ping() is True
            server.pause()
            with pytest.raises(redis.exceptions.TimeoutError):
                await client.ping()
            server.resume()
            assert await client.ping() is True
        finally:
            await client.aclose()


async def test_throwaway_postgres_survives_crash_restart() -> None:
    with services.ThrowawayPostgres() as server:
        conn = await asyncpg.connect(server.dsn)
        await conn.execute("CREATE TABLE t (v int); INSERT INTO t VALUES (42)")

        server.restart(mode="immediate")  # a crash: the committed row must come back via WAL
        assert not await _still_usable(conn)
        conn = await asyncpg.connect(server.dsn)
        try:
            assert await conn.fetchval("SELECT v FROM t") == 42
        finally:
            await conn.close()

        server.stop(mode="fast")
        assert not _accepts(server.port)
        server.start()
        conn = await asyncpg.connect(server.dsn)
        try:
            assert await conn.fetchval("SELECT count(*) FROM t") == 1
        finally:
            await conn.close()
        data_dir = server.data_dir
    assert data_dir is not None and not data_dir.exists()


_FORCED_THROWAWAY_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, socket
    import asyncpg, redis
    from tests.support import services

    dsn, url = services.postgres_admin_dsn(), services.redis_url()

    async def query():
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        finally:
            await conn.close()

    pg = services._owned[0]
    print(json.dumps({
        "dsn": dsn, "url": url, "superuser": asyncio.run(query()),
        "ping": redis.Redis.from_url(url).ping(), "data_dir": str(pg.data_dir),
    }))
    """
)


async def test_the_runs_postgresql_keeps_its_files_in_ram_when_there_is_room() -> None:
    conn = await asyncpg.connect(services.postgres_admin_dsn(), timeout=10)
    try:
        data_directory = await conn.fetchval("SHOW data_directory")
    finally:
        await conn.close()
    chosen_by_env = os.environ.get(services.ENV_DATABASE_URL) or services._force_throwaway()
    if services._ram_dir() is not None and not chosen_by_env:
        assert data_directory.startswith(str(services.RAM_DIR) + "/"), data_directory
    else:
        assert not data_directory.startswith(str(services.RAM_DIR) + "/"), data_directory


def test_postgresql_in_ram_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(services.ENV_PG_IN_RAM, "0")
    assert services._ram_dir() is None


def test_forced_throwaway_servers_work_and_vanish_at_exit() -> None:
    env = {
        **os.environ,
        services.ENV_FORCE_THROWAWAY: "1",
        # Must be ignored when forcing: point them at ports where nothing runs.
        services.ENV_DATABASE_URL: "postgresql://postgres@127.0.0.1:1/postgres",
        services.ENV_REDIS_URL: "redis://127.0.0.1:1/0",
        "PYTHONPATH": str(REPO_ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", _FORCED_THROWAWAY_SCRIPT],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    pg_port = int(info["dsn"].rsplit(":", 1)[1].split("/")[0])
    redis_port = int(info["url"].rsplit(":", 1)[1].split("/")[0])
    assert pg_port not in (1, 5432) and redis_port not in (1, 6379)
    assert info["superuser"] is True and info["ping"] is True
    # atexit stopped both servers and deleted the cluster.
    assert not _accepts(pg_port) and not _accepts(redis_port)
    assert not Path(info["data_dir"]).exists()


async def test_throwaway_s3_is_a_real_http_endpoint_until_closed() -> None:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    # moto keeps its buckets per process, shared with the run's own S3 server: a unique name.
    bucket = f"probe-{uuid.uuid4().hex[:12]}"
    server = services.ThrowawayS3().start()
    try:
        endpoint = server.endpoint
        port = int(endpoint.url.rsplit(":", 1)[1])
        assert endpoint.url.startswith("http://127.0.0.1:") and _accepts(port)
        config = AioConfig(s3={"addressing_style": "path"})
        async with get_session().create_client(
            "s3", endpoint_url=endpoint.url, region_name="us-east-1", config=config,
            aws_access_key_id=endpoint.access_key, aws_secret_access_key=endpoint.secret_key,
        ) as client:  # fmt: skip
            await client.create_bucket(Bucket=bucket)
            await client.put_object(Bucket=bucket, Key="k", Body=b"v")
            upload = await client.create_multipart_upload(Bucket=bucket, Key="open")
            body = await (await client.get_object(Bucket=bucket, Key="k"))["Body"].read()
            assert body == b"v"
            await services.drop_bucket(endpoint, bucket)
            buckets = (await client.list_buckets())["Buckets"]
            assert bucket not in [b["Name"] for b in buckets]
            assert upload["UploadId"]
        await services.drop_bucket(endpoint, bucket)  # gone already: nothing happens
    finally:
        server.close()
    assert not _accepts(port)
    server.close()  # idempotent
