"""Room settings: each member's own choice of how much a room notifies them ("all",
"mentions" or "none", i.e. muted). One implementation for both stores over the database
handle (chat/store/database.py); the statements are the same on PostgreSQL and SQLite."""

from __future__ import annotations

from chat.store.database import Database, bind

SET_NOTIFY = (
    "INSERT INTO room_settings (user_id, room_id, notify) VALUES (?, ?, ?)"
    " ON CONFLICT (user_id, room_id) DO UPDATE SET notify = excluded.notify"
)
CLEAR = "DELETE FROM room_settings WHERE user_id = ? AND room_id = ?"
# One statement for every room of a listing. {}: room_id in the rooms.
NOTIFY_LEVELS = "SELECT room_id, notify FROM room_settings WHERE user_id = ? AND {}"


class RoomSettingsMixin:
    """Mixed into each store after its base (tests/contract/test_room_settings_store.py)."""

    _db: Database

    async def set_room_notify(self, user_id: int, room_id: str, notify: str | None) -> None:
        async with self._db.transaction() as conn:
            if notify is None:
                await conn.execute(CLEAR, user_id, room_id)
            else:
                await conn.execute(SET_NOTIFY, user_id, room_id, notify)

    async def room_notify_levels(self, user_id: int, room_ids: list[str]) -> dict[str, str]:
        if not room_ids:
            return {}
        sql, params = bind(NOTIFY_LEVELS, user_id, self._db.dialect.in_list("room_id", room_ids, "text"))
        return {row[0]: row[1] for row in await self._db.fetch(sql, *params)}
