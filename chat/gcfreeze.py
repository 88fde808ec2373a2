"""Keeping CPython's full garbage collections short on a node with many connections.

A full (generation 2) collection walks every tracked object the process holds outside the
permanent generation and stops the event loop while it does: ~180 objects a joined connection,
so 250-600 ms at 10,000 connections (docs/benchmarks.md), against issue 17's 20 ms. CPython
3.11 runs one whenever the objects promoted to the oldest generation since the last one exceed
a quarter of those it kept then; connections that come and go (reconnects, a node restart's
storm) get there every few minutes.

So the node freezes (`gc.freeze()`) what start-up allocated, and, with
ECOLINK_GC_FREEZE_SURVIVORS (off by default), after every full collection what survived it:
objects that outlived a full collection are long-lived (the connections, their rooms, caches),
and a frozen object is never scanned again. Frozen objects are still freed by reference
counting when the last reference goes; only an object that dies inside a reference cycle would
stay. Closing a connection makes no cycle (tests/e2e/test_connection_garbage.py;
docs/decisions.md, "Closed connections leave no reference cycle"). A review found why the
survivors' freezing is still off by default: once they are frozen, the collector's brake (a
full collection only when the objects promoted since the last one exceed a quarter of those it
kept) almost never holds, so full collections come often and each freezes everything alive at
that moment, work in progress included; an exception kept in a future with its traceback is
such a cycle, and it would never be freed. The permanent generation's size is on /metrics
(`ecolink_gc_frozen_objects`): with the survivors frozen it follows the live connections, and a
steady rise with steady connections would be a cycle that escaped (the soak watches it,
docs/reliability.md §6).

Off in the tests (ECOLINK_GC_FREEZE=false): one test process starts hundreds of nodes, and a
stopped node's frozen objects would never be collected.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any


def _after_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()  # the collection is over: this only moves its survivors' list


@contextlib.contextmanager
def freezing(survivors: bool = True) -> Iterator[None]:
    """Freeze what exists now (after collecting once), and, with `survivors`, the survivors of
    every full collection while the block runs."""
    gc.collect()
    gc.freeze()
    if not survivors:
        yield
        return
    gc.callbacks.append(_after_collection)
    try:
        yield
    finally:
        gc.callbacks.remove(_after_collection)
