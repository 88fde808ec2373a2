"""The Store contract for room access in bulk (`visible_pairs`), on SQLite and PostgreSQL: the
same answers as `room_access`, one pair at a time, for every kind of room."""

from __future__ import annotations

from chat.models import Topic

NOW = 1_700_000_000_000


async def thread(store, author, topic_id, room):
    await store.create_topic(Topic(
        topic_id=topic_id, kind="topic", title="Heat pumps", summary="", body="", body_html="",
        author_id=author.user_id, author_name=author.display_name, created_at_ms=NOW,
        last_activity_ms=NOW, reply_count=0, resolved=False, pinned=False, room_ids=(room,)))


async def test_visible_pairs_agree_with_room_access(store):
    ann, bob, cat = [await store.create_user(f"{n}@example.test", n, "h", "member", NOW)
                     for n in ("ann", "bob", "cat")]
    await store.open_direct("d-access", [ann.user_id, bob.user_id, cat.user_id], ann.user_id, "", NOW)
    await store.remove_member("d-access", cat.user_id, NOW)
    await thread(store, ann, "t-inner", "d-access")
    await thread(store, ann, "t-open", "hefei")
    rooms = ["d-access", "t-inner", "t-open", "hefei", "d-missing"]
    users = [ann.user_id, bob.user_id, cat.user_id, 999_999]
    pairs = [(room_id, user_id) for room_id in rooms for user_id in users]
    expected = {(room_id, user_id) for room_id, user_id in pairs
                if (await store.room_access(room_id, user_id))[1]}
    assert await store.visible_pairs(pairs) == expected
    assert ("d-access", cat.user_id) not in expected and ("t-inner", cat.user_id) not in expected
    assert ("t-open", cat.user_id) in expected and ("d-access", bob.user_id) in expected
    assert await store.visible_pairs([]) == set()
    assert await store.visible_pairs([("t-inner", bob.user_id)]) == {("t-inner", bob.user_id)}
    # Many pairs take several queries; the answer is the same.
    many = [("d-access", user_id) for user_id in range(1, 1300)]
    assert await store.visible_pairs(many) == {("d-access", ann.user_id), ("d-access", bob.user_id)}
