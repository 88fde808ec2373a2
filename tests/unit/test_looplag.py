"""chat/looplag.py: the event loop's lag, as the node's metrics show it."""

from __future__ import annotations

import asyncio
import time

from chat.looplag import WINDOW_S, LoopLag, measuring
from chat.metrics import Metrics


def observed(metrics: Metrics) -> dict[str, float]:
    """The lag histogram's cumulative bucket counts by upper bound, and its count and sum."""
    found = {}
    for sample in metrics.event_loop_lag_seconds.collect()[0].samples:
        if sample.name.endswith("_bucket"):
            found[sample.labels["le"]] = sample.value
        else:
            found[sample.name.rsplit("_", 1)[1]] = sample.value
    return found


async def test_a_stalled_loop_shows_as_lag_and_as_the_max():
    metrics = Metrics()
    async with measuring(metrics.event_loop_lag_seconds, metrics.event_loop_lag_max_seconds, 0.01):
        await asyncio.sleep(0.1)
        quiet = observed(metrics)
        time.sleep(0.3)  # a step that holds the loop, as a long collection would
        await asyncio.sleep(0.05)
    after = observed(metrics)
    assert quiet["count"] >= 1  # it measures all along
    assert after["count"] - after["0.2"] > quiet["count"] - quiet["0.2"]  # the stall: a timer over 0.2 s late
    assert metrics.event_loop_lag_max_seconds._value.get() >= 0.2


async def test_no_interval_no_timer():
    metrics = Metrics()
    async with measuring(metrics.event_loop_lag_seconds, metrics.event_loop_lag_max_seconds, 0):
        await asyncio.sleep(0.05)
    assert observed(metrics)["count"] == 0


def test_the_max_covers_the_current_and_the_previous_window():
    metrics = Metrics()
    lag = LoopLag(metrics.event_loop_lag_seconds, metrics.event_loop_lag_max_seconds, 0.01)
    peak = metrics.event_loop_lag_max_seconds._value.get
    lag.record(0.5, 1.0)  # the first measurement opens the first window
    lag.record(0.001, 10.0)
    assert peak() == 0.5
    lag.record(0.002, 1.0 + WINDOW_S + 1)  # the next window: the last one's max still shows
    assert peak() == 0.5
    lag.record(0.003, 1.0 + 2 * WINDOW_S + 2)  # two windows on: gone
    assert peak() == 0.003
    lag.record(0.004, 1.0 + 5 * WINDOW_S)  # after a gap with no measurement at all
    assert peak() == 0.004
