"""The Store contract for deleting an account (chat/store/deletion.py, migration 0027), on SQLite
and PostgreSQL: the row stays blanked, personal rows go, sessions are handed back, the address
is free again, and a guest or a deleted account is refused."""

from __future__ import annotations

from chat.models import MailPreferences, ProfileChanges, SendRequest
from tests.contract.test_mail_store import outbox_row

NOW = 1_700_000_000_000
ROOM = "green-transport"


async def test_deleting_blanks_the_account_and_removes_what_is_personal(store):
    ann = await store.create_user("ann@example.org", "Ann", "hash", "admin", NOW)
    bob = await store.create_user("bob@example.org", "Bob", "hash", "member", NOW)
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
