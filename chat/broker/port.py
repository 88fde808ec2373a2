"""The Broker port: moves opaque event bytes for a room to every node subscribed to it.

Contract (tests/contract/test_broker.py runs it against each backend):
- A payload published for a room reaches the listener of every node subscribed to that room,
  in publish order per publisher. Payloads are bytes; the broker never looks inside.
- Delivery is a hint, not a guarantee: a broker may drop payloads while it is disconnected.
  It reports that through `on_broker_state(False)`, and `on_broker_state(True)` once it is
  subscribed again, so the hub can backfill from the store (invariant 4).
- subscribe/unsubscribe are idempotent and never raise because the backend is down: the
  broker remembers the rooms and subscribes them again when it reconnects.
- publish never raises because the backend is down; it logs and counts the loss.
"""

from __future__ import annotations

from typing import Protocol


class BrokerListener(Protocol):
    def on_broker_message(self, room_id: str, payload: bytes) -> None:
        """Called on the event loop for each payload of a subscribed room."""

    def on_broker_state(self, healthy: bool) -> None:
        """Called when the broker loses or regains its subscriptions."""


class Broker(Protocol):
    @property
    def healthy(self) -> bool:
        """Whether the subscriptions are live (read-only to users of the port)."""

    def bind(self, listener: BrokerListener) -> None:
        """Set the one listener of this node; call before subscribing."""

    async def subscribe(self, room_id: str) -> None: ...

    async def unsubscribe(self, room_id: str) -> None: ...

    async def publish(self, items: list[tuple[str, bytes]]) -> None:
        """Publish (room_id, payload) pairs, in order."""
