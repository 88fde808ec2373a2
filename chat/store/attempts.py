"""Attempt counters (login and registration limits): one implementation for both stores, over
the shared-SQL primitives of each backend's base (see chat/store/conversations.py).

A counter is a fixed window per key. `count_attempts` increments atomically (one UPSERT per
key, PostgreSQL INSERT ... ON CONFLICT DO UPDATE; SQLite's UPSERT since 3.24 with RETURNING
since 3.35) and returns the new count, so attempts that run concurrently on one node or on
several all see distinct counts: nothing is read before and written after.
"""

from __future__ import annotations

from typing import Any

COUNT_ATTEMPT = (
    "INSERT INTO attempt_counters (key, attempts, window_end_ms) VALUES (?, 1, ?)"
    " ON CONFLICT (key) DO UPDATE SET"
    # Every SET expression sees the row as it was (both PostgreSQL and SQLite), so an
    # expired window restarts at 1 with a new end.
    " attempts = CASE WHEN attempt_counters.window_end_ms <= ? THEN 1"
    " ELSE attempt_counters.attempts + 1 END,"
    " window_end_ms = CASE WHEN attempt_counters.window_end_ms <= ? THEN excluded.window_end_ms"
    " ELSE attempt_counters.window_end_ms END"
    " RETURNING attempts, window_end_ms"
)
FORGIVE_ATTEMPT = (
    "UPDATE attempt_counters SET attempts = attempts - 1"
    " WHERE key = ? AND window_end_ms = ? AND attempts > 0"
)
CLEAR_ATTEMPTS = "DELETE FROM attempt_counters WHERE key = ?"
PRUNE = "DELETE FROM attempt_counters WHERE window_end_ms < ?"


class AttemptsMixin:
    """Mixed into each store after its base (_q_fetch/_q_execute/_q_transaction)."""

    _q_fetch: Any
    _q_execute: Any
    _q_transaction: Any

    async def count_attempts(
        self, keys: list[str], now_ms: int, window_ms: int
    ) -> list[tuple[int, int]]:
        # Expired rows go on the way (indexed): the table only holds live windows.
        await self._q_execute(PRUNE, now_ms)
        counted = []
        # One statement and transaction per key, never two row locks held at once: with several
        # in one transaction, PostgreSQL could deadlock it against a concurrent prune (each
        # holding a row the other wants) and answer a login with an error.
        for key in keys:
            async with self._q_transaction() as conn:
                rows = await self._q_fetch(COUNT_ATTEMPT, key, now_ms + window_ms, now_ms, now_ms,
                                           conn=conn)
            counted.append((int(rows[0][0]), int(rows[0][1])))
        return counted

    async def forgive_attempts(self, counted: list[tuple[str, int]]) -> None:
        for key, window_end_ms in counted:
            await self._q_execute(FORGIVE_ATTEMPT, key, window_end_ms)

    async def clear_attempts(self, key: str) -> None:
        await self._q_execute(CLEAR_ATTEMPTS, key)
