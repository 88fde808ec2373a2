"""The Store contract for consent in direct conversations (chat/store/conversations.py), on
SQLite and PostgreSQL: a member who left by their own hand is never added back, only comes
back by themselves; blocks refuse adds either way and silence notifications."""

from __future__ import annotations

import asyncio

from tests.contract.test_notifications_store import post, who
from tests.support.store_data import users

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


async def members_of(store, room_id):
    return [m[0] for m in (await store.room_members([room_id]))[room_id]]


async def test_nobody_else_puts_a_member_who_left_into_a_new_conversation_of_the_same_people(store):
    """The review's attack: ann opens a conversation with bob, bob leaves it for good, ann adds
    anyone (which made the old room unfindable) and opens one with bob again: a new room, bob
    back in — forever. Now the new room is refused, whoever opens it, and so is an add that
    would rebuild the people bob left."""
    ann, bob, cat, dan, eve = await users(store, "ann", "bob", "cat", "dan", "eve")
    await store.open_direct("d-r1", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    await store.remove_member("d-r1", bob.user_id, NOW + 1, for_good=True)
    assert await store.add_member("d-r1", cat.user_id, NOW + 2, 20, by_id=ann.user_id) == "added"
    assert await store.find_direct([ann.user_id, bob.user_id]) is None
    for _ in range(2):
        assert await store.open_direct("d-r2", [ann.user_id, bob.user_id], ann.user_id, "", NOW + 3) == (None, False)
    assert await store.room_access("d-r2", bob.user_id) == (None, False)
    # The room's starting members count even when an add came before the leave.
    await store.open_direct("d-r3", [ann.user_id, dan.user_id], ann.user_id, "", NOW)
    assert await store.add_member("d-r3", eve.user_id, NOW + 1, 20, by_id=ann.user_id) == "added"
    await store.remove_member("d-r3", dan.user_id, NOW + 2, for_good=True)
    assert await store.open_direct("d-r4", [ann.user_id, dan.user_id], ann.user_id, "", NOW + 3) == (None, False)
    # So do the people in it when they left: a room of ann and eve, then bob added and gone,
    # cannot be rebuilt with bob by opening ann+eve again and adding him.
    await store.open_direct("d-r5", [ann.user_id, eve.user_id], ann.user_id, "", NOW)
    assert await store.add_member("d-r5", bob.user_id, NOW + 1, 20, by_id=ann.user_id) == "added"
    await store.remove_member("d-r5", bob.user_id, NOW + 2, for_good=True)
    again, created = await store.open_direct("d-r6", [ann.user_id, eve.user_id], ann.user_id, "", NOW + 3)
    assert (again.room_id, created) == ("d-r6", True)  # the add made d-r5 another conversation
    assert await store.add_member("d-r6", bob.user_id, NOW + 4, 20, by_id=eve.user_id) == "not_addable"
    assert await members_of(store, "d-r6") == [ann.user_id, eve.user_id]
    # A different group of people is a different conversation (the bound: one per group).
    assert await store.add_member("d-r6", cat.user_id, NOW + 5, 20, by_id=ann.user_id) == "added"
    assert await store.add_member("d-r6", bob.user_id, NOW + 6, 20, by_id=ann.user_id) == "added"
    # The one who left may start it again themselves.
    room, created = await store.open_direct("d-r7", [bob.user_id, ann.user_id], bob.user_id, "", NOW + 7)
    assert (room.room_id, created) == ("d-r7", True)
    assert await members_of(store, "d-r7") == sorted([ann.user_id, bob.user_id])


async def test_coming_back_after_others_wrote_starts_afresh(store):
    """bob left; ann wrote; bob's return must not show him what ann wrote after he left."""
    ann, bob = await users(store, "ann", "bob")
    await store.open_direct("d-old", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    await post(store, ann, "d-old", "before")
    await store.remove_member("d-old", bob.user_id, NOW + 1, for_good=True)
    assert await store.rejoin_direct("d-old", bob.user_id, NOW + 2, 20) == "rejoined"  # nothing new
    await store.remove_member("d-old", bob.user_id, NOW + 3, for_good=True)
    await post(store, ann, "d-old", "after")
    assert await store.rejoin_direct("d-old", bob.user_id, NOW + 4, 20) == "moved_on"
    assert await members_of(store, "d-old") == [ann.user_id]
    room, created = await store.open_direct("d-new", [bob.user_id, ann.user_id], bob.user_id, "",
                                            NOW + 5, replacing="d-old")
    assert (room.room_id, created) == ("d-new", True)
    assert (await store.find_direct([ann.user_id, bob.user_id])).room_id == "d-new"
    assert (await store.room_access("d-old", bob.user_id))[1] is False
    assert await members_of(store, "d-old") == [ann.user_id]
    assert await members_of(store, "d-new") == sorted([ann.user_id, bob.user_id])
    # A second, concurrent return finds the new room instead of making a third.
    assert await store.open_direct("d-third", [ann.user_id, bob.user_id], bob.user_id, "", NOW + 6,
                                   replacing="d-old") == (room, False)


async def test_a_fresh_start_refused_changes_nothing(store):
    """bob's return to a group that cat also left: refused (cat stays out), and the old room
    is still the conversation of these people."""
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    people = [ann.user_id, bob.user_id, cat.user_id]
    await store.open_direct("d-trio", people, ann.user_id, "", NOW)
    for leaver in (bob, cat):
        await store.remove_member("d-trio", leaver.user_id, NOW + 1, for_good=True)
    await post(store, ann, "d-trio", "after")
    assert await store.rejoin_direct("d-trio", bob.user_id, NOW + 2, 20) == "moved_on"
    assert await store.open_direct("d-new", people, bob.user_id, "", NOW + 3, replacing="d-trio") == (None, False)
    assert (await store.find_direct(people)).room_id == "d-trio"
    assert await store.room_access("d-new", bob.user_id) == (None, False)


async def test_an_adder_who_left_meanwhile_adds_nobody(store):
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    await store.open_direct("d-gone", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    await store.remove_member("d-gone", ann.user_id, NOW + 1, for_good=True)
    assert await store.add_member("d-gone", cat.user_id, NOW + 2, 20, by_id=ann.user_id) == "not_found"
    assert await store.add_member("d-gone", cat.user_id, NOW + 2, 20, by_id=999_999) == "not_found"
    assert await members_of(store, "d-gone") == [bob.user_id]
    assert (await store.find_direct([ann.user_id, bob.user_id])).room_id == "d-gone"


async def test_a_block_hides_the_notifications_the_blocked_caused_before(store):
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    mention = await post(store, ann, "liuzhou", "m1", mentions=(bob.user_id,))
    other = await post(store, cat, "liuzhou", "m2", mentions=(bob.user_id,))
    await store.create_notifications([mention.message_id, other.message_id], NOW)
    listed = await store.list_notifications(bob.user_id, unread_only=False, before_id=2**62, limit=50)
    assert [n.actor_id for n in listed] == [cat.user_id, ann.user_id]
    await store.block_user(bob.user_id, ann.user_id, NOW + 1)
    for unread_only in (False, True):
        listed = await store.list_notifications(bob.user_id, unread_only=unread_only, before_id=2**62, limit=50)
        assert [n.actor_id for n in listed] == [cat.user_id]
    assert await store.unread_notifications(bob.user_id) == 1
    await store.unblock_user(bob.user_id, ann.user_id)
    assert await store.unread_notifications(bob.user_id) == 2
