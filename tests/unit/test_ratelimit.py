"""chat.protocol.ratelimit.TokenBucket with explicit `now` values: no sleeping, no clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat.protocol.ratelimit import TokenBucket

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
