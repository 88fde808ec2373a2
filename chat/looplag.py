"""How late the event loop runs what is due: the node's stall meter.

Every connection, commit and fan-out shares one event loop, so a step that holds it (a full
garbage collection, a big room's fan-out, a slow parse) delays everything else by as long. A
timer asks to run every `interval_s`; how late it actually ran is the loop's lag at that
moment. Each lag goes into the `ecolink_event_loop_lag_seconds` histogram (its p99 over any
span: two scrapes' bucket counts), and the longest of the last minute into
`ecolink_event_loop_lag_max_seconds` (docs/operations.md, "Metrics"). A timer callback, not a
task: about a hundred a second at the default 10 ms, a few microseconds each.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from prometheus_client import Gauge, Histogram

WINDOW_S = 30.0  # the max gauge covers the current and the previous window: 30-60 s


class LoopLag:
    """Measures the lag of the running loop while started; sans-I/O apart from the timer."""

    def __init__(self, histogram: Histogram, max_gauge: Gauge, interval_s: float) -> None:
        self._histogram = histogram
        self._max_gauge = max_gauge
        self._interval_s = interval_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self._window_end = 0.0
        self._window_max = 0.0
        self._previous_max = 0.0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        now = self._loop.time()
        self._window_end = now + WINDOW_S
        self._schedule(now)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def record(self, lag_s: float, now: float) -> None:
        """One measurement taken at loop time `now` (the timer's; tests call it directly)."""
        self._histogram.observe(lag_s)
        if now >= self._window_end:
            # A window with no measurement at all (a stall longer than it) counts as empty.
            self._previous_max = self._window_max if now < self._window_end + WINDOW_S else 0.0
            self._window_max = 0.0
            self._window_end = now + WINDOW_S
        self._window_max = max(self._window_max, lag_s)
        self._max_gauge.set(max(self._window_max, self._previous_max))

    def _schedule(self, now: float) -> None:
        assert self._loop is not None
        self._due = now + self._interval_s
        self._handle = self._loop.call_at(self._due, self._tick)

    def _tick(self) -> None:
        assert self._loop is not None
        now = self._loop.time()
        self.record(max(0.0, now - self._due), now)
        self._schedule(now)


@contextlib.asynccontextmanager
async def measuring(histogram: Histogram, max_gauge: Gauge, interval_s: float) -> AsyncIterator[LoopLag]:
    """The loop's lag measured while the block runs (interval_s 0: not measured)."""
    lag = LoopLag(histogram, max_gauge, interval_s)
    if interval_s > 0:
        lag.start()
    try:
        yield lag
    finally:
        lag.stop()
