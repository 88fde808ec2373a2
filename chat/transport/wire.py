"""Wire formats as ASGI send messages, built once per event and shared by every connection.

Each message also carries, under "ecolink.frame", the complete WebSocket frame (RFC 6455
§5.2: FIN, opcode, length; server frames are unmasked, §5.1), so a connection that can reach
its socket writes the same bytes to every member without framing them again
(chat/transport/connection.py). ASGI servers ignore keys they do not know."""

from __future__ import annotations

import struct
from typing import Any

from chat.protocol.codecs import JSON, MSGPACK, Codec


OP_TEXT = 0x1
OP_BINARY = 0x2


def ws_frame_bytes(opcode: int, payload: bytes) -> bytes:
    """One unfragmented, unmasked WebSocket frame."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return header + payload


class JsonWire:
    codec = JSON

    def wrap(self, frame: dict[str, Any], msgpack_bytes: bytes | None = None) -> dict[str, Any]:
        text = JSON.encode(frame)
        return {"type": "websocket.send", "text": text,
                "ecolink.frame": ws_frame_bytes(OP_TEXT, text.encode())}


class MsgpackWire:
    codec = MSGPACK

    def wrap(self, frame: dict[str, Any], msgpack_bytes: bytes | None = None) -> dict[str, Any]:
        data = msgpack_bytes if msgpack_bytes is not None else MSGPACK.encode(frame)
        return {"type": "websocket.send", "bytes": data, "ecolink.frame": ws_frame_bytes(OP_BINARY, data)}


FORMATS: list[JsonWire | MsgpackWire] = [JsonWire(), MsgpackWire()]


def format_index(codec: Codec) -> int:
    return 0 if codec is JSON else 1
