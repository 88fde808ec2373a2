"""PostgresStore: profiles, the member directory, roles."""

from __future__ import annotations

import asyncpg

from chat.errors import Conflict
from chat.models import MemberPage, MemberQuery, Profile, ProfileChanges, Role
from chat.store.postgres.base import PostgresBase, _unavailable_on_disconnect
from chat.store.profile_sql import (
    MISSING_KEYS_SQL,
    changed_columns,
    changed_tags,
    directory_sql,
    profile_columns,
    profile_from_row,
)

PROFILE_COLUMNS = profile_columns("string_agg")
# lower() folds by the database's LC_CTYPE, which must be a UTF-8 locale (docker-compose.yml
# and docs/operations.md create it with C.UTF-8); COLLATE "C" orders by code point, as SQLite
# does, whatever the database's collation.
FOLD = "lower"
CODE_POINT_ORDER = ' COLLATE "C"'


class ProfilesMixin(PostgresBase):
    # -- profiles and the member directory -------------------------------------------------

    async def get_profile(self, user_id: int) -> Profile | None:
        with _unavailable_on_disconnect():
            async with self._pool.acquire() as conn:
                return await self._profile(conn, user_id)

    async def update_profile(self, user_id: int, changes: ProfileChanges) -> Profile | None:
        with _unavailable_on_disconnect():
            async with self._pool.acquire() as conn, conn.transaction():
                # The row lock serialises concurrent updates of one member, so two tag
                # replacements cannot interleave their DELETE and INSERT.
                if await conn.fetchval(
                    "SELECT 1 FROM users WHERE user_id = $1 FOR UPDATE", user_id
                ) is None:
                    return None
                columns = changed_columns(changes)
                if columns:
                    sets = ", ".join(f"{name} = ${i}" for i, (name, _) in enumerate(columns, 2))
                    await conn.execute(f"UPDATE users SET {sets} WHERE user_id = $1",
                                       user_id, *(value for _, value in columns))
                for tag, values in changed_tags(changes):
                    await conn.execute(
                        "DELETE FROM user_tags WHERE user_id = $1 AND tag = $2", user_id, tag)
                    await conn.execute(
                        "INSERT INTO user_tags (user_id, tag, value)"
                        " SELECT $1, $2, v FROM unnest($3::text[]) AS v",
                        user_id, tag, list(values),
                    )
                return await self._profile(conn, user_id)

    async def list_members(self, query: MemberQuery) -> MemberPage:
        args: list[object] = []

        def param(value: object) -> str:
            args.append(value)
            return f"${len(args)}::{'bigint' if isinstance(value, int) else 'text'}"

        sql = directory_sql(query, param, join_strings="string_agg", fold=FOLD,
                            collate=CODE_POINT_ORDER)
        with _unavailable_on_disconnect():
            rows = await self._pool.fetch(sql, *args)
        page = rows[:query.limit]
        more = len(rows) > query.limit
        return MemberPage([profile_from_row(row) for row in page],
                          (page[-1][-1], page[-1][0]) if more else None)

    async def change_role(self, user_id: int, role: Role) -> Profile | None:
        with _unavailable_on_disconnect():
            async with self._pool.acquire() as conn, conn.transaction():
                if role != "admin":
                    # Lock every admin row: of two admins demoting each other at once, the
                    # second waits, then (READ COMMITTED re-checks the WHERE on rows it had to
                    # wait for) sees it would be the last.
                    admins = await conn.fetch(
                        "SELECT user_id FROM users WHERE role = 'admin' ORDER BY user_id FOR UPDATE")
                    if [row[0] for row in admins] == [user_id]:
                        raise Conflict("the last admin cannot be demoted; make another member admin first")
                status = await conn.execute(
                    "UPDATE users SET role = $2 WHERE user_id = $1", user_id, role)
                if status == "UPDATE 0":
                    return None
                return await self._profile(conn, user_id)

    async def members_without_search_key(self, limit: int) -> list[tuple[int, str, str]]:
        with _unavailable_on_disconnect():
            rows = await self._pool.fetch(MISSING_KEYS_SQL.format(limit=int(limit)))
        return [(row[0], row[1], row[2]) for row in rows]

    async def _profile(self, conn: asyncpg.Connection, user_id: int) -> Profile | None:
        row = await conn.fetchrow(f"SELECT {PROFILE_COLUMNS} FROM users u WHERE u.user_id = $1", user_id)
        return profile_from_row(row) if row else None
