"""Turns: one member's posts to one room reach the group committer in the order they arrived.

A connection's sends run as concurrent tasks (chat/transport/inbound.py), and before its commit a
send may read the store (the post checks: a mute, the spam check, a verified address) and render
Markdown in a worker. Those take different times, so without turns a later send could commit
first and a member's two messages show in the other order. A send takes its turn before its
first await and hands its entry to the committer only after the member's previous post in that
room handed over its own (or failed): the checks still overlap, the commits keep the order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
Key = tuple[int, str]  # (user id, room id)


class Turn:
    __slots__ = ("_before", "_passed")

    def __init__(self, before: asyncio.Future[None] | None, passed: asyncio.Future[None]) -> None:
        self._before = before
        self._passed = passed

    async def hand_over(self, submit: Callable[[], Awaitable[T]]) -> T:
        """Wait for the previous post's hand-over, start `submit` (which queues the entry
        synchronously when it first runs), let the next post go, then await the outcome."""
        try:
            if self._before is not None and not self._before.done():
                # Shielded: this send being cancelled must not cancel the previous one's turn.
                await asyncio.shield(self._before)
            job = asyncio.ensure_future(submit())
        finally:
            self.passed()
        return await job

    def passed(self) -> None:
        """This post is out of the way (handed over, or refused before it): the next may go.
        Idempotent."""
        if not self._passed.done():
            self._passed.set_result(None)


class Turns:
    def __init__(self) -> None:
        self._last: dict[Key, asyncio.Future[None]] = {}

    def take(self, key: Key) -> Turn:
        """The next turn for this member in this room. Call before the first await."""
        before = self._last.get(key)
        passed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last[key] = passed
        passed.add_done_callback(lambda done: self._forget(key, done))
        return Turn(before, passed)

    def _forget(self, key: Key, done: asyncio.Future[None]) -> None:
        if self._last.get(key) is done:
            del self._last[key]

    def __len__(self) -> int:
        return len(self._last)
