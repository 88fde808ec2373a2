"""Personal channels: `user:{id}`, a pseudo-room of the hub that every WebSocket connection of
a user is joined to, so a frame meant for one user (a notification, their own read position)
reaches all of their connections on every node through `Hub.broadcast`.

It is not a room:
- its name is no room id (room ids are slugs, without ':'), so no client can join, leave or
  send to it, and no other user's connection is ever in it;
- the store has no such room: its feed starts at head 0 without asking the store and never
  sees an event, and the hub's sweep and room statistics skip it (the hub opens its feed with
  `logged=False`, `is_personal` telling which);
- the connection's joined rooms (and their limit and metric) do not include it.

The hub answers every join with a `joined` frame first (Hub.join's contract, with since=None
that frame and nothing else before live ones); a personal channel is joined implicitly, so
PersonalSubscriber swallows exactly that frame.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Protocol

import structlog

from chat.hub.subscriber import Subscriber

log = structlog.get_logger("chat.hub")

PREFIX = "user:"


class Channels(Protocol):
    """What a personal channel needs of the hub (chat/hub/hub.py implements it); named here so
    this module needs no import of the hub, which imports it."""

    async def join(self, subscriber: Subscriber, room_id: str, since: int | None) -> int: ...

    def leave(self, subscriber: Subscriber, room_id: str) -> None: ...


def personal_channel(user_id: int) -> str:
    return f"{PREFIX}{user_id}"


def is_personal(feed_id: str) -> bool:
    return feed_id.startswith(PREFIX)


class PersonalSubscriber:
    """A connection as its personal channel's feed sees it: every frame but the first.

    `attach` starts the join at once (so `detach` always has something to undo), `ready`
    waits for it."""

    __slots__ = ("inner", "joining", "_joined")

    def __init__(self, inner: Subscriber) -> None:
        self.inner = inner
        self.joining: asyncio.Task[int] | None = None
        self._joined = False

    @classmethod
    def attach(cls, hub: Channels, inner: Subscriber) -> PersonalSubscriber:
        personal = cls(inner)
        personal.joining = asyncio.ensure_future(
            hub.join(personal, personal_channel(inner.user_id), None))
        personal.joining.add_done_callback(_log_failure)
        return personal

    async def ready(self, wait_s: float) -> None:
        """Wait until the channel is live (subscribed on the broker), for at most wait_s; past
        that (a broker that does not answer) the join completes in the background."""
        if self.joining is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(wait_s):
                    await asyncio.shield(self.joining)

    def detach(self, hub: Channels) -> None:
        """Leave the channel; mark the connection dead first, so a join still under way
        cannot add it afterwards."""
        hub.leave(self, personal_channel(self.user_id))

    @property
    def codec_index(self) -> int:
        return self.inner.codec_index

    @property
    def dead(self) -> bool:
        return self.inner.dead

    @property
    def user_id(self) -> int:
        return self.inner.user_id

    def push(self, frame: Any) -> None:
        if not self._joined:
            self._joined = True  # the feed's `joined` answer: not for the client
            return
        self.inner.push(frame)

    def evicted(self, room_id: str) -> None:
        """Nobody is evicted from their own channel."""


def _log_failure(joining: asyncio.Future[int]) -> None:
    if not joining.cancelled() and joining.exception() is not None:
        log.warning("hub.personal_join_failed", error=type(joining.exception()).__name__)
