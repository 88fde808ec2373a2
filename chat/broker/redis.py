"""RedisBroker: one Redis pub/sub channel per room, subscribed only while the node has members.

One subscriber connection per node carries every room channel (encode/broadcaster's shape);
a listener loop reads it, and on any connection error reports unhealthy, reconnects with a
capped backoff and subscribes every remembered room again, then reports healthy so the hub
backfills what Redis dropped meanwhile (pub/sub keeps nothing for absent subscribers:
https://redis.io/docs/latest/develop/interact/pubsub/#delivery-semantics).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
import structlog
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from chat.broker.port import BrokerListener

log = structlog.get_logger("chat.broker.redis")

BACKOFF_START_S = 0.1
BACKOFF_CAP_S = 2.0
HEALTH_CHECK_S = 5


class RedisBroker:
    def __init__(self, url: str, prefix: str) -> None:
        self.healthy = False
        self._url = url
        self._prefix = prefix
        self._room_prefix = f"{prefix}room:".encode()
        # A channel of our own, so the pubsub connection exists even with no rooms.
        self._control = f"{prefix}node:{secrets.token_hex(6)}"
        self._rooms: set[str] = set()
        self._listener: BrokerListener | None = None
        # No retries on publish: a publish that fails is a lost hint the sweep makes up for,
        # and redis-py's default retries would hold the publish queue for seconds.
        self._publisher = aioredis.Redis.from_url(
            url, health_check_interval=HEALTH_CHECK_S, socket_connect_timeout=2, socket_timeout=5,
            retry=Retry(NoBackoff(), 0),
        )
        self._pubsub: aioredis.client.PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self.published_lost = 0

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, url: str, prefix: str) -> AsyncIterator[RedisBroker]:
        broker = cls(url, prefix)
        broker._task = asyncio.create_task(broker._listen_forever(), name="redis-broker")
        try:
            # Start degraded rather than not at all: readiness reports it, and the hub polls.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(broker._connected.wait(), timeout=5)
            yield broker
        finally:
            broker._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await broker._task
            await broker._close_pubsub()
            await broker._publisher.aclose()

    def bind(self, listener: BrokerListener) -> None:
        self._listener = listener

    def channel(self, room_id: str) -> str:
        return f"{self._prefix}room:{room_id}"

    async def subscribe(self, room_id: str) -> None:
        if room_id in self._rooms:
            return
        self._rooms.add(room_id)
        await self._command("subscribe", room_id)

    async def unsubscribe(self, room_id: str) -> None:
        if room_id not in self._rooms:
            return
        self._rooms.discard(room_id)
        await self._command("unsubscribe", room_id)

    async def _command(self, verb: str, room_id: str) -> None:
        pubsub = self._pubsub
        if pubsub is None or not self.healthy:
            return  # the listener loop subscribes every remembered room when it reconnects
        try:
            await getattr(pubsub, verb)(self.channel(room_id))
        except (RedisError, OSError) as exc:
            log.warning("broker.subscribe_failed", verb=verb, room=room_id, error=type(exc).__name__)

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

    # -- the listener loop -----------------------------------------------------------------

    async def _listen_forever(self) -> None:
        backoff = BACKOFF_START_S
        while True:
            try:
                await self._connect_and_subscribe()
                backoff = BACKOFF_START_S
                self._set_health(True)
                await self._read_messages()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the loop never dies: log, report, back off, retry
                if self.healthy:
                    log.warning("broker.connection_lost", error=type(exc).__name__)
                self._set_health(False)
                await self._close_pubsub()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_CAP_S)

    async def _connect_and_subscribe(self) -> None:
        client = aioredis.Redis.from_url(
            self._url, health_check_interval=HEALTH_CHECK_S, socket_connect_timeout=2
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._pubsub = pubsub
        channels = [self._control, *(self.channel(room) for room in self._rooms)]
        await pubsub.subscribe(*channels)

    async def _read_messages(self) -> None:
        pubsub = self._pubsub
        assert pubsub is not None
        prefix = self._room_prefix
        cut = len(prefix)
        while True:
            message = await pubsub.get_message(timeout=HEALTH_CHECK_S)
            if message is None or message["type"] != "message":
                continue
            channel: bytes = message["channel"]
            if channel.startswith(prefix) and self._listener is not None:
                self._listener.on_broker_message(channel[cut:].decode(), message["data"])

    def _set_health(self, healthy: bool) -> None:
        if healthy:
            self._connected.set()
        if healthy != self.healthy:
            self.healthy = healthy
            log.info("broker.state", healthy=healthy)
            if self._listener is not None:
                self._listener.on_broker_state(healthy)

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
