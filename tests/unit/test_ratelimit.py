"""chat.protocol.ratelimit (token bucket, member budgets, handshake guard) with explicit `now`
values: no sleeping, no clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat.protocol.ratelimit import HandshakeGuard, MemberBudgets, TokenBucket

T0 = 1000.0


def test_a_new_bucket_allows_a_full_burst_at_once_then_refuses():
    bucket = TokenBucket(rate_per_s=2, burst=5, now=T0)
    assert [bucket.take(T0) for _ in range(6)] == [True] * 5 + [False]
    assert bucket.take(T0) is False


def test_tokens_come_back_at_the_rate():
    bucket = TokenBucket(rate_per_s=2, burst=5, now=T0)
    for _ in range(5):
        assert bucket.take(T0)
    assert not bucket.take(T0 + 0.49)  # 0.98 of a token
    assert bucket.take(T0 + 0.5)  # one whole token since T0
    assert not bucket.take(T0 + 0.5)
    assert [bucket.take(T0 + 2.0) for _ in range(4)] == [True, True, True, False]


def test_refill_is_capped_at_the_burst():
    bucket = TokenBucket(rate_per_s=10, burst=3, now=T0)
    assert bucket.take(T0)
    # an hour of quiet buys no more than `burst` frames
    assert [bucket.take(T0 + 3600) for _ in range(4)] == [True, True, True, False]


def test_a_refused_take_spends_nothing():
    bucket = TokenBucket(rate_per_s=1, burst=1, now=T0)
    assert bucket.take(T0)
    for _ in range(100):
        assert not bucket.take(T0 + 0.5)
    assert bucket.take(T0 + 1.0)  # refused attempts did not push the next token back


def test_cost_spends_several_tokens_and_more_than_burst_never_passes():
    bucket = TokenBucket(rate_per_s=1, burst=4, now=T0)
    assert bucket.take(T0, cost=3)
    assert not bucket.take(T0, cost=2)
    assert bucket.take(T0, cost=1)
    assert not bucket.take(T0 + 10_000, cost=5)


def test_retry_after_says_how_long_until_the_next_token():
    bucket = TokenBucket(rate_per_s=4, burst=2, now=T0)
    assert bucket.retry_after_s() == 0.0
    bucket.take(T0)
    bucket.take(T0)
    assert bucket.retry_after_s() == pytest.approx(0.25)
    assert bucket.retry_after_s(cost=2) == pytest.approx(0.5)
    assert not bucket.take(T0 + 0.2)
    assert bucket.retry_after_s() == pytest.approx(0.05)
    assert bucket.take(T0 + 0.25)


@given(
    rate=st.floats(0.1, 1000),
    burst=st.integers(1, 200),
    gaps=st.lists(st.floats(0, 5), min_size=1, max_size=200),
)
def test_never_more_than_burst_plus_rate_times_elapsed(rate, burst, gaps):
    bucket = TokenBucket(rate, burst, T0)
    now, allowed = T0, 0
    for gap in gaps:
        now += gap
        allowed += bucket.take(now)
        assert 0 <= bucket.tokens <= burst
    assert allowed <= burst + rate * (now - T0) + 1e-6


def test_charge_spends_what_it_must_and_the_debt_delays_the_next_take():
    bucket = TokenBucket(rate_per_s=1, burst=5, now=T0)
    bucket.charge(T0, 8)
    assert bucket.tokens == -3
    assert not bucket.take(T0 + 3.5)
    assert bucket.take(T0 + 4.0)
    bucket.charge(T0 + 4.0, 1000)
    assert bucket.tokens == -5  # at most one burst of debt


def test_a_member_has_one_bucket_whatever_asks_and_full_ones_are_forgotten():
    budgets = MemberBudgets(rate_per_s=1, burst=3)
    assert budgets.bucket(7, T0) is budgets.bucket(7, T0 + 1)
    assert [budgets.take(7, T0, 1) for _ in range(4)] == [None, None, None, pytest.approx(1.0)]
    assert budgets.take(8, T0, 1) is None  # another member's budget is their own
    # A cost above the burst is capped at it, so that it can pass at all.
    assert budgets.take(9, T0, 50) is None
    assert budgets.take(9, T0 + 2, 50) == pytest.approx(1.0)
    budgets._sweep(T0 + 10)
    assert budgets._buckets == {}


def test_sockets_per_member_are_counted_and_capped():
    guard = HandshakeGuard(max_sockets_per_member=2, max_failures=3, window_s=60)
    assert [guard.open(1), guard.open(1), guard.open(1)] == [True, True, False]
    assert guard.sockets(1) == 2 and guard.open(2)
    guard.closed(1)
    assert guard.open(1)
    for _ in range(2):
        guard.closed(1)
    assert guard.sockets(1) == 0


def test_failed_handshakes_refuse_the_address_until_its_window_ends():
    guard = HandshakeGuard(max_sockets_per_member=2, max_failures=3, window_s=60)
    for k in range(3):
        assert guard.refused_for("10.0.0.1", T0 + k) is None
        guard.failed("10.0.0.1", T0 + k)
    assert guard.refused_for("10.0.0.1", T0 + 10) == pytest.approx(50)
    assert guard.refused_for("10.0.0.2", T0 + 10) is None
    assert guard.refused_for("10.0.0.1", T0 + 60) is None  # a new window
    guard.failed("10.0.0.1", T0 + 61)
    assert guard.refused_for("10.0.0.1", T0 + 62) is None
