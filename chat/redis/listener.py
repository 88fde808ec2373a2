"""RedisListener: one reconnecting Redis pub/sub connection per node, shared by the Redis broker
(a channel per room) and the Redis presence (its announcement channel).

Contract:
- `subscribe(channel, on_message)` remembers the channel and its callback and subscribes it now
  if connected; `unsubscribe` forgets it. Both are idempotent and never raise because Redis is
  down: every remembered channel is subscribed again on each (re)connect.
- Callbacks run on the event loop, one payload at a time, in the order Redis delivers them. A
  callback that raises is logged; the connection and the other channels carry on.
- On any connection error the loop reports down, closes the connection, and reconnects after a
  backoff that doubles from BACKOFF_START_S up to BACKOFF_CAP_S. It reports up only once every
  remembered channel is subscribed, so an "up" watcher may backfill: pub/sub keeps nothing for
  absent subscribers (https://redis.io/docs/latest/develop/interact/pubsub/#delivery-semantics).
- Watchers (`watch`) hear every change of state, up after each reconnect included. The loop logs
  each failure and never ends but by cancellation (closing the context).

A control channel of the listener's own is always subscribed, so the connection exists (and its
health checks run) while no other channel is.

Health check: a connection can die without a word (a firewall or NAT forgets it, the peer
vanishes): nothing arrives, and writes still succeed into the kernel's buffer for minutes.
redis-py's `health_check_interval` only *sends* a PING on such a connection and never notices the
missing PONG. So the listener PINGs every third of `silence_s` itself, counts anything read as
a sign of life, and treats `silence_s` without one as a broken connection (down, reconnect, up:
the hub backfills). redis-py's own retry is off, so no reconnect can happen behind this loop's
back (one would resubscribe without the backfill).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable

import redis.asyncio as aioredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from chat.logs import failure

log = structlog.get_logger("chat.redis.listener")

BACKOFF_START_S = 0.1
BACKOFF_CAP_S = 2.0
HEALTH_CHECK_S = 5  # the publishing clients' redis-py health check (they do read replies)
CONNECT_TIMEOUT_S = 2
# Default of `silence_s` (ECOLINK_REDIS_SILENCE_S): a silent subscription is found within it.
SILENCE_S = 6.0
# How long `open` waits for the first connection before yielding degraded (readiness says so).
FIRST_CONNECT_WAIT_S = 5

OnMessage = Callable[[bytes], None]
OnState = Callable[[bool], None]


class SilentConnection(ConnectionError):
    """Redis answered nothing, not even a PING, for `silence_s`."""


class RedisListener:
    def __init__(self, url: str, prefix: str, silence_s: float = SILENCE_S) -> None:
        self.healthy = False
        self._url = url
        self._silence_s = silence_s
        self._control = f"{prefix}node:{secrets.token_hex(6)}".encode()
        self._callbacks: dict[bytes, OnMessage] = {}
        self._watchers: list[OnState] = []
        self._pubsub: aioredis.client.PubSub | None = None
        self._connected = asyncio.Event()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, url: str, prefix: str,
                   silence_s: float = SILENCE_S) -> AsyncIterator[RedisListener]:
        listener = cls(url, prefix, silence_s)
        task = asyncio.create_task(listener._listen_forever(), name="redis-listener")
        try:
            # Start degraded rather than not at all: readiness reports it, and the hub polls.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FIRST_CONNECT_WAIT_S):
                    await listener._connected.wait()
            yield listener
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await listener._close_pubsub()

    def watch(self, on_state: OnState) -> Callable[[], None]:
        """Call `on_state(healthy)` on every change from now on; returns the undo."""
        self._watchers.append(on_state)
        return lambda: self._watchers.remove(on_state)

    async def subscribe(self, channel: str, on_message: OnMessage) -> None:
        name = channel.encode()
        if name in self._callbacks:
            self._callbacks[name] = on_message
            return
        self._callbacks[name] = on_message
        await self._command("subscribe", name)

    async def unsubscribe(self, channel: str) -> None:
        name = channel.encode()
        if self._callbacks.pop(name, None) is not None:
            await self._command("unsubscribe", name)

    async def _command(self, verb: str, name: bytes) -> None:
        pubsub = self._pubsub
        if pubsub is None or not self.healthy:
            return  # the loop subscribes every remembered channel when it (re)connects
        try:
            await getattr(pubsub, verb)(name)
        except (RedisError, OSError) as exc:
            # The loop will notice the broken connection and subscribe everything again.
            log.warning("redis.subscribe_failed", verb=verb, error=type(exc).__name__)

    # -- the loop --------------------------------------------------------------------------

    async def _listen_forever(self) -> None:
        backoff = BACKOFF_START_S
        while True:
            try:
                await self._connect()
                backoff = BACKOFF_START_S
                self._set_health(True)
                await self._read_messages()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never dies: log, report, back off, retry
                log.warning("redis.listener_failed", retry_in_s=backoff, **failure(exc))
                self._set_health(False)
                await self._close_pubsub()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_CAP_S)

    async def _connect(self) -> None:
        # No redis-py health check or retry: the read loop does both (see the module's doc).
        client = aioredis.Redis.from_url(
            self._url, socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=self._silence_s, retry=Retry(NoBackoff(), 0),
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._pubsub = pubsub
        # Channels may come and go while we await: repeat until what Redis has is what we want,
        # then report up with no await in between.
        subscribed: set[bytes] = set()
        while True:
            wanted = {self._control, *self._callbacks}
            missing, extra = wanted - subscribed, subscribed - wanted
            if not missing and not extra:
                return
            if missing:
                await pubsub.subscribe(*missing)
            if extra:
                await pubsub.unsubscribe(*extra)
            subscribed = (subscribed | missing) - extra

    async def _read_messages(self) -> None:
        pubsub = self._pubsub
        assert pubsub is not None
        callbacks = self._callbacks
        loop = asyncio.get_running_loop()
        ping_every = self._silence_s / 3
        heard = pinged = loop.time()
        while True:
            now = loop.time()
            if now - heard > self._silence_s:
                raise SilentConnection(f"nothing from Redis for {now - heard:.1f} s")
            if now - pinged >= ping_every:
                pinged = now
                # A write into a dead connection's buffer returns at once; the wait is for a
                # full buffer, and then the silence is already long.
                async with asyncio.timeout(self._silence_s):
                    await pubsub.ping()
            wait = max(0.0, min(pinged + ping_every, heard + self._silence_s) - loop.time())
            message = await pubsub.get_message(timeout=wait + 0.01)
            if message is None:
                continue
            heard = loop.time()  # a message, a PONG or a subscribe confirmation: alive
            if message["type"] != "message":
                continue
            on_message = callbacks.get(message["channel"])
            if on_message is None:
                continue  # unsubscribed meanwhile, or the control channel
            try:
                on_message(message["data"])
            except Exception as exc:  # a bug in one subscriber must not cut the others off
                log.error("redis.callback_failed", **failure(exc))

    def _set_health(self, healthy: bool) -> None:
        if healthy:
            self._connected.set()
        if healthy == self.healthy:
            return
        self.healthy = healthy
        log.info("redis.listener_state", healthy=healthy)
        for on_state in list(self._watchers):
            try:
                on_state(healthy)
            except Exception as exc:
                log.error("redis.watcher_failed", **failure(exc))

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
