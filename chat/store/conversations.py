"""Direct rooms, membership (with consent: left for good, blocks), room access and topics: one
implementation for both stores, over the database handle (chat/store/database.py) and the
shared SQL of chat/store/conversation_sql.py."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from chat.models import Room, SearchEntry, Topic
from chat.search.entries import topic_entry
from chat.store import conversation_sql as q
from chat.store.database import Connection, Database, Row, bind

PAIRS_PER_QUERY = 512  # two parameters each: far below either store's limit


def _member_key(member_ids: list[int]) -> str:
    """A direct room's member_key: its first members' sorted ids."""
    return ",".join(str(user_id) for user_id in sorted(set(member_ids)))


class ConversationsMixin:
    """Mixed into each store, whose base supplies `_db` (tests/contract/test_access_store.py,
    test_consent_store.py)."""

    _db: Database

    if TYPE_CHECKING:  # SearchMixin's (chat/store/search.py), later in each store's bases
        async def _index_txn(self, conn: Connection, entries: list[SearchEntry]) -> None: ...

    # -- access ----------------------------------------------------------------------------

    async def room_access(self, room_id: str, user_id: int) -> tuple[Room | None, bool]:
        rows = await self._db.fetch(q.ROOM_ACCESS, user_id, user_id, room_id)
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
            rows = await self._db.fetch(sql, *(value for pair in chunk for value in pair))
            visible.update((room_id, user_id) for room_id, user_id in rows)
        return visible

    # -- direct rooms ----------------------------------------------------------------------

    async def users_by_id(self, user_ids: list[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        sql, params = bind(q.USERS_BY_ID, self._db.dialect.in_list("user_id", user_ids, "bigint"))
        rows = await self._db.fetch(sql, *params)
        return {row[0]: row[1] for row in rows}

    async def open_direct(
        self, room_id: str, member_ids: list[int], creator_id: int, title: str, now_ms: int,
        *, replacing: str | None = None,
    ) -> tuple[Room | None, bool]:
        key = _member_key(member_ids)
        async with self._db.transaction() as conn:
            if await self._left_before_txn(conn, sorted(set(member_ids)), creator_id, key):
                if replacing is not None:
                    return None, False  # the room it would replace is no longer theirs
                # No new room of these people; the one that still is theirs, if any.
                found = await conn.fetch_one(q.DIRECT_BY_KEY, key)
                return (q.room_from_row(found) if found else None), False
            if replacing is not None:
                await conn.execute(q.RELEASE_MEMBER_KEY, replacing, key)
            inserted = await conn.fetch(q.INSERT_DIRECT, room_id, title, title, creator_id, now_ms,
                                        key, key)
            if inserted:
                for user_id in sorted(set(member_ids)):
                    await conn.execute(q.INSERT_MEMBER, room_id, user_id, now_ms, creator_id)
        if inserted:
            return Room(room_id, "direct", title, title, 0, "open"), True
        # Someone opened it first (now or earlier); theirs is committed by now.
        found = await self._db.fetch(q.DIRECT_BY_KEY, key)
        return q.room_from_row(found[0]), False

    async def _left_before_txn(self, conn: Connection, user_ids: list[int], except_id: int | None,
                               key: str) -> bool:
        sql, params = bind(q.LEFT_BEFORE, conn.dialect.in_list("rm.user_id", user_ids, "bigint"),
                           except_id or 0, key, key)
        return await conn.fetch_one(sql, *params) is not None

    async def find_direct(self, member_ids: list[int]) -> Room | None:
        found = await self._db.fetch(q.DIRECT_BY_KEY, _member_key(member_ids))
        return q.room_from_row(found[0]) if found else None

    async def direct_rooms(self, user_id: int) -> list[Room]:
        return [q.room_from_row(row) for row in await self._db.fetch(q.DIRECT_ROOMS, user_id)]

    async def room_members(self, room_ids: list[str]) -> dict[str, list[tuple[int, str, str | None]]]:
        """Current members of each room: (user_id, display_name, time_zone)."""
        if not room_ids:
            return {}
        sql, params = bind(q.ROOM_MEMBERS, self._db.dialect.in_list("rm.room_id", room_ids, "text"))
        rows = await self._db.fetch(sql, *params)
        members: dict[str, list[tuple[int, str, str | None]]] = {room_id: [] for room_id in room_ids}
        for room_id, user_id, name, time_zone in rows:
            members[room_id].append((user_id, name, time_zone))
        return members

    async def add_member(self, room_id: str, user_id: int, now_ms: int, max_members: int,
                         *, by_id: int | None = None) -> str:
        async with self._db.transaction() as conn:
            await self._lock_room_txn(conn, room_id)
            members = [row[0] for row in await conn.fetch(q.CURRENT_MEMBER_IDS, room_id)]
            if by_id is not None and by_id not in members:
                return "not_found"  # the adder left (or was removed) since they were checked
            state = await conn.fetch(q.MEMBER_STATE, room_id, user_id)
            if state and state[0][0]:
                return "member"
            if state and state[0][1]:
                return "not_addable"
            if await self._blocked_with(user_id, members, conn):
                return "not_addable"
            if await self._left_before_txn(conn, [user_id], by_id, _member_key([*members, user_id])):
                return "not_addable"
            if len(members) >= max_members:
                return "full"
            await conn.execute(q.FORGET_MEMBER_KEY, room_id)
            await conn.execute(q.INSERT_MEMBER, room_id, user_id, now_ms, by_id)
        return "added"

    async def rejoin_direct(self, room_id: str, user_id: int, now_ms: int, max_members: int) -> str:
        async with self._db.transaction() as conn:
            await self._lock_room_txn(conn, room_id)
            state = await conn.fetch(q.MEMBER_STATE, room_id, user_id)
            if not state or not state[0][1]:
                return "member" if state and state[0][0] else "not_addable"
            written = await conn.fetch_one(q.WRITTEN_SINCE_LEFT, room_id, user_id)
            if written is not None and written[0]:
                return "moved_on"
            members = [row[0] for row in await conn.fetch(q.CURRENT_MEMBER_IDS, room_id)]
            if await self._blocked_with(user_id, members, conn):
                return "not_addable"
            if len(members) >= max_members:
                return "full"
            await conn.execute(q.INSERT_MEMBER, room_id, user_id, now_ms, user_id)
        return "rejoined"

    async def _lock_room_txn(self, conn: Connection, room_id: str) -> None:
        await conn.fetch(q.LOCK_ROOM.format(conn.dialect.row_lock), room_id)

    async def _blocked_with(self, user_id: int, others: list[int], conn: Connection) -> bool:
        if not others:
            return False
        sql, params = bind(q.BLOCK_WITH, user_id, conn.dialect.in_list("blocked_id", others, "bigint"),
                           user_id, conn.dialect.in_list("blocker_id", others, "bigint"))
        return bool(await conn.fetch(sql, *params))

    async def added_by(self, room_id: str, user_id: int) -> int | None:
        state = await self._db.fetch(q.MEMBER_STATE, room_id, user_id)
        return state[0][2] if state and state[0][0] else None

    async def threads_in_room(self, room_id: str) -> list[str]:
        return [row[0] for row in await self._db.fetch(q.THREADS_IN_ROOM, room_id)]

    async def remove_member(self, room_id: str, user_id: int, now_ms: int, *, for_good: bool = False) -> None:
        async with self._db.transaction() as conn:
            await self._lock_room_txn(conn, room_id)
            members = [row[0] for row in await conn.fetch(q.CURRENT_MEMBER_IDS, room_id)]
            if user_id not in members:
                return
            await conn.execute(q.REMOVE_MEMBER, now_ms, for_good, room_id, user_id)
            # Left by their own hand, the room stays "the conversation of these people":
            # opening it again finds it, and brings back only the one who opens it.
            if for_good:
                await conn.execute(q.MARK_LEFT, _member_key(members), room_id, room_id, user_id)
            else:
                await conn.execute(q.FORGET_MEMBER_KEY, room_id)

    # -- blocks ----------------------------------------------------------------------------

    async def block_user(self, blocker_id: int, blocked_id: int, now_ms: int) -> None:
        await self._db.execute(q.BLOCK, blocker_id, blocked_id, now_ms)

    async def unblock_user(self, blocker_id: int, blocked_id: int) -> None:
        await self._db.execute(q.UNBLOCK, blocker_id, blocked_id)

    async def blocked_users(self, blocker_id: int) -> list[tuple[int, str]]:
        return [(row[0], row[1]) for row in await self._db.fetch(q.BLOCKED_USERS, blocker_id)]

    async def any_block_among(self, user_ids: list[int]) -> bool:
        unique = sorted(set(user_ids))
        if len(unique) < 2:
            return False
        sql, params = bind(q.BLOCK_AMONG, self._db.dialect.in_list("blocker_id", unique, "bigint"),
                           self._db.dialect.in_list("blocked_id", unique, "bigint"))
        return bool(await self._db.fetch(sql, *params))

    # -- topics and news -------------------------------------------------------------------

    async def create_topic(self, topic: Topic) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(q.INSERT_ROOM, topic.topic_id, topic.kind, topic.title, topic.title,
                                  topic.author_id, topic.created_at_ms, None, None)
            await conn.execute(
                q.INSERT_TOPIC, topic.topic_id, topic.kind, topic.title, topic.summary, topic.body,
                topic.body_html, topic.origin_room_id, topic.origin_message_id, topic.author_id,
                topic.created_at_ms, topic.last_activity_ms, json.dumps(list(topic.attachments)))
            for room_id in topic.room_ids:
                await conn.execute(q.INSERT_TOPIC_ROOM, topic.topic_id, room_id)
            # Found by its readers from the moment it exists (topics are neither edited nor
            # deleted: resolving and pinning change nothing the index holds).
            await self._index_txn(conn, [topic_entry(topic)])

    async def get_topic(self, topic_id: str) -> Topic | None:
        topics = await self._with_rooms(await self._db.fetch(q.TOPIC_BY_ID, topic_id))
        return topics[0] if topics else None

    async def topics_in_room(self, room_id: str, kind: str, limit: int) -> list[Topic]:
        return await self._with_rooms(await self._db.fetch(q.TOPICS_IN_ROOM, room_id, kind, limit))

    async def news_feed(self, before_ms: int, limit: int) -> list[Topic]:
        return await self._with_rooms(await self._db.fetch(q.NEWS_FEED, before_ms, limit))

    async def update_topic(self, topic_id: str, *, resolved: bool | None, pinned: bool | None) -> None:
        # The column names come from this fixed list, never from input.
        for column, value in (("resolved", resolved), ("pinned", pinned)):
            if value is not None:
                await self._db.execute(f"UPDATE topics SET {column} = ? WHERE topic_id = ?", value, topic_id)

    async def _with_rooms(self, rows: list[Row]) -> list[Topic]:
        if not rows:
            return []
        ids = [row[0] for row in rows]
        listed: dict[str, list[str]] = {topic_id: [] for topic_id in ids}
        sql, params = bind(q.TOPIC_ROOMS, self._db.dialect.in_list("topic_id", ids, "text"))
        for topic_id, room_id in await self._db.fetch(sql, *params):
            listed[topic_id].append(room_id)
        return [q.topic_from_row(row, tuple(listed[row[0]])) for row in rows]
