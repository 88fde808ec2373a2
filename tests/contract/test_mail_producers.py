"""The email producers (chat/mail/notices.py, reminders.py, digests.py, producers.py) over each
store, with a clock the tests move: what reaches the outbox (chat/mail/service.py), once, in the
member's language, as their preferences say. Sending those mails through SMTP is
tests/e2e/test_mail_notices.py's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from chat.clock import FakeClock
from chat.config import Settings
from chat.mail.producers import MailProducers
from chat.mail.service import MailService
from chat.models import MailPreferences, ProfileChanges, SendRequest, Topic, WebinarChanges, WebinarPerson
from tests.contract.test_webinars_store import create, move, told, webinar
from tests.support.store_data import NOW, mail_members, users

BASE = "https://chat.example.test"
MIN = 60_000
SETTINGS = Settings(mail_notify_delay_min=15, mail_webinar_reminder_min=60, mail_digest_hour=7)


def producers(store, clock, settings=SETTINGS):
    return MailProducers(store, MailService(store, clock, BASE), clock, settings)


async def outbox(store, clock):
    """The mails queued since the last call (taken off the queue as a sender would)."""
    claimed = await store.claim_mail(clock.now_ms() + 10**12, 60_000, 1000)
    for mail in claimed:
        await store.mark_mail_sent(mail.mail_id, mail.attempts, clock.now_ms())
    return sorted(claimed, key=lambda mail: (mail.recipient, mail.subject))


async def post(store, user, room, cid, clock, *, mentions=(), body=None):
    data = {"mentions": list(mentions)} if mentions else {}
    [outcome] = await store.append_batch([SendRequest(
        room, user.user_id, user.display_name, cid, body or f"{cid} body", data=data,
        mentions=tuple(mentions))], clock.now_ms())
    await store.create_notifications([outcome.message.message_id], clock.now_ms())
    return outcome.message


async def test_unread_messages_go_out_in_one_email_after_the_delay_and_only_once(store):
    clock = FakeClock(NOW)
    ann, bob, cat = await mail_members(store, "ann", "bob", "cat")
    await store.open_direct("d-ab", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    for n in range(3):
        await post(store, ann, "d-ab", f"dm{n}", clock, body=f"bus fleet question {n}")
    await post(store, cat, "hefei", "m1", clock, mentions=(bob.user_id,), body="@bob see the <plan>")
    jobs = producers(store, clock)
    clock.advance(15 * 60 - 10)
    assert await jobs.run_once() == 0
    # A younger one joins the email the oldest makes due (but for the last seconds' few).
    await post(store, ann, "d-ab", "dm3", clock, body="bus fleet question 3")
    clock.advance(9)
    await post(store, ann, "d-ab", "dm4", clock, body="bus fleet question 4")
    clock.advance(1)
    assert await jobs.run_once() == 1
    [mail] = await outbox(store, clock)
    assert mail.recipient == "bob@example.test" and mail.kind == "direct" and mail.user_id == bob.user_id
    # Language unknown: both, English first.
    assert mail.subject == "5 unread messages for you on EcoLink / 您在 EcoLink 上有 5 条未读消息"
    assert "question 4" not in mail.text
    for n in range(4):
        assert f"“bus fleet question {n}”" in mail.text
    assert "cat mentioned you in Hefei:" in mail.text and "cat 在合肥中提到了您" in mail.text
    assert f"{BASE}/#/room/d-ab" in mail.text and f"{BASE}/#/notifications" in mail.text
    assert "&lt;plan&gt;" in mail.html and "<plan>" not in mail.html
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Never again for these, on any later run; the one left out comes a delay later, alone.
    clock.advance(15 * 60 - 1)
    assert await jobs.run_once() == 0
    clock.advance(1)
    assert await jobs.run_once() == 1
    [alone] = await outbox(store, clock)
    assert "question 4" in alone.text and "question 3" not in alone.text
    clock.advance(3600)
    assert await jobs.run_once() == 0
    assert await outbox(store, clock) == []


async def test_what_was_read_meanwhile_is_not_mailed(store):
    clock = FakeClock(NOW)
    ann, bob, cat = await mail_members(store, "ann", "bob", "cat")
    await store.open_direct("d-ab", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    await post(store, ann, "d-ab", "dm1", clock)
    await post(store, ann, "hefei", "m1", clock, mentions=(cat.user_id, bob.user_id))
    await store.advance_read(bob.user_id, "d-ab", 1)  # bob read the direct message in the app
    created = await store.list_notifications(cat.user_id, unread_only=True, before_id=2**62, limit=10)
    await store.mark_notifications_read(cat.user_id, [n.notification_id for n in created], NOW)
    clock.advance(15 * 60)
    assert await producers(store, clock).run_once() == 1
    [mail] = await outbox(store, clock)
    assert mail.recipient == "bob@example.test"
    assert mail.subject.startswith("ann wrote to you on EcoLink")
    assert "dm1 body" not in mail.text and "m1 body" in mail.text


async def test_preferences_choose_the_kinds_and_the_language(store):
    clock = FakeClock(NOW)
    ann, bob, cat, dan = await mail_members(store, "ann", "bob", "cat", "dan")
    await store.set_mail_preferences(bob.user_id, MailPreferences({"mention": False}, language="zh"), NOW)
    await store.set_mail_preferences(cat.user_id, MailPreferences({"mention": False, "direct": False}), NOW)
    await store.set_mail_preferences(dan.user_id, MailPreferences({}, language="en"), NOW)
    await store.open_direct("d-ab", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    await store.open_direct("d-ac", [ann.user_id, cat.user_id], ann.user_id, "", NOW)
    await post(store, ann, "d-ab", "dm1", clock)
    await post(store, ann, "d-ac", "dm2", clock)
    await post(store, ann, "hefei", "m1", clock, mentions=(bob.user_id, cat.user_id, dan.user_id))
    clock.advance(15 * 60)
    assert await producers(store, clock).run_once() == 2
    bob_mail, dan_mail = await outbox(store, clock)
    assert bob_mail.subject == "ann 在 EcoLink 上给您留言"
    assert "ann 给您发了私信" in bob_mail.text and "“m1 body”" not in bob_mail.text
    assert "While you were away" not in bob_mail.text
    assert dan_mail.subject == "ann wrote to you on EcoLink" and "您不在时" not in dan_mail.text
    assert dan_mail.kind == "mention"


async def test_nodes_running_together_send_each_email_once(store):
    clock = FakeClock(NOW)
    ann, *others = await mail_members(store, "ann", *(f"m{n}" for n in range(6)))
    await post(store, ann, "hefei", "m1", clock, mentions=tuple(u.user_id for u in others))
    clock.advance(15 * 60)
    nodes = [producers(store, clock) for _ in range(3)]
    assert sum(await asyncio.gather(*(node.run_once() for node in nodes))) == 6
    assert sorted(m.recipient for m in await outbox(store, clock)) == sorted(u.email for u in others)


async def test_webinar_reminders_reach_its_audience_once_per_start_time(store):
    clock = FakeClock(NOW)
    host, ann, bob, cat = await mail_members(store, "host", "ann", "bob", "cat")
    start = NOW + 90 * MIN
    await create(store, webinar("webinar-roofs", host.user_id, starts=start,
                                people=(WebinarPerson(host.user_id, "host", "host"),)))
    await create(store, webinar("webinar-off", host.user_id, starts=start))
    await move(store, "webinar-off", "cancelled", NOW)
    for user in (ann, bob, cat):
        await store.set_registration("webinar-roofs", user.user_id, True, NOW)
        await store.set_registration("webinar-off", user.user_id, True, NOW)
    await store.update_profile(ann.user_id, ProfileChanges(time_zone="Asia/Shanghai"))
    await store.set_mail_preferences(ann.user_id, MailPreferences({}, language="zh"), NOW)
    await store.set_mail_preferences(cat.user_id, MailPreferences({"webinar_reminder": False}), NOW)
    jobs = producers(store, clock)
    assert await jobs.run_once() == 0  # 90 minutes ahead: not yet
    clock.advance(30 * 60)
    assert await jobs.run_once() == 3
    mails = {m.recipient: m for m in await outbox(store, clock)}
    assert sorted(mails) == ["ann@example.test", "bob@example.test", "host@example.test"]
    local = datetime.fromtimestamp(start / 1000, tz=UTC)
    assert mails["ann@example.test"].subject == "即将开始：绿色屋顶"
    assert f"{(local.hour + 8) % 24:02d}:{local.minute:02d}（Asia/Shanghai）" in mails["ann@example.test"].text
    assert mails["bob@example.test"].subject == "Starting soon: Green roofs / 即将开始：绿色屋顶"
    assert f"{local:%H:%M} (UTC)" in mails["bob@example.test"].text
    assert f"{BASE}/#/webinar/webinar-roofs" in mails["bob@example.test"].text
    clock.advance(60)
    assert await jobs.run_once() == 0
    # Moved later: a reminder again when the new start comes near.
    later = start + 120 * MIN
    await store.edit_webinar("webinar-roofs", WebinarChanges(starts_at_ms=later, ends_at_ms=later + 60 * MIN),
                             clock.now_ms(), told("edited"))
    assert await jobs.run_once() == 0
    clock.advance(120 * 60)
    assert await jobs.run_once() == 3
    assert len(await outbox(store, clock)) == 3


def at(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


async def test_a_digest_goes_in_the_members_morning_once_and_only_with_something_new(store):
    monday_6 = at("2026-12-07T06:00:00+00:00")  # a Monday, 06:00 UTC (07:00 in Berlin)
    clock = FakeClock(monday_6)
    ann, bob, cat, dan = await mail_members(store, "ann", "bob", "cat", "dan")
    await store.set_mail_preferences(ann.user_id, MailPreferences({}, "daily", ("hefei", "liuzhou"), "en"), NOW)
    await store.set_mail_preferences(bob.user_id, MailPreferences({}, "weekly", ("hefei",)), NOW)
    await store.set_mail_preferences(cat.user_id, MailPreferences({}, "daily", ("zhuhai",)), NOW)
    await store.update_profile(bob.user_id, ProfileChanges(time_zone="Europe/Berlin"))
    # Sunday afternoon: messages in Hefei, a topic with replies; nothing in Zhuhai.
    sunday = FakeClock(at("2026-12-06T15:00:00+00:00"))
    await post(store, dan, "hefei", "h1", sunday)
    await post(store, dan, "hefei", "h2", sunday)
    await store.create_topic(Topic(
        topic_id="t-brt", kind="topic", title="BRT <lanes>", summary="", body="", body_html="",
        author_id=dan.user_id, author_name="dan", created_at_ms=sunday.now_ms(),
        last_activity_ms=sunday.now_ms(), reply_count=0, resolved=False, pinned=False, room_ids=("hefei",)))
    await post(store, cat, "t-brt", "r1", sunday)
    await store.advance_read(dan.user_id, "t-brt", 1)  # dan saw the reply: no email about it
    jobs = producers(store, clock)
    # 06:00 UTC: Berlin's 07:00 has come (bob, weekly: it is Monday); UTC's has not (ann).
    assert await jobs.run_once() == 1
    [weekly] = await outbox(store, clock)
    assert weekly.recipient == "bob@example.test" and weekly.kind == "digest"
    assert weekly.subject == "Your weekly EcoLink digest / EcoLink 每周摘要"
    assert "Hefei: 2 new messages, 1 new topics, 0 news posts." in weekly.text
    assert f"Topic: BRT <lanes> (1 replies) {BASE}/#/room/t-brt" in weekly.text
    assert "BRT &lt;lanes&gt;" in weekly.html
    clock.advance(3600)  # 07:00 UTC
    assert await jobs.run_once() == 1
    [daily] = await outbox(store, clock)
    assert daily.recipient == "ann@example.test" and daily.subject == "Your daily EcoLink digest"
    assert "Liuzhou" not in daily.text  # nothing new there: left out
    # Once per period, whatever runs again; cat's rooms had nothing: no email.
    clock.advance(3 * 3600)
    assert await jobs.run_once() == 0
    assert await outbox(store, clock) == []
    # The next morning: nothing new since yesterday's, no email.
    clock.advance(21 * 3600)
    assert await jobs.run_once() == 0


class DiesBeforeFinishing:
    """The store as a node sees it that dies after queueing its emails, before marking the work
    done: every finish fails."""

    def __init__(self, store):
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    async def finish_mail_notices(self, *args):
        raise RuntimeError("the node died")

    async def finish_mail_job(self, *args):
        raise RuntimeError("the node died")


async def test_work_a_dead_node_left_half_done_is_taken_over_without_a_second_email(store):
    clock = FakeClock(NOW)
    host, ann, bob = await mail_members(store, "host", "ann", "bob")
    await post(store, ann, "hefei", "m1", clock, mentions=(bob.user_id,))
    await create(store, webinar("webinar-roofs", host.user_id, starts=NOW + 30 * MIN))
    await store.set_registration("webinar-roofs", ann.user_id, True, NOW)
    clock.advance(15 * 60)
    await producers(DiesBeforeFinishing(store), clock).run_once()  # queued, then the node died
    assert sorted((m.recipient, m.kind) for m in await outbox(store, clock)) == [
        ("ann@example.test", "webinar_reminder"), ("bob@example.test", "mention")]
    survivor = producers(store, clock)
    assert await survivor.run_once() == 0  # its claims still hold
    clock.advance(300)  # every lease has lapsed: the survivor takes the same work over
    assert await survivor.run_once() == 0  # the same emails: already in the outbox
    assert await outbox(store, clock) == []
    assert await store.mail_jobs_done([f"webinar_reminder:webinar-roofs:{NOW + 30 * MIN}"]) != set()
    assert await store.claim_mail_notices(bob.user_id, clock.now_ms(), clock.now_ms(), 1, clock.now_ms()) is None


async def test_a_webinar_reminds_only_members_mail_may_reach_and_one_bad_address_stops_none(store):
    clock = FakeClock(NOW)
    host, ann, bob, cat, dee, eve = await mail_members(store, "host", "ann", "bob", "cat", "dee", "eve")
    fay, = await users(store, "fay")  # address never verified
    odd = await store.create_user("no-address", "odd", "h", "member", NOW)  # enqueue refuses it
    await store.set_email_verified(odd.user_id, NOW)
    start = NOW + 60 * MIN
    await create(store, webinar("webinar-roofs", host.user_id, starts=start, people=(
        WebinarPerson(host.user_id, "host", "host"), WebinarPerson(dee.user_id, "dee", "panelist"))))
    for user in (odd, ann, bob, cat, eve, fay):
        await store.set_registration("webinar-roofs", user.user_id, True, NOW)
    assert await store.delete_account(dee.user_id, "deleted:x", "h", NOW) is not None
    assert [p.user_id for p in (await store.get_webinar("webinar-roofs")).people] == [host.user_id]
    await store.add_sanction(bob.user_id, "ban", None, None, "spam", host.user_id, None, NOW)
    await store.add_sanction(cat.user_id, "suspend", None, NOW + 10 * 60 * MIN, "spam", host.user_id, None, NOW)
    await store.add_sanction(eve.user_id, "suspend", None, NOW + MIN, "spam", host.user_id, None, NOW)
    clock.advance(5 * 60)  # eve's suspension is over
    assert await producers(store, clock).run_once() == 3
    assert sorted(m.recipient for m in await outbox(store, clock)) == [
        "ann@example.test", "eve@example.test", "host@example.test"]
