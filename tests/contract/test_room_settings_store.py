"""The Store contract for room settings (chat/store/room_settings.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.support.store_data import users


async def test_notify_levels_are_per_member_and_per_room_and_can_be_cleared(store):
    ann, bob = await users(store, "ann", "bob")
    assert await store.room_notify_levels(ann.user_id, ["zhuhai", "hefei"]) == {}
    await store.set_room_notify(ann.user_id, "zhuhai", "none")
    await store.set_room_notify(ann.user_id, "hefei", "all")
    await store.set_room_notify(bob.user_id, "zhuhai", "mentions")
    assert await store.room_notify_levels(ann.user_id, ["zhuhai", "hefei", "weihai"]) == {
        "zhuhai": "none", "hefei": "all"}
    assert await store.room_notify_levels(bob.user_id, ["zhuhai", "hefei"]) == {"zhuhai": "mentions"}
    await store.set_room_notify(ann.user_id, "zhuhai", "mentions")  # replaces, never adds a row
    assert await store.room_notify_levels(ann.user_id, ["zhuhai"]) == {"zhuhai": "mentions"}
    await store.set_room_notify(ann.user_id, "zhuhai", None)
    assert await store.room_notify_levels(ann.user_id, ["zhuhai", "hefei"]) == {"hefei": "all"}
    await store.set_room_notify(ann.user_id, "weihai", None)  # clearing nothing is fine
    assert await store.room_notify_levels(ann.user_id, []) == {}
