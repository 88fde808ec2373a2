"""Time is a parameter: services take a Clock, tests pass a FakeClock. And `repeating`: a
step run every so many seconds while a service runs (the sweepers)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

import structlog

from chat.logs import failure

log = structlog.get_logger("chat.clock")


class Clock(Protocol):
    def now_ms(self) -> int: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock tests advance by hand."""

    def __init__(self, now_ms: int = 1_700_000_000_000) -> None:
        self._now_ms = now_ms
        self._mono = 1000.0

    def now_ms(self) -> int:
        return self._now_ms

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now_ms += int(seconds * 1000)
        self._mono += seconds


def iso_ms(ms: int) -> str:
    """Milliseconds since the epoch as RFC 3339 UTC with millisecond precision."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@contextlib.asynccontextmanager
async def repeating(every_s: float, step: Callable[[], Awaitable[object]], task_name: str,
                    failed_event: str) -> AsyncIterator[None]:
    """While the block runs, `step()` every `every_s` seconds in a task called `task_name`; a
    step that raises is logged as `failed_event` (its type and place, chat.logs.failure) and
    the next one runs on time. The task is cancelled when the block ends."""

    async def forever() -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await step()
            except Exception as exc:
                log.warning(failed_event, **failure(exc))

    task = asyncio.create_task(forever(), name=task_name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
