"""chat/memory.py: the periodic malloc_trim gives glibc's free chunks back to the system."""

from __future__ import annotations

import asyncio
import os

from chat.memory import malloc_trim, trim_once, trimming


def resident() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def fragment(mib: int) -> list[bytes]:
    """Allocate `mib` MiB in 2-KB blocks (glibc's, not pymalloc's) and free 49 of every 50:
    the survivors pin the heap, so glibc keeps the free chunks between them."""
    blocks = [bytes(2000) + i.to_bytes(4, "little") for i in range(mib * 512)]
    return blocks[::50]


async def test_a_trim_hands_the_free_chunks_back():
    assert malloc_trim is not None  # glibc (Debian): the node trims
    kept = fragment(40)
    held = resident()
    assert await trim_once()
    # 39 of the 40 MiB were free chunks between survivors: most of them go back.
    assert held - resident() > 20 * 2**20, (held, resident())
    assert len(kept) == 40 * 512 // 50 + 1


async def test_the_node_trims_on_its_interval_and_not_at_zero():
    async with trimming(0):
        kept = fragment(40)
        held = resident()
        await asyncio.sleep(0.3)
        assert resident() > held - 5 * 2**20  # nothing trimmed
    async with trimming(0.05):
        await asyncio.sleep(0.5)
        assert held - resident() > 20 * 2**20, (held, resident())
    del kept
