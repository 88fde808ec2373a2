"""Rows the contract tests (tests/contract) put in a store before the operation under test."""

from __future__ import annotations

from typing import Any

from chat.models import User

NOW = 1_700_000_000_000  # the tests' fixed "now", in ms since the epoch


async def users(store: Any, *names: str, now: int = NOW) -> list[User]:
    """One member per name, with the email <name>@example.test, created at `now`."""
    return [await store.create_user(f"{n}@example.test", n, "h", "member", now) for n in names]
