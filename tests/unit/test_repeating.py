"""chat.clock.repeating: the sweepers' loop (files, webinars): a step every so often while the
block runs, a failing step logged and the next one run, nothing left running after the block."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from chat.clock import repeating


async def test_a_failing_step_is_logged_and_the_next_one_runs_then_the_task_ends() -> None:
    calls: list[int] = []
    third = asyncio.Event()

    async def step() -> None:
        calls.append(len(calls))
        if len(calls) == 3:
            third.set()
        if len(calls) == 1:
            raise RuntimeError("secret body text")

    with capture_logs() as logged:
        async with repeating(0.001, step, "test-sweep", "test.sweep_failed"):
            assert any(t.get_name() == "test-sweep" for t in asyncio.all_tasks())
            await asyncio.wait_for(third.wait(), 30)
    assert not any(t.get_name() == "test-sweep" for t in asyncio.all_tasks())
    failed = [entry for entry in logged if entry["event"] == "test.sweep_failed"]
    assert len(failed) == 1 and failed[0]["error"] == "RuntimeError"
    assert "secret body text" not in str(logged)
    done = len(calls)
    await asyncio.sleep(0.01)
    assert len(calls) == done  # nothing runs after the block
