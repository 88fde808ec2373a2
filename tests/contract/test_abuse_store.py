"""The Store contract for abuse limits (chat/store/abuse.py, migration 0029): the spam check's
texts and spent registration challenges, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

NOW = 1_700_000_000_000
WINDOW = 600_000


async def test_texts_elsewhere_counts_other_rooms_in_the_window(store):
    assert await store.texts_elsewhere(1, "d1", "room-a", NOW - WINDOW) == 0
    await store.note_texts([(1, "d1", "room-a", NOW), (1, "d1", "room-b", NOW + 1),
                            (1, "d2", "room-c", NOW), (2, "d1", "room-c", NOW)])
    assert await store.texts_elsewhere(1, "d1", "room-c", NOW - WINDOW) == 2
    assert await store.texts_elsewhere(1, "d1", "room-a", NOW - WINDOW) == 1  # not its own room
    assert await store.texts_elsewhere(1, "d1", "room-c", NOW + 1) == 1  # room-a's is older
    # Noted again (one batch may repeat a key): the newer time stays.
    await store.note_texts([(1, "d1", "room-a", NOW + 5), (1, "d1", "room-a", NOW + 6)])
    assert await store.texts_elsewhere(1, "d1", "room-c", NOW + 6) == 1
    assert await store.texts_elsewhere(3, "d1", "room-c", NOW - WINDOW) == 0
    await store.note_texts([])


async def test_pruning_forgets_old_texts(store):
    await store.note_texts([(3, "d", "room-a", NOW), (3, "d", "room-b", NOW + 10)])
    assert await store.prune_texts(NOW + 1) == 1
    assert await store.texts_elsewhere(3, "d", "room-c", 0) == 1
    assert await store.prune_texts(NOW) == 0


async def test_a_challenge_is_spent_once_even_by_racing_callers(store):
    answers = await asyncio.gather(*(store.use_challenge("c1", NOW + WINDOW, NOW) for _ in range(6)))
    assert sorted(answers) == [False] * 5 + [True]
    assert await store.use_challenge("c2", NOW + WINDOW, NOW)
    assert not await store.use_challenge("c1", NOW + WINDOW, NOW + 1)
    # Past its expiry it is pruned (the signature check refuses it by then anyway).
    assert await store.use_challenge("c1", NOW + 2 * WINDOW, NOW + WINDOW + 1)
