"""The Store contract for the audit log (chat/store/audit.py, migration 0017), on SQLite and
PostgreSQL."""

from __future__ import annotations

from tests.support.store_data import users

NOW = 1_700_000_000_000


async def test_entries_come_back_newest_first_in_pages_with_their_facts(store):
    ann, = await users(store, "ann")
    first = await store.add_audit(NOW, ann.user_id, "ann", "export.compliance",
                                  {"rooms": ["zhuhai", "d-1"], "from": None, "名": "值"})
    second = await store.add_audit(NOW + 1, None, "operator (command line)", "export.personal",
                                   {"user_id": ann.user_id})
    third = await store.add_audit(NOW + 2, ann.user_id, "ann", "moderation.anything", {})
    assert first.audit_id < second.audit_id < third.audit_id
    assert first.detail == {"rooms": ["zhuhai", "d-1"], "from": None, "名": "值"}
    assert (second.actor_id, second.actor_label, second.at_ms) == (None, "operator (command line)", NOW + 1)
    everything = await store.audit_entries(2**62, 10)
    assert everything == [third, second, first]
    assert await store.audit_entries(2**62, 2) == [third, second]
    assert await store.audit_entries(second.audit_id, 2) == [first]
    assert await store.audit_entries(first.audit_id, 2) == []


async def test_rooms_after_pages_every_room_of_the_kinds_in_code_point_order(store):
    ann, bob = await users(store, "ann", "bob")
    await store.open_direct("d-a-1", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    kinds = ("sector", "city", "direct", "webinar")
    everything, after = [], ""
    while page := await store.rooms_after(kinds, after, 3):
        assert len(page) <= 3
        everything += page
        after = page[-1].room_id
    ids = [room.room_id for room in everything]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert "d-a-1" in ids and "zhuhai" in ids
    assert {room.kind for room in everything} <= set(kinds)
    assert [room.room_id for room in await store.rooms_after(("direct",), "", 10)] == ["d-a-1"]
