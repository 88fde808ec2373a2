"""`ecolink backup` / `ecolink restore` (chat/backup.py) and the restore drill of issue 16,
case 7, on both backends: writers keep sending to a running node while the command (its own
process, as an operator runs it) backs the database up; the backup is restored into a fresh database (or data
folder) and a fresh node started on it serves every room's history identical to the original up
to the backup's point (a prefix of each room, seqs gapless), and goes on from there. The figures
for bigger databases come from `scripts/bench backup` (docs/reliability.md, section 7)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

from chat.backup import _libpq_target
from chat.config import Settings
from tests.support import services
from tests.support.cli import cli_env, ecolink, ecolink_in_process
from tests.support.client import register
from tests.support.history import ClientLog, Peer, check, eventually, stored_messages
from tests.support.nodes import running_nodes

ROOMS = ("clean-energy", "solid-waste")
FAST = {"ws_rate_per_s": 10000, "ws_rate_burst": 10000,
        "member_rate_per_s": 10000, "member_rate_burst": 10000}


def _store_env(settings: Settings) -> dict[str, str]:
    """The CLI's environment for the database these settings name."""
    if settings.database_url:
        return cli_env(ECOLINK_DATABASE_URL=settings.database_url)
    return cli_env(ECOLINK_DATA_DIR=str(settings.data_dir))


async def test_restore_drill_under_load(backend: Callable[..., Settings], pg_admin: str, tmp_path: Path):
    settings = backend(**FAST)
    backup_file = tmp_path / "ecolink.backup"
    async with running_nodes(settings) as (node,):
        accounts = [await register(node.url, f"writer{i}") for i in range(2)]
        writers = [await Peer.connect(node.ws_url, account) for account in accounts]
        for i, writer in enumerate(writers):
            await writer.join(ROOMS[i % 2])
        stop = asyncio.Event()
        sending = [asyncio.create_task(w.send_until(ROOMS[i % 2], stop, pause_s=0.005))
                   for i, w in enumerate(writers)]
        await eventually(lambda: sum(len(w.log.acks) for w in writers) >= 40, "40 acked messages")
        acked_before = {room: max((a.seq for w in writers for a in w.log.acks if a.room == room), default=0)
                        for room in ROOMS}
        # A subprocess: typer's runner would swap os.environ and sys.stdout process-wide
        # while the node serves.
        done = await ecolink("backup", str(backup_file), env=_store_env(settings))
        assert done.code == 0, done.out
        assert "backup:" in done.out and backup_file.stat().st_size > 0
        # The writers never stopped: messages acked during and after the backup.
        acked_during = sum(len(w.log.acks) for w in writers)
        await eventually(lambda: sum(len(w.log.acks) for w in writers) >= acked_during + 10, "10 more acks")
        stop.set()
        await asyncio.gather(*sending)
        original = await stored_messages(node.node.store, ROOMS)
        # The load itself kept every invariant (nothing acked lost, no hole, no duplicate).
        summary = check(original, [w.log for w in writers])
        assert all(w.log.errors == [] for w in writers), [w.log.errors[:2] for w in writers]
        for writer in writers:
            await writer.close()

    # A fresh target: a new empty database, or a new data folder.
    name = f"ecolink_restore_{uuid.uuid4().hex[:10]}"
    if settings.database_url:
        target = settings.model_copy(update={
            "database_url": await services.create_database(pg_admin, name),
            "redis_prefix": f"{settings.redis_prefix}restored:"})
    else:
        target = settings.model_copy(update={"data_dir": tmp_path / "restored"})
        target.data_dir.mkdir()
    try:
        restored_run = ecolink_in_process("restore", str(backup_file), env=_store_env(target))
        assert restored_run.code == 0, restored_run.out
        # A second restore finds the target in use and refuses, changing nothing.
        again = ecolink_in_process("restore", str(backup_file), env=_store_env(target))
        assert again.code == 2 and "not empty" in again.out and "--force" in again.out, again.out

        async with running_nodes(target) as (fresh,):
            restored = await stored_messages(fresh.node.store, ROOMS)
            heads = {}
            for room in ROOMS:
                before = [m for m in original if m.room_id == room]
                after = [m for m in restored if m.room_id == room]
                heads[room] = len(after)
                # Identical up to the backup's point: a prefix of the room, seqs 1..k gapless.
                assert [m.seq for m in after] == list(range(1, len(after) + 1))
                assert after == before[:len(after)], f"{room}: the restored history differs"
                # The point lies between what was acked before the backup began and the end.
                assert acked_before[room] <= len(after) <= len(before), (room, acked_before, len(after))
            assert sum(heads.values()) < sum(summary.stored.values())  # the backup missed the later ones
            # The restored node knows the accounts and their sessions (a token from before the
            # backup signs in), and goes on from the backup's head: the next message gets head + 1.
            reader = await Peer.connect(fresh.ws_url, accounts[0], ClientLog("after", accounts[0]["user"]["id"]))
            room = ROOMS[0]
            assert await reader.join(room) == heads[room]
            cid = await reader.send(room, "after the restore")
            await reader.until(lambda: reader.answered(room, cid), "the ack")
            assert [a.seq for a in reader.log.acks] == [heads[room] + 1], reader.log.errors
            await reader.close()
    finally:
        if settings.database_url:
            await services.drop_database(pg_admin, name)


def test_backup_and_restore_refuse_bad_arguments(tmp_path: Path):
    data = tmp_path / "da?ta #1%20"  # an SQLite URI must quote such a path
    env = cli_env(ECOLINK_DATA_DIR=str(data))
    nothing = ecolink_in_process("backup", str(tmp_path / "b.db"), env=env)
    assert nothing.code == 2 and "there is no database" in nothing.out, nothing.out
    assert ecolink_in_process("backup", env=env).code == 2  # no file named

    # A real (tiny) database to back up, through the command's own SQLite path.
    import sqlite3
    data.mkdir()
    with sqlite3.connect(data / "ecolink.db") as db:
        db.execute("CREATE TABLE messages (x)")
    nofolder = ecolink_in_process("backup", str(tmp_path / "missing" / "b.db"), env=env)
    assert nofolder.code == 2 and "does not exist" in nofolder.out, nofolder.out
    made = ecolink_in_process("backup", str(tmp_path / "b.db"), env=env)
    assert made.code == 0 and (tmp_path / "b.db").exists(), made.out
    exists = ecolink_in_process("backup", str(tmp_path / "b.db"), env=env)
    assert exists.code == 2 and "--force" in exists.out, exists.out
    assert ecolink_in_process("backup", "--force", str(tmp_path / "b.db"), env=env).code == 0
    assert not list(tmp_path.glob(".*partial")), "a partial file was left behind"

    missing = ecolink_in_process("restore", str(tmp_path / "nope.backup"), env=env)
    assert missing.code == 2 and "no backup file" in missing.out, missing.out
    (tmp_path / "junk.backup").write_bytes(b"not a backup at all")
    junk = ecolink_in_process("restore", str(tmp_path / "junk.backup"), env=env)
    assert junk.code == 2 and "not a backup made by" in junk.out, junk.out
    with sqlite3.connect(tmp_path / "other.db") as db:
        db.execute("CREATE TABLE t (x)")
    foreign = ecolink_in_process("restore", str(tmp_path / "other.db"), env=env)
    assert foreign.code == 2 and "not an EcoLink one" in foreign.out, foreign.out
    # The target holds tables: refused without --force, replaced with it.
    busy = ecolink_in_process("restore", str(tmp_path / "b.db"), env=env)
    assert busy.code == 2 and "not empty" in busy.out, busy.out
    assert ecolink_in_process("restore", "--force", str(tmp_path / "b.db"), env=env).code == 0

    # A backend mismatch is named, before any connection is tried (the URL leads nowhere).
    secret = "s3cret-pw"
    pg_env = cli_env(ECOLINK_DATABASE_URL=f"postgresql://u:{secret}@127.0.0.1:1/none")
    mismatch = ecolink_in_process("restore", str(tmp_path / "b.db"), env=pg_env)
    assert mismatch.code == 2 and "SQLite backup" in mismatch.out, mismatch.out
    # Missing tools are named, with the way to point at them; a failed dump leaves no file
    # and its message never holds the password.
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    notools = ecolink_in_process("backup", "--pg-bindir", str(empty_bin), str(tmp_path / "pg.backup"), env=pg_env)
    assert notools.code == 2 and "pg_dump not found" in notools.out, notools.out
    failed = ecolink_in_process("backup", str(tmp_path / "pg.backup"), env=pg_env)
    assert failed.code == 2 and "pg_dump failed" in failed.out, failed.out
    assert secret not in failed.out and not (tmp_path / "pg.backup").exists()
    # The password travels in the environment, not on pg_dump's command line.
    url, variables = _libpq_target("postgresql://ann:p%40ss@db.example:5433/chat?sslmode=require")
    assert url == "postgresql://ann@db.example:5433/chat?sslmode=require"
    assert variables["PGPASSWORD"] == "p@ss"
    # ... and so does one given as a query parameter (libpq reads both; the query's wins): a
    # stand-in pg_dump records its command line and environment.
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    (fake_bin / "pg_dump").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path}/argv\nprintf "%s" "$PGPASSWORD" > {tmp_path}/pw\nexit 1\n')
    (fake_bin / "pg_dump").chmod(0o755)
    query_env = cli_env(ECOLINK_DATABASE_URL=f"postgresql://u:other@127.0.0.1:1/none?sslmode=disable&password={secret}")
    dumped = ecolink_in_process("backup", "--pg-bindir", str(fake_bin), str(tmp_path / "q.backup"), env=query_env)
    assert dumped.code == 2 and secret not in dumped.out, dumped.out
    argv = (tmp_path / "argv").read_text()
    assert "postgresql://u@127.0.0.1:1/none?sslmode=disable" in argv.splitlines(), argv
    assert secret not in argv and "other" not in argv
    assert (tmp_path / "pw").read_text() == secret
    url, variables = _libpq_target("postgresql://ann@db.example/chat?password=a%26b&sslmode=require")
    assert (url, variables["PGPASSWORD"]) == ("postgresql://ann@db.example/chat?sslmode=require", "a&b")
