"""Plain dataclasses the services and ports speak. No driver or framework types here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RoomKind = Literal["sector", "city", "direct", "webinar"]
Role = Literal["admin", "moderator", "member"]
ROLES: tuple[Role, ...] = ("admin", "moderator", "member")


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    email: str
    display_name: str
    role: Role
    created_at_ms: int

    def public(self) -> dict[str, object]:
        return {"id": self.user_id, "name": self.display_name, "role": self.role}

    def private(self) -> dict[str, object]:
        return {**self.public(), "email": self.email}


@dataclass(frozen=True, slots=True)
class Room:
    room_id: str
    kind: RoomKind
    title_en: str
    title_zh: str
    head_seq: int = 0

    def to_wire(self) -> dict[str, object]:
        return {
            "id": self.room_id,
            "kind": self.kind,
            "title": {"en": self.title_en, "zh": self.title_zh},
            "seq": self.head_seq,
        }


@dataclass(frozen=True, slots=True)
class Message:
    """A committed message: `seq` is its gapless position in the room."""

    room_id: str
    seq: int
    message_id: str
    author_id: int
    author_name: str
    cid: str
    body: str
    sent_at_ms: int


@dataclass(frozen=True, slots=True)
class SendRequest:
    """One send waiting for group commit. (room_id, author_id, cid) is its idempotency key."""

    room_id: str
    author_id: int
    author_name: str
    cid: str
    body: str


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """What the store did with one SendRequest.

    `message` is the stored row (new or the original one for a repeated cid);
    `created` is False for a repeat; `message` is None when the room does not exist.
    """

    message: Message | None
    created: bool
