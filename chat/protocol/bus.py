"""The bus envelope: what one node publishes for the others, and the only place that packs and
unpacks it (sans-I/O: bytes in, values out).

Every payload on a broker channel, and every presence announcement, is a msgpack array of three
`[kind, node, body]`: a `Kind` tag, the id of the node that sent it (so a node can drop its own
echo before unpacking anything), and a body whose shape the kind fixes:

| kind | channel | body |
|---|---|---|
| ROOM_EVENT | the room | the committed `message` frame (a map), inline |
| EPHEMERAL | a room or a personal channel | a frame outside the sequence (typing, presence, membership, notification, read position …) |
| EVICTION | the room | the id of the user removed from it |
| SESSION_ENDED | the user's personal channel | `[user id, session key]` (the token's hash) |
| PRESENCE_CHANGED | the presence channel | the ids of the rooms whose presence changed |

A ROOM_EVENT's body is written inline and its bytes are exactly the msgpack wire frame, so a
receiving node hands `payload[offset:]` to its msgpack readers without encoding again (the
fan-out path, docs/decisions.md). For that the header has one fixed layout, checked here:
fixarray of 3 (0x93), the kind as a positive fixint, the node as a fixstr (at most 31 bytes).

Malformed payloads (from a foreign or newer writer) raise BusError: the caller logs and drops
them, and the sweep makes up for anything that mattered.
"""

from __future__ import annotations

from enum import IntEnum
from collections.abc import Callable
from typing import Any, NamedTuple, TypeGuard

import msgpack

ARRAY_OF_3 = 0x93
FIXSTR = 0xA0
FIXSTR_MAX = 31


class Kind(IntEnum):
    ROOM_EVENT = 1
    EPHEMERAL = 2
    EVICTION = 3
    SESSION_ENDED = 4
    PRESENCE_CHANGED = 5


# Plain lookups on the hot path: an IntEnum call or attribute costs more than the rest.
ROOM_EVENT, EPHEMERAL, EVICTION, SESSION_ENDED, PRESENCE_CHANGED = Kind
_KINDS = {int(kind): kind for kind in Kind}


class BusError(ValueError):
    """A payload that is no envelope this version understands."""


class Envelope(NamedTuple):
    kind: Kind
    node: str
    body: Any
    # ROOM_EVENT only: the body's own bytes, i.e. the msgpack wire frame.
    wire: bytes | None


class BusWriter:
    """Packs envelopes sent by one node; the headers are built once."""

    __slots__ = ("node", "_tag", "_headers")

    def __init__(self, node: str) -> None:
        name = node.encode()
        if not 0 < len(name) <= FIXSTR_MAX:
            raise ValueError(f"a node id is 1 to {FIXSTR_MAX} bytes, got {len(name)}")
        self.node = node
        self._tag = bytes((FIXSTR | len(name),)) + name
        self._headers = {kind: bytes((ARRAY_OF_3, kind)) + self._tag for kind in Kind}

    def is_own(self, payload: bytes) -> bool:
        """Whether this node sent the payload, from the header alone: an echo is dropped
        without unpacking its body."""
        return payload.startswith(self._tag, 2)

    def room_event(self, wire: bytes) -> bytes:
        """A committed message; `wire` is its frame already encoded as msgpack (MSGPACK.encode)."""
        return self._headers[ROOM_EVENT] + wire

    def ephemeral(self, frame: dict[str, Any]) -> bytes:
        return self._headers[EPHEMERAL] + msgpack.packb(frame)

    def eviction(self, user_id: int) -> bytes:
        return self._headers[EVICTION] + msgpack.packb(user_id)

    def session_ended(self, user_id: int, session_key: bytes) -> bytes:
        return self._headers[SESSION_ENDED] + msgpack.packb([user_id, session_key])

    def presence_changed(self, room_ids: list[str]) -> bytes:
        return self._headers[PRESENCE_CHANGED] + msgpack.packb(room_ids)


def decode(payload: bytes) -> Envelope:
    """Unpack and check an envelope; raises BusError for anything else."""
    if len(payload) < 3 or payload[0] != ARRAY_OF_3 or payload[2] & 0xE0 != FIXSTR:
        raise BusError("not a bus envelope")
    kind = _KINDS.get(payload[1])
    if kind is None:
        raise BusError(f"unknown envelope kind {payload[1]}")
    start = 3 + (payload[2] & 0x1F)
    # One copy of the body's bytes; for a ROOM_EVENT they are the wire frame, never re-encoded.
    body_bytes = payload[start:]
    try:
        node = payload[3:start].decode()
        body = msgpack.unpackb(body_bytes, raw=False)
    except Exception as exc:  # msgpack raises ValueError, ExtraData, FormatError, StackError…
        raise BusError(f"{kind.name} envelope is not valid msgpack") from exc
    if not _BODY_CHECKS[kind](body):
        raise BusError(f"{kind.name} body has the wrong shape")
    return Envelope(kind, node, body, body_bytes if kind is ROOM_EVENT else None)


def _is_int(value: object) -> TypeGuard[int]:
    return type(value) is int


_BODY_CHECKS: dict[Kind, Callable[[Any], bool]] = {
    ROOM_EVENT: lambda body: isinstance(body, dict) and _is_int(body.get("seq")),
    EPHEMERAL: lambda body: isinstance(body, dict),
    EVICTION: _is_int,
    SESSION_ENDED: lambda body: (isinstance(body, list) and len(body) == 2
                                 and _is_int(body[0]) and isinstance(body[1], bytes)),
    PRESENCE_CHANGED: lambda body: (isinstance(body, list)
                                    and all(isinstance(room, str) for room in body)),
}
