"""PostgresStore: login throttling. Kept per backend for now, only because it is being reworked
in parallel; users and sessions are shared (chat/store/accounts.py)."""

from __future__ import annotations

from chat.store.postgres.base import PostgresBase, _unavailable_on_disconnect


class AccountsMixin(PostgresBase):
    # -- accounts --------------------------------------------------------------------------

    async def record_login_failure(self, key: str, now_ms: int) -> None:
        with _unavailable_on_disconnect():
            await self._pool.execute(
                "INSERT INTO login_failures (key, at_ms) VALUES ($1, $2)", key, now_ms
            )

    async def count_login_failures(self, key: str, since_ms: int) -> int:
        with _unavailable_on_disconnect():
            # Old rows are pruned on the way: the table only ever holds one window.
            await self._pool.execute("DELETE FROM login_failures WHERE at_ms < $1", since_ms)
            return await self._pool.fetchval(
                "SELECT count(*) FROM login_failures WHERE key = $1 AND at_ms >= $2", key, since_ms
            )

    async def clear_login_failures(self, key: str) -> None:
        with _unavailable_on_disconnect():
            await self._pool.execute("DELETE FROM login_failures WHERE key = $1", key)
