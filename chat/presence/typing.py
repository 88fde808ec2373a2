"""Typing indicators: throttled per user and room, batched per room, never stored.

- TypingThrottle (sans-I/O: the caller passes `now`): at most one indicator per user per room
  per interval. Indicators over the limit are dropped silently — the one already sent says the
  same thing.
- TypingBatcher: what gets through waits for the room's next batch; the first indicator after a
  quiet spell goes out at once, later ones together, at most one frame per room per interval
  from this node, broadcast to the room's members on every node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from chat.clock import Clock
from chat.models import User
from chat.presence.frames import presence_label, typing_frame


class TypingThrottle:
    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._last: dict[tuple[int, str], float] = {}  # (user_id, room_id) -> when last let through

    def allow(self, user_id: int, room_id: str, now: float) -> bool:
        key = (user_id, room_id)
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            return False
        self._last[key] = now
        return True

    def prune(self, now: float) -> None:
        """Forget entries older than the interval (they would let the next one through anyway)."""
        cutoff = now - self.interval_s
        self._last = {key: at for key, at in self._last.items() if at > cutoff}

    def __len__(self) -> int:
        return len(self._last)


class TypingBatcher:
    def __init__(
        self,
        broadcast: Callable[[str, dict[str, Any]], None],
        clock: Clock,
        *,
        throttle_s: float,
        interval_s: float,
        on_sent: Callable[[int], None],
        on_dropped: Callable[[], None],
    ) -> None:
        self.interval_s = interval_s
        self._broadcast = broadcast
        self._clock = clock
        self._throttle = TypingThrottle(throttle_s)
        self._on_sent = on_sent
        self._on_dropped = on_dropped
        self._batches: dict[str, dict[int, str]] = {}  # room -> who typed since its last frame
        self._sent_at: dict[str, float] = {}  # room -> loop time of its last frame
        self._timers: dict[str, asyncio.TimerHandle] = {}  # room -> when its next frame goes

    def typing(self, user: User, room_id: str) -> bool:
        """Pass on that `user` is typing in the room (False: throttled, nothing happens). The
        caller checks that the user joined the room."""
        if not self._throttle.allow(user.user_id, room_id, self._clock.monotonic()):
            self._on_dropped()
            return False
        self._batches.setdefault(room_id, {})[user.user_id] = presence_label(user)
        if room_id in self._timers:
            return True  # goes out with the batch already scheduled
        loop = asyncio.get_running_loop()
        wait_s = self._sent_at.get(room_id, float("-inf")) + self.interval_s - loop.time()
        if wait_s <= 0:
            self._send(room_id)
        else:
            self._timers[room_id] = loop.call_later(wait_s, self._send, room_id)
        return True

    def _send(self, room_id: str) -> None:
        self._timers.pop(room_id, None)
        users = self._batches.pop(room_id, None)
        if not users:
            return
        self._sent_at[room_id] = asyncio.get_running_loop().time()
        self._broadcast(room_id, typing_frame(room_id, users))
        self._on_sent(len(users))

    def prune(self) -> None:
        """Forget what no longer matters (call now and then)."""
        self._throttle.prune(self._clock.monotonic())
        cutoff = asyncio.get_running_loop().time() - self.interval_s
        self._sent_at = {room_id: at for room_id, at in self._sent_at.items() if at > cutoff}

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._batches.clear()
