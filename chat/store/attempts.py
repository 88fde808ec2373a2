"""Attempt counters (login and registration limits): one implementation for both stores, over
the database handle (chat/store/database.py). Nothing here differs between the dialects: the
UPSERT, RETURNING and the CASE expressions mean the same on both (chat/store/dialect.py lists
what does differ).

A counter is a fixed window per key. `count_attempts` increments atomically (one UPSERT per
key, PostgreSQL INSERT ... ON CONFLICT DO UPDATE; SQLite's UPSERT since 3.24 with RETURNING
since 3.35) and returns the new count, so attempts that run concurrently on one node or on
several all see distinct counts: nothing is read before and written after.
"""

from __future__ import annotations

from chat.store.database import Database

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
    """Mixed into each store, whose base supplies `_db` (tests/contract/test_attempts_store.py)."""

    _db: Database

    async def count_attempts(
        self, keys: list[str], now_ms: int, window_ms: int
    ) -> list[tuple[int, int]]:
        # Expired rows go on the way (indexed): the table only holds live windows.
        await self._db.execute(PRUNE, now_ms)
        counted = []
        # One statement and transaction per key, never two row locks held at once: with several
        # in one transaction, PostgreSQL could deadlock it against a concurrent prune (each
        # holding a row the other wants) and answer a login with an error.
        for key in keys:
            async with self._db.transaction() as conn:
                row = await conn.fetch_one(COUNT_ATTEMPT, key, now_ms + window_ms, now_ms, now_ms)
            assert row is not None  # an UPSERT … RETURNING yields the row it wrote
            counted.append((int(row[0]), int(row[1])))
        return counted

    async def forgive_attempts(self, counted: list[tuple[str, int]]) -> None:
        for key, window_end_ms in counted:
            await self._db.execute(FORGIVE_ATTEMPT, key, window_end_ms)

    async def clear_attempts(self, key: str) -> None:
        await self._db.execute(CLEAR_ATTEMPTS, key)
