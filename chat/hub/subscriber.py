"""What the hub needs from a connection. The transport implements it; tests record with it."""

from __future__ import annotations

from typing import Any, Protocol


class Subscriber(Protocol):
    # Read-only properties: the hub only reads them (a plain attribute satisfies them too).
    @property
    def codec_index(self) -> int:
        """Index into the hub's wire formats (0 = JSON, 1 = msgpack)."""

    @property
    def dead(self) -> bool:
        """Set once the connection is closing. The hub does not add a dead subscriber to a
        room; push() on a dead one must be a no-op (the hub does not check per delivery)."""

    def push(self, frame: Any) -> None:
        """Queue one encoded frame without waiting. On overflow the subscriber marks itself
        dead and closes; it must not call back into the hub synchronously."""

    @property
    def user_id(self) -> int:
        """Whose connection this is (an eviction removes all of a user's subscribers)."""

    def evicted(self, room_id: str) -> None:
        """The hub removed this subscriber from a room it may no longer see (after the
        `left` frame was pushed); forget the membership."""


class WireFormat(Protocol):
    def wrap(self, frame: dict[str, Any], msgpack_bytes: bytes | None = None) -> Any:
        """Encode a server frame into what Subscriber.push takes (e.g. an ASGI send message).
        `msgpack_bytes`, when given, is the frame already encoded as msgpack."""
