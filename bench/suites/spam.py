"""Spam check: what the store-backed check (chat/rooms/abuse.py) costs a send.

One node in this process (chat.node.open_node: the store, the in-process broker, the group
committer, the renderer), on SQLite in a temporary folder and on a fresh PostgreSQL database. One
member sends --sends messages one after another, each body new (so none is refused), round-robin
over 4 sector rooms, through RoomService.send, the path both transports take; a send's time is
the call's wall time, from the checks to the committed message. The node runs with
ECOLINK_SPAM_MAX_ROOMS 0 (off) and 3 (on) in turn, --rounds times each after one unmeasured
round; the difference of the medians is the check's cost. The check's read alone
(store.texts_elsewhere) is timed too; the notes, written after the ack, are awaited between sends
(outside the timing), as they would be between a member's sends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench import nodes
from bench.harness import Report, fmt, log, machine_lines, percentile, positive_int, table

NAME = "spam"
HELP = "what the store-backed spam check costs a send (SQLite and PostgreSQL)"
MODES = ("embedded", "postgres", "both")
DEFAULT_MODE = "both"
ROOMS = ("urban-renewal", "green-buildings", "green-transport", "clean-energy")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sends", type=positive_int, default=500, help="sends per round (default 500)")
    p.add_argument("--rounds", type=positive_int, default=3, help="measured rounds per setting (default 3)")


@contextlib.asynccontextmanager
async def store_url(mode: str, args: argparse.Namespace) -> AsyncIterator[str | None]:
    if mode == "embedded":
        yield None
        return
    from tests.support import services

    name = f"bench_spam_{uuid.uuid4().hex[:8]}"
    url = await services.create_database(args.pg_admin_url, name)
    try:
        yield url
    finally:
        await services.drop_database(args.pg_admin_url, name)


async def one_round(mode: str, url: str | None, folder: Path, max_rooms: int, sends: int) -> dict[str, list[float]]:
    from chat import logs
    from chat.config import Settings
    from chat.node import open_node
    from chat.transport.wire import FORMATS

    settings = Settings(_env_file=None, data_dir=folder, database_url=url, argon2_profile="cheapest",
                        log_level="warning", gc_freeze=False, new_account_hours=0, spam_max_rooms=max_rooms)
    logs.configure("warning", False)
    async with open_node(settings, list(FORMATS)) as node:
        tag = uuid.uuid4().hex[:8]
        session = await node.accounts.register(f"spam-{tag}@bench.example", "a long secret", f"Sender {tag}")
        user = session.user
        send_ms, check_ms = [], []
        for n in range(sends):
            body = f"Round {tag} message {n}: district heating figures for the pilot city"
            start = time.perf_counter()
            await node.rooms.send(user, ROOMS[n % len(ROOMS)], f"{tag}-{n}", body)
            send_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            await node.store.texts_elsewhere(user.user_id, f"{tag}{n}", ROOMS[n % len(ROOMS)], 0)
            check_ms.append((time.perf_counter() - start) * 1000)
            if node.rooms.abuse is not None:
                await node.rooms.abuse.settled()  # its note written, as between a member's sends
    return {"send": send_ms, "check": check_ms}


def run(args: argparse.Namespace) -> Report:
    modes = ["embedded", "postgres"] if args.mode == "both" else [args.mode]
    if "postgres" in modes:
        nodes.resolve_services(args)
    report = Report(NAME, machine_lines() + [f"- {args.sends} sends per round, {args.rounds} rounds per setting"])
    rows: list[list[str]] = []
    results: dict[str, Any] = {}

    async def measure(mode: str) -> None:
        async with store_url(mode, args) as url:
            with tempfile.TemporaryDirectory() as tmp:
                got: dict[int, list[float]] = {0: [], 3: []}
                checks: list[float] = []
                for round_no in range(args.rounds + 1):
                    for max_rooms in (0, 3):
                        log(f"{mode}: round {round_no}, spam_max_rooms={max_rooms}")
                        sample = await one_round(mode, url, Path(tmp), max_rooms, args.sends)
                        if round_no:
                            got[max_rooms] += sample["send"]
                            checks += sample["check"]
                off, on = got[0], got[3]
                extra = statistics.median(on) - statistics.median(off)
                rows.append([mode, fmt(statistics.median(off), 2), fmt(percentile(off, 99), 2),
                             fmt(statistics.median(on), 2), fmt(percentile(on, 99), 2), fmt(extra, 2),
                             fmt(statistics.median(checks), 2)])
                results[mode] = {"off_ms": off, "on_ms": on, "check_ms": checks}

    for mode in modes:
        asyncio.run(measure(mode))
    report.add("What the spam check costs a send (ms)", table(
        ["store", "off p50", "off p99", "on p50", "on p99", "p50 difference", "the read alone p50"], rows))
    report.results = results
    return report
