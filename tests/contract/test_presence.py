"""The Presence port's contract (chat/presence/port.py), one body per backend: memory and Redis.
Several "nodes" share one backend (a MemoryPresenceBus, or one Redis key prefix); time is a
FakeClock that the tests advance, so expiry needs no sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from chat.clock import FakeClock
from chat.presence.memory import MemoryPresence, MemoryPresenceBus
from chat.presence.port import PresentUser, RoomPresence
from chat.presence.redis import RedisPresence
from tests.support.timing import timeout

TTL_S = 30.0
ANN, BOB, CHEN = PresentUser(1, "Ann"), PresentUser(2, "Bob"), PresentUser(3, "陈静 🌿")


class RecordingListener:
    def __init__(self) -> None:
        self.calls: list[list[str] | None] = []

    def on_presence_changed(self, room_ids: list[str] | None) -> None:
        self.calls.append(room_ids)

    def rooms(self) -> list[list[str]]:
        return [call for call in self.calls if call is not None]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "redis"])
async def make_presence(
    request: pytest.FixtureRequest, clock: FakeClock
) -> AsyncIterator[Callable[[str], Any]]:
    """Makes the presence backend of node `node_id`; all of them share one store of entries."""
    if request.param == "memory":
        bus = MemoryPresenceBus()

        async def make(node_id: str) -> Any:
            return MemoryPresence(node_id, clock, TTL_S, bus)

        yield make
        return
    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    contexts = []

    async def make(node_id: str) -> Any:
        context = RedisPresence.open(url, prefix, node_id, clock, TTL_S)
        contexts.append(context)
        return await context.__aenter__()

    yield make
    for context in contexts:
        await context.__aexit__(None, None, None)


async def test_a_user_online_on_one_node_is_seen_by_the_others_with_name(make_presence):
    a, b = await make_presence("node-a"), await make_presence("node-b")
    await a.update({"zhuhai": [ANN, CHEN]}, {})
    seen = (await b.online(["zhuhai", "hefei"]))
    assert seen["zhuhai"].users == {1: "Ann", 3: "陈静 🌿"}
    assert seen["hefei"] == RoomPresence()  # rooms are independent; an empty one is no error


async def test_a_node_never_reads_its_own_entries(make_presence, clock):
    a, b = await make_presence("node-a"), await make_presence("node-b")
    await a.update({"weihai": [ANN]}, {})
    await b.update({"weihai": [BOB]}, {})
    assert (await a.online(["weihai"]))["weihai"].users == {2: "Bob"}
    assert (await b.online(["weihai"]))["weihai"].users == {1: "Ann"}
    # The earliest expiry of the others' entries: when to look again for a dead node.
    assert (await a.online(["weihai"]))["weihai"].expires_at_ms == clock.now_ms() + TTL_S * 1000


async def test_a_user_on_two_nodes_appears_once_and_stays_until_both_remove_it(make_presence):
    a, b, reader = [await make_presence(n) for n in ("node-a", "node-b", "reader")]
    await a.update({"guilin": [ANN]}, {})
    await b.update({"guilin": [ANN, BOB]}, {})
    assert (await reader.online(["guilin"]))["guilin"].users == {1: "Ann", 2: "Bob"}
    await a.update({}, {"guilin": [1]})
    assert (await reader.online(["guilin"]))["guilin"].users == {1: "Ann", 2: "Bob"}
    await b.update({}, {"guilin": [1]})
    assert (await reader.online(["guilin"]))["guilin"].users == {2: "Bob"}


async def test_updates_are_idempotent_and_removing_the_unknown_is_a_no_op(make_presence):
    a, reader = await make_presence("node-a"), await make_presence("reader")
    await a.update({}, {"qingdao": [99]})
    await a.update({"qingdao": [ANN]}, {})
    await a.update({"qingdao": [ANN]}, {})
    await a.update({"qingdao": [PresentUser(1, "Ann Li")]}, {})  # a new name replaces the old
    assert (await reader.online(["qingdao"]))["qingdao"].users == {1: "Ann Li"}
    await a.update({}, {"qingdao": [1]})
    await a.update({}, {"qingdao": [1]})
    assert (await reader.online(["qingdao"]))["qingdao"] == RoomPresence()


async def test_entries_expire_after_the_ttl_unless_refreshed(make_presence, clock):
    alive, dying, reader = [await make_presence(n) for n in ("alive", "dying", "reader")]
    await alive.update({"liuzhou": [ANN]}, {}, announce=False)
    await dying.update({"liuzhou": [BOB]}, {}, announce=False)
    for _ in range(3):  # the heartbeat: every ttl / 3, the live node rewrites its entries
        clock.advance(TTL_S / 3)
        await alive.update({"liuzhou": [ANN]}, {}, announce=False)
    # `dying` wrote its entry exactly TTL_S ago: it has expired (expiry is exclusive).
    seen = (await reader.online(["liuzhou"]))["liuzhou"]
    assert seen.users == {1: "Ann"}
    assert seen.expires_at_ms == clock.now_ms() + TTL_S * 1000
    clock.advance(TTL_S - 0.001)
    assert (await reader.online(["liuzhou"]))["liuzhou"].users == {1: "Ann"}
    clock.advance(0.001)
    assert (await reader.online(["liuzhou"]))["liuzhou"] == RoomPresence()


async def test_an_expired_entry_comes_back_when_its_node_writes_it_again(make_presence, clock):
    a, reader = await make_presence("node-a"), await make_presence("reader")
    await a.update({"hefei": [ANN]}, {})
    clock.advance(TTL_S + 1)
    assert (await reader.online(["hefei"]))["hefei"].users == {}
    await a.update({"hefei": [ANN]}, {})
    assert (await reader.online(["hefei"]))["hefei"].users == {1: "Ann"}


async def test_announcements_reach_the_other_nodes_not_the_writer(make_presence):
    a, b, c = [await make_presence(n) for n in ("node-a", "node-b", "node-c")]
    heard = {name: RecordingListener() for name in "abc"}
    for name, backend in zip("abc", (a, b, c), strict=True):
        backend.bind(heard[name])
    await asyncio.sleep(0.1)  # Redis confirms SUBSCRIBE asynchronously
    await a.update({"zhuzhou": [ANN], "xixian": [BOB]}, {"hefei": [7]})
    await a.update({"zhuzhou": [ANN]}, {}, announce=False)  # a heartbeat says nothing
    async with asyncio.timeout(timeout(5)):
        while not (heard["b"].rooms() and heard["c"].rooms()):
            await asyncio.sleep(0.005)
    await asyncio.sleep(0.1)
    assert heard["b"].rooms() == heard["c"].rooms() == [["hefei", "xixian", "zhuzhou"]]
    assert heard["a"].rooms() == []
    # What was announced is readable by the time the announcement arrives.
    assert set((await b.online(["zhuzhou"]))["zhuzhou"].users) == {1}


async def test_many_users_in_one_room(make_presence):
    a, reader = await make_presence("node-a"), await make_presence("reader")
    users = [PresentUser(user_id, f"user {user_id}") for user_id in range(1, 2501)]
    await a.update({"green-transport": users}, {})
    seen = (await reader.online(["green-transport"]))["green-transport"].users
    assert len(seen) == 2500 and seen[2500] == "user 2500"
    await a.update({}, {"green-transport": [u.user_id for u in users[:2000]]})
    assert len((await reader.online(["green-transport"]))["green-transport"].users) == 500


async def test_redis_keys_expire_with_the_ttl(redis_url, redis_prefix, clock):
    """A room whose nodes all died leaves no keys behind in Redis."""
    import redis.asyncio as aioredis

    async with RedisPresence.open(redis_url, redis_prefix, "node-a", clock, TTL_S) as a:
        await a.update({"changzhou": [ANN]}, {})
    client = aioredis.Redis.from_url(redis_url)
    try:
        for key in (f"{redis_prefix}presence:changzhou", f"{redis_prefix}presence:changzhou:names"):
            assert 0 < await client.pttl(key) <= TTL_S * 1000
    finally:
        await client.aclose()
