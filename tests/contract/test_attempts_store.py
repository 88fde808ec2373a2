"""The Store contract for attempt counters (chat/store/attempts.py) and the login throttle over
it (chat/accounts/throttle.py), on SQLite and PostgreSQL. Time is a FakeClock; the throttle's
slow-down is recorded, not slept."""

from __future__ import annotations

import asyncio

import pytest

from chat.accounts.throttle import Limits, Throttle, address_key
from chat.clock import FakeClock
from chat.errors import RateLimited

WINDOW_MS = 60_000


async def test_concurrent_attempts_each_get_their_own_count(store):
    now = 1_700_000_000_000
    counted = await asyncio.gather(*(store.count_attempts(["k"], now, WINDOW_MS) for _ in range(40)))
    assert sorted(c[0][0] for c in counted) == list(range(1, 41))
    assert {c[0][1] for c in counted} == {now + WINDOW_MS}


async def test_concurrent_counts_over_expired_windows_all_succeed(store):
    """Windows restarting while expired rows are pruned, with each call counting two keys:
    no call fails (on PostgreSQL, two row locks held at once could deadlock), none is lost."""
    now = 1_700_000_000_000
    keys = [f"k{i}" for i in range(8)]
    await store.count_attempts(keys, now, WINDOW_MS)
    later = now + WINDOW_MS + 1
    calls = [[keys[i % 8], keys[(i + 3) % 8]] for i in range(40)]
    counted = await asyncio.gather(*(store.count_attempts(call, later, WINDOW_MS) for call in calls))
    seen: dict[str, list[int]] = {key: [] for key in keys}
    for call, results in zip(calls, counted, strict=True):
        for key, (count, end) in zip(call, results, strict=True):
            seen[key].append(count)
            assert end == later + WINDOW_MS
    assert all(sorted(counts) == list(range(1, 11)) for counts in seen.values()), seen


async def test_a_window_ends_and_a_new_one_starts(store):
    now = 1_700_000_000_000
    assert await store.count_attempts(["a", "b"], now, WINDOW_MS) == [(1, now + WINDOW_MS)] * 2
    assert await store.count_attempts(["a"], now + 10, WINDOW_MS) == [(2, now + WINDOW_MS)]
    later = now + WINDOW_MS
    assert await store.count_attempts(["a"], later, WINDOW_MS) == [(1, later + WINDOW_MS)]
    # "b" expired meanwhile too (and was pruned): it starts again at 1.
    assert await store.count_attempts(["b"], later + 1, WINDOW_MS) == [(1, later + 1 + WINDOW_MS)]


async def test_forgiving_and_clearing(store):
    now = 1_700_000_000_000
    for _ in range(3):
        [(count, end)] = await store.count_attempts(["k"], now, WINDOW_MS)
    await store.forgive_attempts([("k", end)])
    assert await store.count_attempts(["k"], now, WINDOW_MS) == [(3, end)]
    await store.forgive_attempts([("k", end - 1)])  # another window's: nothing
    assert await store.count_attempts(["k"], now, WINDOW_MS) == [(4, end)]
    await store.clear_attempts("k")
    assert await store.count_attempts(["k"], now, WINDOW_MS) == [(1, end)]


def throttle(store, clock, slept, **limits):
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return Throttle(store, clock, Limits(**limits), sleep=sleep)


async def test_the_throttle_refuses_the_pair_and_slows_the_account(store):
    clock, slept = FakeClock(), []
    limits = dict(login_failures_max=3, login_address_failures_max=100, login_window_s=60,
                  login_delay_step_s=0.5, login_delay_max_s=2.0)
    guard = throttle(store, clock, slept, **limits)
    for _ in range(3):
        await guard.login("ann@example.test", "10.0.0.1")  # three failures
    with pytest.raises(RateLimited) as refused:
        await guard.login("ann@example.test", "10.0.0.1")
    assert refused.value.retry_after_s == 60
    assert slept == []
    # Other addresses may still try, each slowed by the account's failures, up to the cap.
    for n in range(2, 7):
        await guard.login("ann@example.test", f"10.0.0.{n}")
    assert slept == [0.5, 1.0, 1.5, 2.0, 2.0]
    # Another account from the first address is neither refused nor slowed.
    await guard.login("bob@example.test", "10.0.0.1")
    assert slept[5:] == []
    # A success takes its own attempt back and clears its pair; the window's end frees the rest.
    attempt = await guard.login("ann@example.test", "10.0.0.9")
    await attempt.succeeded()
    await (await guard.login("ann@example.test", "10.0.0.9")).succeeded()
    assert slept[5:] == [2.0, 2.0]  # the owner's success did not count as a failure
    clock.advance(60)
    await guard.login("ann@example.test", "10.0.0.1")
    assert slept[5:] == [2.0, 2.0]  # a new window: neither refused nor slowed


async def test_the_throttle_slows_but_never_refuses_a_busy_address(store):
    clock, slept = FakeClock(), []
    guard = throttle(store, clock, slept, login_failures_max=3, login_address_failures_max=4,
                     login_delay_step_s=1.0, login_delay_max_s=3.0)
    for n in range(8):
        await guard.login(f"member{n}@example.test", "192.0.2.7")
    assert slept == [1.0, 2.0, 3.0, 3.0]


async def test_registrations_per_address(store):
    clock = FakeClock()
    guard = throttle(store, clock, [], register_per_address_max=2, register_window_s=3600)
    await guard.registration("2001:db8::1")
    await guard.registration("2001:db8::2")  # the same /64
    with pytest.raises(RateLimited) as refused:
        await guard.registration("2001:db8::ffff")
    assert refused.value.retry_after_s == 3600
    await guard.registration("2001:db8:0:1::1")  # another /64
    clock.advance(3600)
    await guard.registration("2001:db8::1")


def test_address_keys():
    assert address_key("10.1.2.3") == "10.1.2.3"
    assert address_key("::ffff:10.1.2.3") == "10.1.2.3"
    assert address_key("2001:db8::1") == address_key("2001:db8::abcd") == "2001:db8::/64"
    assert address_key("unknown") == "unknown"
