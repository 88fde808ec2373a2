"""The Store contract for read state (chat/store/reads.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from chat.models import SendRequest
from chat.store.reads import UNREAD_CAP
from tests.support.store_data import users

NOW = 1_700_000_000_000


def send(user, room, cid, *, kind="message", target=None, data=None):
    return SendRequest(room, user.user_id, user.display_name, cid, "" if kind != "message" else cid,
                       kind=kind, target_id=target, data=data or {})


async def test_a_read_position_only_ever_rises(store):
    ann, = await users(store, "ann")
    assert await store.read_position(ann.user_id, "zhuhai") == 0
    assert await store.advance_read(ann.user_id, "zhuhai", 0) == (0, False)  # stores nothing
    assert await store.advance_read(ann.user_id, "zhuhai", 5) == (5, True)
    assert await store.advance_read(ann.user_id, "zhuhai", 3) == (5, False)
    assert await store.advance_read(ann.user_id, "zhuhai", 5) == (5, False)
    assert await store.advance_read(ann.user_id, "zhuhai", 0) == (5, False)
    assert await store.advance_read(ann.user_id, "zhuhai", 9) == (9, True)
    assert await store.read_position(ann.user_id, "zhuhai") == 9
    # Positions are per user and per room.
    bob, = await users(store, "bob")
    assert await store.read_position(bob.user_id, "zhuhai") == 0
    assert await store.read_position(ann.user_id, "hefei") == 0


async def test_read_summaries_count_unread_messages_by_others_in_one_call(store):
    ann, bob = await users(store, "ann", "bob")
    outcomes = await store.append_batch([
        send(bob, "zhuhai", "b1"), send(ann, "zhuhai", "a1"), send(bob, "zhuhai", "b2"),
        send(bob, "zhuhai", "b3"), send(bob, "hefei", "h1"),
    ], NOW)
    first = outcomes[0].message.message_id
    # Events are not messages: an edit, a reaction and a delete take seqs but never count.
    await store.append_batch([
        send(bob, "zhuhai", "e", kind="edit", target=first),
        send(ann, "zhuhai", "r", kind="reaction", target=first, data={"emoji": "👍", "added": True}),
        send(bob, "zhuhai", "d", kind="delete", target=outcomes[3].message.message_id),
    ], NOW)
    summaries = await store.read_summaries(ann.user_id, ["zhuhai", "hefei", "weihai", "no-such-room"])
    # zhuhai: b1, b2 (b3 is deleted, a1 is ann's own); hefei: h1; weihai: nothing.
    assert summaries == {"zhuhai": (0, 2), "hefei": (0, 1), "weihai": (0, 0)}
    await store.advance_read(ann.user_id, "zhuhai", 2)  # read b1 and a1
    await store.advance_read(ann.user_id, "hefei", 1)
    assert await store.read_summaries(ann.user_id, ["zhuhai", "hefei"]) == {"zhuhai": (2, 1), "hefei": (1, 0)}
    # Bob's view of the same rooms: only ann's message counts for him.
    assert await store.read_summaries(bob.user_id, ["zhuhai"]) == {"zhuhai": (0, 1)}
    assert await store.read_summaries(bob.user_id, []) == {}


async def test_unread_counts_stop_at_the_cap(store):
    ann, bob = await users(store, "ann", "bob")
    await store.append_batch([send(bob, "guilin", f"c{i}") for i in range(UNREAD_CAP + 5)], NOW)
    assert await store.read_summaries(ann.user_id, ["guilin"]) == {"guilin": (0, UNREAD_CAP)}
    await store.advance_read(ann.user_id, "guilin", 10)
    assert await store.read_summaries(ann.user_id, ["guilin"]) == {"guilin": (10, UNREAD_CAP - 5)}


async def test_member_reads_list_current_members_of_a_direct_room(store):
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    await store.open_direct("d-reads", [ann.user_id, bob.user_id, cat.user_id], ann.user_id, "", NOW)
    await store.append_batch([send(ann, "d-reads", f"c{i}") for i in range(3)], NOW)
    await store.advance_read(bob.user_id, "d-reads", 2)
    await store.advance_read(ann.user_id, "d-reads", 3)
    assert await store.member_reads("d-reads") == [
        (ann.user_id, "ann", 3), (bob.user_id, "bob", 2), (cat.user_id, "cat", 0)]
    await store.remove_member("d-reads", bob.user_id, NOW + 1)
    assert [user_id for user_id, _, _ in await store.member_reads("d-reads")] == [ann.user_id, cat.user_id]
    assert await store.member_reads("zhuhai") == []  # public rooms have no member rows
