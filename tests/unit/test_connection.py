"""chat.transport.connection: a reply that cannot be encoded never makes the socket deaf."""

from __future__ import annotations

import json
from typing import Any

import msgpack
import pytest

from chat.models import User
from chat.protocol.codecs import JSON, MSGPACK
from chat.protocol.ratelimit import TokenBucket
from chat.transport.connection import Connection


class RecordingSend:
    """An ASGI send that takes every message, as a socket that keeps up would."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        if "text" in message:
            message["text"].encode()  # what the server does with a text frame
        self.messages.append(message)


@pytest.mark.parametrize("codec", [JSON, MSGPACK], ids=["json", "msgpack"])
async def test_an_unencodable_reply_becomes_an_internal_error_and_the_connection_lives(codec):
    send = RecordingSend()
    conn = Connection(send, codec, 0, User(1, "a@example.test", "A", "member", 0), max_frames=8,
                      close_timeout_s=1, bucket=TokenBucket(10, 10, 0), on_slow=lambda: None)
    conn.send_frame({"type": "error", "code": "invalid", "message": "m", "cid": "\ud800"})
    conn.send_frame({"type": "pong"})
    assert not conn.dead
    decoded = [json.loads(m["text"]) if "text" in m else msgpack.unpackb(m["bytes"]) for m in send.messages]
    assert decoded == [{"type": "error", "code": "internal", "message": "a reply could not be encoded",
                        "retry": True},
                       {"type": "pong"}]
