"""Frame fuzzing over live sockets (issue 16, case 9): 10,000 generated hostile frames
(tests/support/frame_fuzz.py), half on a JSON and half on a msgpack connection, to a real
uvicorn node, while another member keeps sending and being acked.

Holds: the attacker's connections are never closed (no 1011, nor any other code: with the
rate limits out of the way nothing they send is a reason to close), every frame the server
sends them is a frame of the protocol, none is an `internal` error, and the other member's
sends are all acked meanwhile. Frames larger than the node's max_frame_bytes are left out:
those end the connection with 1009 by design (tests/e2e/test_bad_input.py). The same
generator, 100,000 frames in process: tests/unit/test_frame_fuzz.py.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.client import WsClient, register
from tests.support.frame_fuzz import FrameFuzzer
from tests.support.history import eventually
from tests.support.nodes import running_nodes
from tests.support.timing import timeout

pytestmark = pytest.mark.asyncio

FRAMES = 10_000
SEED = 16_090
ROOM = "green-buildings"
UNLIMITED = {"member_rate_per_s": 100_000, "member_rate_burst": 100_000,
             "ws_rate_per_s": 100_000, "ws_rate_burst": 100_000}


async def drain(client: WsClient, seen: collections.Counter[str], codes: collections.Counter[str],
                acked: set[str]) -> None:
    """Reads until the connection closes; counts frame types and error codes, keeps acked cids."""
    try:
        while True:
            frame = await client.recv(timeout(120))
            seen[frame["type"]] += 1
            if frame["type"] == "error":
                codes[frame["code"]] += 1
            elif frame["type"] == "ack":
                acked.add(str(frame.get("cid")))
    except ConnectionClosed:
        return


async def test_10k_hostile_frames_over_live_sockets_close_nothing_and_others_are_served(make_settings):
    settings = make_settings(**UNLIMITED)
    limit = settings.max_frame_bytes
    async with running_nodes(settings) as [node]:
        mallory, olga = await register(node.url, "mallory"), await register(node.url, "olga")
        other = await WsClient.connect(node.ws_url, olga["token"], binary=False)
        assert (await other.join(ROOM))["type"] == "joined"
        seen: collections.Counter[str] = collections.Counter()
        codes: collections.Counter[str] = collections.Counter()
        acks: list[dict[str, Any]] = []
        sent = 0
        for binary, seed in ((False, SEED), (True, SEED + 1)):
            attacker = await WsClient.connect(node.ws_url, mallory["token"], binary=binary)
            acked: set[str] = set()
            reader = asyncio.create_task(drain(attacker, seen, codes, acked))
            fuzzer = FrameFuzzer(seed, binary=binary)
            count = 0
            while count < FRAMES // 2:
                data = fuzzer.frame()
                size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
                if size > limit:
                    continue
                if isinstance(data, str):
                    data = data.encode("utf-8", "replace").decode()  # a text frame carries UTF-8
                await attacker.ws.send(data)
                count += 1
                if count % 500 == 0:  # meanwhile another member is served
                    cid = await other.send(ROOM, f"still here {binary} {count}", cid=f"o{int(binary)}-{count}")
                    acks.append(await other.wait_for(lambda f, cid=cid: f.get("cid") == cid, timeout(30)))
            sent += count
            # Still serving this very connection: a message sent after the flood is acked (a
            # pong could answer one of the fuzzed pings). The flood may have left the room.
            await attacker.send_frame({"type": "join", "room": ROOM, "since": 10**6})
            await attacker.send_frame({"type": "send", "room": ROOM, "body": "after", "cid": f"after-{binary}"})
            await eventually(lambda acked=acked, cid=f"after-{binary}": cid in acked, "the attacker's send after the flood acked",
                             timeout(30))
            assert attacker.ws.close_code is None, f"closed with {attacker.ws.close_code}"
            await attacker.close()
            await reader
        print(f"\n{sent} frames; answers {dict(seen)}; error codes {dict(codes)}")
        assert sent == FRAMES
        assert [f["type"] for f in acks] == ["ack"] * (FRAMES // 500)
        assert "internal" not in codes
        assert codes["bad_frame"] > 100 and codes["invalid"] > 100
