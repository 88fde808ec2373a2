"""Two-factor sign-in's rows (migration 0027): a member's TOTP secret, the last time step
accepted, and hashes of their recovery codes. One implementation for both stores over the
database handle (tests/contract/test_two_factor_store.py)."""

from __future__ import annotations

from chat.models import TwoFactorState
from chat.store.database import Connection, Database

BEGIN = ("INSERT INTO two_factor (user_id, secret, enabled_at_ms, last_step, created_ms)"
         " VALUES (?, ?, NULL, 0, ?) ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret,"
         " created_ms = excluded.created_ms WHERE two_factor.enabled_at_ms IS NULL")


class TwoFactorMixin:
    """Mixed into each store after its base."""

    _db: Database

    async def two_factor_state(self, user_id: int) -> TwoFactorState | None:
        row = await self._db.fetch_one(
            "SELECT secret, enabled_at_ms, last_step,"
            " (SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = t.user_id AND r.used_at_ms IS NULL)"
            " FROM two_factor t WHERE t.user_id = ?", user_id)
        if row is None:
            return None
        return TwoFactorState(secret=row[0], enabled=row[1] is not None, last_step=row[2],
                              recovery_codes_left=row[3])

    async def begin_two_factor(self, user_id: int, secret: str, now_ms: int) -> bool:
        async with self._db.transaction() as conn:
            return await conn.execute(BEGIN, user_id, secret, now_ms) == 1

    async def enable_two_factor(self, user_id: int, step: int, code_hashes: list[str],
                                now_ms: int) -> bool:
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                "UPDATE two_factor SET enabled_at_ms = ?, last_step = ?"
                " WHERE user_id = ? AND enabled_at_ms IS NULL AND last_step < ?",
                now_ms, step, user_id, step)
            if changed != 1:
                return False
            await self._replace_codes(conn, user_id, code_hashes)
        return True

    async def use_totp_step(self, user_id: int, step: int) -> bool:
        async with self._db.transaction() as conn:
            return await conn.execute(
                "UPDATE two_factor SET last_step = ?"
                " WHERE user_id = ? AND enabled_at_ms IS NOT NULL AND last_step < ?",
                step, user_id, step) == 1

    async def use_recovery_code(self, user_id: int, code_hash: str, now_ms: int) -> bool:
        async with self._db.transaction() as conn:
            return await conn.execute(
                "UPDATE recovery_codes SET used_at_ms = ?"
                " WHERE user_id = ? AND code_hash = ? AND used_at_ms IS NULL",
                now_ms, user_id, code_hash) == 1

    async def replace_recovery_codes(self, user_id: int, code_hashes: list[str]) -> bool:
        async with self._db.transaction() as conn:
            row = await conn.fetch_one(
                "SELECT 1 FROM two_factor WHERE user_id = ? AND enabled_at_ms IS NOT NULL", user_id)
            if row is None:
                return False
            await self._replace_codes(conn, user_id, code_hashes)
        return True

    async def disable_two_factor(self, user_id: int) -> bool:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM recovery_codes WHERE user_id = ?", user_id)
            return await conn.execute("DELETE FROM two_factor WHERE user_id = ?", user_id) == 1

    @staticmethod
    async def _replace_codes(conn: Connection, user_id: int, code_hashes: list[str]) -> None:
        await conn.execute("DELETE FROM recovery_codes WHERE user_id = ?", user_id)
        await conn.execute_many(
            "INSERT INTO recovery_codes (user_id, code_hash, used_at_ms) VALUES (?, ?, NULL)",
            [(user_id, code_hash) for code_hash in code_hashes])
