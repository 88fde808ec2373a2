"""Renderer: Markdown bodies to sanitised HTML without stalling the event loop.

markdown-it-py is pure Python, so a thread would still hold the GIL while it parses: a body
dense with markup froze a node for its whole render (docs/decisions.md, "Costly Markdown").
A body whose estimated cost (markdown.estimate_ms) is within the inline budget is rendered on
the loop as before — ordinary short messages take no detour. A costlier one goes to a small
pool of worker processes running at a lower CPU priority, with a time budget; a body that is
not rendered within it, or that finds the pool's queue full, is stored as escaped plain text
(markdown.render_plain). Either way the HTML is sanitised by nh3 with the same allow-list.

A body over its budget while on a worker gets the workers killed (one that only waited for a
worker does not; nor does a slow start of the workers): a running job cannot be cancelled, and the parse
is superlinear on some inputs (linkify rescans the rest of the text at each "://"), so the
worker would otherwise go on parsing a body already given up on — for seconds at the body
limit, minutes at 64 KiB — while every costly body meanwhile timed out behind it (issue 16,
case 14; tests/unit/test_adversarial_text.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import os
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import structlog

from chat.metrics import Metrics
from chat.rooms import markdown

log = structlog.get_logger("chat.render")

# Workers yield the CPU to the node's event loop (nice(2): a higher value, lower priority).
WORKER_NICENESS = 10
# How long the first costly body waits for the workers to start before it becomes text.
WORKER_START_S = 10.0


def _lower_priority() -> None:
    """Run below the node: a worker inherits the node's scheduling, and under a real-time
    policy (sched(7): SCHED_FIFO/RR) it would keep a shared core from the event loop."""
    with contextlib.suppress(OSError, AttributeError):
        if os.sched_getscheduler(0) in (os.SCHED_FIFO, os.SCHED_RR):
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)


class Renderer:
    def __init__(self, metrics: Metrics, *, workers: int, inline_ms: float, budget_ms: float,
                 queue: int) -> None:
        self._metrics = metrics
        self._workers = workers
        self._inline_ms = inline_ms
        self._budget_s = budget_ms / 1000
        self._max_waiting = workers + queue
        self._waiting = 0
        self._pool: ProcessPoolExecutor | None = None
        self._warm: asyncio.Future[str] | None = None  # the workers' first (empty) job
        self._free = asyncio.Semaphore(max(workers, 1))  # a body holds one while on a worker

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Renderer]:
        """The workers start with the first costly body (most nodes never see one) and stop
        here; a render still running is abandoned."""
        try:
            yield self
        finally:
            self._stop()

    def is_cheap(self, body: str) -> bool:
        return markdown.estimate_ms(body) <= self._inline_ms

    def cost_tokens(self, body: str) -> float:
        """What rendering the body costs its sender on top of the action (chat/protocol/
        ratelimit.py): nothing for a body rendered inline, else a token per estimated ms."""
        estimate = markdown.estimate_ms(body)
        return 0.0 if estimate <= self._inline_ms else math.ceil(estimate)

    async def render(self, body: str) -> str:
        """The body's sanitised HTML: Markdown if it could be rendered within the budget,
        else its escaped text."""
        if self.is_cheap(body):
            return markdown.render(body)
        if self._waiting >= self._max_waiting or self._workers == 0:
            return self._fallback(body, "busy")
        self._waiting += 1
        pool = self._pool or self._start()
        try:
            if self._warm is not None and not self._warm.done():
                # The workers' start (a new interpreter importing the parser, ~0.3 s) is not
                # the body's fault: the budget starts once they are up.
                try:
                    async with asyncio.timeout(WORKER_START_S):
                        await asyncio.shield(self._warm)
                except TimeoutError:
                    # Slow to start is not stuck on a body: a kill would only restart them.
                    return self._fallback(body, "timeout")
            started: list[bool] = []
            try:
                async with asyncio.timeout(self._budget_s):
                    html = await self._on_worker(pool, body, started)
            except TimeoutError:
                # Only a body that was parsing is the overrun. One that merely waited for a
                # worker leaves the pool alone: other members' renders go on, no respawn.
                if started:
                    self._kill(pool)
                return self._fallback(body, "timeout")
        except BrokenProcessPool:
            # A worker died (out of memory, killed from outside; not by _kill, whose pool is
            # gone already): the next costly body starts a new pool.
            if self._pool is pool:
                log.error("render.pool_broken")
                self._stop()
            return self._fallback(body, "broken")
        finally:
            self._waiting -= 1
        self._metrics.renders.labels("worker").inc()
        return html

    async def _on_worker(self, pool: ProcessPoolExecutor, body: str, started: list[bool]) -> str:
        """Render on a free worker. Bodies wait for one here, not in the pool: the pool marks
        a queued job running as soon as it is handed on (workers + 1 of them), so only here
        can a body's wait be told from its parse."""
        async with self._free:
            if self._pool is not pool:
                raise BrokenProcessPool("killed while this body waited")
            started.append(True)
            return await asyncio.wrap_future(pool.submit(markdown.render, body))

    def _fallback(self, body: str, reason: str) -> str:
        self._metrics.renders.labels(f"plain_{reason}").inc()
        return markdown.render_plain(body)

    def _start(self) -> ProcessPoolExecutor:
        # spawn, not fork: the node has threads (aiosqlite, asyncpg's resolver) and fork
        # copies their locks mid-state (Python docs, multiprocessing "Contexts and start methods").
        pool = self._pool = ProcessPoolExecutor(
            self._workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_lower_priority)
        self._warm = asyncio.get_running_loop().run_in_executor(pool, markdown.render, "")
        return pool

    def _kill(self, pool: ProcessPoolExecutor) -> None:
        """Stop the workers of `pool` now (one is still parsing a body over its budget); the
        next costly body starts new ones. The bodies waiting in it become plain text, as they
        would have behind the overrun."""
        if self._pool is not pool:
            return  # killed already for another body of the same pool
        # No public way to stop a running job before Python 3.14's kill_workers().
        kill_workers = getattr(pool, "kill_workers", None)
        if kill_workers is not None:
            kill_workers()
        else:
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                with contextlib.suppress(OSError, ValueError):
                    process.kill()
        # Not _stop(): cancelling the queued jobs would raise CancelledError in the requests
        # awaiting them; with the workers dead the pool fails them with BrokenProcessPool,
        # which render() turns into plain text.
        self._pool, self._warm = None, None
        pool.shutdown(wait=False)

    def _stop(self) -> None:
        pool, self._pool, self._warm = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
