"""Secrets the nodes share through the store (migration 0024): made at first use, then the same
for every node and every restart. One implementation for both stores over the database handle."""

from __future__ import annotations

import secrets

from chat.store.database import Database

CREATE = ("INSERT INTO server_secrets (name, value_hex, created_ms) VALUES (?, ?, ?)"
          " ON CONFLICT (name) DO NOTHING")
READ = "SELECT value_hex FROM server_secrets WHERE name = ?"


class SecretsMixin:
    """Mixed into each store after its base (tests/contract/test_secrets_store.py)."""

    _db: Database

    async def server_secret(self, name: str, now_ms: int) -> bytes:
        async with self._db.transaction() as conn:
            await conn.execute(CREATE, name, secrets.token_hex(32), now_ms)
            row = await conn.fetch_one(READ, name)
        assert row is not None  # inserted, or there already
        return bytes.fromhex(row[0])
