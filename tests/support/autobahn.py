"""RFC 6455 conformance with the Autobahn TestSuite's cases, driven by kosoku (issue 16, case 8).

Autobahn's fuzzing client needs a peer that echoes every message, and the chat endpoint (/ws)
is not one: it takes only authenticated frames of its own protocol. What the cases test is the
WebSocket layer — framing, fragmentation, control frames, UTF-8 validation, the closing
handshake — and a node gets that layer from uvicorn's websockets-sansio protocol configured by
chat/transport/server.py (`node_config`). So the run serves, with exactly that configuration
and a node's production settings (max_frame_bytes, no permessage-deflate, the request-head
deadline), the real app with one more route beside it: `/autobahn`, an ASGI echo. Every byte
of a case passes through the same protocol object, limits and event loop as a chat frame.
The chat endpoint itself is fuzzed with hostile frames by tests/e2e/test_frame_fuzz_live.py.

EXCLUDED lists the cases that cannot pass on a node by design, with the reason; docs/
reliability.md (section 8) repeats it. A case outside it that does not pass is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from chat.config import Settings
from chat.transport.app import create_app
from chat.transport.server import node_config

ECHO_PATH = "/autobahn"

# Case globs -> why a node does not pass them. Verdicts other than OK, NON-STRICT and
# INFORMATIONAL (kosoku's `passed`) are failures anywhere else.
EXCLUDED: dict[str, str] = {
    "12.*": "permessage-deflate is off on every node (chat/transport/server.py: "
            "ws_per_message_deflate=False, `compression is off until it is tested`); the cases "
            "of compressed messages report UNIMPLEMENTED",
    "13.*": "as 12.*: permessage-deflate parameters (context takeover, window bits) are not "
            "negotiated when compression is off",
}
# The websockets library (under uvicorn's websockets-sansio protocol) fails the connection with
# 1002 when a Close frame arrives between the fragments of a message (websockets/protocol.py:
# "incomplete fragmented message"); RFC 6455 §5.4 lets control frames come between fragments,
# so Autobahn wants the close echoed with 1000. Only the close code a peer that broke off its
# own message sees differs; nothing is delivered either way.
EXCLUDED["7.1.5"] = ("websockets answers a Close that interrupts a fragmented message with 1002 "
                     "Protocol Error instead of echoing 1000 (websockets/protocol.py, \"incomplete "
                     "fragmented message\"); the peer broke off its own message, nothing is delivered")
# Cases whose messages exceed the production frame limit (max_frame_bytes, 64 KiB): the node
# closes with 1009 Message Too Big before echoing, as RFC 6455 §7.4.1 provides for. kosoku
# reports them as failures because Autobahn expects the echo. Computed per limit: see
# `over_limit_cases`.
OVER_LIMIT_REASON = ("the message is larger than the node's max_frame_bytes ({limit} bytes by default); "
                     "the node closes with 1009 Message Too Big (RFC 6455 §7.4.1) instead of echoing it")

# The short run in the test command: every group of the protocol, the cheap cases (the 9.*
# performance cases and the limit-sized ones run in `scripts/bench autobahn`).
SHORT_CASES = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"]


def over_limit_cases(limit: int) -> dict[str, str]:
    """Cases of the suite whose single message is larger than `limit` bytes (with the 9.x
    sizes of the Autobahn case files: 64 KiB to 16 MiB per message or frame)."""
    reason = OVER_LIMIT_REASON.format(limit=limit)
    sizes = {
        # 9.1.x text / 9.2.x binary: one message of 64 KiB, 256 KiB, 1, 4, 8, 16 MiB.
        **{f"9.{group}.{i}": size for group in (1, 2)
           for i, size in enumerate((2**16, 2**18, 2**20, 2**22, 2**23, 2**24), 1)},
        # 9.3.x text / 9.4.x binary: a 4 MiB message in fragments of 64 B to 4 MiB.
        **{f"9.{group}.{i}": 2**22 for group in (3, 4) for i in range(1, 10)},
        # 9.5.x text / 9.6.x binary: a 1 MiB message written to the socket in chops of 64 B to 128 KiB.
        **{f"9.{group}.{i}": 2**20 for group in (5, 6) for i in range(1, 7)},
    }
    return {case: reason for case, size in sizes.items() if size > limit}


def exclusions(settings: Settings) -> dict[str, str]:
    return {**EXCLUDED, **over_limit_cases(settings.max_frame_bytes)}


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Autobahn's peer: every message back as it came (text as text, binary as binary)."""
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})


def with_echo(app: Any) -> Any:
    async def routed(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and scope["path"] == ECHO_PATH:
            await echo(scope, receive, send)
        else:
            await app(scope, receive, send)

    routed.state = app.state  # type: ignore[attr-defined]  # uvicorn and tests read app.state
    return routed


@contextlib.asynccontextmanager
async def conformance_node(settings: Settings) -> AsyncIterator[str]:
    """A node (the app and uvicorn as `ecolink serve` runs them) with the echo route; yields
    the echo's ws:// URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(node_config(with_echo(app), settings, timeout_graceful_shutdown=5))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the node stopped during startup")
            await asyncio.sleep(0.02)
        yield f"ws://127.0.0.1:{port}{ECHO_PATH}"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 15)
        sock.close()


def verdicts(results: list[Any]) -> list[tuple[str, str, str]]:
    return [(r.case_id, r.behavior.value, r.behavior_close.value) for r in results]


PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}


def failures(results: list[Any]) -> list[tuple[str, str, str, str]]:
    return [(r.case_id, r.behavior.value, r.behavior_close.value, r.result_close or r.result)
            for r in results if r.behavior.value not in PASSING or r.behavior_close.value not in PASSING]
