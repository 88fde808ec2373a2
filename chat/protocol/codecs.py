"""The two wire formats: the same maps as JSON text frames or msgpack binary frames."""

from __future__ import annotations

import json
from typing import Any

import msgpack


class DecodeError(ValueError):
    """The frame is not a well-formed document of the connection's format."""


class JsonCodec:
    subprotocol = "ecolink.v1.json"
    binary = False

    def encode(self, frame: dict[str, Any]) -> str:
        return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))

    def decode(self, data: str | bytes) -> Any:
        # One frame type per subprotocol, as msgpack below: a binary frame is not JSON text
        # here, whatever its bytes hold (RFC 6455 §5.6: text frames carry UTF-8 text).
        if not isinstance(data, str):
            raise DecodeError("the JSON subprotocol takes text frames, got a binary frame")
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise DecodeError("frame is not valid JSON") from exc


class MsgpackCodec:
    subprotocol = "ecolink.v1.msgpack"
    binary = True

    def encode(self, frame: dict[str, Any]) -> bytes:
        return msgpack.packb(frame)

    def decode(self, data: str | bytes) -> Any:
        if isinstance(data, str):
            raise DecodeError("the msgpack subprotocol takes binary frames, got a text frame")
        try:
            return msgpack.unpackb(data, raw=False, strict_map_key=True)
        except Exception as exc:  # msgpack raises ValueError, ExtraData, FormatError, StackError…
            raise DecodeError("frame is not valid msgpack") from exc


JSON = JsonCodec()
MSGPACK = MsgpackCodec()
CODECS: tuple[JsonCodec | MsgpackCodec, ...] = (JSON, MSGPACK)
BY_SUBPROTOCOL = {codec.subprotocol: codec for codec in CODECS}
Codec = JsonCodec | MsgpackCodec


def choose(offered: list[str]) -> Codec | None:
    """The first of the client's offered subprotocols we speak; JSON when none was offered.

    Returns None when the client offered subprotocols but none of ours.
    """
    if not offered:
        return JSON
    for name in offered:
        codec = BY_SUBPROTOCOL.get(name.strip())
        if codec is not None:
            return codec
    return None
