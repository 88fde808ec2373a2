"""The RedisListener contract (chat/redis/listener.py) on a private redis-server that the tests
kill and restart: callbacks per channel, down/up reported to every watcher, every channel
subscribed again after a reconnect (those added while down too), and a failing callback that
cuts nobody off. One listener carries the broker's rooms and the presence channel together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from chat.redis.listener import RedisListener
from tests.support.services import ThrowawayRedis
from tests.support.timing import timeout

PREFIX = "ecolink-listener-test:"


@pytest.fixture
async def publisher(private_redis: ThrowawayRedis) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(private_redis.url)
    try:
        yield client
    finally:
        await client.aclose()


class Inbox:
    def __init__(self) -> None:
        self.payloads: list[bytes] = []
        self.changed = asyncio.Event()

    def __call__(self, payload: bytes) -> None:
        self.payloads.append(payload)
        self.changed.set()


async def until(condition, *, publish=None) -> None:
    """Wait for `condition()`, calling `publish()` now and then: a SUBSCRIBE is confirmed
    asynchronously, so a publish right after it may precede it."""
    async with asyncio.timeout(timeout(10)):
        while not condition():
            if publish is not None:
                await publish()
            await asyncio.sleep(0.05)


async def test_channels_get_their_own_payloads_until_unsubscribed(private_redis, publisher):
    async with RedisListener.open(private_redis.url, PREFIX) as listener:
        assert listener.healthy
        rooms, presence = Inbox(), Inbox()
        await listener.subscribe(f"{PREFIX}room:zhuhai", rooms)
        await listener.subscribe(f"{PREFIX}presence-changes", presence)
        await until(lambda: rooms.payloads,
                    publish=lambda: publisher.publish(f"{PREFIX}room:zhuhai", b"r"))
        await until(lambda: presence.payloads,
                    publish=lambda: publisher.publish(f"{PREFIX}presence-changes", b"p"))
        assert set(rooms.payloads) == {b"r"} and set(presence.payloads) == {b"p"}
        await listener.unsubscribe(f"{PREFIX}room:zhuhai")
        await listener.unsubscribe(f"{PREFIX}room:zhuhai")  # idempotent
        seen = len(rooms.payloads)
        # Once the presence channel sees a later publish, the room's would have arrived first.
        await publisher.publish(f"{PREFIX}room:zhuhai", b"after")
        await until(lambda: b"marker" in presence.payloads,
                    publish=lambda: publisher.publish(f"{PREFIX}presence-changes", b"marker"))
        assert len(rooms.payloads) == seen


async def test_a_restart_is_reported_and_every_channel_resubscribed(private_redis, publisher):
    async with RedisListener.open(private_redis.url, PREFIX) as listener:
        states: list[bool] = []
        other: list[bool] = []
        listener.watch(states.append)
        listener.watch(other.append)
        before = Inbox()
        await listener.subscribe(f"{PREFIX}room:hefei", before)

        private_redis.kill()
        await until(lambda: states == [False])
        during = Inbox()
        await listener.subscribe(f"{PREFIX}room:guilin", during)  # while down: no error
        assert not listener.healthy

        await asyncio.to_thread(private_redis.start)  # same port, empty
        await until(lambda: states == [False, True])
        assert other == states and listener.healthy
        # Up means subscribed: both channels get what is published now, with no retry.
        await publisher.publish(f"{PREFIX}room:hefei", b"h")
        await publisher.publish(f"{PREFIX}room:guilin", b"g")
        await until(lambda: before.payloads and during.payloads)
        assert (before.payloads, during.payloads) == ([b"h"], [b"g"])


async def test_a_failing_callback_cuts_nobody_off(private_redis, publisher):
    async with RedisListener.open(private_redis.url, PREFIX) as listener:
        states: list[bool] = []
        listener.watch(states.append)

        def broken(payload: bytes) -> None:
            raise RuntimeError("a bug in one subscriber")

        fine = Inbox()
        await listener.subscribe(f"{PREFIX}room:broken", broken)
        await listener.subscribe(f"{PREFIX}room:fine", fine)

        async def both() -> None:
            await publisher.publish(f"{PREFIX}room:broken", b"x")
            await publisher.publish(f"{PREFIX}room:fine", b"y")

        await until(lambda: len(fine.payloads) >= 2, publish=both)
        assert states == [] and listener.healthy  # no reconnect: the connection carried on
