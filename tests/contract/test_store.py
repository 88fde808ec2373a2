"""The Store contract (chat/store/port.py), one body per test, run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from chat.errors import EmailTaken
from chat.models import SendRequest
from chat.store.catalog import SEED_ROOMS

NOW = 1_700_000_000_000


async def make_user(store, name: str = "ann") -> object:
    return await store.create_user(f"{name}@example.test", name, "hash", "member", NOW)


def send(user, room: str, cid: str, body: str = "hello") -> SendRequest:
    return SendRequest(room, user.user_id, user.display_name, cid, body)


async def test_seeded_rooms_exist_with_both_titles(store):
    rooms = {room.room_id: room for room in await store.list_rooms(("sector", "city"))}
    assert set(rooms) == {room.room_id for room in SEED_ROOMS}
    assert rooms["liuzhou"].title_zh == "柳州" and rooms["liuzhou"].kind == "city"
    assert rooms["clean-energy"].title_en == "Clean Energy Utilization"
    assert all(room.head_seq == 0 for room in rooms.values())


async def test_seeded_rooms_say_what_they_are_for_in_both_languages(store):
    rooms = {room.room_id: room for room in await store.list_rooms(("sector", "city"))}
    assert {(r.room_id, r.description_en, r.description_zh) for r in rooms.values()} == {
        (r.room_id, r.description_en, r.description_zh) for r in SEED_ROOMS}
    assert "BRT" in rooms["green-transport"].description_en and "快速公交" in rooms["green-transport"].description_zh
    for room in rooms.values():
        assert 20 < len(room.description_en) < 240 and 10 < len(room.description_zh) < 120, room.room_id
        assert any("\u4e00" <= ch <= "\u9fff" for ch in room.description_zh), room.room_id
    assert len({r.description_en for r in rooms.values()}) == 17
    assert (await store.get_room("hefei")).description_zh == rooms["hefei"].description_zh


async def test_migrate_writes_the_catalog_descriptions_into_an_older_database(store):
    # A database seeded before the descriptions changed (or before they existed): the next
    # migrate run brings them up to date, and leaves titles and heads alone.
    await store._db.execute("UPDATE rooms SET description_en = '', description_zh = 'old'"
                            " WHERE room_id = ?", "qingdao")
    assert await store.migrate() == []
    room = await store.get_room("qingdao")
    seed = next(r for r in SEED_ROOMS if r.room_id == "qingdao")
    assert (room.description_en, room.description_zh, room.title_zh) == (seed.description_en, seed.description_zh, "青岛")


async def test_migrate_twice_applies_nothing_new(store):
    assert await store.migrate() == []
    assert len(await store.list_rooms(("sector", "city"))) == 17


async def test_append_assigns_gapless_seq_in_batch_order(store):
    ann = await make_user(store)
    outcomes = await store.append_batch([send(ann, "zhuhai", f"c{i}") for i in range(5)], NOW)
    assert [o.message.seq for o in outcomes] == [1, 2, 3, 4, 5]
    assert all(o.created for o in outcomes)
    more = await store.append_batch([send(ann, "zhuhai", "c9")], NOW)
    assert more[0].message.seq == 6
    assert (await store.room_heads(["zhuhai"]))["zhuhai"] == 6


async def test_repeated_cid_returns_original_and_stores_one_row(store):
    ann = await make_user(store)
    first = await store.append_batch([send(ann, "hefei", "same", "one")], NOW)
    again = await store.append_batch([send(ann, "hefei", "same", "two")], NOW + 5)
    assert not again[0].created
    assert again[0].message == first[0].message
    assert again[0].message.body == "one"
    assert [m.seq for m in await store.messages_after("hefei", 0, 10)] == [1]


async def test_repeated_cid_inside_one_batch_is_stored_once(store):
    ann = await make_user(store)
    outcomes = await store.append_batch(
        [send(ann, "hefei", "x"), send(ann, "hefei", "y"), send(ann, "hefei", "x")], NOW)
    assert [o.created for o in outcomes] == [True, True, False]
    assert outcomes[2].message == outcomes[0].message
    assert (await store.room_heads(["hefei"]))["hefei"] == 2


async def test_same_cid_from_two_authors_are_two_messages(store):
    ann, bob = await make_user(store, "ann"), await make_user(store, "bob")
    outcomes = await store.append_batch([send(ann, "weihai", "c1"), send(bob, "weihai", "c1")], NOW)
    assert [o.message.seq for o in outcomes] == [1, 2]


async def test_batch_spanning_rooms_keeps_each_room_gapless(store):
    ann = await make_user(store)
    outcomes = await store.append_batch(
        [send(ann, "guilin", "a"), send(ann, "qingdao", "b"), send(ann, "guilin", "c")], NOW)
    assert [(o.message.room_id, o.message.seq) for o in outcomes] == [
        ("guilin", 1), ("qingdao", 1), ("guilin", 2)]


async def test_unknown_room_stores_nothing(store):
    ann = await make_user(store)
    outcomes = await store.append_batch([send(ann, "no-such-room", "a"), send(ann, "zhuhai", "b")], NOW)
    assert outcomes[0].message is None and not outcomes[0].created
    assert outcomes[1].message.seq == 1


async def test_concurrent_appends_are_gapless(store):
    """Eight writers append at once (on PostgreSQL over several pool connections)."""
    users = [await make_user(store, f"u{i}") for i in range(8)]

    async def writer(user):
        for i in range(10):
            await store.append_batch([send(user, "luoyang", f"c{i}")], NOW)

    await asyncio.gather(*(writer(u) for u in users))
    messages = await store.messages_after("luoyang", 0, 1000)
    assert [m.seq for m in messages] == list(range(1, 81))


async def test_history_pages_forwards_and_backwards(store):
    ann = await make_user(store)
    await store.append_batch([send(ann, "zhuzhou", f"c{i}", f"m{i}") for i in range(1, 11)], NOW)
    assert [m.seq for m in await store.messages_after("zhuzhou", 3, 4)] == [4, 5, 6, 7]
    assert [m.seq for m in await store.messages_before("zhuzhou", 8, 3)] == [5, 6, 7]
    assert [m.seq for m in await store.messages_before("zhuzhou", 11, 100)] == list(range(1, 11))
    page = await store.messages_after("zhuzhou", 0, 1)
    assert page[0].body == "m1" and page[0].author_name == "ann" and page[0].sent_at_ms == NOW


async def test_chinese_text_round_trips(store):
    ann = await store.create_user("li@example.test", "李华", "hash", "member", NOW)
    body = "绿色交通：柳州的电动公交 🚌 — Ünïcödé"
    await store.append_batch([send(ann, "liuzhou", "c", body)], NOW)
    [message] = await store.messages_after("liuzhou", 0, 1)
    assert message.body == body and message.author_name == "李华"


async def test_users_and_sessions(store):
    ann = await make_user(store)
    with pytest.raises(EmailTaken):
        await make_user(store)
    user, password_hash = await store.user_credentials("ann@example.test")
    assert user == ann and password_hash == "hash"
    assert await store.user_credentials("nobody@example.test") is None
    await store.create_session(b"h" * 32, ann.user_id, NOW + 1000)
    assert await store.session_user(b"h" * 32, NOW) == ann
    assert await store.session_user(b"h" * 32, NOW + 1000) is None  # expired
    assert await store.delete_session(b"h" * 32) == ann.user_id
    assert await store.delete_session(b"h" * 32) is None  # already ended
    assert await store.session_user(b"h" * 32, NOW) is None
    await store.set_role(ann.user_id, "admin")
    assert (await store.user_credentials("ann@example.test"))[0].role == "admin"


async def test_live_sessions_are_those_that_exist_and_have_not_expired(store):
    ann = await make_user(store)
    hashes = [n.to_bytes(2, "big") * 16 for n in range(1, 601)]  # over SQLite's chunk of 500
    for n, token_hash in enumerate(hashes):
        await store.create_session(token_hash, ann.user_id, NOW + (10 if n % 3 else 1000))
    await store.delete_session(hashes[0])
    unknown = b"u" * 32
    live = await store.live_sessions([*hashes, unknown], NOW + 100)
    assert live == {h for n, h in enumerate(hashes) if n % 3 == 0 and n != 0}
    assert await store.live_sessions([], NOW) == set()



async def test_user_by_id_reads_the_account_or_none(store):
    ann = await store.create_user("ann-by-id@example.test", "Ann", "hash", "member", 1_700_000_000_000)
    assert await store.user_by_id(ann.user_id) == ann
    assert await store.user_by_id(ann.user_id + 10_000) is None
