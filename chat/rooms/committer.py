"""GroupCommitter: many concurrent sends, one transaction per batch (invariant 2).

Sends queue up while the previous batch commits; the next batch takes all of them (up to
max_batch). A send's future resolves only after its batch committed — the ack means durable —
or fails with the store's error, in which case nothing of it was stored and the client
retries with the same cid. A batch the store refuses (not one it cannot reach) is split until
the failing send is alone: one bad send never fails another's (invariant 7).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import structlog

from chat.logs import failure
from chat.clock import Clock
from chat.errors import Unavailable
from chat.metrics import Metrics
from chat.models import Message, SendOutcome, SendRequest
from chat.store.port import Store

log = structlog.get_logger("chat.committer")


class GroupCommitter:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        metrics: Metrics,
        on_committed: Callable[[list[Message]], None],
        max_batch: int,
    ) -> None:
        self._store = store
        self._clock = clock
        self._metrics = metrics
        self._on_committed = on_committed
        self._max_batch = max_batch
        self._pending: list[tuple[SendRequest, asyncio.Future[SendOutcome]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[GroupCommitter]:
        self._task = asyncio.create_task(self._run(), name="group-commit")
        try:
            yield self
        finally:
            await self.drain()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def submit(self, send: SendRequest) -> SendOutcome:
        """Queue one send and wait until it is committed (or failed)."""
        future: asyncio.Future[SendOutcome] = asyncio.get_running_loop().create_future()
        self._pending.append((send, future))
        self._wake.set()
        return await future

    async def drain(self) -> None:
        """Commit whatever is queued (graceful shutdown)."""
        while self._pending:
            await self._commit_one_batch()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                await self._commit_one_batch()

    async def _commit_one_batch(self) -> None:
        batch = self._pending[: self._max_batch]
        del self._pending[: self._max_batch]
        await self._commit(batch)

    async def _commit(self, batch: list[tuple[SendRequest, asyncio.Future[SendOutcome]]]) -> None:
        """Commit `batch` in one transaction; if the store refuses it, commit its halves
        separately, down to the one send that fails, so a send the store cannot take fails
        alone and never another member's. A failed transaction stored nothing (no seq taken,
        no row), so retrying its sends keeps seqs gapless and (room, author, cid) unique; each
        future still resolves only after the transaction that holds its send committed."""
        sends = [send for send, _ in batch]
        started = time.perf_counter()
        try:
            outcomes = await self._store.append_batch(sends, self._clock.now_ms())
        except asyncio.CancelledError:
            for _, future in batch:
                if not future.done():
                    future.set_exception(Unavailable("the node is shutting down; retry"))
            raise
        except Unavailable as exc:
            # The store is unreachable: every send fails alike; clients retry with their cid.
            self._fail(batch, exc)
            return
        except Exception as exc:
            if len(batch) > 1:
                self._metrics.commit_splits.inc()
                middle = len(batch) // 2
                await self._commit(batch[:middle])
                await self._commit(batch[middle:])
                return
            # Where it failed, but not the exception's text: driver errors may quote the
            # values of the batch, i.e. message bodies.
            log.error("commit.failed", batch=1, room=sends[0].room_id, **failure(exc))
            self._fail(batch, Unavailable("the message could not be stored; retry with the same cid"))
            return
        self._metrics.commit_seconds.observe(time.perf_counter() - started)
        self._metrics.commit_batch.observe(len(batch))
        created = [o.message for o in outcomes if o.created and o.message is not None]
        if created:
            self._metrics.messages.inc(len(created))
            self._on_committed(created)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)

    @staticmethod
    def _fail(batch: list[tuple[SendRequest, asyncio.Future[SendOutcome]]], exc: Exception) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)
