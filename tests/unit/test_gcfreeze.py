"""chat/gcfreeze.py: what survives a full collection is frozen while `freezing` runs, and the
collector is left as it was after."""

from __future__ import annotations

import gc

from chat.gcfreeze import freezing


class Held:
    """A tracked object that outlives the collections below."""


def test_survivors_of_each_full_collection_are_frozen_while_it_runs():
    gc.unfreeze()
    try:
        with freezing():
            frozen_at_start = gc.get_freeze_count()
            assert frozen_at_start > 1_000  # what this process had: modules, tests, …
            kept = [Held() for _ in range(5_000)]
            # (Frozen objects may die meanwhile, freed by reference counting: the counts below
            # allow for a few.)
            assert gc.get_freeze_count() <= frozen_at_start  # young objects are not frozen
            gc.collect()  # a full collection: they survive it, so they are frozen after it
            assert gc.get_freeze_count() >= frozen_at_start + 4_900
            del kept  # frozen objects are still freed by reference counting
            assert gc.get_freeze_count() < frozen_at_start + 5_000
            before, young = gc.get_freeze_count(), [Held() for _ in range(1_000)]
            gc.collect(1)  # a young collection freezes nothing
            assert gc.get_freeze_count() <= before and len(young) == 1_000
        gc.collect()
        gc.unfreeze()
        Held()
        gc.collect()
        assert gc.get_freeze_count() == 0  # the callback is gone with the block
    finally:
        gc.unfreeze()


def test_without_survivors_only_what_exists_at_the_start_is_frozen():
    gc.unfreeze()
    try:
        with freezing(survivors=False):
            frozen_at_start = gc.get_freeze_count()
            kept = [Held() for _ in range(5_000)]
            gc.collect()
            assert gc.get_freeze_count() <= frozen_at_start and len(kept) == 5_000
    finally:
        gc.unfreeze()
