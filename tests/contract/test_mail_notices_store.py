"""The Store contract for the email producers (chat/store/mail_notices.py, migration 0030), on
SQLite and PostgreSQL: which unread notifications are due, batches claimed by one node and taken
over when a lease lapses, what a batch still lists, one-off jobs, webinars about to start."""

from __future__ import annotations

import asyncio

from chat.models import MailPreferences, ProfileChanges, SendRequest, Topic, WebinarPerson
from tests.contract.test_webinars_store import HOUR, create, move, webinar
from tests.support.store_data import NOW, mail_members, users

MIN = 60_000
DELAY = 15 * MIN
LEASE = MIN


async def post(store, user, room, cid, *, mentions=(), at=NOW):
    data = {"mentions": list(mentions)} if mentions else {}
    [outcome] = await store.append_batch([SendRequest(
        room, user.user_id, user.display_name, cid, f"{cid} body", data=data,
        mentions=tuple(mentions))], at)
    return outcome.message


async def notify(store, *messages, at=NOW):
    return await store.create_notifications([m.message_id for m in messages], at)


async def due(store, now):
    return await store.mail_notices_due(now - DELAY - 24 * 60 * MIN, now - DELAY, now, now - DELAY, 100)


async def claim(store, user, now):
    return await store.claim_mail_notices(user.user_id, now - DELAY, now, LEASE, now - DELAY)


async def test_an_unread_notification_is_due_after_the_delay_and_listed_once(store):
    ann, bob, cat = await mail_members(store, "ann", "bob", "cat")
    await store.open_direct("d-ab", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    first = await post(store, ann, "d-ab", "m1")
    mention = await post(store, cat, "liuzhou", "m2", mentions=(bob.user_id,))
    await notify(store, first, mention)
    assert await due(store, NOW + DELAY - 1) == []
    now = NOW + DELAY
    assert await due(store, now) == [bob.user_id]
    after, through = await claim(store, bob, now)
    items = await store.mail_notice_items(bob.user_id, after, through, 50)
    assert [(i.kind, i.room_id, i.room_kind, i.actor_name, i.excerpt, i.seq) for i in items] == [
        ("direct", "d-ab", "direct", "ann", "m1 body", 1),
        ("mention", "liuzhou", "city", "cat", "m2 body", 1)]
    assert items[1].room_title_en == "Liuzhou" and items[1].thread_title is None
    # Held by this node: no one else takes it, and it is no longer due.
    assert await claim(store, bob, now) is None
    assert await due(store, now) == []
    assert await store.finish_mail_notices(bob.user_id, through, now)
    assert not await store.finish_mail_notices(bob.user_id, through, now)
    # Dealt with: never due again; a new one waits for the delay after the last email too.
    later = await post(store, ann, "d-ab", "m3", at=now)
    await notify(store, later, at=now)
    assert await due(store, now + DELAY - 1) == []
    assert await due(store, now + DELAY) == [bob.user_id]
    after2, through2 = await claim(store, bob, now + DELAY)
    assert after2 == through
    assert [i.message_id for i in await store.mail_notice_items(bob.user_id, after2, through2, 50)] == [
        later.message_id]


async def test_read_muted_deleted_blocked_and_invisible_notifications_are_not_listed(store):
    ann, bob, cat = await mail_members(store, "ann", "bob", "cat")
    await store.open_direct("d-ab", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    await store.open_direct("d-cb", [cat.user_id, bob.user_id], cat.user_id, "", NOW)
    read_room = await post(store, ann, "d-ab", "m1")
    marked = await post(store, ann, "hefei", "m2", mentions=(bob.user_id,))
    muted = await post(store, ann, "liuzhou", "m3", mentions=(bob.user_id,))
    deleted = await post(store, ann, "guilin", "m4", mentions=(bob.user_id,))
    blocked = await post(store, cat, "d-cb", "m5")
    kept = await post(store, ann, "green-transport", "m6", mentions=(bob.user_id,))
    created = await notify(store, read_room, marked, muted, deleted, blocked, kept)
    await store.advance_read(bob.user_id, "d-ab", 1)
    [marked_note] = [n for n in created if n.message_id == marked.message_id]
    await store.mark_notifications_read(bob.user_id, [marked_note.notification_id], NOW)
    await store.set_room_notify(bob.user_id, "liuzhou", "none")
    await store.append_batch([SendRequest("guilin", ann.user_id, "ann", "d1", "", kind="delete",
                                          target_id=deleted.message_id)], NOW)
    await store.block_user(bob.user_id, cat.user_id, NOW)
    now = NOW + DELAY
    assert await due(store, now) == [bob.user_id]
    after, through = await claim(store, bob, now)
    items = await store.mail_notice_items(bob.user_id, after, through, 50)
    assert [i.message_id for i in items] == [kept.message_id]
    # Read the last one too: still due (the service finds nothing to mail and finishes it).
    await store.advance_read(bob.user_id, "green-transport", 1)
    assert await store.mail_notice_items(bob.user_id, after, through, 50) == []


async def test_a_reply_names_its_thread_and_everything_read_is_never_due(store):
    ann, bob = await mail_members(store, "ann", "bob")
    await store.open_direct("d-ab", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    message = await post(store, ann, "d-ab", "m1")
    await notify(store, message)
    await store.advance_read(bob.user_id, "d-ab", 1)
    assert await due(store, NOW + DELAY) == []


async def test_nodes_racing_for_a_batch_one_gets_it_and_a_lapsed_lease_is_taken_over_as_it_was(store):
    ann, bob = await mail_members(store, "ann", "bob")
    first = await post(store, ann, "hefei", "m1", mentions=(bob.user_id,))
    await notify(store, first)
    now = NOW + DELAY
    claims = await asyncio.gather(*(claim(store, bob, now) for _ in range(5)))
    won = [c for c in claims if c is not None]
    assert len(won) == 1
    after, through = won[0]
    # A newer notification arrives while the batch is held; the lease lapses unfinished.
    second = await post(store, ann, "hefei", "m2", mentions=(bob.user_id,), at=now)
    await notify(store, second, at=now)
    lapsed = now + LEASE
    assert await due(store, lapsed) == [bob.user_id]
    assert await store.claim_mail_notices(bob.user_id, lapsed, lapsed, LEASE, lapsed) == (after, through)
    assert await store.finish_mail_notices(bob.user_id, through, lapsed)
    # The newer one is the next batch's.
    nxt = lapsed + 2 * DELAY
    after2, through2 = await claim(store, bob, nxt)
    assert after2 == through and through2 > through


async def test_a_member_without_new_notifications_has_no_batch(store):
    ann, bob = await mail_members(store, "ann", "bob")
    assert await claim(store, bob, NOW + DELAY) is None
    note = await post(store, ann, "hefei", "m1", mentions=(bob.user_id,))
    await notify(store, note)
    after, through = await claim(store, bob, NOW + DELAY)
    assert await store.finish_mail_notices(bob.user_id, through, None)
    # Finished without an email: nothing left, and the delay since an email does not apply.
    assert await claim(store, bob, NOW + DELAY) is None
    again = await post(store, ann, "hefei", "m2", mentions=(bob.user_id,), at=NOW + 1)
    await notify(store, again, at=NOW + 1)
    assert await due(store, NOW + DELAY + 1) == [bob.user_id]


async def test_a_job_is_claimed_by_one_node_taken_over_when_its_lease_lapses_and_done_once(store):
    results = await asyncio.gather(*(store.claim_mail_job("digest:1:2026-12-07", NOW, LEASE) for _ in range(5)))
    assert sorted(results) == [False] * 4 + [True]
    assert not await store.claim_mail_job("digest:1:2026-12-07", NOW + LEASE - 1, LEASE)
    assert await store.claim_mail_job("digest:1:2026-12-07", NOW + LEASE, LEASE)
    assert await store.mail_jobs_done(["digest:1:2026-12-07", "other"]) == set()
    await store.finish_mail_job("digest:1:2026-12-07", NOW + LEASE)
    assert not await store.claim_mail_job("digest:1:2026-12-07", NOW + 10 * LEASE, LEASE)
    assert await store.mail_jobs_done(["digest:1:2026-12-07", "other"]) == {"digest:1:2026-12-07"}
    assert await store.mail_jobs_done([]) == set()
    await store.prune_mail_jobs(NOW + LEASE)
    assert await store.mail_jobs_done(["digest:1:2026-12-07"]) == {"digest:1:2026-12-07"}
    await store.prune_mail_jobs(NOW + LEASE + 1)
    assert await store.mail_jobs_done(["digest:1:2026-12-07"]) == set()


async def test_webinars_starting_soon_and_their_audience(store):
    host, ann, bob, cat = await mail_members(store, "host", "ann", "bob", "cat")
    await create(store, webinar("webinar-soon", host.user_id, starts=NOW + HOUR,
                                people=(WebinarPerson(host.user_id, "host", "host"),)))
    await create(store, webinar("webinar-later", host.user_id, starts=NOW + 3 * HOUR))
    await create(store, webinar("webinar-off", host.user_id, starts=NOW + HOUR))
    await move(store, "webinar-off", "cancelled", NOW)
    for user in (ann, bob, host):
        await store.set_registration("webinar-soon", user.user_id, True, NOW)
    assert await store.webinars_starting(NOW, NOW + HOUR) == [("webinar-soon", NOW + HOUR)]
    assert await store.webinars_starting(NOW + HOUR, NOW + 2 * HOUR) == []
    await store.update_profile(ann.user_id, ProfileChanges(time_zone="Asia/Shanghai"))
    audience = await store.webinar_audience("webinar-soon", NOW)
    assert [(u.display_name, zone) for u, zone in audience] == [
        ("host", None), ("ann", "Asia/Shanghai"), ("bob", None)]
    assert await store.webinar_audience("webinar-later", NOW) == []
    assert cat.user_id not in {u.user_id for u, _ in audience}


async def test_digest_members_and_what_their_rooms_had_in_a_period(store):
    ann, bob, cat = await mail_members(store, "ann", "bob", "cat")
    await store.set_mail_preferences(ann.user_id, MailPreferences({}, "daily", ("hefei", "liuzhou")), NOW)
    await store.set_mail_preferences(bob.user_id, MailPreferences({}, "weekly", ()), NOW)
    await store.set_mail_preferences(cat.user_id, MailPreferences({"direct": False}, "off", ()), NOW)
    await store.update_profile(bob.user_id, ProfileChanges(time_zone="Europe/Berlin"))
    members = await store.digest_members(0, 10, NOW)
    assert [(u.display_name, zone, freq) for u, zone, freq in members] == [
        ("ann", None, "daily"), ("bob", "Europe/Berlin", "weekly")]
    assert [u.display_name for u, _, _ in await store.digest_members(ann.user_id, 10, NOW)] == ["bob"]
    assert len(await store.digest_members(0, 1, NOW)) == 1

    await post(store, bob, "hefei", "old", at=NOW - 1)
    await post(store, bob, "hefei", "h1", at=NOW)
    gone = await post(store, bob, "hefei", "h2", at=NOW + 5)
    await store.append_batch([SendRequest("hefei", bob.user_id, "bob", "d1", "", kind="delete",
                                          target_id=gone.message_id)], NOW + 6)
    await post(store, bob, "hefei", "late", at=NOW + HOUR)
    for topic_id, kind, replies in (("t-busy", "topic", 3), ("t-quiet", "topic", 0), ("n-news", "news", 1)):
        await store.create_topic(Topic(
            topic_id=topic_id, kind=kind, title=topic_id.title(), summary="", body="", body_html="",
            author_id=bob.user_id, author_name="bob", created_at_ms=NOW + 10, last_activity_ms=NOW,
            reply_count=0, resolved=False, pinned=False, room_ids=("hefei",)))
        for n in range(replies):
            await post(store, cat, topic_id, f"{topic_id}-{n}", at=NOW + 20)
    await store.open_direct("d-bc", [bob.user_id, cat.user_id], bob.user_id, "", NOW)
    await post(store, bob, "d-bc", "secret", at=NOW)
    rooms = await store.digest_contents(ann.user_id, ["liuzhou", "hefei", "d-bc"], NOW, NOW + HOUR)
    assert [(r.room_id, r.title_en, r.messages) for r in rooms] == [("liuzhou", "Liuzhou", 0), ("hefei", "Hefei", 1)]
    assert [(t.topic_id, t.kind, t.replies) for t in rooms[1].threads] == [
        ("t-busy", "topic", 3), ("n-news", "news", 1), ("t-quiet", "topic", 0)]
    assert await store.digest_contents(ann.user_id, [], NOW, NOW + HOUR) == []


async def test_notification_mail_reaches_no_deleted_sanctioned_or_unverified_member(store):
    ann, bob, cat, dee = await mail_members(store, "ann", "bob", "cat", "dee")
    eve, = await users(store, "eve")  # address never verified
    for user in (ann, bob, cat, dee, eve):
        await store.set_mail_preferences(user.user_id, MailPreferences({}, "daily", ()), NOW)
    await store.add_sanction(bob.user_id, "ban", None, None, "spam", ann.user_id, None, NOW)
    await store.add_sanction(cat.user_id, "suspend", None, NOW + HOUR, "spam", ann.user_id, None, NOW)
    await store.add_sanction(dee.user_id, "mute", "hefei", None, "spam", ann.user_id, None, NOW)  # mail still
    assert await store.delete_account(ann.user_id, "deleted:x", "h", NOW) is not None
    assert [u.display_name for u, _, _ in await store.digest_members(0, 10, NOW)] == ["dee"]
    assert [u.display_name for u, _, _ in await store.digest_members(0, 10, NOW + HOUR)] == ["cat", "dee"]
    assert [await store.mail_member(u.user_id, NOW) is not None for u in (ann, bob, cat, dee, eve)] == [
        False, False, False, True, False]
    await store.set_email_verified(eve.user_id, NOW)
    assert await store.mail_member(eve.user_id, NOW) is not None
