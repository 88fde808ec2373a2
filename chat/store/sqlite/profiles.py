"""SqliteStore: profiles, the member directory, roles."""

from __future__ import annotations

import aiosqlite

from chat.errors import Conflict
from chat.models import MemberPage, MemberQuery, Profile, ProfileChanges, Role
from chat.store.profile_sql import (
    MISSING_KEYS_SQL,
    changed_columns,
    changed_tags,
    directory_sql,
    profile_columns,
    profile_from_row,
)
from chat.store.sqlite.base import SqliteBase, _unavailable_on_error

PROFILE_COLUMNS = profile_columns("group_concat")
# SQLite's own lower() folds ASCII letters only (https://www.sqlite.org/lang_corefunc.html#lower),
# so "MÜLLER" would not find "Müller"; this Python function folds like PostgreSQL's lower()
# under a UTF-8 LC_CTYPE. Text compares by code point (BINARY collation), as COLLATE "C" does.
FOLD = "ecolink_lower"


def _fold(text: str | None) -> str | None:
    return None if text is None else text.lower()


class ProfilesMixin(SqliteBase):
    # -- profiles and the member directory -------------------------------------------------

    async def get_profile(self, user_id: int) -> Profile | None:
        with _unavailable_on_error():
            return await self._profile(self._reader, user_id)

    async def update_profile(self, user_id: int, changes: ProfileChanges) -> Profile | None:
        async with self._transaction() as conn:
            rows = await conn.execute_fetchall("SELECT 1 FROM users WHERE user_id = ?", (user_id,))
            if not rows:
                return None
            columns = changed_columns(changes)
            if columns:
                sets = ", ".join(f"{name} = ?" for name, _ in columns)
                await conn.execute(f"UPDATE users SET {sets} WHERE user_id = ?",
                                   (*(value for _, value in columns), user_id))
            for tag, values in changed_tags(changes):
                await conn.execute("DELETE FROM user_tags WHERE user_id = ? AND tag = ?", (user_id, tag))
                await conn.executemany(
                    "INSERT INTO user_tags (user_id, tag, value) VALUES (?, ?, ?)",
                    [(user_id, tag, value) for value in values],
                )
            return await self._profile(conn, user_id)

    async def list_members(self, query: MemberQuery) -> MemberPage:
        args: list[object] = []

        def param(value: object) -> str:
            args.append(value)
            return "?"

        sql = directory_sql(query, param, join_strings="group_concat", fold=FOLD, collate="")
        with _unavailable_on_error():
            await self._register_fold()
            rows = await self._reader.execute_fetchall(sql, args)
        page = list(rows)[:query.limit]
        more = len(rows) > query.limit
        return MemberPage([profile_from_row(row) for row in page],
                          (page[-1][-1], page[-1][0]) if more else None)

    async def change_role(self, user_id: int, role: Role) -> Profile | None:
        # BEGIN IMMEDIATE makes this the only writer, so the admin count cannot change under it.
        async with self._transaction() as conn:
            if role != "admin":
                admins = await conn.execute_fetchall("SELECT user_id FROM users WHERE role = 'admin'")
                if [row[0] for row in admins] == [user_id]:
                    raise Conflict("the last admin cannot be demoted; make another member admin first")
            cursor = await conn.execute("UPDATE users SET role = ? WHERE user_id = ?", (role, user_id))
            if cursor.rowcount == 0:
                return None
            return await self._profile(conn, user_id)

    async def members_without_search_key(self, limit: int) -> list[tuple[int, str, str]]:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(MISSING_KEYS_SQL.format(limit=int(limit)))
        return [(row[0], row[1], row[2]) for row in rows]

    async def _profile(self, conn: aiosqlite.Connection, user_id: int) -> Profile | None:
        rows = await conn.execute_fetchall(
            f"SELECT {PROFILE_COLUMNS} FROM users u WHERE u.user_id = ?", (user_id,))
        return profile_from_row(rows[0]) if rows else None

    async def _register_fold(self) -> None:
        """Register FOLD on the reader once (the directory reads only there)."""
        if not getattr(self, "_fold_registered", False):
            await self._reader.create_function(FOLD, 1, _fold, deterministic=True)
            self._fold_registered = True
