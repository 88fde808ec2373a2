"""Per-room gapless order under concurrent load (invariants 1-3 and 6): many senders
on several nodes write into one room at once; the store holds seq 1..N with no hole or
duplicate, and every subscriber, on every node, in either wire format, receives exactly the
store's order. The history checker (tests/support/history.py) then proves invariants 1-5."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from chat.config import Settings
from tests.support.client import register
from tests.support.history import Peer, check, eventually, stored_messages
from tests.support.nodes import running_nodes
from tests.support.timing import timeout

ROOM = "green-buildings"
# Load tests lift the per-connection frame rate limit (docs/operations.md): the limit is not
# what they measure.
FAST = {"ws_rate_per_s": 10000, "ws_rate_burst": 10000,
        "member_rate_per_s": 10000, "member_rate_burst": 10000}


async def concurrent_senders_keep_one_order(
    settings: list[Settings], senders: int, total: int, subscribers_per_node: int = 2
) -> None:
    assert total % senders == 0
    async with running_nodes(*settings) as nodes:
        subscribers: list[Peer] = []
        for n, node in enumerate(nodes):
            for i in range(subscribers_per_node):
                account = await register(node.url, f"reader{n}-{i}")
                # Both wire formats: each is encoded once per event and must carry the same order.
                peer = await Peer.connect(node.ws_url, account, binary=i % 2 == 0)
                assert await peer.join(ROOM) == 0
                subscribers.append(peer)
        writers: list[Peer] = []
        for s in range(senders):
            node = nodes[s % len(nodes)]
            writers.append(await Peer.connect(node.ws_url, await register(node.url, f"writer{s}")))

        each = total // senders
        await asyncio.gather(*(
            w.send_many(ROOM, each, window=8, body=lambda i, w=w: f"{w.log.name} says {i}")
            for w in writers
        ))

        for w in writers:
            assert w.log.errors == [], w.log.errors[:3]
            assert len(w.log.acks) == each
        await eventually(lambda: all(p.has_seq(ROOM, total) for p in subscribers),
                         f"every subscriber has seq {total}", timeout(30))

        store = await stored_messages(nodes[0].node.store, [ROOM])
        assert [m.seq for m in store] == list(range(1, total + 1))
        order = [(m.seq, m.message_id) for m in store]
        for peer in subscribers:
            got = [(d.seq, d.message_id) for d in peer.log.reader(ROOM).deliveries]
            assert got == order, f"{peer.log.name} saw another order"
        # Every writer's cids are stored exactly once, with the acked seq and id.
        summary = check(store, [p.log for p in subscribers + writers])
        assert summary.stored == {ROOM: total} and summary.acked == total
        assert summary.deliveries == total * len(subscribers)
        for peer in subscribers + writers:
            await peer.close()


@pytest.mark.slow
async def test_twenty_senders_on_two_nodes_get_one_gapless_order(production):
    await concurrent_senders_keep_one_order(
        [production(**FAST), production(**FAST)], senders=20, total=2000)


async def test_five_senders_embedded_get_one_gapless_order(make_settings: Callable[..., Settings]):
    await concurrent_senders_keep_one_order([make_settings(**FAST)], senders=5, total=300)
