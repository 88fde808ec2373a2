"""Server frames for presence and typing (docs/protocol.md). Neither is in a room's sequence or
stored: they describe the moment, and a client that reconnects gets a fresh `presence` snapshot."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chat.models import User

# A webinar guest's presence entry carries their name behind this mark (docs/protocol.md,
# "Guests (webinars)"): a character no display name holds (names are printable), so the entries keep one
# string per user in every backend (Redis, memory) and every node still tells guests apart.
GUEST_MARK = "\x1f"


def presence_label(user: User) -> str:
    """What a presence entry holds for the user: the display name, marked for a guest."""
    return GUEST_MARK + user.display_name if user.guest_of is not None else user.display_name


def person(user_id: int, label: str) -> dict[str, Any]:
    """A presence or typing entry as frames show it: {id, name}, plus `guest: true`."""
    if label.startswith(GUEST_MARK):
        return {"id": user_id, "name": label[len(GUEST_MARK):], "guest": True}
    return {"id": user_id, "name": label}


def presence_frame(
    room_id: str, online: Mapping[int, str], offline: Iterable[int] = (), *, full: bool
) -> dict[str, Any]:
    """`full`: `online` is everyone online (replace what you had); else a change: `online` came
    (or changed name), `offline` went. Users are listed by id, ascending."""
    return {
        "type": "presence",
        "room": room_id,
        "full": full,
        "online": [person(user_id, online[user_id]) for user_id in sorted(online)],
        "offline": sorted(offline),
    }


def typing_frame(room_id: str, users: Mapping[int, str]) -> dict[str, Any]:
    """Who started (or went on) typing in the room since its last typing frame, by id."""
    return {"type": "typing", "room": room_id,
            "users": [person(user_id, users[user_id]) for user_id in sorted(users)]}
