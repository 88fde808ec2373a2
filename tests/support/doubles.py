"""Small recording test doubles shared by the unit and contract tests (real objects that
record what they were given, never MagicMock)."""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack

from tests.support.timing import timeout


class RecordingSubscriber:
    """A hub subscriber (chat/hub) that records the frames pushed to it, decoded from the
    msgpack format, and the rooms it was evicted from."""

    codec_index = 1  # msgpack

    def __init__(self, user_id: int = 1) -> None:
        self.dead = False
        self.user_id = user_id
        self.frames: list[dict[str, Any]] = []
        self.evictions: list[str] = []

    def evicted(self, room_id: str) -> None:
        self.evictions.append(room_id)

    def push(self, wire: dict[str, Any]) -> None:
        self.frames.append(msgpack.unpackb(wire["bytes"]))

    def seqs(self) -> list[int]:
        return [f["seq"] for f in self.frames if f["type"] == "message"]

    async def wait_seq(self, seq: int) -> None:
        async with asyncio.timeout(timeout(5)):
            while seq not in self.seqs():
                await asyncio.sleep(0.005)
