"""Wire formats as ASGI send messages, built once per event and shared by every connection."""

from __future__ import annotations

from typing import Any

from chat.protocol.codecs import JSON, MSGPACK, Codec


class JsonWire:
    codec = JSON

    def wrap(self, frame: dict[str, Any], msgpack_bytes: bytes | None = None) -> dict[str, Any]:
        return {"type": "websocket.send", "text": JSON.encode(frame)}


class MsgpackWire:
    codec = MSGPACK

    def wrap(self, frame: dict[str, Any], msgpack_bytes: bytes | None = None) -> dict[str, Any]:
        data = msgpack_bytes if msgpack_bytes is not None else MSGPACK.encode(frame)
        return {"type": "websocket.send", "bytes": data}


FORMATS: list[JsonWire | MsgpackWire] = [JsonWire(), MsgpackWire()]


def format_index(codec: Codec) -> int:
    return 0 if codec is JSON else 1
