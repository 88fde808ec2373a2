"""Giving the C allocator's free memory back to the system.

A node's Python objects come and go with every frame; the ones over 512 bytes (message bodies,
socket buffers, asyncpg's records) are glibc malloc's. glibc returns free memory of its main
heap only from the top, so a long-running node's resident memory creeps up by free chunks it
keeps (the soak measured ~0.5 MiB a minute per node, all of it reclaimable: docs/reliability.md
§6). `malloc_trim(0)` gives every free page back; the node calls it every
ECOLINK_MALLOC_TRIM_S seconds, in a worker thread (ctypes releases the GIL). A trim walks the
heap holding its lock, so the event loop's own larger mallocs wait for it: 77 ms were measured
for 100 MiB of fragmented free chunks, a node's heap holds tens of MiB, and after the first
trim each one finds only a minute's worth.
On a C library without malloc_trim (musl, macOS) this does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import time
from collections.abc import AsyncIterator, Callable
from typing import cast

import structlog

from chat.clock import repeating

log = structlog.get_logger(__name__)


def _find_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return cast(Callable[[int], int], trim)


malloc_trim = _find_malloc_trim()


async def trim_once() -> bool:
    """Give the allocator's free pages back now; False where there is no malloc_trim."""
    if malloc_trim is None:
        return False
    started = time.perf_counter()
    released = await asyncio.to_thread(malloc_trim, 0)
    log.debug("memory.trimmed", released=bool(released), ms=round((time.perf_counter() - started) * 1000, 1))
    return True


@contextlib.asynccontextmanager
async def trimming(interval_s: float) -> AsyncIterator[None]:
    """Trim every `interval_s` seconds while open (0: never)."""
    if interval_s <= 0 or malloc_trim is None:
        yield
        return
    async with repeating(interval_s, trim_once, "malloc-trim", "memory.trim_failed"):
        yield
