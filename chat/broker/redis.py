"""RedisBroker: one Redis pub/sub channel per room, subscribed only while the node has members.

Subscriptions ride the node's one RedisListener (chat/redis/listener.py: one connection for
every channel, encode/broadcaster's shape), which reconnects with a capped backoff and
subscribes every remembered room again; the broker passes its up/down on to the hub, which
backfills from the store what Redis dropped meanwhile. Publishes go over a separate client.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from chat.broker.port import BrokerListener
from chat.redis.listener import HEALTH_CHECK_S, RedisListener

log = structlog.get_logger("chat.broker.redis")


class RedisBroker:
    def __init__(self, url: str, prefix: str, listener: RedisListener) -> None:
        self._prefix = prefix
        self._redis_listener = listener
        self._rooms: set[str] = set()
        self._listener: BrokerListener | None = None
        # No retries on publish: a publish that fails is a lost hint the sweep makes up for,
        # and redis-py's default retries would hold the publish queue for seconds.
        self._publisher = aioredis.Redis.from_url(
            url, health_check_interval=HEALTH_CHECK_S, socket_connect_timeout=2, socket_timeout=5,
            retry=Retry(NoBackoff(), 0),
        )
        self.published_lost = 0

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, url: str, prefix: str,
                   listener: RedisListener | None = None) -> AsyncIterator[RedisBroker]:
        """The broker on the node's shared `listener`, or on one of its own if none is given."""
        async with contextlib.AsyncExitStack() as stack:
            if listener is None:
                listener = await stack.enter_async_context(RedisListener.open(url, prefix))
            broker = cls(url, prefix, listener)
            stack.callback(listener.watch(broker._on_state))
            stack.push_async_callback(broker._publisher.aclose)
            stack.push_async_callback(broker._unsubscribe_all)
            yield broker

    @property
    def healthy(self) -> bool:
        return self._redis_listener.healthy

    def bind(self, listener: BrokerListener) -> None:
        self._listener = listener

    def channel(self, room_id: str) -> str:
        return f"{self._prefix}room:{room_id}"

    async def subscribe(self, room_id: str) -> None:
        if room_id in self._rooms:
            return
        self._rooms.add(room_id)
        await self._redis_listener.subscribe(self.channel(room_id),
                                             functools.partial(self._deliver, room_id))

    async def unsubscribe(self, room_id: str) -> None:
        if room_id not in self._rooms:
            return
        self._rooms.discard(room_id)
        await self._redis_listener.unsubscribe(self.channel(room_id))

    async def _unsubscribe_all(self) -> None:
        for room_id in list(self._rooms):
            await self.unsubscribe(room_id)

    def _deliver(self, room_id: str, payload: bytes) -> None:
        if self._listener is not None:
            self._listener.on_broker_message(room_id, payload)

    def _on_state(self, healthy: bool) -> None:
        if self._listener is not None:
            self._listener.on_broker_state(healthy)

    async def publish(self, items: list[tuple[str, bytes]]) -> None:
        if not self.healthy:
            # Nobody is subscribed through a broker we cannot reach; the nodes poll the store.
            self.published_lost += len(items)
            return
        try:
            async with self._publisher.pipeline(transaction=False) as pipe:
                for room_id, payload in items:
                    pipe.publish(self.channel(room_id), payload)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            # A hint lost: nodes catch up from the store (gap detection and the sweep).
            self.published_lost += len(items)
            log.warning("broker.publish_failed", count=len(items), error=type(exc).__name__)

    async def ping(self) -> None:
        await self._publisher.ping()
