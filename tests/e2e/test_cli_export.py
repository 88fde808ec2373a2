"""`ecolink export room|topic|webinar` as a subprocess against a test database (PostgreSQL):
stdout or a file, an operator's staff access or a member's view with --as, and bad arguments
refused with a clear message, a non-zero exit and no file."""

from __future__ import annotations

import asyncio
import json

from chat.config import Settings
from chat.export.digest import verify
from chat.models import SendRequest
from chat.store.open import open_store
from tests.support.cli import cli_env, ecolink, ecolink_in_process
from tests.support.store_data import users

NOW = 1_790_000_000_000


async def seeded(dsn: str) -> tuple[str, str]:
    """green-buildings with two messages, and a direct room of ann and bob with one."""
    async with open_store(Settings(database_url=dsn)) as store:
        await store.migrate()
        ann, bob, _ = await users(store, "ann", "bob", "eve")
        await store.append_batch([
            SendRequest("green-buildings", ann.user_id, "ann", "c1", "Retrofit plan"),
            SendRequest("green-buildings", bob.user_id, "bob", "c2", "=HYPERLINK(1)"),
        ], NOW)
        room, _ = await store.open_direct("d-00000000000000aa", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
        assert room is not None
        await store.append_batch([SendRequest(room.room_id, ann.user_id, "ann", "p1", "private plan")], NOW)
        return "green-buildings", room.room_id


async def test_export_writes_stdout_or_a_file_as_the_operator_or_a_member(pg_dsn, tmp_path):
    room, direct = await seeded(pg_dsn)
    env = cli_env(ECOLINK_DATABASE_URL=pg_dsn)
    piped = await ecolink("export", "room", room, "--format", "jsonl", "--tz", "Asia/Shanghai", env=env)
    assert piped.code == 0, piped.out
    assert verify(piped.stdout.encode())
    lines = [json.loads(line) for line in piped.stdout.splitlines()]
    assert lines[0]["made_by"] is None and lines[0]["time_zone"] == "Asia/Shanghai"
    assert [r["text"] for r in lines if r["type"] == "message"] == ["Retrofit plan", "=HYPERLINK(1)"]
    assert "\x1b[" not in piped.stdout and "export.started" not in piped.stdout  # no bar, no logs when piped
    # The operator reads a direct room (staff access); a member who is not in it may not.
    target = tmp_path / "direct.md"
    written = await ecolink("export", "room", direct, "-o", str(target), "--lang", "zh", env=env)
    assert written.code == 0, written.out
    assert "wrote" in written.out and written.stdout == ""
    data = target.read_bytes()
    assert verify(data) and "private plan" in data.decode() and "运维人员" in data.decode()
    member = await ecolink("export", "room", direct, "--as", "bob@example.test", "--format", "csv", env=env)
    assert member.code == 0 and "private plan" in member.stdout and "'=HYPERLINK" not in member.stdout
    outsider, missing = await asyncio.gather(
        ecolink("export", "room", direct, "--as", "eve@example.test", env=env),
        ecolink("export", "room", "d-0000000000000000", "--as", "eve@example.test", env=env))
    assert outsider.code == missing.code == 2 and "no such room" in outsider.out and outsider.out == missing.out
    csv_out = await ecolink("export", "room", room, "--format", "csv", env=env)
    assert "'=HYPERLINK(1)" in csv_out.stdout


async def test_bad_arguments_exit_non_zero_with_a_clear_message_and_write_nothing(pg_dsn, tmp_path):
    room, _ = await seeded(pg_dsn)
    env = cli_env(ECOLINK_DATABASE_URL=pg_dsn)
    target = tmp_path / "out.md"
    # Refused by the argument parser: in this process (no store, no event loop, no log set-up).
    parsed = [
        (["export", "room", room, "--format", "docx"], "Invalid value for '--format'"),
        (["export", "room", room, "--lang", "fr"], "Invalid value for '--lang'"),
        (["export", "room"], "Missing argument"),
        (["export", "chat", room], "No such command"),
    ]
    # Refused by the command itself: the real command, as subprocesses.
    cases = [
        (["export", "room", room, "--from", "yesterday"], "from"),
        (["export", "room", room, "--from", "2026-11-03", "--to", "2026-11-01"], "must not be before 'from'"),
        (["export", "room", room, "--tz", "Mars/Olympus"], "IANA time zone"),
        (["export", "room", "NOT A ROOM"], "must be 1-64 of a-z"),
        (["export", "room", "no-such-room"], "no such room"),
        (["export", "topic", room], "no such topic"),
        (["export", "webinar", room], "no such webinar"),
        (["export", "room", room, "--as", "nobody@example.test"], "no member has the email given with --as"),
    ]
    results = [ecolink_in_process(*args, "-o", str(target), env=env) for args, _ in parsed]
    results += await asyncio.gather(*(ecolink(*args, "-o", str(target), env=env) for args, _ in cases))
    cases = parsed + cases
    for (args, message), result in zip(cases, results, strict=True):
        assert result.code != 0, args
        assert message in result.out, (args, result.out)
        assert "nobody@example.test" not in result.out or "--as" not in message
    assert not target.exists()
    unwritable = await ecolink("export", "room", room, "-o", str(tmp_path / "missing" / "x.md"), env=env)
    assert unwritable.code == 2 and "cannot write the output file" in unwritable.out


async def test_an_export_that_fails_part_way_exits_non_zero(pg_dsn, tmp_path, monkeypatch):
    """In-process (the failure is injected into the store): the file keeps what was written,
    without its digest line, and the command exits 1 saying so, not 0 as if it were done."""
    import typer

    from chat import cli
    from chat.store.postgres import PostgresStore

    room, _ = await seeded(pg_dsn)
    async with open_store(Settings(database_url=pg_dsn)) as store:
        author = (await store.user_credentials("ann@example.test"))[0]
        await store.append_batch([SendRequest(room, author.user_id, "ann", f"f{i}", f"filler {i}")
                                  for i in range(15)], NOW)
    monkeypatch.setenv("ECOLINK_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("ECOLINK_EXPORT_PAGE", "10")
    calls = []
    original = PostgresStore.export_page

    async def broken(self, room_id, after, upto, limit):
        calls.append(after)
        if len(calls) > 1:
            raise ConnectionResetError("the database went away")
        return await original(self, room_id, after, upto, limit)

    monkeypatch.setattr(PostgresStore, "export_page", broken)
    target = tmp_path / "partial.jsonl"
    try:
        await asyncio.to_thread(cli._export, "room", room, cli.FormatChoice.jsonl, None, None, None, None, None,
                                target)
    except typer.Exit as exc:
        code = exc.exit_code
    else:
        code = 0
    data = target.read_bytes()
    assert b"Retrofit plan" in data and not verify(data)
    assert code == 1
