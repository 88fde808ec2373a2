"""argon2id password hashing, off the event loop (a hash costs ~50-200 ms of CPU), on a pool of
its own with a bounded queue.

The pool is bounded so that a flood of registrations or guesses cannot queue every other
member's login behind it: at most `workers` hashes run and `max_waiting` wait; one more fails
at once with Busy (503 and Retry-After) instead of waiting seconds. The pool is its own, not
asyncio's default executor, so other to_thread work neither waits for it nor delays it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable, Iterator
from typing import TypeVar

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from chat.errors import Busy

PROFILES = {
    "rfc9106_low_memory": profiles.RFC_9106_LOW_MEMORY,
    "cheapest": profiles.CHEAPEST,  # tests and benchmarks only
}
BUSY_RETRY_AFTER_S = 1.0
T = TypeVar("T")


class Passwords:
    def __init__(self, profile: str, *, workers: int = 2, max_waiting: int = 16) -> None:
        self._hasher = PasswordHasher.from_parameters(PROFILES[profile])
        # Verified against when the email is unknown, so both paths cost the same time.
        self._dummy_hash = self._hasher.hash("not a real password")
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="argon2")
        self._capacity = workers + max_waiting
        self._in_pool = 0  # running and waiting; changed only on the event loop's thread

    async def hash(self, password: str, *, reserved: bool = False) -> str:
        """The argon2id hash of a new password. Raises Busy when the pool's queue is full,
        unless the caller holds a `slot()` (`reserved`)."""
        if reserved:
            return await asyncio.get_running_loop().run_in_executor(self._pool, self._hasher.hash, password)
        return await self._run(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether the password matches (False for no hash, at the same cost). Raises Busy."""

        def check(password: str) -> bool:
            try:
                return self._hasher.verify(password_hash or self._dummy_hash, password) and (
                    password_hash is not None
                )
            except (VerifyMismatchError, VerificationError, InvalidHashError, UnicodeEncodeError):
                # UnicodeEncodeError: an unpaired surrogate cannot be encoded, so cannot match.
                return False

        return await self._run(check, password)

    def refuse_if_full(self) -> None:
        """Raise Busy if a hash asked now would be refused: a login checks before it is
        counted, so a flood past the pool is refused at once (the pool may still fill before
        its hash: then Busy comes from there)."""
        if self._in_pool >= self._capacity:
            raise Busy("the server is busy checking passwords; try again in a moment",
                       retry_after_s=BUSY_RETRY_AFTER_S)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """A place in the pool held from now until the block ends (or Busy now): a
        registration takes it before its proof is spent and its address counted, so a
        refused one is refused at once and its proof stays good for the retry. Only for
        steps that do not wait long (a registration: the proof check and the count, one
        store round trip each): a held place counts against the pool, so logins meanwhile
        may be refused Busy while no hash runs (docs/reliability.md, section 15)."""
        self.refuse_if_full()
        self._in_pool += 1
        try:
            yield
        finally:
            self._in_pool -= 1

    async def _run(self, work: Callable[[str], T], password: str) -> T:
        with self.slot():
            return await asyncio.get_running_loop().run_in_executor(self._pool, work, password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
