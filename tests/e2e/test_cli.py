"""The real `ecolink` console script, run as a subprocess: help, bad arguments and environment,
migrate (embedded and PostgreSQL, idempotent), create-admin, and a `serve` smoke test that ends
with SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3

import asyncpg
import httpx
import pytest
import websockets

from chat.protocol.closecodes import SERVICE_RESTART
from chat.store import migrations
from chat.store.catalog import SEED_ROOMS
from tests.support.cli import ECOLINK, cli_env, ecolink, ecolink_in_process, ecolink_serve
from tests.support.client import WsClient, bearer, register
from tests.support.nodes import running_nodes

ADMIN_PASSWORD = "Adm1n-pass-Σ-never-shown"


def versions(dialect: str) -> list[str]:
    return [version for version, _ in migrations.load(dialect)]


def test_the_console_script_is_installed():
    assert ECOLINK.is_file() and os.access(ECOLINK, os.X_OK), f"{ECOLINK}: pip install -e ."


async def test_help_lists_the_commands_and_serve_options():
    top, serve, admin = await asyncio.gather(
        ecolink("--help"), ecolink("serve", "--help"), ecolink("create-admin", "--help"))
    assert top.code == 0
    for command in ("serve", "migrate", "create-admin"):
        assert f" {command} " in top.out, top.out
    assert serve.code == 0
    for option in ("--host", "--port", "--workers", "--data-dir"):
        assert option in serve.out, serve.out
    assert "--email" in admin.out and "--display-name" in admin.out and "--password" not in admin.out


BAD_ARGS = [
    (["serve", "--port", "notaport"], "Invalid value for '--port'"),
    (["serve", "--port", "70000"], "Invalid value for '--port'"),
    (["serve", "--workers", "0"], "Invalid value for '--workers'"),
    (["serve", "--workers", "2"], "--workers > 1 needs ECOLINK_DATABASE_URL and ECOLINK_REDIS_URL"),
    (["frobnicate"], "No such command"),
    (["create-admin", "--display-name", "Root"], "Missing option '--email'"),
]


async def test_bad_arguments_exit_2_with_a_clear_message(tmp_path):
    env = cli_env(ECOLINK_DATA_DIR=str(tmp_path / "data"))
    # Refused by the parser or the settings, before any store: in this process.
    results = [ecolink_in_process(*args, env=env) for args, _ in BAD_ARGS]
    for (args, message), result in zip(BAD_ARGS, results, strict=True):
        assert result.code == 2, (args, result.out)
        assert message in result.out, (args, result.out)
        assert "Traceback" not in result.out, args
    assert not (tmp_path / "data").exists()  # refused before touching anything


BAD_ENV = [
    ("ECOLINK_DATABASE_URL", "mysql://root:Db-S3cret-pw@db.example/chat", "must start with postgresql://"),
    ("ECOLINK_REDIS_URL", "memcached://Rd-S3cret-pw@cache", "must start with redis://"),
    ("ECOLINK_PORT", "eighty", "valid integer"),
    ("ECOLINK_LOG_LEVEL", "loud", "'debug', 'info', 'warning' or 'error'"),
    ("ECOLINK_MAX_FRAME_BYTES", "7", "greater than or equal to 1024"),
]


async def test_bad_environment_is_a_configuration_error_naming_the_variable(tmp_path):
    data_dir = str(tmp_path / "data")
    cases = [("migrate", case) for case in BAD_ENV] + [("serve", BAD_ENV[0])]
    # Refused when the settings load, before any store: in this process.
    results = [ecolink_in_process(command, env=cli_env(**{variable: value}, ECOLINK_DATA_DIR=data_dir))
               for command, (variable, value, _) in cases]
    for (_, (variable, value, message)), result in zip(cases, results, strict=True):
        assert result.code == 2, (variable, result.out)
        assert f"configuration error: {variable}:" in result.out, (variable, result.out)
        assert message in result.out, (variable, result.out)
        assert value not in result.out and "S3cret" not in result.out, variable  # never the value
    assert not (tmp_path / "data").exists()


async def test_an_unreachable_database_does_not_print_its_password():
    url = "postgresql://ecolink:Unreach-S3cret-pw@127.0.0.1:1/ecolink"
    result = await ecolink("migrate", env=cli_env(ECOLINK_DATABASE_URL=url))
    assert result.code != 0
    assert "Unreach-S3cret-pw" not in result.out


# -- migrate -------------------------------------------------------------------------------


async def test_migrate_embedded_applies_once_then_reports_up_to_date(tmp_path):
    env = cli_env(ECOLINK_DATA_DIR=str(tmp_path / "data"))
    first = await ecolink("migrate", env=env)
    assert first.code == 0, first.out
    assert f"applied: {', '.join(versions('sqlite'))}" in first.out, first.out
    second = await ecolink("migrate", env=env)
    assert second.code == 0 and "schema is up to date" in second.out, second.out
    with contextlib.closing(sqlite3.connect(tmp_path / "data" / "ecolink.db")) as db:
        rows = db.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == versions("sqlite")
        assert db.execute("SELECT count(*) FROM rooms").fetchone() == (len(SEED_ROOMS),)


async def test_migrate_postgres_applies_once_then_reports_up_to_date(empty_pg_database):
    env = cli_env(ECOLINK_DATABASE_URL=empty_pg_database)
    first = await ecolink("migrate", env=env)
    assert first.code == 0, first.out
    assert f"applied: {', '.join(versions('postgres'))}" in first.out, first.out
    second = await ecolink("migrate", env=env)
    assert second.code == 0 and "schema is up to date" in second.out, second.out
    conn = await asyncpg.connect(empty_pg_database)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r[0] for r in rows] == versions("postgres")
        assert await conn.fetchval("SELECT count(*) FROM rooms") == len(SEED_ROOMS)
    finally:
        await conn.close()


# -- create-admin --------------------------------------------------------------------------


async def test_create_admin_makes_an_admin_who_can_log_in_and_never_shows_the_password(make_settings):
    settings = make_settings()
    env = cli_env(ECOLINK_DATA_DIR=str(settings.data_dir), ECOLINK_ADMIN_PASSWORD=ADMIN_PASSWORD)
    created = await ecolink("create-admin", "--email", "Root@Example.Test", "--display-name", "Root",
                            env=env)
    assert created.code == 0, created.out
    assert "admin: user 1 <root@example.test>" in created.out
    assert ADMIN_PASSWORD not in created.out
    async with running_nodes(settings) as [node], httpx.AsyncClient(base_url=node.url) as http:
        login = await http.post("/api/v1/sessions", json={
            "email": "root@example.test", "password": ADMIN_PASSWORD})
        assert login.status_code == 200, login.text
        assert login.json()["user"]["role"] == "admin"
        me = await http.get("/api/v1/me", headers=bearer(login.json()["token"]))
        # An admin made here has a verified address (docs/operations.md, "Email verification").
        assert me.json()["user"] == {"id": 1, "name": "Root", "role": "admin",
                                     "email": "root@example.test", "email_verified": True,
                                     "two_factor": {"enabled": False, "required": False}}
        member = await register(node.url, "Member")
        assert member["user"]["role"] == "member"
    # An existing account is promoted, once; the running command needs no node.
    promoted = await ecolink("create-admin", "--email", member["user"]["email"], "--display-name",
                             "ignored", env=env)
    assert promoted.code == 0 and f"admin: user {member['user']['id']} " in promoted.out
    with contextlib.closing(sqlite3.connect(settings.sqlite_path)) as db:
        roles = db.execute("SELECT user_id, role FROM users ORDER BY user_id").fetchall()
    assert roles == [(1, "admin"), (member["user"]["id"], "admin")]


async def test_create_admin_refuses_a_weak_password_without_showing_it(tmp_path):
    env = cli_env(ECOLINK_DATA_DIR=str(tmp_path / "data"), ECOLINK_ADMIN_PASSWORD="Sh0rt!7")
    result = await ecolink("create-admin", "--email", "root@example.test", "--display-name", "Root",
                           env=env)
    assert result.code == 2, result.out
    assert "password" in result.out and "8-1024" in result.out
    assert "Sh0rt!7" not in result.out and "Traceback" not in result.out
    with contextlib.closing(sqlite3.connect(tmp_path / "data" / "ecolink.db")) as db:
        assert db.execute("SELECT count(*) FROM users").fetchone() == (0,)


# -- serve ---------------------------------------------------------------------------------


async def test_serve_runs_a_node_and_exits_cleanly_on_sigterm(tmp_path):
    async with ecolink_serve(tmp_path / "data") as served:
        ann = await register(served.url, "Ann")
        client = await WsClient.connect(served.ws_url, ann["token"])
        assert (await client.join("green-transport"))["type"] == "joined"
        cid = await client.send("green-transport", "hello from a real process")
        ack = await client.recv_until(lambda f: f["type"] == "ack")
        assert ack["cid"] == cid and ack["seq"] == 1
        code = await served.stop()
        # The open WebSocket is told to reconnect elsewhere (docs/operations.md).
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await client.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == SERVICE_RESTART
        output = served.output()
        assert code == 0, output
        assert "Application shutdown complete" in output and "Traceback" not in output
    # What was acked is in the data dir it was given.
    with contextlib.closing(sqlite3.connect(tmp_path / "data" / "ecolink.db")) as db:
        assert db.execute("SELECT seq, body FROM messages").fetchall() == [(1, "hello from a real process")]
