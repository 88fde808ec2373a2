"""The Store contract for two-factor sign-in (chat/store/two_factor.py, migration 0027), on
SQLite and PostgreSQL: a pending secret, enabling with a step, each step accepted once (also
when asked at once), single-use recovery codes, disabling."""

from __future__ import annotations

import asyncio

NOW = 1_700_000_000_000


async def member(store, name: str = "ann"):
    return await store.create_user(f"{name}@example.org", name, "hash", "member", NOW)


async def test_a_pending_secret_does_nothing_until_enabled(store):
    ann = await member(store)
    assert await store.two_factor_state(ann.user_id) is None
    assert await store.begin_two_factor(ann.user_id, "AAAA", NOW)
    assert await store.begin_two_factor(ann.user_id, "BBBB", NOW)  # a new setup replaces it
    state = await store.two_factor_state(ann.user_id)
    assert state is not None and state.secret == "BBBB" and not state.enabled
    assert not await store.use_totp_step(ann.user_id, 5)  # not enabled: no step is accepted
    assert not await store.replace_recovery_codes(ann.user_id, ["x"])


async def test_enabling_spends_its_step_and_keeps_the_codes(store):
    ann = await member(store)
    await store.begin_two_factor(ann.user_id, "BBBB", NOW)
    assert await store.enable_two_factor(ann.user_id, 100, ["h1", "h2"], NOW)
    assert not await store.enable_two_factor(ann.user_id, 101, ["h3"], NOW)  # already on
    assert not await store.begin_two_factor(ann.user_id, "CCCC", NOW)  # enabled: kept
    state = await store.two_factor_state(ann.user_id)
    assert state == type(state)(secret="BBBB", enabled=True, last_step=100, recovery_codes_left=2)
    assert not await store.use_totp_step(ann.user_id, 100)  # the enabling code's step
    assert not await store.use_totp_step(ann.user_id, 99)
    assert await store.use_totp_step(ann.user_id, 101)


async def test_a_step_is_accepted_once_when_asked_at_once(store):
    ann = await member(store)
    await store.begin_two_factor(ann.user_id, "BBBB", NOW)
    await store.enable_two_factor(ann.user_id, 1, [], NOW)
    answers = await asyncio.gather(*(store.use_totp_step(ann.user_id, 7) for _ in range(8)))
    assert sorted(answers) == [False] * 7 + [True]


async def test_recovery_codes_are_single_use_and_replaced_whole(store):
    ann, bob = await member(store), await member(store, "bob")
    await store.begin_two_factor(ann.user_id, "BBBB", NOW)
    await store.enable_two_factor(ann.user_id, 1, ["h1", "h2"], NOW)
    answers = await asyncio.gather(*(store.use_recovery_code(ann.user_id, "h1", NOW) for _ in range(5)))
    assert sorted(answers) == [False] * 4 + [True]
    assert not await store.use_recovery_code(bob.user_id, "h2", NOW)  # another's code
    assert (await store.two_factor_state(ann.user_id)).recovery_codes_left == 1
    assert await store.replace_recovery_codes(ann.user_id, ["h3", "h4", "h5"])
    assert not await store.use_recovery_code(ann.user_id, "h2", NOW)  # the old ones are gone
    assert await store.use_recovery_code(ann.user_id, "h4", NOW)
    assert (await store.two_factor_state(ann.user_id)).recovery_codes_left == 2


async def test_disabling_removes_the_secret_and_the_codes(store):
    ann = await member(store)
    await store.begin_two_factor(ann.user_id, "BBBB", NOW)
    await store.enable_two_factor(ann.user_id, 1, ["h1"], NOW)
    assert await store.disable_two_factor(ann.user_id)
    assert await store.two_factor_state(ann.user_id) is None
    assert not await store.use_recovery_code(ann.user_id, "h1", NOW)
    assert not await store.disable_two_factor(ann.user_id)
