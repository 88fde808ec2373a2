"""The Store contract for abuse limits (chat/store/abuse.py, migration 0029): the spam check's
texts and spent registration challenges, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

NOW = 1_700_000_000_000
WINDOW = 600_000


async def test_the_same_text_goes_to_at_most_max_rooms_in_the_window(store):
    assert await store.note_text(1, "d1", "room-a", NOW, WINDOW, 2)
    assert await store.note_text(1, "d1", "room-b", NOW + 1, WINDOW, 2)
    assert not await store.note_text(1, "d1", "room-c", NOW + 2, WINDOW, 2)
    # Not written when refused: still refused, and the rooms it went to still pass.
    assert not await store.note_text(1, "d1", "room-c", NOW + 3, WINDOW, 2)
    assert await store.note_text(1, "d1", "room-a", NOW + 4, WINDOW, 2)
    # Another text, another author: their own counts.
    assert await store.note_text(1, "d2", "room-c", NOW + 5, WINDOW, 2)
    assert await store.note_text(2, "d1", "room-c", NOW + 6, WINDOW, 2)
    # room-b's note (NOW + 1) leaves the window; room-a's was renewed at NOW + 4.
    assert await store.note_text(1, "d1", "room-c", NOW + 2 + WINDOW, WINDOW, 2)
    assert not await store.note_text(1, "d1", "room-d", NOW + 3 + WINDOW, WINDOW, 2)


async def test_pruning_forgets_old_texts(store):
    assert await store.note_text(3, "d", "room-a", NOW, WINDOW, 1)
    assert not await store.note_text(3, "d", "room-b", NOW, WINDOW, 1)
    assert await store.prune_texts(NOW + 1) == 1
    assert await store.note_text(3, "d", "room-b", NOW, WINDOW, 1)
    assert await store.prune_texts(NOW) == 0


async def test_a_challenge_is_spent_once_even_by_racing_callers(store):
    answers = await asyncio.gather(*(store.use_challenge("c1", NOW + WINDOW, NOW) for _ in range(6)))
    assert sorted(answers) == [False] * 5 + [True]
    assert await store.use_challenge("c2", NOW + WINDOW, NOW)
    assert not await store.use_challenge("c1", NOW + WINDOW, NOW + 1)
    # Past its expiry it is pruned (the signature check refuses it by then anyway).
    assert await store.use_challenge("c1", NOW + 2 * WINDOW, NOW + WINDOW + 1)
