"""Client frames: validation of decoded maps into typed frames, and server frame builders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chat.clock import iso_ms
from chat.models import Message

ROOM_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
MAX_CID_CHARS = 64


class FrameError(ValueError):
    """A client frame that cannot be served; becomes an `error` frame with `code`."""

    def __init__(self, code: str, message: str, cid: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.cid = cid


@dataclass(frozen=True, slots=True)
class Join:
    room_id: str
    since: int | None


@dataclass(frozen=True, slots=True)
class Leave:
    room_id: str


@dataclass(frozen=True, slots=True)
class Send:
    room_id: str
    body: str
    cid: str


@dataclass(frozen=True, slots=True)
class Ping:
    pass


ClientFrame = Join | Leave | Send | Ping


def is_room_id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64 and ROOM_ID_CHARS.issuperset(value)


def parse(doc: Any, *, max_body_chars: int) -> ClientFrame:
    """Validate one decoded frame. Raises FrameError naming the first wrong field."""
    if not isinstance(doc, dict):
        raise FrameError("bad_frame", "a frame must be a map with a 'type'")
    kind = doc.get("type")
    cid = doc.get("cid")
    if not isinstance(cid, str) or not 0 < len(cid) <= MAX_CID_CHARS:
        cid = None  # only a usable cid is echoed in an error
    if kind == "send":
        return Send(_room(doc, cid), _body(doc, max_body_chars, cid), _cid(doc))
    if kind == "join":
        return Join(_room(doc, None), _since(doc))
    if kind == "leave":
        return Leave(_room(doc, None))
    if kind == "ping":
        return Ping()
    if not isinstance(kind, str):
        raise FrameError("bad_frame", "'type' must be a string", cid)
    raise FrameError("unknown_type", "unknown frame type (see docs/protocol.md)", cid)


def _room(doc: dict[str, Any], cid: str | None) -> str:
    room = doc.get("room")
    if not is_room_id(room):
        raise FrameError("invalid", "'room' must be a room id: 1-64 of a-z, 0-9 and '-'", cid)
    return room


def _body(doc: dict[str, Any], max_body_chars: int, cid: str | None) -> str:
    body = doc.get("body")
    if not isinstance(body, str) or not body.strip():
        raise FrameError("invalid", "'body' must be a non-empty string", cid)
    if len(body) > max_body_chars:
        raise FrameError("too_large", f"'body' is longer than {max_body_chars} characters", cid)
    return body


def _cid(doc: dict[str, Any]) -> str:
    cid = doc.get("cid")
    if not isinstance(cid, str) or not 0 < len(cid) <= MAX_CID_CHARS:
        raise FrameError("invalid", f"'cid' must be a string of 1-{MAX_CID_CHARS} characters")
    return cid


def _since(doc: dict[str, Any]) -> int | None:
    since = doc.get("since")
    if since is None:
        return None
    # bool is an int in Python; a client sending true means a bug, not seq 1.
    if type(since) is not int or since < 0:
        raise FrameError("invalid", "'since' must be a whole number >= 0")
    return since


# -- server frames ------------------------------------------------------------------------


def message_frame(message: Message) -> dict[str, Any]:
    return {
        "type": "message",
        "room": message.room_id,
        "seq": message.seq,
        "id": message.message_id,
        "author": {"id": message.author_id, "name": message.author_name},
        "body": message.body,
        "sent_at": iso_ms(message.sent_at_ms),
    }


def ack_frame(message: Message) -> dict[str, Any]:
    return {
        "type": "ack",
        "room": message.room_id,
        "cid": message.cid,
        "seq": message.seq,
        "id": message.message_id,
    }


def error_frame(code: str, message: str, cid: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if cid is not None:
        frame["cid"] = cid
    return frame


def joined_frame(room_id: str, seq: int) -> dict[str, Any]:
    return {"type": "joined", "room": room_id, "seq": seq}


def resync_frame(room_id: str, seq: int) -> dict[str, Any]:
    return {"type": "resync", "room": room_id, "seq": seq}


def left_frame(room_id: str) -> dict[str, Any]:
    return {"type": "left", "room": room_id}


PONG = {"type": "pong"}
