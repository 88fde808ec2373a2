"""The board ticker: vote and poll counts, coalesced per node into `board` frames.

Each vote (or poll answer) handled on this node leaves here the latest (count, version) of what
it changed; at most once per tick (ECOLINK_BOARD_TICK_MS) the ticker sends, per webinar with
something new, one `board` frame through the hub to the room's members on every node (and,
for polls whose results are not public, one to each host's and panelist's personal channel).
Clients keep, per question or poll, the entry with the highest version: versions come from the
store, so frames from different nodes, or late ones, never take a count back.

The first change after a quiet tick goes out at once; later ones wait for the tick to end. So
after the last vote every client has the exact counts within one tick (plus the fan-out), and
a client receives at most one frame per tick from each node where votes were cast
(docs/decisions.md, "Webinar votes")."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from chat.hub.personal import personal_channel

Broadcast = Callable[[str, dict[str, Any]], None]


@dataclass(slots=True)
class _Changes:
    questions: dict[str, tuple[int, int]] = field(default_factory=dict)
    polls: dict[str, tuple[tuple[int, ...], int]] = field(default_factory=dict)
    private_polls: dict[str, tuple[tuple[int, ...], int]] = field(default_factory=dict)
    hosts: tuple[int, ...] = ()


def board_frame(webinar_id: str, questions: dict[str, tuple[int, int]],
                polls: dict[str, tuple[tuple[int, ...], int]]) -> dict[str, Any]:
    """{type: "board", room, questions: {id: [votes, version]}, polls: {id: {counts, version}}}."""
    return {
        "type": "board",
        "room": webinar_id,
        "questions": {qid: [votes, version] for qid, (votes, version) in sorted(questions.items())},
        "polls": {pid: {"counts": list(counts), "version": version}
                  for pid, (counts, version) in sorted(polls.items())},
    }


class BoardTicker:
    def __init__(self, broadcast: Broadcast, tick_ms: int) -> None:
        self._broadcast = broadcast
        self._tick_s = tick_ms / 1000
        self._changes: dict[str, _Changes] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._last_flush = float("-inf")
        self.frames_sent = 0

    def question(self, webinar_id: str, question_id: str, votes: int, version: int) -> None:
        found = self._changes.setdefault(webinar_id, _Changes()).questions
        if version > found.get(question_id, (0, -1))[1]:
            found[question_id] = (votes, version)
        self._schedule()

    def poll(self, webinar_id: str, poll_id: str, counts: tuple[int, ...], version: int, *,
             public: bool, hosts: tuple[int, ...]) -> None:
        changes = self._changes.setdefault(webinar_id, _Changes())
        found = changes.polls if public else changes.private_polls
        if version > found.get(poll_id, ((), -1))[1]:
            found[poll_id] = (counts, version)
        if not public:
            changes.hosts = hosts
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            return
        wait_s = max(0.0, self._last_flush + self._tick_s - time.monotonic())
        self._timer = asyncio.get_running_loop().call_later(wait_s, self.flush)

    def flush(self) -> None:
        """Send what changed since the last flush (the timer calls it; so does closing)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._last_flush = time.monotonic()
        changes, self._changes = self._changes, {}
        for webinar_id, found in sorted(changes.items()):
            if found.questions or found.polls:
                self._broadcast(webinar_id, board_frame(webinar_id, found.questions, found.polls))
                self.frames_sent += 1
            if found.private_polls:
                frame = board_frame(webinar_id, {}, found.private_polls)
                for user_id in found.hosts:
                    self._broadcast(personal_channel(user_id), frame)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[BoardTicker]:
        try:
            yield self
        finally:
            self.flush()
