"""Server frames for presence and typing (docs/protocol.md). Neither is in a room's sequence or
stored: they describe the moment, and a client that reconnects gets a fresh `presence` snapshot."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def presence_frame(
    room_id: str, online: Mapping[int, str], offline: Iterable[int] = (), *, full: bool
) -> dict[str, Any]:
    """`full`: `online` is everyone online (replace what you had); else a change: `online` came
    (or changed name), `offline` went. Users are listed by id, ascending."""
    return {
        "type": "presence",
        "room": room_id,
        "full": full,
        "online": [{"id": user_id, "name": online[user_id]} for user_id in sorted(online)],
        "offline": sorted(offline),
    }


def typing_frame(room_id: str, users: Mapping[int, str]) -> dict[str, Any]:
    """Who started (or went on) typing in the room since its last typing frame, by id."""
    return {"type": "typing", "room": room_id,
            "users": [{"id": user_id, "name": users[user_id]} for user_id in sorted(users)]}
