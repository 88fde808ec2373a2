"""Frame fuzzing in process (issue 16, case 9): generated hostile frames, half JSON and half
msgpack (tests/support/frame_fuzz.py), each through the path a WebSocket frame takes on
a real embedded node — chat/transport/inbound.receive: rate limit, decode, validate, dispatch
to the rooms, search and moderation services — with a Connection whose socket is a list.

Holds: nothing raises out of receive(), no frame is answered with `internal` (the server's own
failure) and every answer is a frame of the protocol that the connection's codec can encode.
The same frames over live sockets: tests/e2e/test_frame_fuzz_live.py.

The test command runs 20,000 frames; the issue's 100,000 (docs/reliability.md §9):
`ECOLINK_FUZZ_FRAMES=100000 scripts/test tests/unit/test_frame_fuzz.py -s`.
"""

from __future__ import annotations

import collections
import os
import time
from typing import Any

import pytest

from chat.protocol.codecs import JSON, MSGPACK
from chat.protocol.ratelimit import TokenBucket
from chat.transport import inbound
from chat.transport.connection import Connection
from chat.transport.memberships import RoomLinks
from chat.transport.wire import format_index
from tests.support.client import register
from tests.support.frame_fuzz import FrameFuzzer
from tests.support.history import eventually
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio

FRAMES = int(os.environ.get("ECOLINK_FUZZ_FRAMES", "20000"))
SEED = 16_009
UNLIMITED = {"member_rate_per_s": 100_000, "member_rate_burst": 100_000,
             "ws_rate_per_s": 100_000, "ws_rate_burst": 100_000}
# Answers a fuzzed frame may get: errors, and what a frame that happens to be valid earns.
ANSWERS = {"error", "pong", "joined", "resync", "left", "ack", "search_results", "reported",
           "message", "presence", "typing", "read", "notification"}


async def test_hostile_frames_through_decode_validate_dispatch(make_settings):
    async with running_nodes(make_settings(**UNLIMITED)) as [server]:
        node = server.node
        account = await register(server.url, "fuzzer")
        user = await node.accounts.authenticate(account["token"])
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        codes: collections.Counter[str] = collections.Counter()
        kinds: collections.Counter[str] = collections.Counter()
        answers: collections.Counter[str] = collections.Counter()
        started, cpu = time.perf_counter(), time.process_time()
        for codec, binary, seed in ((JSON, False, SEED), (MSGPACK, True, SEED + 1)):
            # As chat/transport/ws.py builds one, but its socket is the list above.
            conn = Connection(send, codec, format_index(codec), user, max_frames=10**6, close_timeout_s=5,
                              bucket=TokenBucket(10**9, 10**9, time.monotonic()), on_slow=lambda: None,
                              links=RoomLinks(node.rooms, node.presence, node.metrics.joined_rooms,
                                              node.settings.max_joined_rooms))
            fuzzer = FrameFuzzer(seed, binary=binary)
            for index, data in enumerate(fuzzer.frames(FRAMES // 2)):
                try:
                    assert await inbound.receive(conn, node, data), "the connection was closed"
                except Exception as exc:  # pragma: no cover - the failure report
                    raise AssertionError(f"frame {index} of seed {seed} ({data[:200]!r}) raised {exc!r}") from exc
            # Sends are committed by tasks: wait for their answers (a hang fails, naming it).
            await eventually(lambda conn=conn: not conn.in_flight, "the fuzzed sends' answers")
            kinds.update(fuzzer.kinds)
            for message in sent:
                payload = message.get("text") if message.get("text") is not None else message.get("bytes")
                frame = codec.decode(payload)  # every answer is a well-formed frame of the codec
                assert frame["type"] in ANSWERS, frame
                answers[frame["type"]] += 1
                if frame["type"] == "error":
                    codes[frame["code"]] += 1
            sent.clear()
            conn.rooms.close()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"\n{FRAMES} frames in {elapsed:.1f} s ({cpu:.1f} s CPU); generated {dict(kinds)}; answers {dict(answers)}; "
              f"error codes {dict(codes)}")
        assert "internal" not in codes, codes
        # The generator reaches every stage: undecodable, unknown, invalid, and past validation.
        assert codes["bad_frame"] > 1000 and codes["invalid"] > 1000 and codes["unknown_type"] > 100
        assert sum(answers.values()) > FRAMES * 0.95  # all but valid typing/read frames are answered
