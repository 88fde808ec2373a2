"""Backup and restore: what `ecolink backup` and `ecolink restore` cost for N messages.

Data: --messages messages (bilingual, with their search entries: bench/suites/search_seed.py's
loader) in ~50 rooms, in a fresh PostgreSQL database and in an SQLite file. Then the real
commands, as subprocesses with the node's environment: `ecolink backup FILE` (pg_dump -Fc, or
SQLite's online backup API), and `ecolink restore FILE` into a new empty database (or data
folder). Reported: each command's wall time (the process, start-up included), the backup's size,
and the database's size before. The restored database is then opened by the store and every
room's head and message count compared with the original (a mismatch fails the suite).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench import nodes
from bench.harness import BenchError, Report, fmt, log, machine_lines, positive_int, table

NAME = "backup"
HELP = "time and size of `ecolink backup` / `ecolink restore` for N messages (SQLite and PostgreSQL)"
MODES = ("embedded", "postgres", "both")
DEFAULT_MODE = "both"
ECOLINK = Path(sys.executable).with_name("ecolink")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--messages", type=positive_int, default=100_000, help="messages loaded (default 100000)")
    p.add_argument("--workers", type=positive_int, default=2, help="loader processes (default 2)")


def env_for(url: str | None, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOLINK_")}
    env["ECOLINK_DATA_DIR"] = str(data_dir)
    if url:
        env["ECOLINK_DATABASE_URL"] = url
    return env


def timed(*args: str, env: dict[str, str]) -> float:
    start = time.monotonic()
    done = subprocess.run([str(ECOLINK), *args], env=env, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        raise BenchError(f"`ecolink {args[0]}` failed: {done.stderr.strip()[-500:]}")
    return seconds


async def counts(url: str | None, data_dir: Path, rooms: list[str]) -> dict[str, tuple[int, int, str]]:
    """Each room's (last seq, messages stored, last message id), read through the store."""
    from chat.config import Settings
    from chat.store.open import open_store
    from tests.support.history import stored_messages

    settings = Settings(_env_file=None, database_url=url, data_dir=data_dir, log_level="warning")
    out: dict[str, tuple[int, int, str]] = {}
    async with open_store(settings) as store:
        for room in rooms:
            messages = await stored_messages(store, [room], page=5000)
            out[room] = (messages[-1].seq, len(messages), messages[-1].message_id) if messages else (0, 0, "")
    return out


async def load(url: str | None, data_dir: Path, n: int, workers: int) -> tuple[float, int, list[str]]:
    from bench.suites import search_seed as seed
    from chat.config import Settings
    from chat.store.open import open_store

    settings = Settings(_env_file=None, database_url=url, data_dir=data_dir, log_level="warning")
    async with open_store(settings) as store:
        await store.migrate()
        _, plan = await seed.people(store, int(time.time() * 1000), 7)
    if url:
        loaded = await seed.load_postgres(url, plan, n, workers, 7, log)
    else:
        loaded = await seed.load_sqlite(settings.sqlite_path, plan, n, workers, 7, log)
    return loaded.seconds, loaded.messages, plan.public_rooms + plan.direct_rooms


async def database_size(url: str | None, data_dir: Path) -> int:
    if not url:
        return sum(p.stat().st_size for p in data_dir.glob("ecolink.db*"))
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await conn.close()


def run(args: argparse.Namespace) -> Report:
    modes = ["embedded", "postgres"] if args.mode == "both" else [args.mode]
    if "postgres" in modes:
        nodes.resolve_services(args)
    report = Report(NAME, machine_lines() + [f"- {args.messages:,} messages (with search entries) in ~50 rooms"])
    rows: list[list[str]] = []
    results: dict[str, Any] = {}
    from tests.support import services

    for mode in modes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            source_dir, target_dir = folder / "source", folder / "target"
            source_dir.mkdir()
            target_dir.mkdir()
            names = [f"bench_backup_{uuid.uuid4().hex[:8]}" for _ in range(2)]
            urls: list[str | None] = [None, None]
            try:
                if mode == "postgres":
                    urls = [asyncio.run(services.create_database(args.pg_admin_url, name)) for name in names]
                log(f"{mode}: loading {args.messages:,} messages")
                load_s, loaded, rooms = asyncio.run(load(urls[0], source_dir, args.messages, args.workers))
                size = asyncio.run(database_size(urls[0], source_dir))
                backup_file = folder / "ecolink.backup"
                log(f"{mode}: backup")
                backup_s = timed("backup", str(backup_file), env=env_for(urls[0], source_dir))
                log(f"{mode}: restore")
                restore_s = timed("restore", str(backup_file), env=env_for(urls[1], target_dir))
                before = asyncio.run(counts(urls[0], source_dir, rooms))
                after = asyncio.run(counts(urls[1], target_dir, rooms))
                if before != after:
                    raise BenchError(f"{mode}: the restored rooms differ from the original")
                backup_size = backup_file.stat().st_size
                rows.append([mode, f"{loaded:,}", fmt(size / 2**20, 1), fmt(backup_size / 2**20, 1),
                             fmt(backup_s, 2), fmt(restore_s, 2), f"{len(before)} identical"])
                results[mode] = {"messages": loaded, "load_s": load_s, "database_bytes": size,
                                 "backup_bytes": backup_size, "backup_s": backup_s, "restore_s": restore_s,
                                 "rooms_checked": len(before)}
            finally:
                if mode == "postgres":
                    for name in names:
                        asyncio.run(services.drop_database(args.pg_admin_url, name))
    report.add("`ecolink backup` and `ecolink restore` (wall time of the command, start-up included)", table(
        ["store", "messages", "database MiB", "backup MiB", "backup s", "restore s", "rooms after restore"],
        rows))
    report.results = results
    return report
