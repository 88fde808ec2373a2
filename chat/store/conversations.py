"""Direct rooms, membership, room access and topics: one implementation for both stores,
over three primitives each backend's base provides (`_q_fetch`, `_q_execute`,
`_q_transaction`) and the shared SQL of chat/store/conversation_sql.py."""

from __future__ import annotations

from typing import Any

from chat.models import Room, Topic
from chat.store import conversation_sql as q

PAIRS_PER_QUERY = 512  # two parameters each: far below either store's limit


class ConversationsMixin:
    """Mixed into each store after its base, which supplies _q_fetch/_q_execute/_q_transaction
    (chat/store/postgres/base.py, chat/store/sqlite/base.py)."""

    _q_fetch: Any
    _q_execute: Any
    _q_transaction: Any

    # -- access ----------------------------------------------------------------------------

    async def room_access(self, room_id: str, user_id: int) -> tuple[Room | None, bool]:
        rows = await self._q_fetch(q.ROOM_ACCESS, user_id, user_id, room_id)
        if not rows:
            return None, False
        return q.room_from_row(rows[0]), bool(rows[0][6])

    async def visible_pairs(self, pairs: list[tuple[str, int]]) -> set[tuple[str, int]]:
        visible: set[tuple[str, int]] = set()
        for start in range(0, len(pairs), PAIRS_PER_QUERY):
            chunk = pairs[start:start + PAIRS_PER_QUERY]
            # Padded (with a repeat) to a power of two: a handful of distinct statements for
            # the statement caches, not one per count.
            size = 1 << (len(chunk) - 1).bit_length()
            chunk += [chunk[-1]] * (size - len(chunk))
            sql = q.VISIBLE_PAIRS.format(pairs=", ".join([q.PAIR] * size))
            rows = await self._q_fetch(sql, *(value for pair in chunk for value in pair))
            visible.update((room_id, user_id) for room_id, user_id in rows)
        return visible

    # -- direct rooms ----------------------------------------------------------------------

    async def users_by_id(self, user_ids: list[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        rows = await self._q_fetch(q.USERS_BY_ID.format(marks=q.marks(len(user_ids))), *user_ids)
        return {row[0]: row[1] for row in rows}

    async def open_direct(
        self, room_id: str, member_ids: list[int], creator_id: int, title: str, now_ms: int
    ) -> tuple[Room, bool]:
        key = ",".join(str(user_id) for user_id in sorted(set(member_ids)))
        async with self._q_transaction() as conn:
            inserted = await self._q_fetch(q.INSERT_DIRECT, room_id, title, title, creator_id,
                                           now_ms, key, conn=conn)
            if inserted:
                for user_id in sorted(set(member_ids)):
                    await self._q_execute(q.INSERT_MEMBER, room_id, user_id, now_ms, conn=conn)
        if inserted:
            return Room(room_id, "direct", title, title, 0, "open"), True
        # Someone opened it first (now or earlier); theirs is committed by now.
        found = await self._q_fetch(q.DIRECT_BY_KEY, key)
        return q.room_from_row(found[0]), False

    async def direct_rooms(self, user_id: int) -> list[Room]:
        return [q.room_from_row(row) for row in await self._q_fetch(q.DIRECT_ROOMS, user_id)]

    async def room_members(self, room_ids: list[str]) -> dict[str, list[tuple[int, str, str]]]:
        """Current members of each room: (user_id, display_name, time_zone)."""
        if not room_ids:
            return {}
        rows = await self._q_fetch(q.ROOM_MEMBERS.format(marks=q.marks(len(room_ids))), *room_ids)
        members: dict[str, list[tuple[int, str, str]]] = {room_id: [] for room_id in room_ids}
        for room_id, user_id, name, time_zone in rows:
            members[room_id].append((user_id, name, time_zone))
        return members

    async def add_member(self, room_id: str, user_id: int, now_ms: int, max_members: int) -> bool:
        """Add (or bring back) a member; False when the room already has max_members. The
        room row is locked first, so concurrent adds cannot both pass the count."""
        async with self._q_transaction() as conn:
            await self._q_execute(q.FORGET_MEMBER_KEY, room_id, conn=conn)  # also takes the row lock
            [(count,)] = await self._q_fetch(q.MEMBER_COUNT, room_id, conn=conn)
            if count >= max_members:
                return False
            await self._q_execute(q.INSERT_MEMBER, room_id, user_id, now_ms, conn=conn)
        return True

    async def threads_in_room(self, room_id: str) -> list[str]:
        return [row[0] for row in await self._q_fetch(q.THREADS_IN_ROOM, room_id)]

    async def remove_member(self, room_id: str, user_id: int, now_ms: int) -> None:
        async with self._q_transaction() as conn:
            await self._q_execute(q.REMOVE_MEMBER, now_ms, room_id, user_id, conn=conn)
            await self._q_execute(q.FORGET_MEMBER_KEY, room_id, conn=conn)

    # -- topics and news -------------------------------------------------------------------

    async def create_topic(self, topic: Topic) -> None:
        async with self._q_transaction() as conn:
            await self._q_execute(q.INSERT_ROOM, topic.topic_id, topic.kind, topic.title, topic.title,
                                  topic.author_id, topic.created_at_ms, None, None, conn=conn)
            await self._q_execute(
                q.INSERT_TOPIC, topic.topic_id, topic.kind, topic.title, topic.summary, topic.body,
                topic.body_html, topic.origin_room_id, topic.origin_message_id, topic.author_id,
                topic.created_at_ms, topic.last_activity_ms, conn=conn)
            for room_id in topic.room_ids:
                await self._q_execute(q.INSERT_TOPIC_ROOM, topic.topic_id, room_id, conn=conn)

    async def get_topic(self, topic_id: str) -> Topic | None:
        topics = await self._with_rooms(await self._q_fetch(q.TOPIC_BY_ID, topic_id))
        return topics[0] if topics else None

    async def topics_in_room(self, room_id: str, kind: str, limit: int) -> list[Topic]:
        return await self._with_rooms(await self._q_fetch(q.TOPICS_IN_ROOM, room_id, kind, limit))

    async def news_feed(self, before_ms: int, limit: int) -> list[Topic]:
        return await self._with_rooms(await self._q_fetch(q.NEWS_FEED, before_ms, limit))

    async def update_topic(self, topic_id: str, *, resolved: bool | None, pinned: bool | None) -> None:
        # The column names come from this fixed list, never from input.
        for column, value in (("resolved", resolved), ("pinned", pinned)):
            if value is not None:
                await self._q_execute(f"UPDATE topics SET {column} = ? WHERE topic_id = ?",
                                      value, topic_id)

    async def _with_rooms(self, rows: list[Any]) -> list[Topic]:
        if not rows:
            return []
        ids = [row[0] for row in rows]
        listed: dict[str, list[str]] = {topic_id: [] for topic_id in ids}
        for topic_id, room_id in await self._q_fetch(q.TOPIC_ROOMS.format(marks=q.marks(len(ids))), *ids):
            listed[topic_id].append(room_id)
        return [q.topic_from_row(row, tuple(listed[row[0]])) for row in rows]
