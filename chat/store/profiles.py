"""Profiles, the member directory, roles: one implementation for both stores over the database
handle (chat/store/database.py) and the shared SQL of chat/store/profile_sql.py."""

from __future__ import annotations

from chat.errors import Conflict
from chat.models import MemberPage, MemberQuery, Profile, ProfileChanges, Role
from chat.store.database import Connection, Database
from chat.store.profile_sql import (
    MISSING_KEYS_SQL,
    changed_columns,
    changed_tags,
    directory_sql,
    profile_columns,
    profile_from_row,
)


class ProfilesMixin:
    """Mixed into each store, whose base supplies `_db` (tests/contract/test_profiles_store.py)."""

    _db: Database

    async def get_profile(self, user_id: int) -> Profile | None:
        return await self._profile(self._db, user_id)

    async def update_profile(self, user_id: int, changes: ProfileChanges) -> Profile | None:
        async with self._db.transaction() as conn:
            # The row lock serialises concurrent updates of one member, so two tag
            # replacements cannot interleave their DELETE and INSERT.
            if await conn.fetch_one(
                f"SELECT 1 FROM users WHERE user_id = ?{conn.dialect.row_lock}", user_id
            ) is None:
                return None
            columns = changed_columns(changes)
            if columns:
                # The column names come from a fixed list (profile_sql.USER_FIELDS).
                sets = ", ".join(f"{name} = ?" for name, _ in columns)
                await conn.execute(f"UPDATE users SET {sets} WHERE user_id = ?",
                                   *(value for _, value in columns), user_id)
            for tag, values in changed_tags(changes):
                await conn.execute("DELETE FROM user_tags WHERE user_id = ? AND tag = ?", user_id, tag)
                await conn.execute_many("INSERT INTO user_tags (user_id, tag, value) VALUES (?, ?, ?)",
                                        [(user_id, tag, value) for value in values])
            return await self._profile(conn, user_id)

    async def list_members(self, query: MemberQuery) -> MemberPage:
        sql, params = directory_sql(query, self._db.dialect)
        rows = await self._db.fetch(sql, *params)
        page = rows[:query.limit]
        more = len(rows) > query.limit
        return MemberPage([profile_from_row(row) for row in page],
                          (page[-1][-1], page[-1][0]) if more else None)

    async def members_without_search_key(self, limit: int) -> list[tuple[int, str, str]]:
        return [(row[0], row[1], row[2]) for row in await self._db.fetch(MISSING_KEYS_SQL, limit)]

    async def change_role(self, user_id: int, role: Role) -> Profile | None:
        async with self._db.transaction() as conn:
            if role != "admin":
                # Lock every admin row: of two admins demoting each other at once, the second
                # waits, then (PostgreSQL's READ COMMITTED re-checks the WHERE on rows it had to
                # wait for) sees it would be the last. SQLite: BEGIN IMMEDIATE makes this the
                # only writer, so the admin count cannot change under it.
                admins = await conn.fetch(
                    f"SELECT user_id FROM users WHERE role = 'admin' ORDER BY user_id{conn.dialect.row_lock}")
                if [row[0] for row in admins] == [user_id]:
                    raise Conflict("the last admin cannot be demoted; make another member admin first")
            if await conn.execute("UPDATE users SET role = ? WHERE user_id = ?", role, user_id) == 0:
                return None
            return await self._profile(conn, user_id)

    async def _profile(self, conn: Connection, user_id: int) -> Profile | None:
        row = await conn.fetch_one(
            f"SELECT {profile_columns(conn.dialect)} FROM users u WHERE u.user_id = ?", user_id)
        return profile_from_row(row) if row else None
