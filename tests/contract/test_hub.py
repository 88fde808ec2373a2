"""The hub against each store: gap backfill, duplicates, joins and the sweep, driven by hand
(a recording subscriber, broker payloads injected directly), so no timing is involved."""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack

from chat.broker.memory import MemoryBroker
from chat.clock import FakeClock
from chat.hub.hub import Hub
from chat.hub.personal import personal_channel
from chat.metrics import Metrics
from chat.models import SendRequest
from chat.protocol import bus
from chat.protocol.codecs import MSGPACK
from chat.protocol.frames import message_frame
from chat.transport.wire import FORMATS
from tests.support.doubles import RecordingSubscriber
from tests.support.timing import timeout

NOW = 1_700_000_000_000


def from_other_node(message) -> bytes:
    """A committed message as another node publishes it."""
    return bus.BusWriter("other-node").room_event(MSGPACK.encode(message_frame(message)))


def make_hub(store, **overrides: Any) -> Hub:
    options: dict[str, Any] = dict(replay_limit=100, linger_s=0.05, sweep_interval_s=3600,
                                   degraded_poll_s=3600)
    options.update(overrides)
    return Hub(store=store, broker=MemoryBroker(), formats=list(FORMATS), clock=FakeClock(NOW),
               metrics=Metrics(), **options)


async def commit(store, user, room: str, count: int, start: int = 0) -> list:
    outcomes = await store.append_batch(
        [SendRequest(room, user.user_id, user.display_name, f"c{start + i}", f"m{start + i}")
         for i in range(count)], NOW)
    return [o.message for o in outcomes]


async def test_a_gap_in_broker_events_is_backfilled_from_the_store(store):
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    hub = make_hub(store)
    async with hub.running():
        sub = RecordingSubscriber()
        assert await hub.join(sub, "zhuhai", None) == 0
        messages = await commit(store, ann, "zhuhai", 3)
        # Only the third reaches us through the broker: 1 and 2 were "lost" by Redis.
        hub.on_broker_message("zhuhai", from_other_node(messages[2]))
        await sub.wait_seq(3)
        assert sub.seqs() == [1, 2, 3]
        assert [f["body"] for f in sub.frames if f["type"] == "message"] == ["m0", "m1", "m2"]
        # A duplicate (the echo of a local commit) is dropped.
        hub.on_broker_message("zhuhai", from_other_node(messages[1]))
        hub.committed(messages[:1])
        more = await commit(store, ann, "zhuhai", 1, start=3)
        hub.committed(more)
        await sub.wait_seq(4)
        assert sub.seqs() == [1, 2, 3, 4]


async def test_broker_envelopes_act_by_kind_and_anything_else_changes_nothing(store):
    """Each kind from another node does its one thing; this node's own echo, payloads of no
    known shape and a kind that has no business on a room channel are dropped, and the feed
    goes on (a later event arrives, with nothing before it)."""
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    hub = make_hub(store)
    other, own = bus.BusWriter("other-node"), bus.BusWriter(hub.node_id)
    typing = {"type": "typing", "room": "zhuhai", "users": []}
    async with hub.running():
        stays, goes = RecordingSubscriber(1), RecordingSubscriber(2)
        await hub.join(stays, "zhuhai", None)
        await hub.join(goes, "zhuhai", None)
        [first, second] = await commit(store, ann, "zhuhai", 2)
        for payload in [
            own.ephemeral({"type": "typing", "room": "zhuhai", "users": ["echo"]}),
            own.eviction(1),
            msgpack.packb(message_frame(first)),  # no envelope
            msgpack.packb(["other-node", typing]),  # an ephemeral frame before envelopes
            other.session_ended(1, b"k" * 32),  # only ever on a personal channel
            b"\x93\x01",  # cut short
        ]:
            hub.on_broker_message("zhuhai", payload)
        hub.on_broker_message("zhuhai", other.ephemeral(typing))
        hub.on_broker_message("zhuhai", other.eviction(2))
        hub.on_broker_message("zhuhai", from_other_node(first))
        await stays.wait_seq(1)
        assert stays.frames[1:] == [typing, message_frame(first)]
        assert goes.frames[1:] == [typing, {"type": "left", "room": "zhuhai", "reason": "removed"}]
        assert goes.evictions == ["zhuhai"]
        hub.on_broker_message("zhuhai", from_other_node(second))
        await stays.wait_seq(2)


async def test_join_with_since_replays_then_continues_live_without_overlap(store):
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    await commit(store, ann, "hefei", 5)
    hub = make_hub(store)
    async with hub.running():
        first = RecordingSubscriber()
        await hub.join(first, "hefei", None)
        resumer = RecordingSubscriber()
        assert await hub.join(resumer, "hefei", 2) == 5
        assert resumer.frames[0] == {"type": "joined", "room": "hefei", "seq": 5}
        hub.committed(await commit(store, ann, "hefei", 2, start=5))
        await resumer.wait_seq(7)
        assert resumer.seqs() == [3, 4, 5, 6, 7]
        assert first.seqs() == [6, 7]


async def test_the_sweep_delivers_a_commit_whose_publish_was_lost(store):
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    hub = make_hub(store)
    async with hub.running():
        sub = RecordingSubscriber()
        await hub.join(sub, "guilin", None)
        await commit(store, ann, "guilin", 2)  # committed elsewhere; nothing published
        await asyncio.sleep(0.05)
        assert sub.seqs() == []
        await hub.sweep()
        await sub.wait_seq(2)
        assert sub.seqs() == [1, 2]


async def test_caught_up_only_once_what_the_broker_lost_is_backfilled(store):
    """Hub.caught_up is readiness (GET /readyz, checks.broker): from a broker loss on it is
    False; being subscribed again is not enough, the feeds must have every message committed
    before the first sweep after the return read the heads (issue 16, case 3)."""
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    hub = make_hub(store)
    broker = hub._broker
    async with hub.running():
        sub = RecordingSubscriber()
        await hub.join(sub, "guilin", None)
        assert hub.caught_up()
        broker.healthy = False
        hub.on_broker_state(False)
        await commit(store, ann, "guilin", 3)  # published while unsubscribed: lost
        await asyncio.sleep(0.05)  # the loop's sweep while down decides nothing
        assert not hub.caught_up()
        broker.healthy = True
        hub.on_broker_state(True)
        assert not hub.caught_up()  # subscribed again, nothing backfilled yet
        await sub.wait_seq(3)  # the sweep the return triggered
        async with asyncio.timeout(timeout(5)):
            while not hub.caught_up():
                await asyncio.sleep(0.005)
        assert sub.seqs() == [1, 2, 3]


async def test_leave_stops_delivery_and_a_dead_joiner_is_not_added(store):
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    hub = make_hub(store)
    async with hub.running():
        stays, leaves, dead = RecordingSubscriber(), RecordingSubscriber(), RecordingSubscriber()
        for sub in (stays, leaves):
            await hub.join(sub, "qingdao", None)
        dead.dead = True
        await hub.join(dead, "qingdao", None)
        hub.leave(leaves, "qingdao")
        hub.committed(await commit(store, ann, "qingdao", 1))
        await stays.wait_seq(1)
        assert leaves.seqs() == []
        assert hub.feeds["qingdao"].member_count == 1 and dead.frames == []


async def test_an_idle_room_is_released_after_the_linger(store):
    hub = make_hub(store, linger_s=0.01)
    async with hub.running():
        sub = RecordingSubscriber()
        await hub.join(sub, "weihai", None)
        assert "weihai" in hub.feeds
        hub.leave(sub, "weihai")
        async with asyncio.timeout(timeout(5)):
            while "weihai" in hub.feeds:
                await asyncio.sleep(0.01)
        # …and a rejoin builds it again.
        await hub.join(sub, "weihai", None)
        assert hub.feeds["weihai"].member_count == 1


async def test_ephemeral_frames_reach_members_on_every_node_once(store, broker_factory):
    """broadcast(): local members at once, other nodes through the broker, no own echo."""
    hub_a = Hub(store=store, broker=await broker_factory(), formats=list(FORMATS),
                clock=FakeClock(NOW), metrics=Metrics(), replay_limit=100, linger_s=0.05,
                sweep_interval_s=3600, degraded_poll_s=3600)
    hub_b = Hub(store=store, broker=await broker_factory(), formats=list(FORMATS),
                clock=FakeClock(NOW), metrics=Metrics(), replay_limit=100, linger_s=0.05,
                sweep_interval_s=3600, degraded_poll_s=3600)
    async with hub_a.running(), hub_b.running():
        on_a, on_b = RecordingSubscriber(), RecordingSubscriber()
        await hub_a.join(on_a, "liuzhou", None)
        await hub_b.join(on_b, "liuzhou", None)
        await asyncio.sleep(0.1)  # Redis confirms SUBSCRIBE asynchronously
        hub_a.broadcast("liuzhou", {"type": "typing", "room": "liuzhou", "user": {"id": 7}})
        async with asyncio.timeout(timeout(5)):
            while not any(f["type"] == "typing" for f in on_b.frames):
                await asyncio.sleep(0.005)
        await asyncio.sleep(0.1)
        typing = [f for f in on_a.frames + on_b.frames if f["type"] == "typing"]
        assert typing == [{"type": "typing", "room": "liuzhou", "user": {"id": 7}}] * 2
        assert hub_a.feeds["liuzhou"].last_seq == 0  # nothing entered the sequence


async def test_evict_removes_a_users_subscribers_on_every_node(store, broker_factory):
    hubs = [Hub(store=store, broker=await broker_factory(), formats=list(FORMATS),
                clock=FakeClock(NOW), metrics=Metrics(), replay_limit=100, linger_s=0.05,
                sweep_interval_s=3600, degraded_poll_s=3600) for _ in range(2)]
    async with hubs[0].running(), hubs[1].running():
        ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
        stays, goes_a, goes_b = RecordingSubscriber(1), RecordingSubscriber(2), RecordingSubscriber(2)
        await hubs[0].join(stays, "hefei", None)
        await hubs[0].join(goes_a, "hefei", None)
        await hubs[1].join(goes_b, "hefei", None)
        await asyncio.sleep(0.1)  # Redis confirms SUBSCRIBE asynchronously
        hubs[0].evict("hefei", 2)
        async with asyncio.timeout(timeout(5)):
            while not goes_b.evictions:
                await asyncio.sleep(0.005)
        assert goes_a.evictions == ["hefei"] and goes_b.evictions == ["hefei"]
        assert {"type": "left", "room": "hefei", "reason": "removed"} in goes_b.frames
        hubs[0].committed(await commit(store, ann, "hefei", 1))
        await stays.wait_seq(1)
        await asyncio.sleep(0.1)
        assert goes_a.seqs() == [] and goes_b.seqs() == []


async def allowed() -> bool:
    return True


async def wait_evicted(sub: RecordingSubscriber) -> None:
    async with asyncio.timeout(timeout(5)):
        while not sub.evictions:
            await asyncio.sleep(0.005)


async def private_room(store, hub: Hub):
    """A direct room of ann and eve, each joined to the hub as a private room is."""
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    eve = await store.create_user("eve@example.test", "eve", "h", "member", NOW)
    await store.open_direct("d-sweep", [ann.user_id, eve.user_id], ann.user_id, "", NOW)
    stays, goes = RecordingSubscriber(ann.user_id), RecordingSubscriber(eve.user_id)
    for sub in (stays, goes):
        await hub.join(sub, "d-sweep", None, allowed)
    return ann, eve, stays, goes


async def test_the_sweep_evicts_a_removed_member_before_catching_up(store):
    """The eviction message was lost (Redis down): the sweep that brings the new message from
    the store re-checks access first, so the removed member gets `left` and not the message."""
    hub = make_hub(store)
    async with hub.running():
        ann, eve, stays, goes = await private_room(store, hub)
        await store.remove_member("d-sweep", eve.user_id, NOW)
        await commit(store, ann, "d-sweep", 1)  # committed elsewhere; nothing published
        await hub.sweep()
        await stays.wait_seq(1)
        await wait_evicted(goes)
        assert goes.evictions == ["d-sweep"] and goes.seqs() == []
        assert goes.frames[-1] == {"type": "left", "room": "d-sweep", "reason": "removed"}
        assert hub.feeds["d-sweep"].member_count == 1


async def test_the_sweep_evicts_a_removed_member_the_broker_still_feeds(store):
    """The eviction was lost but later messages arrive through the broker (no gap, nothing for
    the sweep to catch up): the sweep still checks a private feed that moved, once."""
    hub = make_hub(store)
    async with hub.running():
        ann, eve, stays, goes = await private_room(store, hub)
        await hub.sweep()
        await store.remove_member("d-sweep", eve.user_id, NOW)
        [message] = await commit(store, ann, "d-sweep", 1)
        hub.on_broker_message("d-sweep", from_other_node(message))
        await stays.wait_seq(1)
        await hub.sweep()
        await wait_evicted(goes)
        [later] = await commit(store, ann, "d-sweep", 1, start=1)
        hub.on_broker_message("d-sweep", from_other_node(later))
        await stays.wait_seq(2)
        assert 2 not in goes.seqs() and hub.feeds["d-sweep"].member_count == 1


async def test_every_private_feed_is_checked_when_the_broker_is_back(store):
    """No new message, so nothing moved; but once the broker is back ephemeral frames flow
    between the nodes again, so its first sweep checks every private feed."""
    hub = make_hub(store)
    async with hub.running():
        _, eve, stays, goes = await private_room(store, hub)
        await hub.sweep()
        await store.remove_member("d-sweep", eve.user_id, NOW)
        hub.on_broker_state(True)  # wakes the sweep loop
        await wait_evicted(goes)
        assert stays.evictions == [] and hub.feeds["d-sweep"].member_count == 1


async def test_a_member_added_back_during_the_check_keeps_the_new_subscription(store):
    """The check saw the removal, then the member was added back and joined again before the
    eviction reached the feed: only the subscriptions the check covered leave."""
    hub = make_hub(store)
    async with hub.running():
        ann, eve, stays, goes = await private_room(store, hub)
        await store.remove_member("d-sweep", eve.user_id, NOW)
        await commit(store, ann, "d-sweep", 1)
        back = RecordingSubscriber(eve.user_id)
        real = store.visible_pairs

        async def then_added_back(pairs):
            visible = await real(pairs)
            await store.add_member("d-sweep", eve.user_id, NOW, 20)
            await hub.join(back, "d-sweep", None, allowed)
            return visible

        store.visible_pairs = then_added_back
        await hub.sweep()
        await wait_evicted(goes)
        await back.wait_seq(1)
        assert back.evictions == [] and goes.seqs() == []


class RecordingHolder:
    """A connection as the live-session registry sees it."""

    def __init__(self, session_key: bytes) -> None:
        self.session_key = session_key
        self.ended = 0

    def session_ended(self) -> None:
        self.ended += 1


async def test_an_ended_session_closes_its_connections_on_every_node(store, broker_factory):
    hubs = [Hub(store=store, broker=await broker_factory(), formats=list(FORMATS),
                clock=FakeClock(NOW), metrics=Metrics(), replay_limit=100, linger_s=0.05,
                sweep_interval_s=3600, degraded_poll_s=3600) for _ in range(2)]
    async with hubs[0].running(), hubs[1].running():
        here, there, other = RecordingHolder(b"k1"), RecordingHolder(b"k1"), RecordingHolder(b"k2")
        hubs[0].sessions.add(here)
        for holder in (there, other):
            hubs[1].sessions.add(holder)
        # Node 1 holds connections of user 7, so it is on their personal channel.
        await hubs[1].join(RecordingSubscriber(7), personal_channel(7), None)
        await asyncio.sleep(0.1)  # Redis confirms SUBSCRIBE asynchronously
        hubs[0].end_session(7, b"k1")
        assert here.ended == 1  # at once on the node that ended it
        async with asyncio.timeout(timeout(5)):
            while not there.ended:
                await asyncio.sleep(0.005)
        await asyncio.sleep(0.1)
        assert (here.ended, there.ended, other.ended) == (1, 1, 0)
        assert b"k1" not in hubs[0].sessions and b"k1" not in hubs[1].sessions
        assert b"k2" in hubs[1].sessions


async def test_the_sweep_ends_sessions_the_store_no_longer_has_or_that_expired(store):
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    clock = FakeClock(NOW)
    hub = Hub(store=store, broker=MemoryBroker(), formats=list(FORMATS), clock=clock,
              metrics=Metrics(), replay_limit=100, linger_s=0.05, sweep_interval_s=3600,
              degraded_poll_s=3600)
    async with hub.running():
        holders = {key: RecordingHolder(key) for key in (b"a" * 32, b"b" * 32, b"c" * 32)}
        await store.create_session(b"a" * 32, ann.user_id, NOW + 10_000)
        await store.create_session(b"b" * 32, ann.user_id, NOW + 10_000)
        await store.create_session(b"c" * 32, ann.user_id, NOW + 100)
        for holder in holders.values():
            hub.sessions.add(holder)
        await hub.sweep()
        assert [h.ended for h in holders.values()] == [0, 0, 0]
        await store.delete_session(b"b" * 32)  # its "session ended" publish was lost
        clock.advance(1)  # c expires
        await hub.sweep()
        assert [h.ended for h in holders.values()] == [0, 1, 1]
        assert hub.sessions.keys() == [b"a" * 32]


async def test_a_big_rooms_event_goes_out_in_slices_in_order_and_skips_who_left_meanwhile(store):
    """With fan_out_slice=3, ten members get each event over four turns of the loop: other
    tasks run between two slices (the node's other rooms and connections), every member
    still gets seq 1 before seq 2, and a member who leaves between two slices of an event gets
    nothing of it (no message after its `left`)."""
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    hub = make_hub(store, fan_out_slice=3)
    turns = 0

    async def other_work() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    class Timed(RecordingSubscriber):
        def push(self, wire: dict[str, Any]) -> None:
            super().push(wire)
            self.frames[-1]["turn"] = turns

    async with hub.running():
        members = [Timed(i) for i in range(10)]
        for member in members:
            await hub.join(member, "zhuhai", None)
        leaver = members[-1]
        first_push = members[0].push

        def push_then_leave(wire: dict[str, Any]) -> None:  # the leave lands between two slices
            first_push(wire)
            if members[0].seqs() == [1]:
                asyncio.get_running_loop().call_soon(hub.leave, leaver, "zhuhai")

        members[0].push = push_then_leave  # type: ignore[method-assign]
        ticking = asyncio.create_task(other_work())
        try:
            hub.committed(await commit(store, ann, "zhuhai", 2))
            await members[0].wait_seq(2)
            await members[-2].wait_seq(2)
        finally:
            ticking.cancel()
        for member in members[:-1]:
            assert member.seqs() == [1, 2]
        assert leaver.seqs() == []
        first = [next(f["turn"] for f in m.frames if f.get("seq") == 1) for m in members[:-1]]
        assert len(set(first)) >= 3, first  # 9 deliveries of 3 a turn: others ran in between
        assert first == sorted(first)  # slice after slice, in the room's member order
