"""chat.transport.memberships: every way into or out of a room keeps the room set, the
joined-rooms gauge, the hub subscription and presence in step. No sockets: recording doubles of
the room service and the presence tracker, as the endpoint's collaborators."""

from __future__ import annotations

from typing import Any

import pytest

from chat.errors import ChatError, FrameError, NotFound
from chat.models import User
from chat.transport.memberships import Memberships, RoomLinks

USER = User(1, "a@example.test", "A", "member", 0)


class Subscriber:
    codec_index = 0
    dead = False
    user_id = 1

    def push(self, frame: Any) -> None:
        pass

    def evicted(self, room_id: str) -> None:
        pass


class RecordingRooms:
    """The room service's join/leave: a set of subscribed rooms, refusals on demand, and a hook
    that runs while a join waits for the hub (where an eviction may land)."""

    def __init__(self) -> None:
        self.subscribed: set[str] = set()
        self.refuse: dict[str, ChatError] = {}
        self.during_join: Any = None

    async def join(self, user: User, subscriber: Any, room_id: str, since: int | None) -> int:
        error = self.refuse.get(room_id)
        if error is not None:
            raise error
        self.subscribed.add(room_id)
        if self.during_join is not None:
            self.during_join(room_id)
        return 7

    def leave(self, subscriber: Any, room_id: str) -> None:
        self.subscribed.discard(room_id)


class RecordingPresence:
    def __init__(self) -> None:
        self.online: set[str] = set()

    async def joined(self, subscriber: Any, user: User, room_id: str) -> None:
        self.online.add(room_id)

    def left(self, subscriber: Any, room_id: str) -> None:
        self.online.discard(room_id)


class RecordingGauge:
    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1) -> None:
        self.value += amount

    def dec(self, amount: float = 1) -> None:
        self.value -= amount


class World:
    def __init__(self, max_rooms: int = 3) -> None:
        self.rooms, self.presence, self.gauge = RecordingRooms(), RecordingPresence(), RecordingGauge()
        self.memberships = Memberships(Subscriber(), USER,
                                       RoomLinks(self.rooms, self.presence, self.gauge, max_rooms))

    def assert_in_step(self, *room_ids: str) -> None:
        """The four views of the memberships agree."""
        assert set(self.memberships) == set(room_ids)
        assert self.rooms.subscribed == set(room_ids)
        assert self.presence.online == set(room_ids)
        assert self.gauge.value == len(room_ids)


async def test_join_and_leave_keep_all_four_in_step():
    world = World()
    assert await world.memberships.join("hefei", None) == 7
    await world.memberships.join("zhuhai", 3)
    world.assert_in_step("hefei", "zhuhai")
    world.memberships.leave("hefei")
    world.assert_in_step("zhuhai")
    world.memberships.leave("hefei")  # twice is no error and changes nothing
    world.assert_in_step("zhuhai")


async def test_a_rejoin_counts_once():
    world = World()
    await world.memberships.join("hefei", None)
    await world.memberships.join("hefei", 5)
    world.assert_in_step("hefei")


async def test_a_refused_join_leaves_nothing_behind():
    world = World()
    world.rooms.refuse["secret"] = NotFound("no such room")
    with pytest.raises(NotFound):
        await world.memberships.join("secret", None)
    world.assert_in_step()


async def test_a_refused_rejoin_keeps_the_membership():
    world = World()
    await world.memberships.join("hefei", None)
    world.rooms.refuse["hefei"] = FrameError("invalid", "'since' is ahead of the room's head")
    with pytest.raises(FrameError):
        await world.memberships.join("hefei", 99)
    world.assert_in_step("hefei")


async def test_over_the_room_cap_is_refused_and_changes_nothing():
    world = World(max_rooms=2)
    await world.memberships.join("a", None)
    await world.memberships.join("b", None)
    with pytest.raises(FrameError) as caught:
        await world.memberships.join("c", None)
    assert caught.value.code == "too_many_rooms" and caught.value.retry is False
    await world.memberships.join("b", 1)  # a rejoin is not a new room
    world.assert_in_step("a", "b")


async def test_an_eviction_forgets_the_room_without_calling_the_hub_back():
    world = World()
    await world.memberships.join("hefei", None)
    world.rooms.subscribed.discard("hefei")  # the hub's feed dropped the subscriber itself
    calls: list[str] = []
    world.rooms.leave = lambda subscriber, room_id: calls.append(room_id)  # type: ignore[method-assign]
    world.memberships.evicted("hefei")
    assert calls == []
    world.assert_in_step()


async def test_an_eviction_while_the_join_waits_is_not_counted_online():
    world = World()

    def evicted_meanwhile(room_id: str) -> None:
        world.rooms.subscribed.discard(room_id)
        world.memberships.evicted(room_id)

    world.rooms.during_join = evicted_meanwhile
    await world.memberships.join("direct-1", None)
    world.assert_in_step()


async def test_close_leaves_every_room():
    world = World()
    for room_id in ("a", "b", "c"):
        await world.memberships.join(room_id, None)
    world.memberships.close()
    world.assert_in_step()
    world.memberships.close()
    world.assert_in_step()
