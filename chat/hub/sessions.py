"""Live sessions: the connections on this node of each session (by token hash), so that ending
a session closes its WebSockets on every node, not only its HTTP requests.

Ending a session (Hub.end_session, called once the store has deleted it):
- closes this node's connections of that session at once;
- publishes a SESSION_ENDED envelope (user id, token hash; chat/protocol/bus.py) on the
  user's personal channel (chat/hub/personal.py), which exactly the nodes holding a connection
  of that user subscribe; each closes its connections of that session when it arrives.

The fallback (Hub.sweep): a publish can be lost (Redis down, or a failed publish while it is
up), and a logout can land between a connection's authentication and its registration here.
So every sweep also asks the store which of this node's sessions still exist and have not
expired, in one batched query, and ends the others. While Redis is down the sweep runs every
ECOLINK_DEGRADED_POLL_S; otherwise every ECOLINK_SWEEP_INTERVAL_S. An expired session's
sockets close the same way.
"""

from __future__ import annotations

from typing import Protocol


class SessionHolder(Protocol):
    """A connection as the registry sees it (the transport's Connection implements it)."""

    @property
    def session_key(self) -> bytes:
        """The hash of the token the connection authenticated with."""

    def session_ended(self) -> None:
        """Close the connection (SESSION_ENDED) without waiting; called at most once."""


class LiveSessions:
    def __init__(self) -> None:
        self._holders: dict[bytes, set[SessionHolder]] = {}

    def add(self, holder: SessionHolder) -> None:
        self._holders.setdefault(holder.session_key, set()).add(holder)

    def discard(self, holder: SessionHolder) -> None:
        holders = self._holders.get(holder.session_key)
        if holders is not None:
            holders.discard(holder)
            if not holders:
                del self._holders[holder.session_key]

    def keys(self) -> list[bytes]:
        return list(self._holders)

    def end(self, session_key: bytes) -> int:
        """Close every connection of a session here; returns how many."""
        holders = self._holders.pop(session_key, set())
        for holder in holders:
            holder.session_ended()
        return len(holders)

    def __contains__(self, session_key: object) -> bool:
        return session_key in self._holders

    def __len__(self) -> int:
        return len(self._holders)
