"""The Store contract for deleting an account (chat/store/deletion.py, migration 0027), on SQLite
and PostgreSQL: the row stays blanked, personal rows go, sessions are handed back, the address
is free again, and a guest or a deleted account is refused."""

from __future__ import annotations

import pytest

from chat.errors import Conflict
from chat.models import MailPreferences, ProfileChanges, SendRequest
from tests.contract.test_files_store import upload
from tests.contract.test_mail_store import outbox_row
from tests.contract.test_projects_store import project

NOW = 1_700_000_000_000
ROOM = "green-transport"


async def test_deleting_blanks_the_account_and_removes_what_is_personal(store):
    ann = await store.create_user("ann@example.org", "Ann", "hash", "admin", NOW)
    bob = await store.create_user("bob@example.org", "Bob", "hash", "admin", NOW)
    await store.update_profile(ann.user_id, ProfileChanges(
        organisation="Org", city="Lyon", bio="about me", sectors=(ROOM,), languages=("en",),
        alt_name="安", time_zone="Europe/Paris", search_key="ann"))
    await store.create_session(b"s1", ann.user_id, NOW + 10_000)
    await store.create_session(b"s2", ann.user_id, NOW + 10_000)
    await store.create_session(b"b1", bob.user_id, NOW + 10_000)
    await store.block_user(ann.user_id, bob.user_id, NOW)
    await store.block_user(bob.user_id, ann.user_id, NOW)
    await store.set_room_notify(ann.user_id, ROOM, "none")
    await store.begin_two_factor(ann.user_id, "SECRET", NOW)
    await store.enable_two_factor(ann.user_id, 1, ["h1"], NOW)
    [sent] = await store.append_batch([SendRequest(ROOM, ann.user_id, "Ann", "c1", "kept words")], NOW)
    await store.create_account_token("t" * 64, "reset", ann.user_id, "ann@example.org", NOW, NOW + 60_000)
    await store.set_mail_preferences(ann.user_id, MailPreferences(
        switches={"direct": False}, digest="daily", digest_rooms=(ROOM,), language="zh"), NOW)
    queued, to_bob = outbox_row(user_id=ann.user_id), outbox_row(user_id=bob.user_id, to="bob@example.org")
    await store.enqueue_mail(queued)
    await store.enqueue_mail(to_bob)

    ended = await store.delete_account(ann.user_id, "deleted:abc", "!deleted", NOW + 1)

    assert sorted(ended) == [b"s1", b"s2"]
    assert await store.session_user(b"s1", NOW) is None
    assert (await store.session_user(b"b1", NOW)).user_id == bob.user_id
    assert await store.account_deleted(ann.user_id) and not await store.account_deleted(bob.user_id)
    assert await store.user_credentials("ann@example.org") is None
    profile = await store.get_profile(ann.user_id)
    assert (profile.display_name, profile.role, profile.organisation, profile.city, profile.bio,
            profile.sectors, profile.languages, profile.alt_name, profile.time_zone) == (
        "", "member", "", "", "", (), (), "", None)
    assert await store.blocked_users(ann.user_id) == [] and await store.blocked_users(bob.user_id) == []
    assert await store.room_notify_levels(ann.user_id, [ROOM]) == {}
    assert await store.two_factor_state(ann.user_id) is None
    assert await store.reset_password("t" * 64, "new hash", NOW + 2) is None  # the link is dead
    prefs = await store.mail_preferences(ann.user_id)  # back to the defaults
    assert (all(prefs.switches.values()), prefs.digest, prefs.digest_rooms, prefs.language) == (
        True, "off", (), None)
    assert await store.outbox_mail(queued.mail_id) is None  # never sent
    assert await store.outbox_mail(to_bob.mail_id) == to_bob
    # What they wrote stays, its author now the blank (deleted) account.
    [kept] = await store.messages_after(ROOM, sent.message.seq - 1, 10)
    assert kept.body == "kept words" and kept.author_id == ann.user_id and kept.author_name == ""
    # The address can register again, as a new account.
    again = await store.create_user("ann@example.org", "Ann", "hash", "member", NOW + 2)
    assert again.user_id != ann.user_id


async def test_a_deleted_account_a_guest_or_nobody_cannot_be_deleted(store):
    ann = await store.create_user("ann@example.org", "Ann", "hash", "member", NOW)
    assert await store.delete_account(ann.user_id, "deleted:1", "!deleted", NOW) == []
    guest = await store.create_guest(ROOM, "guest:x", "Gus", "!guest", NOW)
    assert await store.delete_account(guest.user_id, "deleted:4", "!deleted", NOW) is None
    assert await store.delete_account(ann.user_id, "deleted:2", "!deleted", NOW) is None
    assert await store.delete_account(999_999, "deleted:3", "!deleted", NOW) is None


async def test_the_last_admin_cannot_delete_their_account(store):
    ann = await store.create_user("ann@example.org", "Ann", "hash", "admin", NOW)
    await store.create_session(b"s1", ann.user_id, NOW + 10_000)
    assert await store.is_last_admin(ann.user_id)
    with pytest.raises(Conflict):
        await store.delete_account(ann.user_id, "deleted:1", "!deleted", NOW)
    assert not await store.account_deleted(ann.user_id)
    assert (await store.session_user(b"s1", NOW)).role == "admin"
    await store.create_user("bob@example.org", "Bob", "hash", "admin", NOW)
    assert not await store.is_last_admin(ann.user_id)
    assert await store.delete_account(ann.user_id, "deleted:1", "!deleted", NOW) == [b"s1"]


async def test_deleting_clears_notice_state_spam_digests_projects_uploads_and_report_notes(store):
    mod = await store.create_user("mod@example.org", "Mod", "hash", "moderator", NOW)
    ann = await store.create_user("ann@example.org", "Ann", "hash", "member", NOW)
    bob = await store.create_user("bob@example.org", "Bob", "hash", "member", NOW)
    await project(store, mod, "p-0001", members=(ann, bob))
    await store.note_texts([(ann.user_id, "digest", ROOM, NOW), (bob.user_id, "digest", ROOM, NOW)])
    for who in (ann, bob):
        await store._db.execute("INSERT INTO mail_notice_state (user_id, mailed_through_id) VALUES (?, 5)",
                                who.user_id)
    await store.create_upload(upload(ann.user_id, "u-ann"))
    await store.create_upload(upload(bob.user_id, "u-bob"))
    report, _ = await store.add_report(ann.user_id, bob.user_id, None, None, "spam", "my private words", NOW)

    await store.delete_account(ann.user_id, "deleted:1", "!deleted", NOW + 1)

    assert not await store.is_project_member("p-0001", ann.user_id)
    assert await store.is_project_member("p-0001", bob.user_id)
    assert await store.texts_elsewhere(ann.user_id, "digest", "other", NOW - 1) == 0
    assert await store.texts_elsewhere(bob.user_id, "digest", "other", NOW - 1) == 1
    assert [row[0] for row in await store._db.fetch("SELECT user_id FROM mail_notice_state")] == [bob.user_id]
    expired = await store.expired_uploads(NOW + 2, 10)  # the sweeper takes the unfinished one now
    assert [u.upload_id for u in expired] == ["u-ann"]
    [(note, reason)] = await store._db.fetch("SELECT note, reason FROM reports WHERE report_id = ?",
                                             report.report_id)
    assert (note, reason) == ("", "spam")
