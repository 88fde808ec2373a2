"""The event loop's lag on /metrics (chat/looplag.py), read as the benchmarks read it
(bench/probes.py LoopLagProbe): a real node in this process and loop, so a blocking step here
is a stall of the node."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bench.probes import LoopLagProbe
from chat.config import Settings
from tests.support.nodes import running_nodes


async def test_a_stall_shows_in_the_lag_metrics_and_in_a_benchmark_step(make_settings: Callable[..., Settings]):
    async with running_nodes(make_settings()) as [node]:
        probe = LoopLagProbe("127.0.0.1", node.port)
        start = await asyncio.to_thread(probe.read)
        assert start is not None and start["max_s"] is not None
        await asyncio.sleep(0.2)
        time.sleep(0.3)  # a step that holds the loop, as a full collection would
        await asyncio.sleep(0.2)
        step = LoopLagProbe.step(start, await asyncio.to_thread(probe.read))
    assert step["loop_lag_samples"] >= 2
    assert step["loop_lag_max_ms"] >= 200  # the stall, seen late by at least 0.3 s less a tick
    assert step["loop_lag_p99_ms"] >= 200  # one sample in a few dozen: it is the p99 too


async def test_a_server_without_the_metrics_gives_no_figures(make_settings: Callable[..., Settings]):
    async with running_nodes(make_settings(loop_lag_interval_s=0)) as [node]:
        probe = LoopLagProbe("127.0.0.1", node.port)
        start = await asyncio.to_thread(probe.read)  # the histogram is there, with no samples
        await asyncio.sleep(0.1)
        assert LoopLagProbe.step(start, await asyncio.to_thread(probe.read)) == {}
    assert await asyncio.to_thread(LoopLagProbe("127.0.0.1", node.port).read) is None  # stopped
