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

import functools
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

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


class BusError(ValueError):
    """A payload that is no envelope this version understands."""


@dataclass(frozen=True, slots=True)
class Envelope:
    kind: Kind
    node: str
    body: Any
    # ROOM_EVENT only: the body's own bytes, i.e. the msgpack wire frame.
    wire: bytes | None = None


@functools.lru_cache(maxsize=64)
def _header(kind: Kind, node: str) -> bytes:
    name = node.encode()
    if not 0 < len(name) <= FIXSTR_MAX:
        raise ValueError(f"a node id is 1 to {FIXSTR_MAX} bytes, got {len(name)}")
    return bytes((ARRAY_OF_3, kind, FIXSTR | len(name))) + name


def room_event(node: str, wire: bytes) -> bytes:
    """A committed message; `wire` is its frame already encoded as msgpack (MSGPACK.encode)."""
    return _header(Kind.ROOM_EVENT, node) + wire


def ephemeral(node: str, frame: dict[str, Any]) -> bytes:
    return _header(Kind.EPHEMERAL, node) + msgpack.packb(frame)


def eviction(node: str, user_id: int) -> bytes:
    return _header(Kind.EVICTION, node) + msgpack.packb(user_id)


def session_ended(node: str, user_id: int, session_key: bytes) -> bytes:
    return _header(Kind.SESSION_ENDED, node) + msgpack.packb([user_id, session_key])


def presence_changed(node: str, room_ids: list[str]) -> bytes:
    return _header(Kind.PRESENCE_CHANGED, node) + msgpack.packb(room_ids)


def sender(payload: bytes) -> str | None:
    """The sending node, read from the header alone (None if the header is malformed): lets a
    node skip its own echo without unpacking the body."""
    if len(payload) < 3 or payload[0] != ARRAY_OF_3 or payload[2] & 0xE0 != FIXSTR:
        return None
    end = 3 + (payload[2] & 0x1F)
    try:
        return payload[3:end].decode()
    except UnicodeDecodeError:
        return None


def decode(payload: bytes) -> Envelope:
    """Unpack and check an envelope; raises BusError for anything else."""
    node = sender(payload)
    try:
        if node is None:
            raise ValueError
        kind = Kind(payload[1])
    except ValueError:
        raise BusError("not a bus envelope") from None
    # One copy of the body's bytes; for a ROOM_EVENT they are the wire frame, never re-encoded.
    body_bytes = payload[3 + (payload[2] & 0x1F):]
    try:
        body = msgpack.unpackb(body_bytes, raw=False)
    except Exception as exc:  # msgpack raises ValueError, ExtraData, FormatError, StackError…
        raise BusError(f"{kind.name} body is not valid msgpack") from exc
    if not _BODY_CHECKS[kind](body):
        raise BusError(f"{kind.name} body has the wrong shape")
    return Envelope(kind, node, body, body_bytes if kind is Kind.ROOM_EVENT else None)


def _is_int(value: Any) -> bool:
    return type(value) is int


_BODY_CHECKS = {
    Kind.ROOM_EVENT: lambda body: isinstance(body, dict) and _is_int(body.get("seq")),
    Kind.EPHEMERAL: lambda body: isinstance(body, dict),
    Kind.EVICTION: _is_int,
    Kind.SESSION_ENDED: lambda body: (isinstance(body, list) and len(body) == 2
                                      and _is_int(body[0]) and isinstance(body[1], bytes)),
    Kind.PRESENCE_CHANGED: lambda body: (isinstance(body, list)
                                         and all(isinstance(room, str) for room in body)),
}
