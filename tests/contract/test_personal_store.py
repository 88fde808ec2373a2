"""The Store contract for a member's own data, read for their personal archive
(chat/store/personal.py), on SQLite and PostgreSQL: each kind pages by its key and holds only
that member's rows."""

from __future__ import annotations

from chat.models import SendRequest
from tests.support.store_data import users

NOW = 1_700_000_000_000


def send(user, room, cid, *, kind="message", target=None, data=None, body=None):
    return SendRequest(room, user.user_id, user.display_name, cid,
                       (cid if body is None else body) if kind in ("message", "edit") else "",
                       kind=kind, target_id=target, data=data or {})


async def test_own_messages_page_by_room_and_seq_in_their_final_state_with_reactions(store):
    ann, bob = await users(store, "ann", "bob")
    await store.open_direct("d-own", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    sent = await store.append_batch([
        send(ann, "zhuhai", "z1"), send(bob, "zhuhai", "b1"), send(ann, "zhuhai", "z2"),
        send(ann, "d-own", "d1"), send(bob, "d-own", "secret of bob"), send(ann, "hefei", "h1"),
    ], NOW)
    z1, z2, h1 = sent[0].message, sent[2].message, sent[5].message
    await store.append_batch([
        send(ann, "zhuhai", "e1", kind="edit", target=z1.message_id, body="z1 final"),
        send(bob, "zhuhai", "r1", kind="reaction", target=z1.message_id, data={"emoji": "👍", "added": True}),
        send(ann, "zhuhai", "r2", kind="reaction", target=z1.message_id, data={"emoji": "👍", "added": True}),
        send(bob, "hefei", "r3", kind="reaction", target=h1.message_id, data={"emoji": "🎉", "added": True}),
        send(ann, "hefei", "x", kind="delete", target=h1.message_id),
    ], NOW + 5)
    everything = await store.own_messages(ann.user_id, ("", 0), 100)
    assert [(m.room_id, m.text) for m in everything] == [
        ("d-own", "d1"), ("hefei", ""), ("zhuhai", "z1 final"), ("zhuhai", "z2")]
    by_id = {m.message_id: m for m in everything}
    assert by_id[z1.message_id].edited_at_ms == NOW + 5
    assert by_id[z1.message_id].reactions == (("👍", ("ann", "bob")),)  # by who reacted (user id)
    assert by_id[h1.message_id].deleted and by_id[z2.message_id].reactions == ()
    assert by_id[h1.message_id].reactions == ()  # a deleted message shows no reactions, as in transcripts
    assert [m.room_kind for m in everything] == ["direct", "city", "city", "city"]
    assert everything[2].room_title_zh != "" and everything[2].room_title_en != ""
    # Pages: two at a time, each after the last key of the one before.
    first = await store.own_messages(ann.user_id, ("", 0), 2)
    rest = await store.own_messages(ann.user_id, (first[-1].room_id, first[-1].seq), 10)
    assert first + rest == everything
    assert all("bob" not in m.text for m in everything)


async def test_own_reactions_notifications_reads_links_and_webinar_items(store):
    ann, bob = await users(store, "ann", "bob")
    await store.open_direct("d-links", [ann.user_id, bob.user_id], bob.user_id, "", NOW)
    sent = await store.append_batch([send(bob, "zhuhai", "b1"), send(bob, "d-links", "b2")], NOW)
    b1, b2 = sent[0].message, sent[1].message
    await store.append_batch([
        send(ann, "zhuhai", "r1", kind="reaction", target=b1.message_id, data={"emoji": "🌱", "added": True}),
        send(ann, "zhuhai", "r2", kind="reaction", target=b1.message_id, data={"emoji": "👍", "added": True}),
        send(bob, "zhuhai", "r3", kind="reaction", target=b1.message_id, data={"emoji": "👀", "added": True}),
    ], NOW)
    given = await store.own_reactions(ann.user_id, ("", ""), 10)
    assert sorted(r.emoji for r in given) == sorted(["👍", "🌱"])
    assert {(r.room_id, r.seq, r.message_id) for r in given} == {("zhuhai", b1.seq, b1.message_id)}
    assert await store.own_reactions(ann.user_id, (given[0].message_id, given[0].emoji), 10) == given[1:]

    created = await store.create_notifications([b2.message_id], NOW)
    assert [n.user_id for n in created] == [ann.user_id]
    own = await store.own_notifications(ann.user_id, 0, 10)
    assert [(n.kind, n.room_id, n.excerpt, n.actor_name) for n in own] == [("direct", "d-links", "b2", "bob")]
    assert await store.own_notifications(ann.user_id, own[-1].notification_id, 10) == []
    assert await store.own_notifications(bob.user_id, 0, 10) == []
    # Removed from the room: the notification stays in the archive, its excerpt does not.
    await store.remove_member("d-links", ann.user_id, NOW + 1)
    assert [n.excerpt for n in await store.own_notifications(ann.user_id, 0, 10)] == [""]

    await store.advance_read(ann.user_id, "zhuhai", 1)
    await store.advance_read(ann.user_id, "d-links", 1)
    await store.advance_read(bob.user_id, "hefei", 1)
    reads = await store.own_reads(ann.user_id, "", 10)
    assert [(r.room_id, r.last_read_seq) for r in reads] == [("d-links", 1), ("zhuhai", 1)]
    assert reads[1].head_seq >= 1 and reads[0].room_kind == "direct"
    assert await store.own_reads(ann.user_id, "d-links", 10) == reads[1:]

    await store.set_room_notify(ann.user_id, "zhuhai", "mentions")
    links = await store.own_links(ann.user_id)
    assert [(link.relation, link.room_id, link.value) for link in links] == [
        ("member", "d-links", None), ("notify", "zhuhai", "mentions")]
    assert links[0].at_ms == NOW and links[0].until_ms == NOW + 1

    assert await store.own_webinar_items(ann.user_id, "question", "", 10) == []
    assert await store.own_webinar_items(ann.user_id, "vote", "", 10) == []
    assert await store.own_webinar_items(ann.user_id, "poll_answer", "", 10) == []


async def test_own_webinar_items_are_the_members_questions_votes_and_poll_answers(store):
    from tests.contract.test_board_store import W, poll, question, setup

    ann, bob, cat = await setup(store)
    await store.ask_question(question("q-0000000000000001", bob.user_id, "c1", anonymous=True))
    await store.ask_question(question("q-0000000000000002", cat.user_id, "c2"))
    await store.ask_question(question("q-0000000000000003", bob.user_id, "c3"))
    await store.vote(W, "q-0000000000000002", bob.user_id, True)
    await store.vote(W, "q-0000000000000001", cat.user_id, True)
    await store.create_poll(poll("p-0000000000000001", ann.user_id, multiple=True))
    await store.move_poll("p-0000000000000001", "open", NOW)
    await store.answer_poll("p-0000000000000001", bob.user_id, [0, 2], NOW + 3)
    await store.answer_poll("p-0000000000000001", cat.user_id, [1], NOW + 3)

    questions = await store.own_webinar_items(bob.user_id, "question", "", 10)
    assert [(q.item_id, q.webinar_id, q.data["body"], q.data["anonymous"]) for q in questions] == [
        ("q-0000000000000001", W, "Why green roofs?", True), ("q-0000000000000003", W, "Why green roofs?", False)]
    assert await store.own_webinar_items(bob.user_id, "question", "q-0000000000000001", 10) == questions[1:]
    votes = await store.own_webinar_items(bob.user_id, "vote", "", 10)
    assert [(v.kind, v.item_id, v.webinar_id) for v in votes] == [("vote", "q-0000000000000002", W)]
    answers = await store.own_webinar_items(bob.user_id, "poll_answer", "", 10)
    assert [(a.item_id, a.at_ms, a.data["choices"], a.data["question"]) for a in answers] == [
        ("p-0000000000000001", NOW + 3, [0, 2], {"en": "Which?", "zh": "哪个？"})]
    assert await store.own_webinar_items(ann.user_id, "poll_answer", "", 10) == []


async def test_own_topics_are_the_threads_the_member_started_with_their_rooms(store):
    from tests.contract.test_access_store import thread

    ann, bob = await users(store, "ann", "bob")
    await thread(store, ann, "t-0002", "zhuhai")
    await thread(store, bob, "t-0001", "zhuhai")
    await thread(store, ann, "t-0003", "hefei")
    mine = await store.own_topics(ann.user_id, "", 10)
    assert [(t.topic_id, t.room_ids, t.title) for t in mine] == [
        ("t-0002", ("zhuhai",), "Heat pumps"), ("t-0003", ("hefei",), "Heat pumps")]
    assert await store.own_topics(ann.user_id, "t-0002", 10) == mine[1:]
    assert [t.topic_id for t in await store.own_topics(bob.user_id, "", 1)] == ["t-0001"]
