"""The Store contract for notifications (chat/store/notifications.py), on SQLite and
PostgreSQL: who a new message notifies, listing, counting and marking read."""

from __future__ import annotations

from chat.models import SendRequest, Topic
from tests.support.store_data import users

NOW = 1_700_000_000_000


async def post(store, user, room, cid, *, body=None, mentions=()):
    data = {"mentions": list(mentions)} if mentions else {}
    [outcome] = await store.append_batch([SendRequest(
        room, user.user_id, user.display_name, cid, body or f"{cid} body", data=data,
        mentions=tuple(mentions))], NOW)
    return outcome.message


async def topic(store, author, topic_id, room="green-transport"):
    await store.create_topic(Topic(
        topic_id=topic_id, kind="topic", title="Bus fleets", summary="", body="", body_html="",
        author_id=author.user_id, author_name=author.display_name, created_at_ms=NOW,
        last_activity_ms=NOW, reply_count=0, resolved=False, pinned=False, room_ids=(room,)))


def who(notifications):
    return sorted((n.user_id, n.kind, n.message_id) for n in notifications)


async def test_mentions_notify_the_mentioned_but_never_the_author(store):
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    message = await post(store, ann, "liuzhou", "m1", body="@bob @cat @ann look",
                         mentions=(bob.user_id, cat.user_id, ann.user_id, 999_999))
    plain = await post(store, ann, "liuzhou", "m2")
    created = await store.create_notifications([message.message_id, plain.message_id], NOW + 5)
    assert who(created) == [(bob.user_id, "mention", message.message_id),
                            (cat.user_id, "mention", message.message_id)]
    first = created[0]
    assert (first.room_id, first.seq, first.actor_id, first.actor_name, first.excerpt,
            first.created_at_ms, first.read_at_ms) == ("liuzhou", 1, ann.user_id, "ann",
                                                       "@bob @cat @ann look", NOW + 5, None)
    assert len({n.notification_id for n in created}) == 2
    assert await store.create_notifications([], NOW) == []


async def test_direct_messages_notify_every_other_current_member(store):
    ann, bob, cat, dan = await users(store, "ann", "bob", "cat", "dan")
    await store.open_direct("d-note", [ann.user_id, bob.user_id, cat.user_id], ann.user_id, "", NOW)
    await store.remove_member("d-note", cat.user_id, NOW)
    # dan is mentioned but is not a member: he may not see the room, so nothing for him.
    hello = await post(store, ann, "d-note", "m1", mentions=(bob.user_id, dan.user_id))
    again = await post(store, bob, "d-note", "m2")
    created = await store.create_notifications([hello.message_id, again.message_id], NOW)
    # bob is mentioned and a member: one notification, the mention.
    assert who(created) == [(ann.user_id, "direct", again.message_id),
                            (bob.user_id, "mention", hello.message_id)]


async def test_replies_in_a_topic_notify_its_author(store):
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    await topic(store, ann, "t-fleets")
    reply = await post(store, bob, "t-fleets", "r1")
    own = await post(store, ann, "t-fleets", "r2")  # the author's own reply: nothing
    mention = await post(store, cat, "t-fleets", "r3", mentions=(ann.user_id,))
    created = await store.create_notifications(
        [reply.message_id, own.message_id, mention.message_id], NOW)
    assert who(created) == sorted([(ann.user_id, "reply", reply.message_id),
                                   (ann.user_id, "mention", mention.message_id)])


async def test_events_and_deleted_messages_notify_nobody(store):
    ann, bob = await users(store, "ann", "bob")
    message = await post(store, ann, "hefei", "m1", mentions=(bob.user_id,))
    [edit] = await store.append_batch([SendRequest(
        "hefei", ann.user_id, "ann", "e1", "edited", kind="edit", target_id=message.message_id)], NOW)
    assert await store.create_notifications([edit.message.message_id], NOW) == []
    await store.append_batch([SendRequest(
        "hefei", ann.user_id, "ann", "d1", "", kind="delete", target_id=message.message_id)], NOW)
    assert await store.create_notifications([message.message_id], NOW) == []


async def test_listing_is_newest_first_paged_and_only_the_users_own(store):
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    ids = []
    for i in range(5):
        message = await post(store, ann, "weihai", f"m{i}", mentions=(bob.user_id,))
        ids += [n.notification_id for n in await store.create_notifications([message.message_id], NOW + i)]
    other = await post(store, bob, "weihai", "x", mentions=(cat.user_id,))
    [cats] = await store.create_notifications([other.message_id], NOW)
    page = await store.list_notifications(bob.user_id, unread_only=False, before_id=2**62, limit=3)
    assert [n.notification_id for n in page] == ids[::-1][:3]
    rest = await store.list_notifications(bob.user_id, unread_only=False, before_id=page[-1].notification_id,
                                          limit=3)
    assert [n.notification_id for n in rest] == ids[::-1][3:]
    assert [n.excerpt for n in rest] == ["m1 body", "m0 body"]
    assert await store.unread_notifications(bob.user_id) == 5
    # Marking: another user's id is ignored; already-read ids do not change again.
    assert await store.mark_notifications_read(bob.user_id, [ids[0], ids[1], cats.notification_id],
                                               NOW + 50) == ids[:2]
    assert await store.mark_notifications_read(bob.user_id, [ids[0]], NOW + 60) == []
    assert await store.mark_notifications_read(bob.user_id, [], NOW + 60) == []
    assert await store.unread_notifications(bob.user_id) == 3
    assert await store.unread_notifications(cat.user_id) == 1
    unread = await store.list_notifications(bob.user_id, unread_only=True, before_id=2**62, limit=10)
    assert [n.notification_id for n in unread] == ids[::-1][:3]
    everything = await store.list_notifications(bob.user_id, unread_only=False, before_id=2**62, limit=10)
    assert [n.read_at_ms for n in everything] == [None, None, None, NOW + 50, NOW + 50]
    assert await store.mark_notifications_read(bob.user_id, None, NOW + 70) == ids[2:]
    assert await store.unread_notifications(bob.user_id) == 0
    assert await store.unread_notifications(cat.user_id) == 1


async def test_notifications_of_rooms_the_user_left_are_hidden(store):
    ann, bob = await users(store, "ann", "bob")
    await store.open_direct("d-gone", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    message = await post(store, ann, "d-gone", "m1")
    deleted = await post(store, ann, "zhuhai", "m2", body="oops", mentions=(bob.user_id,))
    await store.create_notifications([message.message_id, deleted.message_id], NOW)
    await store.append_batch([SendRequest(
        "zhuhai", ann.user_id, "ann", "d", "", kind="delete", target_id=deleted.message_id)], NOW)
    listed = await store.list_notifications(bob.user_id, unread_only=False, before_id=2**62, limit=10)
    assert [(n.room_id, n.excerpt) for n in listed] == [("zhuhai", ""), ("d-gone", "m1 body")]
    await store.remove_member("d-gone", bob.user_id, NOW + 1)
    listed = await store.list_notifications(bob.user_id, unread_only=False, before_id=2**62, limit=10)
    assert [n.room_id for n in listed] == ["zhuhai"]
    assert await store.unread_notifications(bob.user_id) == 1
