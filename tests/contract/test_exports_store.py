"""The Store contract for transcript exports (chat/store/exports.py), on SQLite and PostgreSQL: a
time range as a seq range, pages of the room log by seq with messages in their final state and
reactions with names, who took part, and a webinar's questions as the board shows them."""

from __future__ import annotations

from chat.models import SendRequest, Topic
from tests.contract.test_board_store import W, question, setup
from tests.support.store_data import NOW, users

MINUTE = 60_000


def send(user, room, cid, *, kind="message", target=None, data=None, body=None):
    return SendRequest(room, user.user_id, user.display_name, cid,
                       (body if body is not None else cid) if kind in ("message", "edit") else "",
                       kind=kind, target_id=target, data=data or {})


async def fill(store, ann, bob):
    """zhuhai: m1 at NOW, m2 at NOW+1min, m3 at NOW+2min; then an edit of m1, a delete of m2
    and reactions on m1 (bob, then ann) at NOW+3min."""
    m1, = await store.append_batch([send(ann, "zhuhai", "m1")], NOW)
    m2, = await store.append_batch([send(bob, "zhuhai", "m2")], NOW + MINUTE)
    m3, = await store.append_batch([send(ann, "zhuhai", "m3")], NOW + 2 * MINUTE)
    ids = [o.message.message_id for o in (m1, m2, m3)]
    await store.append_batch([
        send(ann, "zhuhai", "e1", kind="edit", target=ids[0], body="m1 again"),
        send(bob, "zhuhai", "d2", kind="delete", target=ids[1]),
        send(bob, "zhuhai", "r1", kind="reaction", target=ids[0], data={"emoji": "👍", "added": True}),
        send(ann, "zhuhai", "r2", kind="reaction", target=ids[0], data={"emoji": "👍", "added": True}),
        send(ann, "zhuhai", "r3", kind="reaction", target=ids[0], data={"emoji": "🎉", "added": True}),
    ], NOW + 3 * MINUTE)
    return ids


async def test_a_time_range_becomes_the_span_of_seqs_sent_in_it(store):
    ann, bob = await users(store, "ann", "bob")
    await fill(store, ann, bob)  # seqs 1-3 messages, 4-8 events at NOW+3min
    assert await store.export_span("zhuhai", None, None) == (0, 8)
    assert await store.export_span("zhuhai", NOW + MINUTE, None) == (1, 8)
    assert await store.export_span("zhuhai", None, NOW + 2 * MINUTE) == (0, 2)  # `to` excluded
    assert await store.export_span("zhuhai", NOW + 1, NOW + 2 * MINUTE + 1) == (1, 3)
    # Nothing in the range: an empty span, never an inverted one.
    after, upto = await store.export_span("zhuhai", NOW + 10 * MINUTE, None)
    assert after == upto == 8
    after, upto = await store.export_span("zhuhai", None, NOW - 1)
    assert after == upto == 0
    assert await store.export_span("hefei", None, None) == (0, 0)  # a room with no entries
    assert await store.export_span("no-such-room", None, None) == (0, 0)


async def test_pages_hold_messages_in_their_final_state_and_room_events_only(store):
    ann, bob = await users(store, "ann", "bob")
    ids = await fill(store, ann, bob)
    await store.append_batch([send(ann, "zhuhai", "s1", kind="status", data={"status": "answered"})], NOW + 4 * MINUTE)
    entries, reactions = await store.export_page("zhuhai", 0, 9, 10)
    assert [(e.seq, e.kind) for e in entries] == [(1, "message"), (2, "message"), (3, "message"), (9, "status")]
    first, second, _, status = entries
    assert (first.body, first.edited_at_ms is not None, first.deleted) == ("m1 again", True, False)
    assert (second.body, second.deleted, second.author_name) == ("", True, "bob")
    assert status.data == {"status": "answered"}
    # Emojis in code-point order, names in the order they reacted; none for a deleted message.
    assert reactions == {ids[0]: [("🎉", ["ann"]), ("👍", ["bob", "ann"])]}
    # Keyset pages: limit, and the span's end.
    page, _ = await store.export_page("zhuhai", 1, 9, 1)
    assert [e.seq for e in page] == [2]
    page, _ = await store.export_page("zhuhai", 0, 2, 10)
    assert [e.seq for e in page] == [1, 2]
    assert await store.export_count("zhuhai", 0, 9) == 4
    assert await store.export_count("zhuhai", 1, 3) == 2
    assert await store.export_page("hefei", 0, 10, 10) == ([], {})


async def test_participants_are_who_wrote_in_the_span_and_in_the_rooms_threads(store):
    ann, bob, cat = await users(store, "ann", "Bob", "cat")
    await store.append_batch([send(ann, "zhuhai", "a1"), send(bob, "zhuhai", "b1")], NOW)
    await store.append_batch([send(ann, "zhuhai", "a2")], NOW + MINUTE)
    await store.create_topic(Topic(
        topic_id="t-0000000000000001", kind="topic", title="Roofs", summary="", body="", body_html="",
        author_id=ann.user_id, author_name="ann", created_at_ms=NOW, last_activity_ms=NOW,
        reply_count=0, resolved=False, pinned=False, room_ids=("zhuhai",)))
    await store.append_batch([send(cat, "t-0000000000000001", "c1")], NOW + MINUTE)
    assert await store.export_participants("zhuhai", 0, 3) == ["ann", "Bob"]  # case-folded order
    assert await store.export_participants("zhuhai", 2, 3) == ["ann"]
    assert await store.export_participants("zhuhai", 0, 3, threads=True) == ["ann", "Bob", "cat"]
    assert await store.export_participants("zhuhai", 2, 3, threads=True, threads_from_ms=NOW + MINUTE,
                                           threads_to_ms=NOW + 2 * MINUTE) == ["ann", "cat"]
    assert await store.export_participants("zhuhai", 0, 3, threads=True, threads_to_ms=NOW) == ["ann", "Bob"]


async def test_questions_follow_the_boards_visibility_in_pages_oldest_first(store):
    ann, bob, cat = await setup(store)
    asked = [
        ("q-0000000000000001", bob.user_id, "open", NOW),
        ("q-0000000000000002", cat.user_id, "pending", NOW + 1),
        ("q-0000000000000003", bob.user_id, "pending", NOW + 2),
        ("q-0000000000000004", cat.user_id, "answered", NOW + 3),
        ("q-0000000000000005", cat.user_id, "dismissed", NOW + 4),
    ]
    for question_id, author, state, at in asked:
        x = question(question_id, author, question_id, state=state)
        await store.ask_question(x.__class__(**{**_fields(x), "created_at_ms": at, "updated_at_ms": at}))
    ids = lambda found: [x.question_id[-1] for x in found]  # noqa: E731
    assert ids(await store.export_questions(W, None, None, None, None, 10)) == ["1", "2", "3", "4", "5"]
    assert ids(await store.export_questions(W, bob.user_id, None, None, None, 10)) == ["1", "3", "4"]
    assert ids(await store.export_questions(W, cat.user_id, None, None, None, 10)) == ["1", "2", "4"]
    # What the board shows the viewer, exactly (the board's own rule).
    board = await store.board_questions(W, bob.user_id, 10)
    assert sorted(ids(board)) == ids(await store.export_questions(W, bob.user_id, None, None, None, 10))
    # Keyset pages and the range.
    page = await store.export_questions(W, None, None, None, None, 2)
    assert ids(page) == ["1", "2"]
    key = (page[-1].created_at_ms, page[-1].question_id)
    assert ids(await store.export_questions(W, None, None, None, key, 2)) == ["3", "4"]
    assert ids(await store.export_questions(W, None, NOW + 1, NOW + 3, None, 10)) == ["2", "3"]
    assert await store.export_questions("webinar-none", None, None, None, None, 10) == []
    _ = ann


def _fields(x):
    return {name: getattr(x, name) for name in x.__dataclass_fields__}
