"""The Store contract for account recovery (chat/store/recovery.py, migration 0026), on SQLite
and PostgreSQL: tokens are single use (also when confirmations race), expire, and a newer one
replaces an older; the changes they carry; the session list."""

from __future__ import annotations

import asyncio

import pytest

from chat.errors import EmailTaken

NOW = 1_700_000_000_000
HOUR = 3_600_000


async def _member(store, email="ann@example.org"):
    return await store.create_user(email, "Ann", "hash-1", "member", NOW)


async def test_a_verify_token_marks_the_address_once_even_when_confirmations_race(store):
    ann = await _member(store)
    assert await store.email_verified_at(ann.user_id) is None
    await store.create_account_token("t1", "verify", ann.user_id, ann.email, NOW, NOW + HOUR)
    taken = await asyncio.gather(*(store.verify_email("t1", NOW + 5) for _ in range(6)))
    assert sorted(taken, key=str) == [ann.user_id] + [None] * 5
    assert await store.email_verified_at(ann.user_id) == NOW + 5


async def test_expired_unknown_and_wrong_purpose_tokens_change_nothing(store):
    ann = await _member(store)
    await store.create_account_token("t1", "verify", ann.user_id, ann.email, NOW, NOW + HOUR)
    await store.create_account_token("r1", "reset", ann.user_id, ann.email, NOW, NOW + HOUR)
    assert await store.verify_email("t1", NOW + HOUR) is None  # expired at expires_ms
    assert await store.verify_email("nope", NOW) is None
    assert await store.verify_email("r1", NOW) is None  # a reset token verifies nothing
    assert await store.reset_password("t1", "hash-2", NOW) is None
    assert await store.reset_password("r1", "hash-2", NOW + HOUR) is None  # a reset link expires too
    await store.create_account_token("e1", "email_change", ann.user_id, "ann@new.example", NOW, NOW + HOUR)
    assert await store.change_email("e1", NOW + HOUR) is None
    assert await store.user_credentials("ann@new.example") is None
    assert await store.email_verified_at(ann.user_id) is None
    assert (await store.user_credentials(ann.email))[1] == "hash-1"  # nothing changed
    assert await store.reset_password("r1", "hash-3", NOW + HOUR - 1) == ann.user_id  # until then it works
    assert (await store.user_credentials(ann.email))[1] == "hash-3"
    assert await store.email_verified_at(ann.user_id) == NOW + HOUR - 1  # the reset link proved the address


async def test_a_newer_token_replaces_the_unused_older_one_of_that_purpose(store):
    ann = await _member(store)
    await store.create_account_token("r1", "reset", ann.user_id, ann.email, NOW, NOW + HOUR)
    await store.create_account_token("v1", "verify", ann.user_id, ann.email, NOW, NOW + HOUR)
    await store.create_account_token("r2", "reset", ann.user_id, ann.email, NOW, NOW + HOUR)
    assert await store.reset_password("r1", "hash-2", NOW) is None
    assert await store.reset_password("r2", "hash-3", NOW) == ann.user_id
    assert await store.reset_password("r2", "hash-4", NOW) is None  # single use
    assert (await store.user_credentials(ann.email))[1] == "hash-3"
    assert await store.email_verified_at(ann.user_id) == NOW  # the link reached the address
    assert await store.verify_email("v1", NOW + 1) == ann.user_id  # other purposes stay


async def test_a_verify_link_for_an_old_address_does_not_verify_the_new_one(store):
    ann = await _member(store)
    await store.create_account_token("v1", "verify", ann.user_id, ann.email, NOW, NOW + HOUR)
    await store.create_account_token("e1", "email_change", ann.user_id, "ann@new.example", NOW, NOW + HOUR)
    assert await store.change_email("e1", NOW + 1) == (ann.user_id, "ann@example.org")
    assert (await store.user_credentials("ann@new.example"))[0].user_id == ann.user_id
    assert await store.user_credentials("ann@example.org") is None
    assert await store.email_verified_at(ann.user_id) == NOW + 1
    await store.create_user("bob@example.org", "Bob", "h", "member", NOW)
    bob = (await store.user_credentials("bob@example.org"))[0]
    await store.create_account_token("v2", "verify", bob.user_id, "bob@old.example", NOW, NOW + HOUR)
    assert await store.verify_email("v2", NOW + 2) is None
    assert await store.email_verified_at(bob.user_id) is None


async def test_an_email_change_to_a_taken_address_changes_nothing_and_keeps_the_token(store):
    ann = await _member(store)
    await store.create_user("taken@example.org", "Tom", "h", "member", NOW)
    await store.create_account_token("e1", "email_change", ann.user_id, "taken@example.org", NOW, NOW + HOUR)
    with pytest.raises(EmailTaken):
        await store.change_email("e1", NOW + 1)
    assert (await store.user_credentials("ann@example.org"))[0].user_id == ann.user_id
    assert await store.email_verified_at(ann.user_id) is None


async def test_sessions_list_their_details_most_recently_seen_first(store):
    ann = await _member(store)
    await store.create_session(b"a" * 32, ann.user_id, NOW + HOUR, created_ms=NOW,
                               user_agent="Firefox", address="192.0.2.1")
    await store.create_session(b"b" * 32, ann.user_id, NOW + HOUR, created_ms=NOW + 1)
    await store.create_session(b"c" * 32, ann.user_id, NOW - 1)  # expired
    await store.touch_session(b"a" * 32, NOW + 50)
    listed = await store.user_sessions(ann.user_id, NOW)
    assert [s.token_hash for s in listed] == [b"a" * 32, b"b" * 32]
    first = listed[0]
    assert (first.created_at_ms, first.last_seen_ms, first.user_agent, first.address) == (
        NOW, NOW + 50, "Firefox", "192.0.2.1")
    await store.set_password_hash(ann.user_id, "hash-9")
    assert (await store.user_credentials(ann.email))[1] == "hash-9"
    await store.set_email_verified(ann.user_id, NOW + 7)
    await store.set_email_verified(ann.user_id, NOW + 8)
    assert await store.email_verified_at(ann.user_id) == NOW + 7
