"""The Store contract for shared secrets (chat/store/secrets.py, migration 0024), on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio

NOW = 1_700_000_000_000


async def test_a_secret_is_made_once_and_then_the_same_for_every_caller(store):
    first, again, *racing = await asyncio.gather(*(store.server_secret("mail", NOW) for _ in range(6)))
    assert len(first) == 32
    assert again == first and all(value == first for value in racing)
    other = await store.server_secret("registration", NOW)
    assert len(other) == 32 and other != first
    assert await store.server_secret("mail", NOW) == first
