"""No reader waits for the slowest (invariant 6; issue 16, case 5): a client that stops reading
fills its bounded queue — never more than ECOLINK_SEND_QUEUE_FRAMES frames on the server — and is
closed with 4008 (slow consumer, resume) while the other members of the room keep receiving
everything; it then resumes with `since` and gets exactly the rest. The others' latency with
and without it is measured by `scripts/bench slow` (docs/reliability.md, section 5)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import msgpack
import pytest
import websockets

from chat.config import Settings
from chat.protocol.closecodes import SLOW_CONSUMER
from tests.support.client import WsClient, register
from tests.support.history import ClientLog, Peer, check, eventually, stored_messages
from tests.support.nodes import running_nodes
from tests.support.probes import metric
from tests.support.timing import timeout

pytestmark = pytest.mark.slow

ROOM = "water-management"
BODY_CHARS = 8000  # several KB a message, so the socket buffers fill after a few hundred
SLOW_METRIC = "ecolink_slow_consumer_closes_total"


def small_receive_buffer_socket(port: int) -> socket.socket:
    """A connected client socket whose kernel receive buffer is small, so a client that stops
    reading stops the server's writes after little data (TCP flow control does the rest)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


async def test_a_client_that_stops_reading_is_closed_4008_and_resumes_exactly(
    backend: Callable[..., Settings],
):
    settings = backend(send_queue_frames=16, slow_close_timeout_s=timeout(15),
                       ws_rate_per_s=10000, ws_rate_burst=10000,
                       member_rate_per_s=10000, member_rate_burst=10000)
    async with running_nodes(settings) as [node]:
        slow_account = await register(node.url, "slow")
        # max_queue=1: the client library stops reading the socket as soon as one frame waits.
        slow = await WsClient.connect(node.ws_url, slow_account["token"], max_queue=1,
                                      sock=small_receive_buffer_socket(node.port))
        slow_log = ClientLog("slow", slow_account["user"]["id"])
        slow_log.joining(ROOM)
        slow_log.received(await slow.join(ROOM))
        fast = [await Peer.connect(node.ws_url, await register(node.url, f"fast{i}"),
                                   binary=i == 0) for i in range(2)]
        for peer in fast:
            await peer.join(ROOM)
        sender = await Peer.connect(node.ws_url, await register(node.url, "sender"))
        closes_before = await metric(node.url, SLOW_METRIC)

        # Send big messages until the server gives up on the slow client; the test never
        # reads from it meanwhile. Its server-side queue is watched all along.
        connection = next(c for group in node.node.hub.feeds[ROOM].members for c in group
                          if c.user_id == slow_account["user"]["id"])
        peak = [0]
        watching = asyncio.create_task(_watch_queue(connection, peak))
        stop = asyncio.Event()
        sending = asyncio.create_task(_send_big(sender, stop))
        await eventually(lambda: _metric_above(node.url, closes_before),
                         "the server closes the slow consumer", timeout(15), poll_s=0.05)
        stop.set()
        await sending  # the last batch is acked
        watching.cancel()
        # It filled up to the bound and never beyond (the overflow is what closed it).
        assert settings.send_queue_frames // 2 <= peak[0] <= settings.send_queue_frames
        head = max(a.seq for a in sender.log.acks)
        assert sender.log.errors == []
        # The fast readers have every message while the slow client has still read nothing
        # since its join: fan-out never waited for it.
        await eventually(lambda: all(p.has_seq(ROOM, head) for p in fast),
                         f"fast readers have seq {head}")
        assert not any(p.closed.is_set() for p in fast)
        assert await metric(node.url, SLOW_METRIC) == closes_before + 1

        # Now the slow client reads: whatever had reached its socket, then close code 4008.
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                slow_log.received(_decode(await asyncio.wait_for(slow.ws.recv(), timeout(15))))
        assert closed.value.rcvd is not None and closed.value.rcvd.code == SLOW_CONSUMER
        had = slow_log.reader(ROOM).last_seq
        assert had is not None and 0 < had < head, "the slow client should have been cut short"

        # It reconnects and resumes with since = the last seq it had: exactly the rest.
        again = await Peer.connect(node.ws_url, slow_account, slow_log)
        assert await again.resume(ROOM) == head
        await again.until(lambda: again.has_seq(ROOM, head), f"the slow client's replay to {head}")
        assert again.seqs(ROOM) == list(range(1, head + 1))
        # …and then live messages again.
        await sender.send(ROOM, "after the resume")
        await again.until(lambda: again.has_seq(ROOM, head + 1), "a live message after resuming")
        for peer in fast:
            await peer.until(lambda peer=peer: peer.has_seq(ROOM, head + 1), "the live message")

        store = await stored_messages(node.node.store, [ROOM])
        summary = check(store, [slow_log, sender.log] + [p.log for p in fast])
        assert summary.stored == {ROOM: head + 1}
        for peer in [again, sender, *fast]:
            await peer.close()


async def _send_big(sender: Peer, stop: asyncio.Event) -> None:
    i = 0
    while not stop.is_set():
        # Every body differs, so nothing along the way can shrink the traffic.
        await sender.send_many(ROOM, 4, window=4,
                               body=lambda n, i=i: f"{i + n:06d} " + "数据" * (BODY_CHARS // 2))
        i += 4


async def _watch_queue(connection: object, peak: list[int]) -> None:
    """The most frames seen waiting in the connection's queue (sampled every 2 ms)."""
    while True:
        peak[0] = max(peak[0], connection.queued)  # type: ignore[attr-defined]
        await asyncio.sleep(0.002)


async def _metric_above(base_url: str, before: float) -> bool:
    return await metric(base_url, SLOW_METRIC) > before


def _decode(data: bytes | str) -> dict:
    assert isinstance(data, bytes)
    return msgpack.unpackb(data)
