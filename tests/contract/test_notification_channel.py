"""Personal channels in the hub (chat/hub/personal.py), against each store: a channel that is
no room starts at head 0, swallows the join's `joined`, carries ephemeral frames to its
subscriber only, and is left out of the sweep and the room statistics."""

from __future__ import annotations

import asyncio

from chat.hub.personal import PersonalSubscriber, is_personal, personal_channel
from tests.contract.test_hub import make_hub
from tests.support.doubles import RecordingSubscriber
from tests.support.timing import timeout


async def wait_frames(subscriber: RecordingSubscriber, count: int) -> None:
    async with asyncio.timeout(timeout(5)):
        while len(subscriber.frames) < count:
            await asyncio.sleep(0.005)


async def test_a_personal_channel_carries_notifications_to_its_user_only(store):
    hub = make_hub(store)
    async with hub.running():
        ann, bob = RecordingSubscriber(user_id=7), RecordingSubscriber(user_id=8)
        ann_channel = PersonalSubscriber.attach(hub, ann)
        bob_channel = PersonalSubscriber.attach(hub, bob)
        await ann_channel.ready(timeout(5))
        await bob_channel.ready(timeout(5))
        assert ann_channel.joining.result() == 0  # no such room, no log: head 0
        assert personal_channel(7) == "user:7" and is_personal("user:7") and not is_personal("zhuhai")
        hub.broadcast("user:7", {"type": "notification", "notification": {"id": 1}})
        hub.broadcast("user:8", {"type": "notification", "notification": {"id": 2}})
        await wait_frames(ann, 1)
        await wait_frames(bob, 1)
        # No `joined` for a channel nobody asked to join; only each user's own frame.
        assert ann.frames == [{"type": "notification", "notification": {"id": 1}}]
        assert bob.frames == [{"type": "notification", "notification": {"id": 2}}]
        # The sweep asks the store about rooms only, and the statistics count rooms only.
        await hub.sweep()
        assert hub.stats() == {"rooms": 0, "members": 0}
        assert hub.feeds["user:7"].last_seq == 0
        ann_channel.detach(hub)
        hub.broadcast("user:7", {"type": "notification", "notification": {"id": 3}})
        hub.broadcast("user:8", {"type": "notification", "notification": {"id": 4}})
        await wait_frames(bob, 2)
        assert len(ann.frames) == 1


async def test_a_connection_that_died_before_its_channel_joined_is_not_added(store):
    hub = make_hub(store)
    async with hub.running():
        gone = RecordingSubscriber(user_id=9)
        channel = PersonalSubscriber.attach(hub, gone)
        gone.dead = True
        channel.detach(hub)  # before the join ran
        await channel.ready(timeout(5))
        assert hub.feeds["user:9"].member_count == 0 and gone.frames == []
