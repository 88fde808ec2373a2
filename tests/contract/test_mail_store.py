"""The Store contract for email (chat/store/mail.py, migration 0025): the outbox and members'
email preferences, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets

from chat.clock import FakeClock
from chat.config import Settings
from chat.mail.sender import MailSender
from chat.models import MailPreferences, OutboxMail
from tests.support.store_data import users

NOW = 1_700_000_000_000
LEASE = 60_000


def outbox_row(*, key: str | None = None, due: int = NOW, user_id: int | None = None,
               to: str = "ann@example.org") -> OutboxMail:
    return OutboxMail(mail_id=secrets.token_hex(16), recipient=to, kind="direct", user_id=user_id,
                      dedupe_key=key, subject="Hello / 你好", text="words\n", html="<p>words</p>",
                      headers={"List-Unsubscribe": "<https://x.test/u>"}, status="queued", attempts=0,
                      due_ms=due, lease_until_ms=0, created_ms=due)


async def test_an_enqueued_mail_is_kept_whole_and_a_repeated_dedupe_key_adds_nothing(store):
    first = outbox_row(key="digest:1:2026-12-07")
    assert await store.enqueue_mail(first) is True
    assert await store.enqueue_mail(outbox_row(key="digest:1:2026-12-07")) is False
    assert await store.enqueue_mail(outbox_row()) is True and await store.enqueue_mail(outbox_row()) is True
    assert await store.outbox_mail(first.mail_id) == first
    assert await store.outbox_mail_by_key("digest:1:2026-12-07") == first
    assert await store.mail_counts() == {"queued": 3, "sent": 0, "failed": 0}


async def test_a_claim_leases_due_mail_once_until_the_lease_lapses(store):
    early, late = outbox_row(due=NOW - 10), outbox_row(due=NOW + 5_000)
    await store.enqueue_mail(late)
    await store.enqueue_mail(early)
    claimed = await store.claim_mail(NOW, LEASE, 10)
    assert [m.mail_id for m in claimed] == [early.mail_id]
    assert claimed[0].attempts == 1 and claimed[0].lease_until_ms == NOW + LEASE
    # early is leased: nobody else gets it until the lease lapses, then the next claim does.
    assert [m.mail_id for m in await store.claim_mail(NOW + 5_000, LEASE, 10)] == [late.mail_id]
    assert await store.claim_mail(NOW + LEASE - 1, LEASE, 10) == []
    again = await store.claim_mail(NOW + LEASE, LEASE, 10)
    assert [m.mail_id for m in again] == [early.mail_id] and again[0].attempts == 2
    # The first claim's outcome no longer counts: only the current claim marks it.
    assert await store.mark_mail_sent(early.mail_id, 1, NOW + LEASE) is False
    assert await store.mark_mail_sent(early.mail_id, 2, NOW + LEASE) is True
    sent = await store.outbox_mail(early.mail_id)
    assert sent is not None and (sent.status, sent.sent_ms, sent.lease_until_ms) == ("sent", NOW + LEASE, 0)
    assert early.mail_id not in [m.mail_id for m in await store.claim_mail(NOW + 10 * LEASE, LEASE, 10)]


async def test_concurrent_claims_share_out_the_mail_without_repeats(store):
    rows = [outbox_row() for _ in range(30)]
    for row in rows:
        await store.enqueue_mail(row)
    batches = await asyncio.gather(*(store.claim_mail(NOW, LEASE, 4) for _ in range(12)))
    ids = [m.mail_id for batch in batches for m in batch]
    assert sorted(ids) == sorted(r.mail_id for r in rows)
    assert all(len(batch) <= 4 for batch in batches)


async def test_retry_makes_it_due_later_and_fail_ends_it(store):
    mail = outbox_row()
    await store.enqueue_mail(mail)
    claim, = await store.claim_mail(NOW, LEASE, 10)
    assert await store.retry_mail(mail.mail_id, claim.attempts, NOW + 1_000, "unreachable") is True
    assert await store.next_mail_due_ms() == NOW + 1_000
    assert await store.claim_mail(NOW + 999, LEASE, 10) == []
    claim, = await store.claim_mail(NOW + 1_000, LEASE, 10)
    assert (claim.attempts, claim.last_error) == (2, "unreachable")
    assert await store.next_mail_due_ms() == NOW + 1_000 + LEASE  # leased: due when the lease ends
    assert await store.fail_mail(mail.mail_id, 2, "smtp 550") is True
    failed = await store.outbox_mail(mail.mail_id)
    assert failed is not None and (failed.status, failed.last_error) == ("failed", "smtp 550")
    assert await store.retry_mail(mail.mail_id, 2, NOW, "late") is False
    assert await store.next_mail_due_ms() is None
    assert await store.mail_counts() == {"queued": 0, "sent": 0, "failed": 1}


async def test_preferences_default_on_and_are_kept_with_their_digest_rooms(store):
    ann, bob = await users(store, "ann", "bob")
    default = await store.mail_preferences(ann.user_id)
    assert default.switches == {"direct": True, "mention": True, "reply": True, "webinar_reminder": True}
    assert (default.digest, default.digest_rooms, default.language) == ("off", (), None)
    chosen = MailPreferences({"direct": False, "mention": True, "reply": False, "webinar_reminder": True},
                             "weekly", ("zhuhai", "clean-energy"), "zh")
    await store.set_mail_preferences(ann.user_id, chosen, NOW)
    stored = await store.mail_preferences(ann.user_id)
    assert stored.switches == chosen.switches and stored.digest == "weekly" and stored.language == "zh"
    assert stored.digest_rooms == ("clean-energy", "zhuhai")
    assert not stored.wants("direct") and stored.wants("mention") and stored.wants("digest")
    assert await store.mail_preferences(bob.user_id) == default
    await store.set_mail_preferences(ann.user_id, MailPreferences(chosen.switches, "daily", ("zhuhai",), None), NOW)
    again = await store.mail_preferences(ann.user_id)
    assert (again.digest, again.digest_rooms, again.language) == ("daily", ("zhuhai",), None)


async def test_turning_one_kind_off_keeps_the_rest(store):
    ann, = await users(store, "ann")
    await store.set_mail_preferences(
        ann.user_id, MailPreferences({"direct": True, "mention": True, "reply": True, "webinar_reminder": True},
                                     "daily", ("zhuhai",), "en"), NOW)
    assert await store.turn_mail_off(ann.user_id, "mention", NOW) is True
    assert await store.turn_mail_off(ann.user_id, "mention", NOW) is False
    assert await store.turn_mail_off(ann.user_id, "digest", NOW) is True
    prefs = await store.mail_preferences(ann.user_id)
    assert prefs.switches == {"direct": True, "mention": False, "reply": True, "webinar_reminder": True}
    assert (prefs.digest, prefs.digest_rooms, prefs.language) == ("off", ("zhuhai",), "en")
    assert await store.turn_mail_off(10**9, "direct", NOW) is False  # nobody: nothing made


async def test_a_mail_done_with_keeps_no_address_words_or_links_and_old_ones_are_pruned(store):
    sent, failed, waiting = outbox_row(), outbox_row(), outbox_row()
    for row in (sent, failed, waiting):
        await store.enqueue_mail(row)
    claims = {m.mail_id: m for m in await store.claim_mail(NOW, LEASE, 10)}
    assert await store.mark_mail_sent(sent.mail_id, claims[sent.mail_id].attempts, NOW + 10) is True
    assert await store.fail_mail(failed.mail_id, claims[failed.mail_id].attempts, "smtp 550") is True
    for mail_id, status in ((sent.mail_id, "sent"), (failed.mail_id, "failed")):
        done = await store.outbox_mail(mail_id)
        assert done is not None and done.status == status and done.subject == "Hello / 你好"
        assert (done.recipient, done.text, done.html, done.headers) == ("", "", "", {})
    assert (await store.outbox_mail(waiting.mail_id)).text == "words\n"  # queued: kept whole
    # Pruned once done before the cut (sent: when sent; failed: when queued); queued ones never.
    assert await store.prune_mail(NOW) == 0
    assert await store.prune_mail(NOW + 1) == 1 and await store.outbox_mail(failed.mail_id) is None
    assert await store.prune_mail(NOW + 10**9) == 1 and await store.outbox_mail(sent.mail_id) is None
    assert await store.outbox_mail(waiting.mail_id) is not None


async def test_a_lease_is_renewed_only_under_the_claim_that_holds_it(store):
    mail = outbox_row()
    await store.enqueue_mail(mail)
    first, = await store.claim_mail(NOW, LEASE, 10)
    assert await store.renew_mail_lease(mail.mail_id, first.attempts, NOW + 2 * LEASE) is True
    assert await store.claim_mail(NOW + LEASE, LEASE, 10) == []  # renewed: not claimable yet
    again, = await store.claim_mail(NOW + 2 * LEASE, LEASE, 10)
    assert await store.renew_mail_lease(mail.mail_id, first.attempts, NOW + 5 * LEASE) is False
    assert await store.renew_mail_lease(mail.mail_id, again.attempts, NOW + 5 * LEASE) is True


async def test_a_sender_whose_claim_lapsed_mid_batch_leaves_the_mail_to_the_node_that_took_it(store, mailbox):
    # Node A claims a batch and is slow; its lease lapses and node B claims and sends the mails.
    # A then reaches those mails: it sends none of them again.
    clock = FakeClock(NOW)
    settings = Settings(_env_file=None, **mailbox.settings)
    rows = [outbox_row(to=f"m{n}@example.org") for n in range(2)]
    for row in rows:
        await store.enqueue_mail(row)
    lease_ms = int(settings.mail_lease_s * 1000)
    stale = await store.claim_mail(NOW, lease_ms, 10)
    clock.advance(settings.mail_lease_s + 0.001)
    b = MailSender(store, clock, settings)
    assert await b.drain() == 2
    a = MailSender(store, clock, settings)
    assert await a.send_claimed(stale) == 0
    assert sorted(r for m in mailbox.received for r in m.rcpt_tos) == ["m0@example.org", "m1@example.org"]
