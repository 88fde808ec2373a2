"""SqliteStore: login throttling. Kept per backend for now, only because it is being reworked
in parallel; users and sessions are shared (chat/store/accounts.py)."""

from __future__ import annotations

from chat.store.sqlite.base import SqliteBase


class AccountsMixin(SqliteBase):
    # -- accounts --------------------------------------------------------------------------

    async def record_login_failure(self, key: str, now_ms: int) -> None:
        async with self._transaction() as conn:
            await conn.execute("INSERT INTO login_failures (key, at_ms) VALUES (?, ?)", (key, now_ms))

    async def count_login_failures(self, key: str, since_ms: int) -> int:
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM login_failures WHERE at_ms < ?", (since_ms,))
            rows = await conn.execute_fetchall(
                "SELECT count(*) FROM login_failures WHERE key = ? AND at_ms >= ?", (key, since_ms)
            )
        return rows[0][0]

    async def clear_login_failures(self, key: str) -> None:
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM login_failures WHERE key = ?", (key,))
