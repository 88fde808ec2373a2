"""The Store contract for consent in direct conversations (chat/store/conversations.py), on
SQLite and PostgreSQL: a member who left by their own hand is never added back, only comes
back by themselves; blocks refuse adds either way and silence notifications."""

from __future__ import annotations

import asyncio

from tests.contract.test_notifications_store import post, users, who

NOW = 1_700_000_000_000


async def test_a_member_who_left_for_good_is_never_added_back(store):
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    await store.open_direct("d-left", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    assert await store.added_by("d-left", bob.user_id) == ann.user_id
    await store.remove_member("d-left", bob.user_id, NOW + 1, for_good=True)
    assert await store.added_by("d-left", bob.user_id) is None
    assert await store.add_member("d-left", bob.user_id, NOW + 2, 20, by_id=ann.user_id) == "not_addable"
    assert [m[0] for m in (await store.room_members(["d-left"]))["d-left"]] == [ann.user_id]
    # Still "the conversation of ann and bob": opening it again finds it, without bob.
    found = await store.find_direct([bob.user_id, ann.user_id])
    assert found is not None and found.room_id == "d-left"
    assert (await store.open_direct("d-other", [ann.user_id, bob.user_id], ann.user_id, "", NOW))[0].room_id == "d-left"
    assert [m[0] for m in (await store.room_members(["d-left"]))["d-left"]] == [ann.user_id]
    # Bob comes back by his own hand; then he is an ordinary member again.
    assert await store.rejoin_direct("d-left", bob.user_id, NOW + 3, 20) == "rejoined"
    assert await store.rejoin_direct("d-left", bob.user_id, NOW + 3, 20) == "member"
    assert await store.added_by("d-left", bob.user_id) == bob.user_id
    assert await store.add_member("d-left", bob.user_id, NOW + 4, 20, by_id=ann.user_id) == "member"
    # Nobody else can "rejoin": cat never was a member.
    assert await store.rejoin_direct("d-left", cat.user_id, NOW + 5, 20) == "not_addable"


async def test_an_admins_removal_is_not_for_good(store):
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    await store.open_direct("d-admin", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    await store.remove_member("d-admin", bob.user_id, NOW + 1)
    assert await store.find_direct([ann.user_id, bob.user_id]) is None
    assert await store.rejoin_direct("d-admin", bob.user_id, NOW + 2, 20) == "not_addable"
    assert await store.add_member("d-admin", bob.user_id, NOW + 2, 20, by_id=ann.user_id) == "added"
    assert await store.added_by("d-admin", bob.user_id) == ann.user_id
    # An add changes who is in it: it is no longer found as the conversation of ann and bob.
    assert await store.add_member("d-admin", cat.user_id, NOW + 3, 3, by_id=ann.user_id) == "added"
    assert await store.find_direct([ann.user_id, bob.user_id, cat.user_id]) is None
    dan, = await users(store, "dan")
    assert await store.add_member("d-admin", dan.user_id, NOW + 4, 3, by_id=ann.user_id) == "full"


async def test_blocks_refuse_adds_either_way_and_are_listed(store):
    ann, bob, cat, eve = await users(store, "ann", "bob", "cat", "eve")
    await store.open_direct("d-block", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    await store.block_user(cat.user_id, eve.user_id, NOW)
    await store.block_user(cat.user_id, eve.user_id, NOW + 1)  # again: nothing changes
    await store.block_user(ann.user_id, eve.user_id, NOW + 2)
    assert await store.blocked_users(cat.user_id) == [(eve.user_id, "eve")]
    assert await store.any_block_among([ann.user_id, bob.user_id, cat.user_id]) is False
    assert await store.any_block_among([eve.user_id, cat.user_id]) is True
    assert await store.any_block_among([eve.user_id]) is False
    # eve blocked by a member (ann) cannot be added; nor can someone who blocked a member.
    assert await store.add_member("d-block", eve.user_id, NOW, 20, by_id=bob.user_id) == "not_addable"
    await store.block_user(cat.user_id, bob.user_id, NOW + 3)
    assert await store.add_member("d-block", cat.user_id, NOW, 20, by_id=ann.user_id) == "not_addable"
    assert [m[0] for m in (await store.room_members(["d-block"]))["d-block"]] == [ann.user_id, bob.user_id]
    await store.unblock_user(cat.user_id, bob.user_id)
    await store.unblock_user(cat.user_id, bob.user_id)  # not blocked: nothing happens
    assert await store.add_member("d-block", cat.user_id, NOW, 20, by_id=ann.user_id) == "added"
    # A member who left for good and was blocked meanwhile cannot rejoin past the block.
    await store.remove_member("d-block", cat.user_id, NOW + 4, for_good=True)
    await store.block_user(bob.user_id, cat.user_id, NOW + 5)
    assert await store.rejoin_direct("d-block", cat.user_id, NOW + 6, 20) == "not_addable"


async def test_concurrent_adds_never_bring_back_a_member_leaving_for_good(store):
    """Six members add the one who is leaving at the same time as they leave: once the leave
    committed, no add undoes it."""
    owner, victim, *adders = await users(store, "owner", "victim", "a1", "a2", "a3", "a4", "a5", "a6")
    await store.open_direct("d-race", [owner.user_id, victim.user_id, *(a.user_id for a in adders)],
                            owner.user_id, "", NOW)
    leave = store.remove_member("d-race", victim.user_id, NOW + 1, for_good=True)
    adds = [store.add_member("d-race", victim.user_id, NOW + 1, 20, by_id=a.user_id) for a in adders]
    outcomes = await asyncio.gather(leave, *adds)
    assert set(outcomes[1:]) <= {"member", "not_addable"}
    assert victim.user_id not in [m[0] for m in (await store.room_members(["d-race"]))["d-race"]]
    assert await store.add_member("d-race", victim.user_id, NOW + 2, 20, by_id=owner.user_id) == "not_addable"


async def test_nothing_from_a_blocked_author_notifies(store):
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    await store.open_direct("d-quiet", [ann.user_id, bob.user_id, cat.user_id], ann.user_id, "", NOW)
    await store.block_user(bob.user_id, ann.user_id, NOW)
    direct = await post(store, ann, "d-quiet", "m1")
    mention = await post(store, ann, "liuzhou", "m2", mentions=(bob.user_id, cat.user_id))
    created = await store.create_notifications([direct.message_id, mention.message_id], NOW)
    assert who(created) == [(cat.user_id, "direct", direct.message_id),
                            (cat.user_id, "mention", mention.message_id)]
    await store.unblock_user(bob.user_id, ann.user_id)
    later = await post(store, ann, "liuzhou", "m3", mentions=(bob.user_id,))
    assert who(await store.create_notifications([later.message_id], NOW)) == [
        (bob.user_id, "mention", later.message_id)]
