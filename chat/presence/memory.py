"""MemoryPresence: presence in this process. Single node only — other processes cannot see it.

Several MemoryPresence instances may share one MemoryPresenceBus (tests use that to run the
contract tests with two "nodes" in one process); by default each has its own bus. Entries expire
exactly as in Redis, by the clock the backend was given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from chat.clock import Clock
from chat.presence.port import PresenceListener, PresentUser, RoomPresence


class MemoryPresenceBus:
    def __init__(self) -> None:
        # room -> (node_id, user_id) -> (expires_at_ms, name)
        self.rooms: dict[str, dict[tuple[str, int], tuple[int, str]]] = {}
        self.members: list[MemoryPresence] = []


class MemoryPresence:
    def __init__(self, node_id: str, clock: Clock, ttl_s: float,
                 bus: MemoryPresenceBus | None = None) -> None:
        self.node_id = node_id
        self.ttl_s = ttl_s
        self._clock = clock
        self._bus = bus or MemoryPresenceBus()
        self._bus.members.append(self)
        self._listener: PresenceListener | None = None

    def bind(self, listener: PresenceListener) -> None:
        self._listener = listener

    async def update(
        self,
        online: Mapping[str, Sequence[PresentUser]],
        offline: Mapping[str, Sequence[int]],
        *,
        announce: bool = True,
    ) -> None:
        expires_at_ms = self._clock.now_ms() + round(self.ttl_s * 1000)
        rooms = self._bus.rooms
        for room_id, users in online.items():
            entries = rooms.setdefault(room_id, {})
            for user in users:
                entries[(self.node_id, user.user_id)] = (expires_at_ms, user.name)
        for room_id, user_ids in offline.items():
            present = rooms.get(room_id)
            if present is None:
                continue
            for user_id in user_ids:
                present.pop((self.node_id, user_id), None)
            if not present:
                del rooms[room_id]
        changed = sorted({*online, *offline})
        if announce and changed:
            loop = asyncio.get_running_loop()
            for other in self._bus.members:
                if other is not self and other._listener is not None:
                    # call_soon: never inside the writer's call stack, as with a network backend.
                    loop.call_soon(other._listener.on_presence_changed, changed)

    async def online(self, room_ids: Sequence[str]) -> dict[str, RoomPresence]:
        now_ms = self._clock.now_ms()
        result: dict[str, RoomPresence] = {}
        for room_id in room_ids:
            entries = self._bus.rooms.get(room_id, {})
            for key in [key for key, (expires_at_ms, _) in entries.items() if expires_at_ms <= now_ms]:
                del entries[key]  # expired: its node stopped refreshing it
            users: dict[int, str] = {}
            earliest: int | None = None
            for (node_id, user_id), (expires_at_ms, name) in entries.items():
                if node_id == self.node_id:
                    continue
                users.setdefault(user_id, name)
                earliest = expires_at_ms if earliest is None else min(earliest, expires_at_ms)
            result[room_id] = RoomPresence(users, earliest)
        return result

    async def close(self) -> None:
        self._bus.members.remove(self)
