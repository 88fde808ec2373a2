"""The Store contract for moderation (chat/store/moderation.py, migration 0028): reports, the
queue, sanctions and the checks against them, on SQLite and PostgreSQL."""

from __future__ import annotations

from chat.models import ReportedMessage, SendRequest
from tests.support.store_data import users

NOW = 1_700_000_000_000
HOUR = 3_600_000


async def post(store, user, room, cid):
    [outcome] = await store.append_batch([SendRequest(room, user.user_id, user.display_name, cid, "hello")], NOW)
    return outcome.message


async def test_a_report_is_filed_once_while_open_and_the_queue_pages_open_ones_oldest_first(store):
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    message = await post(store, bob, "zhuhai", "c1")
    assert await store.message_author("zhuhai", message.message_id) == (bob.user_id, False)
    assert await store.message_author("shenzhen", message.message_id) is None
    assert await store.message_author("zhuhai", "nope") is None
    first, created = await store.add_report(ann.user_id, bob.user_id, "zhuhai", message.message_id, "spam",
                                            "ads", NOW)
    assert created and first.status == "open" and first.note == "ads"
    assert (first.reporter_name, first.target_name, first.room_id) == ("ann", "bob", "zhuhai")
    again, created = await store.add_report(ann.user_id, bob.user_id, "zhuhai", message.message_id, "abuse",
                                            "", NOW + 1)
    assert not created and again == first
    member, created = await store.add_report(ann.user_id, bob.user_id, None, None, "harassment", "", NOW + 2)
    assert created and member.message_id is None
    same_member, created = await store.add_report(ann.user_id, bob.user_id, None, None, "other", "", NOW + 3)
    assert not created and same_member == member
    by_cat, _ = await store.add_report(cat.user_id, bob.user_id, "zhuhai", message.message_id, "spam", "", NOW)
    assert await store.open_report_count() == 3
    assert [r.report_id for r in await store.report_page(True, None, 2)] == [first.report_id, member.report_id]
    assert [r.report_id for r in await store.report_page(True, member.report_id, 2)] == [by_cat.report_id]
    assert await store.report_page(False, None, 10) == []

    assert await store.close_report(first.report_id, "resolved", "mute", cat.user_id, NOW + 5)
    assert not await store.close_report(first.report_id, "dismissed", None, cat.user_id, NOW + 6)
    assert not await store.close_report(99_999, "dismissed", None, cat.user_id, NOW + 6)
    await store.close_report(member.report_id, "dismissed", None, cat.user_id, NOW + 6)
    closed = await store.report_page(False, None, 10)
    assert [r.report_id for r in closed] == [member.report_id, first.report_id]
    assert (closed[1].status, closed[1].resolution, closed[1].resolved_by, closed[1].resolved_at_ms) == (
        "resolved", "mute", cat.user_id, NOW + 5)
    assert [r.report_id for r in await store.report_page(True, None, 10)] == [by_cat.report_id]
    assert await store.open_report_count() == 1
    # Closed, the same report may be filed anew.
    fresh, created = await store.add_report(ann.user_id, bob.user_id, "zhuhai", message.message_id, "spam",
                                            "", NOW + 7)
    assert created and fresh.report_id > by_cat.report_id
    about = await store.reports_about(bob.user_id, 10)
    assert [r.report_id for r in about] == sorted((r.report_id for r in about), reverse=True)
    assert len(about) == 4 and await store.reports_about(ann.user_id, 10) == []
    assert await store.get_report(first.report_id) == closed[1]
    assert await store.get_report(99_999) is None


async def test_a_report_of_a_message_keeps_a_copy_that_edits_deletions_and_account_deletion_leave(store):
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    message = await post(store, bob, "zhuhai", "c1")
    report, _ = await store.add_report(ann.user_id, bob.user_id, "zhuhai", message.message_id, "abuse", "", NOW + 9)
    copy = ReportedMessage("hello", "bob", NOW, message.seq)
    assert report.message == copy
    member, _ = await store.add_report(cat.user_id, bob.user_id, None, None, "spam", "", NOW + 9)
    assert member.message is None
    await store.append_batch([SendRequest("zhuhai", bob.user_id, "bob", "e1", "edited away", kind="edit",
                                          target_id=message.message_id)], NOW + 10)
    await store.append_batch([SendRequest("zhuhai", bob.user_id, "bob", "d1", "", kind="delete",
                                          target_id=message.message_id)], NOW + 11)
    assert await store.message_author("zhuhai", message.message_id) == (bob.user_id, True)
    await store.delete_account(bob.user_id, "deleted:1", "!deleted", NOW + 12)
    [kept] = [r for r in await store.report_page(True, None, 10) if r.report_id == report.report_id]
    assert kept.message == copy and kept.target_name == ""
    assert (await store.get_report(report.report_id)).message == copy
    assert [r.message for r in await store.reports_about(bob.user_id, 10)] == [None, copy]


async def test_sanctions_in_force_end_with_time_or_when_lifted(store):
    ann, bob = await users(store, "ann", "bob")
    mute = await store.add_sanction(bob.user_id, "mute", "zhuhai", NOW + HOUR, "spam", ann.user_id, None, NOW)
    assert await store.sanction_in_force(bob.user_id, "mute", "zhuhai", NOW) == mute
    assert await store.sanction_in_force(bob.user_id, "mute", "zhuhai", NOW + HOUR) is None
    assert await store.sanction_in_force(bob.user_id, "mute", "shenzhen", NOW) is None
    assert await store.sanction_in_force(ann.user_id, "mute", "zhuhai", NOW) is None
    longer = await store.add_sanction(bob.user_id, "mute", "zhuhai", NOW + 2 * HOUR, "", ann.user_id, None, NOW)
    assert await store.sanction_in_force(bob.user_id, "mute", "zhuhai", NOW) == longer

    suspended = await store.add_sanction(bob.user_id, "suspend", None, NOW + HOUR, "", ann.user_id, None, NOW)
    assert await store.sanction_in_force(bob.user_id, "suspend", None, NOW) == suspended
    assert await store.sanction_in_force(bob.user_id, "ban", None, NOW) is None
    ban = await store.add_sanction(bob.user_id, "ban", None, None, "", ann.user_id, None, NOW)
    assert await store.sanction_in_force(bob.user_id, "ban", None, NOW + 1000 * HOUR) == ban

    lifted = await store.lift_sanctions(bob.user_id, "mute", "zhuhai", ann.user_id, NOW + 1)
    assert [s.sanction_id for s in lifted] == [mute.sanction_id, longer.sanction_id]
    assert all(s.lifted_at_ms == NOW + 1 and s.lifted_by == ann.user_id for s in lifted)
    assert await store.sanction_in_force(bob.user_id, "mute", "zhuhai", NOW + 2) is None
    assert await store.lift_sanctions(bob.user_id, "mute", "zhuhai", ann.user_id, NOW + 3) == []
    [unbanned] = await store.lift_sanctions(bob.user_id, "ban", None, ann.user_id, NOW + 4)
    assert unbanned.sanction_id == ban.sanction_id
    assert await store.sanction_in_force(bob.user_id, "suspend", None, NOW + 5) == suspended

    record = await store.sanctions_of(bob.user_id, 10)
    assert [s.sanction_id for s in record] == [ban.sanction_id, suspended.sanction_id, longer.sanction_id,
                                              mute.sanction_id]
    assert [s.kind for s in await store.sanctions_of(bob.user_id, 2)] == ["ban", "suspend"]
    assert await store.sanctions_of(ann.user_id, 10) == []


async def test_every_live_session_of_a_member_is_listed(store):
    ann, bob = await users(store, "ann", "bob")
    await store.create_session(b"a" * 32, ann.user_id, NOW + HOUR)
    await store.create_session(b"b" * 32, ann.user_id, NOW - HOUR)  # expired: signs nothing in
    await store.create_session(b"c" * 32, bob.user_id, NOW + HOUR)
    assert [s.token_hash for s in await store.user_sessions(ann.user_id, NOW)] == [b"a" * 32]
    assert await store.user_sessions(99_999, NOW) == []
