"""Abuse limits' store side (migration 0029): the texts each author sent lately, by digest and
room, for the spam check; spent registration challenges. One implementation for both stores
over the database handle (tests/contract/test_abuse_store.py)."""

from __future__ import annotations

from chat.store.database import Database

OTHER_ROOMS = ("SELECT count(*) FROM spam_texts"
               " WHERE user_id = ? AND digest = ? AND room_id <> ? AND sent_ms >= ?")
NOTE_TEXT = ("INSERT INTO spam_texts (user_id, digest, room_id, sent_ms) VALUES (?, ?, ?, ?)"
             " ON CONFLICT (user_id, digest, room_id) DO UPDATE SET sent_ms = excluded.sent_ms")
PRUNE_TEXTS = "DELETE FROM spam_texts WHERE sent_ms < ?"
USE_CHALLENGE = ("INSERT INTO used_challenges (digest, expires_ms) VALUES (?, ?)"
                 " ON CONFLICT (digest) DO NOTHING RETURNING digest")
PRUNE_CHALLENGES = "DELETE FROM used_challenges WHERE expires_ms < ?"


class AbuseMixin:
    """Mixed into each store after its base."""

    _db: Database

    async def texts_elsewhere(self, user_id: int, digest: str, room_id: str, since_ms: int) -> int:
        row = await self._db.fetch_one(OTHER_ROOMS, user_id, digest, room_id, since_ms)
        return int(row[0]) if row is not None else 0

    async def note_texts(self, notes: list[tuple[int, str, str, int]]) -> None:
        if notes:
            await self._db.execute_many(NOTE_TEXT, notes)

    async def prune_texts(self, before_ms: int) -> int:
        return await self._db.execute(PRUNE_TEXTS, before_ms)

    async def use_challenge(self, digest: str, expires_ms: int, now_ms: int) -> bool:
        await self._db.execute(PRUNE_CHALLENGES, now_ms)
        async with self._db.transaction() as conn:
            row = await conn.fetch_one(USE_CHALLENGE, digest, expires_ms)
        return row is not None
