"""RedisPresence: presence shared by every node through Redis, with expiry so a dead node's users
fade out.

Per room, a sorted set `{prefix}presence:{room}` of "node_id:user_id" members scored by the
instant (ms) the entry expires, and a hash `{prefix}presence:{room}:names` from the same member to
the display name. Writes go in one MULTI/EXEC per call (names before scores, so a reader never
sees a member without its name). Reads run one Lua script per room that drops expired members
(`ZREMRANGEBYSCORE`, the usual sorted-set-with-TTL pattern:
https://redis.io/docs/latest/develop/data-types/sorted-sets/) and returns the live ones with their
names, atomically. Both keys carry a PEXPIRE of the TTL, moved forward by every write, so a room
whose nodes all died leaves nothing behind.

Announcements ("these rooms changed", a PRESENCE_CHANGED bus envelope: chat/protocol/bus.py) go
over one pub/sub channel, `{prefix}presence-changes`, at most one message per node per coalescing
tick. The channel rides the node's one RedisListener (chat/redis/listener.py), which reconnects
and resubscribes; after every (re)connect this reports `on_presence_changed(None)` because
pub/sub keeps nothing for absent subscribers.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence

import redis.asyncio as aioredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from chat.clock import Clock
from chat.presence.port import PresenceListener, PresentUser, RoomPresence
from chat.protocol import bus
from chat.redis.listener import HEALTH_CHECK_S, RedisListener

log = structlog.get_logger("chat.presence.redis")

COMMAND_TIMEOUT_S = 2

# KEYS: the room's sorted set and names hash. ARGV[1]: now (ms). Returns {members, scores, names}.
READ_ROOM = """
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  for i = 1, #expired, 1000 do
    redis.call('HDEL', KEYS[2], unpack(expired, i, math.min(i + 999, #expired)))
  end
end
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
local members, scores, names = {}, {}, {}
for i = 1, #live, 2 do
  members[#members + 1] = live[i]
  scores[#scores + 1] = live[i + 1]
  names[#names + 1] = redis.call('HGET', KEYS[2], live[i]) or ''
end
return {members, scores, names}
"""


class RedisPresence:
    def __init__(self, url: str, prefix: str, node_id: str, clock: Clock, ttl_s: float) -> None:
        self.node_id = node_id
        self.ttl_s = ttl_s
        self._prefix = prefix
        self._clock = clock
        self._own = f"{node_id}:".encode()
        self._bus = bus.BusWriter(node_id)
        self._channel = f"{prefix}presence-changes"
        # No retries: a failed write is retried by the tracker's next tick, and redis-py's
        # default retries would hold it for seconds.
        self._client = aioredis.Redis.from_url(
            url, health_check_interval=HEALTH_CHECK_S, socket_connect_timeout=COMMAND_TIMEOUT_S,
            socket_timeout=COMMAND_TIMEOUT_S, retry=Retry(NoBackoff(), 0),
        )
        self._read_room = self._client.register_script(READ_ROOM)
        self._listener: PresenceListener | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, url: str, prefix: str, node_id: str, clock: Clock, ttl_s: float,
                   listener: RedisListener | None = None) -> AsyncIterator[RedisPresence]:
        """The presence on the node's shared `listener`, or on one of its own if none is given."""
        async with contextlib.AsyncExitStack() as stack:
            if listener is None:
                listener = await stack.enter_async_context(RedisListener.open(url, prefix))
            presence = cls(url, prefix, node_id, clock, ttl_s)
            stack.push_async_callback(presence._client.aclose)
            stack.callback(listener.watch(presence._on_state))
            stack.push_async_callback(listener.unsubscribe, presence._channel)
            await listener.subscribe(presence._channel, presence._on_message)
            yield presence

    def bind(self, listener: PresenceListener) -> None:
        self._listener = listener

    def _keys(self, room_id: str) -> tuple[str, str]:
        key = f"{self._prefix}presence:{room_id}"
        return key, f"{key}:names"

    async def update(
        self,
        online: Mapping[str, Sequence[PresentUser]],
        offline: Mapping[str, Sequence[int]],
        *,
        announce: bool = True,
    ) -> None:
        ttl_ms = round(self.ttl_s * 1000)
        expires_at_ms = self._clock.now_ms() + ttl_ms
        node = self.node_id
        async with self._client.pipeline(transaction=True) as pipe:
            for room_id, users in online.items():
                if not users:
                    continue
                scores, names = self._keys(room_id)
                pipe.hset(names, mapping={f"{node}:{u.user_id}": u.name for u in users})
                pipe.zadd(scores, {f"{node}:{u.user_id}": expires_at_ms for u in users})
                pipe.pexpire(scores, ttl_ms)
                pipe.pexpire(names, ttl_ms)
            for room_id, user_ids in offline.items():
                if not user_ids:
                    continue
                scores, names = self._keys(room_id)
                members = [f"{node}:{user_id}" for user_id in user_ids]
                pipe.zrem(scores, *members)
                pipe.hdel(names, *members)
            changed = sorted({*online, *offline})
            if announce and changed:
                pipe.publish(self._channel, self._bus.presence_changed(changed))
            if len(pipe):
                await pipe.execute()

    async def online(self, room_ids: Sequence[str]) -> dict[str, RoomPresence]:
        if not room_ids:
            return {}
        now_ms = self._clock.now_ms()
        async with self._client.pipeline(transaction=False) as pipe:
            for room_id in room_ids:
                await self._read_room(keys=self._keys(room_id), args=[now_ms], client=pipe)
            replies = await pipe.execute()
        own = self._own
        result: dict[str, RoomPresence] = {}
        for room_id, (members, scores, names) in zip(room_ids, replies, strict=True):
            users: dict[int, str] = {}
            earliest: int | None = None
            for member, score, name in zip(members, scores, names, strict=True):
                if member.startswith(own):
                    continue
                users.setdefault(int(member.rpartition(b":")[2]), name.decode("utf-8", "replace"))
                expires_at_ms = int(float(score))
                earliest = expires_at_ms if earliest is None else min(earliest, expires_at_ms)
            result[room_id] = RoomPresence(users, earliest)
        return result

    # -- announcements from other nodes ------------------------------------------------------

    def _on_state(self, healthy: bool) -> None:
        if healthy:
            # Whatever was announced while we were away is lost: look at everything again.
            self._notify(None)

    def _on_message(self, data: bytes) -> None:
        if self._bus.is_own(data):
            return
        try:
            envelope = bus.decode(data)
        except bus.BusError as exc:
            log.warning("presence.bad_announcement", error=str(exc))
            return
        if envelope.kind is not bus.PRESENCE_CHANGED:
            log.warning("presence.bad_announcement", kind=envelope.kind.name)
            return
        self._notify(envelope.body)

    def _notify(self, room_ids: list[str] | None) -> None:
        if self._listener is not None:
            self._listener.on_presence_changed(room_ids)
