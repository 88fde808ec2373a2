"""PresenceTracker driven by hand: ticks are called directly (no background task, no timing),
the backend is the in-process one on a shared bus (two "nodes"), the hub and the connections are
small recording doubles. Plus the sans-I/O pieces: the typing throttle and the typing frame."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chat.clock import FakeClock
from chat.metrics import Metrics
from chat.models import User
from chat.presence.memory import MemoryPresence, MemoryPresenceBus
from chat.presence.typing import TypingThrottle
from chat.presence.tracker import PresenceTracker
from chat.protocol.frames import FrameError, Typing, parse
from chat.transport.wire import FORMATS
from tests.support.doubles import RecordingSubscriber

ROOM = "urban-renewal"
ANN = User(1, "ann@example.test", "Ann", "member", 0)
BOB = User(2, "bob@example.test", "Bob", "member", 0)


class RecordingHub:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], bool]] = []

    def broadcast(self, room_id: str, frame: dict[str, Any], *, local_only: bool = False) -> None:
        self.sent.append((room_id, frame, local_only))

    def presence(self) -> list[dict[str, Any]]:
        return [frame for _, frame, _ in self.sent if frame["type"] == "presence"]


class FlakyPresence(MemoryPresence):
    """Fails the next `failures` calls, like a backend that is restarting; counts reads."""

    failures = 0
    reads = 0

    async def online(self, room_ids: Any) -> Any:
        self.reads += 1
        await asyncio.sleep(0)  # a network round trip: others may join meanwhile
        return await super().online(room_ids)

    async def update(self, *args: Any, **kwargs: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("backend down")
        await super().update(*args, **kwargs)


def tracker(node_id: str, bus: MemoryPresenceBus, clock: FakeClock,
            interval_s: float = 0.5) -> tuple[PresenceTracker, RecordingHub]:
    hub = RecordingHub()
    backend = FlakyPresence(node_id, clock, 30.0, bus)
    return PresenceTracker(backend, hub, list(FORMATS), clock, Metrics(),  # type: ignore[arg-type]
                           interval_s=interval_s, typing_interval_s=3.0), hub


def change(online: dict[int, str], offline: list[int] = ()) -> dict[str, Any]:
    return {"type": "presence", "room": ROOM, "full": False,
            "online": [{"id": i, "name": n} for i, n in sorted(online.items())], "offline": list(offline)}


async def test_local_members_are_written_once_per_user_and_shown_as_changes():
    clock = FakeClock()
    node, hub = tracker("a", MemoryPresenceBus(), clock)
    phone, laptop, bobs = RecordingSubscriber(), RecordingSubscriber(), RecordingSubscriber()
    await node.joined(phone, ANN, ROOM)
    assert phone.frames == [{"type": "presence", "room": ROOM, "full": True, "online": [], "offline": []}]
    await node.tick()
    assert hub.sent == [(ROOM, change({1: "Ann"}), True)]  # local only: each node tells its own
    await node.joined(laptop, ANN, ROOM)
    await node.joined(laptop, ANN, ROOM)  # a rejoin counts once
    await node.joined(bobs, BOB, ROOM)
    assert bobs.frames[-1]["online"] == [{"id": 1, "name": "Ann"}]
    await node.tick()
    assert hub.presence()[-1] == change({2: "Bob"})
    node.left(phone, ROOM)
    node.left(phone, ROOM)  # idempotent
    await node.tick()
    assert len(hub.presence()) == 2  # Ann is still online on her laptop: nothing to say
    node.disconnected(laptop, [ROOM, "hefei"])
    await node.tick()
    assert hub.presence()[-1] == change({}, [1])


async def test_a_join_storm_into_a_new_room_reads_the_backend_once():
    clock = FakeClock()
    node, _ = tracker("a", MemoryPresenceBus(), clock)
    subscribers = [RecordingSubscriber() for _ in range(50)]
    await asyncio.gather(*(node.joined(subscriber, User(10 + n, "x@example.test", f"m{n}", "member", 0), ROOM)
                           for n, subscriber in enumerate(subscribers)))
    assert node._presence.reads == 1  # type: ignore[attr-defined]
    assert all(s.frames == [{"type": "presence", "room": ROOM, "full": True, "online": [], "offline": []}]
               for s in subscribers)


async def test_a_burst_between_two_ticks_becomes_one_change():
    clock = FakeClock()
    node, hub = tracker("a", MemoryPresenceBus(), clock)
    watcher = RecordingSubscriber()
    await node.joined(watcher, ANN, ROOM)
    await node.tick()
    hub.sent.clear()
    subscribers = [RecordingSubscriber() for _ in range(300)]
    for number, subscriber in enumerate(subscribers):
        await node.joined(subscriber, User(100 + number, "x@example.test", f"m{number}", "member", 0), ROOM)
    for subscriber in subscribers[:200]:
        node.left(subscriber, ROOM)
    await node.tick()
    [frame] = hub.presence()
    assert len(frame["online"]) == 100 and frame["offline"] == []
    for subscriber in subscribers[200:]:
        node.left(subscriber, ROOM)
    await node.tick()
    assert len(hub.presence()) == 2 and len(hub.presence()[-1]["offline"]) == 100


async def test_other_nodes_announcements_update_the_local_view():
    bus, clock = MemoryPresenceBus(), FakeClock()
    (a, hub_a), (b, hub_b) = tracker("a", bus, clock), tracker("b", bus, clock)
    on_a, on_b, bob_on_a = RecordingSubscriber(), RecordingSubscriber(), RecordingSubscriber()
    await a.joined(on_a, ANN, ROOM)
    await a.tick()
    await b.joined(on_b, BOB, ROOM)
    assert on_b.frames[-1]["online"] == [{"id": 1, "name": "Ann"}]  # read from the backend
    await b.tick()  # writes Bob, announces; b shows {Ann, Bob}
    assert hub_b.presence()[-1] == change({2: "Bob"})
    b.on_presence_changed(["unrelated-room"])
    a.on_presence_changed([ROOM])  # what the bus delivers on the loop; here by hand
    await a.tick()
    assert hub_a.presence()[-1] == change({2: "Bob"})
    # Bob on a second node: when he leaves b, a still has him locally.
    await a.joined(bob_on_a, BOB, ROOM)
    await a.tick()
    b.left(on_b, ROOM)
    await b.tick()
    a.on_presence_changed([ROOM])
    await a.tick()
    assert all(frame["offline"] == [] for frame in hub_a.presence())


async def test_a_failed_write_is_retried_at_the_next_tick():
    clock = FakeClock()
    node, hub = tracker("a", MemoryPresenceBus(), clock)
    node._presence.failures = 1  # type: ignore[attr-defined]
    await node.joined(RecordingSubscriber(), ANN, ROOM)
    with pytest.raises(ConnectionError):
        await node.tick()
    assert hub.presence() == []
    await node.tick()
    assert hub.presence() == [change({1: "Ann"})]


async def test_a_reconnected_backend_gets_every_entry_again_and_announced():
    bus, clock = MemoryPresenceBus(), FakeClock()
    (a, _), (b, hub_b) = tracker("a", bus, clock), tracker("b", bus, clock)
    await a.joined(RecordingSubscriber(), ANN, ROOM)
    await a.tick()
    bus.rooms.clear()  # Redis restarted empty
    await b.joined(RecordingSubscriber(), BOB, ROOM)
    await b.tick()
    assert hub_b.presence()[-1] == change({2: "Bob"})  # Ann is gone from the backend
    a.on_presence_changed(None)  # the backend reconnected
    await a.tick()  # rewrites Ann and announces it
    b.on_presence_changed([ROOM])
    await b.tick()
    assert hub_b.presence()[-1] == change({1: "Ann"})


async def test_typing_is_throttled_per_user_and_batched_per_room():
    clock = FakeClock()
    node, hub = tracker("a", MemoryPresenceBus(), clock, interval_s=0.05)
    assert node.typing(ANN, ROOM)  # the first after a quiet spell goes out at once
    assert not node.typing(ANN, ROOM)  # throttled: dropped
    assert node.typing(BOB, ROOM)  # waits for the room's next batch
    assert node.typing(ANN, "hefei")  # another room has its own batches
    clock.advance(3.0)
    assert node.typing(ANN, ROOM)  # the throttle let Ann through again: same batch as Bob
    assert [(room, frame["users"], local) for room, frame, local in hub.sent] == [
        (ROOM, [{"id": 1, "name": "Ann"}], False), ("hefei", [{"id": 1, "name": "Ann"}], False)]
    await asyncio.sleep(0.1)
    assert hub.sent[-1] == (ROOM, {"type": "typing", "room": ROOM, "users": [
        {"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}]}, False)  # to every node
    assert len(hub.sent) == 3


def test_the_typing_throttle_forgets_old_entries():
    throttle = TypingThrottle(3.0)
    assert throttle.allow(1, "a", 0.0) and throttle.allow(2, "a", 2.0)
    assert not throttle.allow(1, "a", 2.9)
    throttle.prune(4.0)
    assert len(throttle) == 1
    assert throttle.allow(1, "a", 4.0)


def test_typing_frames_parse_like_the_others():
    assert parse({"type": "typing", "room": ROOM}, max_body_chars=10) == Typing(ROOM)
    for bad in ({"type": "typing"}, {"type": "typing", "room": "No Room"}, {"type": "typing", "room": 1}):
        with pytest.raises(FrameError) as error:
            parse(bad, max_body_chars=10)
        assert error.value.code == "invalid"


async def test_the_tick_task_ends_when_cancelled_just_as_it_is_woken():
    """A member leaving as the node shuts down wakes the tick task in the step that cancels it.
    Python 3.11's asyncio.wait_for then returned the wake-up and swallowed the cancel
    (bpo-42130): the task went on ticking, the node's shutdown waited for it for ever (a
    rolling restart's node never exited). The waits are `asyncio.timeout` blocks now, which
    let the cancel through."""
    node, _ = tracker("a", MemoryPresenceBus(), FakeClock(), interval_s=30.0)

    async def run_then_stop() -> None:
        async with node.running():
            while node._last_tick == float("-inf"):
                await asyncio.sleep(0)
            await asyncio.sleep(0.1)  # the first tick is done: the task waits to be woken
            node._wake.set()  # and the block's end cancels it in the same step

    life = asyncio.create_task(run_then_stop())
    await asyncio.wait({life}, timeout=10)
    ticking = [t for t in asyncio.all_tasks() if t.get_name() == "presence-tracker"]
    for task in ticking:  # the bug's task ignores one cancel, not a stream of them
        while not task.done():
            task.cancel()
            await asyncio.sleep(0)
    assert life.done() and not ticking, "the node's shutdown waited on a cancelled tick task"
