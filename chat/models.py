"""Plain dataclasses the services and ports speak. No driver or framework types here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

RoomKind = Literal["sector", "city", "direct", "topic", "news", "webinar"]
PUBLIC_KINDS: tuple[RoomKind, ...] = ("sector", "city")
ThreadKind = Literal["topic", "news"]
THREAD_KINDS: tuple[ThreadKind, ...] = ("topic", "news")
CONSULTATION_STATUSES = ("open", "answered", "closed")
Role = Literal["admin", "moderator", "member"]
ROLES: tuple[Role, ...] = ("admin", "moderator", "member")
STAFF_ROLES: tuple[Role, ...] = ("admin", "moderator")  # may take staff names; clients badge them


def is_role(value: object) -> TypeGuard[Role]:
    return value in ROLES


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    email: str
    display_name: str
    role: Role
    created_at_ms: int


@dataclass(frozen=True, slots=True)
class Room:
    room_id: str
    kind: RoomKind
    title_en: str
    title_zh: str
    head_seq: int = 0
    status: str | None = None  # direct rooms: the consultation status
    # Sector and city rooms: what the room is for, a sentence or two (chat/store/catalog.py).
    description_en: str = ""
    description_zh: str = ""


EventKind = Literal["message", "edit", "delete", "reaction", "topic", "status", "membership"]
EVENT_KINDS: tuple[EventKind, ...] = ("message", "edit", "delete", "reaction", "topic", "status", "membership")


@dataclass(frozen=True, slots=True)
class Message:
    """An entry of a room's log: `seq` is its gapless position in the room.

    kind "message" is a message (its body/html are current: edits and deletes change them in
    place, and `edited_at_ms`/`deleted` say so); the other kinds are events about the message
    `target_id` (an edit with the new body, a delete, a reaction with data["emoji"] and
    data["added"]), or events about the room itself (a "topic" listed in it, with
    data["topic"]; a consultation "status" change, with data["status"]), which resuming
    readers replay like messages.
    """

    room_id: str
    seq: int
    message_id: str
    author_id: int
    author_name: str
    cid: str
    body: str
    sent_at_ms: int
    kind: EventKind = "message"
    target_id: str | None = None
    html: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    edited_at_ms: int | None = None
    deleted: bool = False
    # The author's role, for the badge clients show beside staff names: as the store holds it
    # now when read back, as it was when sent in a live frame.
    author_role: Role = "member"


@dataclass(frozen=True, slots=True)
class SendRequest:
    """One log entry waiting for group commit. (room_id, author_id, cid) is its idempotency
    key. `author_role` decides whether an edit/delete of someone else's message is allowed."""

    room_id: str
    author_id: int
    author_name: str
    cid: str
    body: str
    kind: EventKind = "message"
    target_id: str | None = None
    html: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    author_role: Role = "member"
    mentions: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """What the store did with one SendRequest.

    `message` is the stored row (new, or the original one for a repeated cid); `created` is
    False for a repeat. When nothing was stored, `message` is None and `error` says why
    (`not_found` for an unknown room or target, `forbidden`, `invalid`).
    """

    message: Message | None
    created: bool
    error: tuple[str, str] | None = None  # (code, message)


@dataclass(frozen=True, slots=True)
class TargetState:
    """What an event needs to know about the message it is about (loaded under the lock)."""

    message_id: str
    author_id: int
    kind: EventKind
    deleted: bool
    body: str
    versions: int


# -- profiles and the member directory (chat/accounts/profiles.py validates them) ---------

Affiliation = Literal["expert", "city", "government", "academic", "company", "ngo", "other"]
AFFILIATIONS: tuple[Affiliation, ...] = (
    "expert", "city", "government", "academic", "company", "ngo", "other")


@dataclass(frozen=True, slots=True)
class Profile:
    """A member as others see them: everything but the email. Tags are sorted."""

    user_id: int
    display_name: str
    role: Role
    affiliation: Affiliation
    organisation: str
    country: str  # ISO 3166-1 alpha-2, or "" when not given
    city: str
    sectors: tuple[str, ...]  # sector room ids
    languages: tuple[str, ...]  # language tags (en, zh-Hant …)
    time_zone: str | None  # an IANA zone name, None when nobody set one
    bio: str
    created_at_ms: int
    alt_name: str = ""  # the name in the other script (李华 / Li Hua), or ""


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """A validated partial update: None leaves a field as it is; a tuple of sectors or
    languages replaces the whole list."""

    display_name: str | None = None
    affiliation: Affiliation | None = None
    organisation: str | None = None
    country: str | None = None
    city: str | None = None
    sectors: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None
    time_zone: str | None = None  # "" clears it (the member's local time is then unknown)
    bio: str | None = None
    alt_name: str | None = None
    # Derived by the service (chat/accounts/search_keys.py) whenever a name changes, never
    # given by a client.
    search_key: str | None = None


@dataclass(frozen=True, slots=True)
class MemberQuery:
    """A page of the member directory: filters combine with AND (None matches anyone).

    `language` matches the tag and its subtags ("zh" finds "zh" and "zh-Hant"); `city` is a
    case-insensitive equality; `text` a case-insensitive substring of the display name, the
    organisation or the search key (the alt name, pinyin of Han names). `after` is the (sort key, user_id) of the previous page's last member.
    """

    sector: str | None = None
    language: str | None = None
    affiliation: Affiliation | None = None
    city: str | None = None
    text: str | None = None
    after: tuple[str, int] | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class MemberPage:
    members: list[Profile]
    next_after: tuple[str, int] | None  # None on the last page


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic or news post: a thread that is a room of its own (`topic_id` is its room id),
    listed in one or more parent rooms that share its one reply thread."""

    topic_id: str
    kind: ThreadKind
    title: str
    summary: str
    body: str
    body_html: str
    author_id: int
    author_name: str
    created_at_ms: int
    last_activity_ms: int
    reply_count: int
    resolved: bool
    pinned: bool
    room_ids: tuple[str, ...]
    origin_room_id: str | None = None
    origin_message_id: str | None = None
    author_role: Role = "member"  # for the staff badge, like Message.author_role


# -- notifications (chat/rooms/notifications.py) -------------------------------------------

NotificationKind = Literal["mention", "reply", "direct"]


@dataclass(frozen=True, slots=True)
class Notification:
    """Something in a room the member should look at: a message mentioning them, a reply in a
    topic or news thread they started, a message in one of their direct conversations.
    `excerpt` is the start of the message's current body ("" once it is deleted)."""

    notification_id: int
    user_id: int
    kind: NotificationKind
    room_id: str
    seq: int
    message_id: str
    actor_id: int
    actor_name: str
    excerpt: str
    created_at_ms: int
    read_at_ms: int | None = None
