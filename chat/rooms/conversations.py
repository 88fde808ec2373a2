"""Direct dialogue and forum threads: open a direct conversation (or find the existing one),
manage its members and consultation status; start topics, post news, list both.

A topic or news post is a room of its own (kind "topic"/"news") holding its reply thread,
listed in one or more parent rooms; a "topic" entry in each parent room's log tells live and
resuming readers about it. Visibility follows RoomService.visible_room everywhere.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from chat.clock import Clock, iso_ms
from chat.errors import Forbidden, InvalidInput, NotAddable, NotFound
from chat.hub.hub import Hub
from chat.hub.personal import personal_channel
from chat.models import (
    CONSULTATION_STATUSES, PUBLIC_KINDS, EventKind, Message, Room, SendRequest, ThreadKind, Topic, User,
)
from chat.protocol.frames import staff_marked
from chat.rooms.post_checks import Post, committed
from chat.rooms.attachments import room_scope
from chat.rooms.committer import GroupCommitter
from chat.rooms.rendering import Renderer
from chat.rooms.service import CATALOG_ORDER, RoomService
from chat.store.port import Store

MAX_DIRECT_MEMBERS = 20
MAX_TITLE_CHARS = 200
MAX_SUMMARY_CHARS = 1000
MAX_TOPIC_BODY_CHARS = 50_000
MAX_LISTED_ROOMS = 5
MODERATORS = ("moderator", "admin")


def membership_data(change: str, user_id: int, name: str, by: User) -> dict[str, Any]:
    """Who joined or left a direct conversation, and who did it."""
    return {"change": change, "user": {"id": user_id, "name": name},
            "by": {"id": by.user_id, "name": by.display_name}}


def membership_frame(room_id: str, change: str, user_id: int, name: str, by: User) -> dict[str, Any]:
    """The change for someone who has not joined the room yet (outside its log)."""
    return {"type": "membership", "room": room_id, **membership_data(change, user_id, name, by)}


def new_room_id(prefix: str) -> str:
    """A generated room id: a slug like the platform's rooms ([a-z0-9-])."""
    return f"{prefix}-{secrets.token_hex(8)}"


def server_cid() -> str:
    """The cid of an entry the server writes for an HTTP action (unique; '~' marks it)."""
    return "~" + secrets.token_urlsafe(12)


def topic_json(topic: Topic) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "id": topic.topic_id,
        "kind": topic.kind,
        "title": topic.title,
        "summary": topic.summary,
        "body": topic.body,
        "html": topic.body_html,
        "author": staff_marked({"id": topic.author_id, "name": topic.author_name}, topic.author_role),
        "created_at": iso_ms(topic.created_at_ms),
        "last_activity": iso_ms(topic.last_activity_ms),
        "replies": topic.reply_count,
        "resolved": topic.resolved,
        "pinned": topic.pinned,
        "rooms": list(topic.room_ids),
    }
    if topic.attachments:
        wire["attachments"] = list(topic.attachments)
    if topic.origin_message_id:
        wire["origin"] = {"room": topic.origin_room_id, "message": topic.origin_message_id}
    return wire


def _text(value: str, field: str, max_chars: int, *, required: bool = True) -> str:
    value = value.strip()
    if (required and not value) or len(value) > max_chars:
        raise InvalidInput("some fields are not valid",
                           details={field: f"must be {'1' if required else '0'}-{max_chars} characters"})
    return value


class ConversationService:
    def __init__(self, store: Store, hub: Hub, rooms: RoomService, committer: GroupCommitter,
                 clock: Clock, renderer: Renderer) -> None:
        self._store = store
        self._renderer = renderer
        self._hub = hub
        self._rooms = rooms
        self._committer = committer
        self._clock = clock

    # -- direct conversations --------------------------------------------------------------

    async def open_direct(self, user: User, member_ids: list[int], title: str) -> tuple[Room, bool]:
        """The direct conversation of the user and these members: the existing one for
        exactly these people, else a new one (status "open"). Unknown members: NotFound.
        Opening brings nobody back who left it by their own hand, except the user who opens
        it: into the same room while nobody wrote there since they left, else into a new one.
        NotAddable when a new conversation would put together two people one of whom blocked
        the other, or someone other than the user who left a conversation of the same people
        for good, or the user's return one of the current members and them — the same answer
        as for an add."""
        await self._rooms.checks.run(Post(user, None))
        others = sorted(set(member_ids) - {user.user_id})
        if not others or len(others) + 1 > MAX_DIRECT_MEMBERS:
            raise InvalidInput("some fields are not valid", details={
                "members": f"name 1-{MAX_DIRECT_MEMBERS - 1} other members"})
        found = await self._store.users_by_id(others)
        if len(found) != len(others):
            raise NotFound("no such member")
        title = _text(title, "title", MAX_TITLE_CHARS, required=False)
        everyone = [user.user_id, *others]
        room = await self._store.find_direct(everyone)
        if room is None:
            room, created = await self._start(user, everyone, title)
            if created:
                self._tell_the_others(user, room.room_id, found)
                return room, True
        # Theirs already: answering it tells them nothing new. Else they left it, and come
        # back — unless someone wrote there since: then they start afresh (docs/decisions.md).
        if (await self._store.room_access(room.room_id, user.user_id))[1]:
            return room, False
        if await self._rejoin(user, room.room_id):
            return room, False
        room, created = await self._start(user, everyone, title, replacing=room.room_id)
        if created:
            self._tell_the_others(user, room.room_id, found)
        return room, created

    def _tell_the_others(self, user: User, room_id: str, others: dict[int, str]) -> None:
        """A new conversation, told to every connection of the others as their `added` (as
        for an add): their clients list it and join it, so each side's presence shows the
        other online from the start, not once the first message arrives."""
        for user_id, name in others.items():
            self._hub.broadcast(personal_channel(user_id), membership_frame(room_id, "added", user_id, name, user))

    async def _start(self, user: User, everyone: list[int], title: str,
                     replacing: str | None = None) -> tuple[Room, bool]:
        """A new conversation of these people (or the one someone else just started). Never
        puts back anyone but the user into a conversation of the same people that they left
        for good: NotAddable, as for an add."""
        if await self._store.any_block_among(everyone):
            raise NotAddable()
        abuse = self._rooms.abuse
        counted = await abuse.count_direct(user) if abuse is not None else None
        room, created = await self._store.open_direct(new_room_id("d"), everyone, user.user_id,
                                                      title, self._clock.now_ms(), replacing=replacing)
        if abuse is not None and (room is None or not created):
            await abuse.forgive_direct(counted)
        if room is None:
            raise NotAddable()
        return room, created

    async def _rejoin(self, user: User, room_id: str) -> bool:
        """Back into the room they left for good (True), or False when others wrote there
        since: what was said after they left is not theirs to read."""
        outcome = await self._store.rejoin_direct(room_id, user.user_id, self._clock.now_ms(),
                                                  MAX_DIRECT_MEMBERS)
        if outcome == "moved_on":
            return False
        if outcome == "full":
            raise InvalidInput(f"a direct conversation has at most {MAX_DIRECT_MEMBERS} members")
        if outcome == "not_addable":
            raise NotAddable()
        if outcome == "rejoined":  # like an add: the members (its log), and all their own connections
            await self._append(user, room_id, "membership",
                               membership_data("rejoined", user.user_id, user.display_name, user), None)
            frame = membership_frame(room_id, "rejoined", user.user_id, user.display_name, user)
            self._hub.broadcast(personal_channel(user.user_id), frame)
        return True

    async def members(self, user: User, room_id: str) -> list[tuple[int, str, str | None]]:
        room = await self._rooms.visible_room(user, room_id)
        if room.kind != "direct":
            raise InvalidInput("only direct conversations have a member list")
        return (await self._store.room_members([room_id]))[room_id]

    async def added_by(self, user: User, room_id: str) -> tuple[int, str] | None:
        """(user_id, display_name) of who brought the user into this conversation, when it
        was someone else (they may have left it since)."""
        await self.members(user, room_id)
        by_id = await self._store.added_by(room_id, user.user_id)
        if by_id is None or by_id == user.user_id:
            return None
        name = (await self._store.users_by_id([by_id])).get(by_id)
        return None if name is None else (by_id, name)

    async def add_member(self, user: User, room_id: str, user_id: int) -> None:
        """Any member may bring someone into a direct conversation, but never back one who
        left it by their own hand, nor someone a block stands between with a current member
        (NotAddable, the same for every reason: it does not say which).
        The members who have it joined, and every connection of the one added, get a
        `membership` frame."""
        await self.members(user, room_id)
        names = await self._store.users_by_id([user_id])
        if not names:
            raise NotFound("no such member")
        outcome = await self._store.add_member(room_id, user_id, self._clock.now_ms(),
                                               MAX_DIRECT_MEMBERS, by_id=user.user_id)
        if outcome == "not_addable":
            raise NotAddable()
        if outcome == "not_found":  # they left (or were removed) while adding
            raise NotFound("no such room")
        if outcome == "full":
            raise InvalidInput(f"a direct conversation has at most {MAX_DIRECT_MEMBERS} members")
        if outcome == "member":
            return  # a member already: nothing changed
        await self._append(user, room_id, "membership", membership_data("added", user_id, names[user_id], user), None)
        self._hub.broadcast(personal_channel(user_id), membership_frame(room_id, "added", user_id, names[user_id], user))

    async def remove_member(self, user: User, room_id: str, user_id: int) -> None:
        """A member leaves (removes themself: for good, nobody may add them back), or an admin
        removes anyone (who may be added again). The removed user's live connections leave the
        room on every node, and from then on every route answers them "not found" for it."""
        members = await self.members(user, room_id)
        if user_id != user.user_id and user.role != "admin":
            raise Forbidden("only an admin may remove someone else")
        if user_id not in {member[0] for member in members}:
            raise NotFound("no such member")
        name = next(member[1] for member in members if member[0] == user_id)
        await self._remove(user, room_id, user_id, name, "left" if user_id == user.user_id else "removed")

    async def decline(self, user: User, room_id: str, block: bool) -> tuple[int, str] | None:
        """The user declines a conversation someone else brought them into: they leave it for
        good (a `membership` frame with change "declined"), and with `block` they also block
        whoever added them. Returns who that was (None: nobody else)."""
        by = await self.added_by(user, room_id)
        if block and by is not None:
            await self._store.block_user(user.user_id, by[0], self._clock.now_ms())
        await self._remove(user, room_id, user.user_id, user.display_name, "declined")
        return by

    async def _remove(self, user: User, room_id: str, user_id: int, name: str, change: str) -> None:
        await self._store.remove_member(room_id, user_id, self._clock.now_ms(),
                                        for_good=user_id == user.user_id)
        # Threads listed only here become invisible to them too: leave those streams as well.
        for thread_id in [room_id, *await self._store.threads_in_room(room_id)]:
            self._hub.evict(thread_id, user_id)
        # In the log once they are gone: the members who stay get the `membership` frame (and
        # read the member list without them). Not writing: it does not keep them from coming back.
        await self._append(user, room_id, "membership", membership_data(change, user_id, name, user), None)

    # -- blocks ----------------------------------------------------------------------------

    async def block(self, user: User, user_id: int, *, blocked: bool) -> None:
        """Block (or unblock) a member. Unknown ids and oneself: NotFound. The one blocked is
        never told: they only meet the refusals every not-addable member gives."""
        if user_id == user.user_id or not await self._store.users_by_id([user_id]):
            raise NotFound("no such member")
        if blocked:
            await self._store.block_user(user.user_id, user_id, self._clock.now_ms())
        else:
            await self._store.unblock_user(user.user_id, user_id)

    async def blocked_users(self, user: User) -> list[tuple[int, str]]:
        return await self._store.blocked_users(user.user_id)

    async def set_status(self, user: User, room_id: str, status: str, cid: str | None = None) -> Message:
        """Move a consultation to open/answered/closed: a "status" entry in the room's log."""
        room = await self._rooms.visible_room(user, room_id)
        if room.kind != "direct":
            raise InvalidInput("only direct conversations have a consultation status")
        if status not in CONSULTATION_STATUSES:
            raise InvalidInput("some fields are not valid", details={
                "status": f"must be one of {', '.join(CONSULTATION_STATUSES)}"})
        return await self._append(user, room_id, "status", {"status": status}, cid)

    # -- topics and news -------------------------------------------------------------------

    async def create_topic(self, user: User, room_id: str, title: str, body: str,
                           also_in: list[str], message_id: str | None,
                           attachments: tuple[str, ...] = ()) -> Topic:
        """Start a titled thread in a room (and listed in `also_in` rooms), optionally from a
        message of that room, its body holding the user's uploaded `attachments`."""
        room_ids = await self._listable_rooms(user, [room_id, *also_in])
        if message_id is not None and await self._store.message_versions(room_id, message_id) is None:
            raise NotFound("no such message")
        return await self._create(user, "topic", room_ids, title, "", body, room_id, message_id,
                                  attachments)

    async def post_news(self, user: User, title: str, summary: str, body: str,
                        room_ids: list[str], attachments: tuple[str, ...] = ()) -> Topic:
        """A news post (moderators and admins), listed in the given rooms and the news feed."""
        if user.role not in MODERATORS:
            raise Forbidden("only moderators and admins post news")
        await self._rooms.staff.check(user)
        if not room_ids:
            raise InvalidInput("some fields are not valid", details={"rooms": "name 1 or more rooms"})
        listed = await self._listable_rooms(user, room_ids)
        if any(not room_id_is_public(room_id) for room_id in listed):
            raise InvalidInput("news is posted in sector and city rooms only")
        summary = _text(summary, "summary", MAX_SUMMARY_CHARS, required=False)
        return await self._create(user, "news", listed, title, summary, body, None, None, attachments)

    async def get_topic(self, user: User, topic_id: str) -> Topic:
        room = await self._rooms.visible_room(user, topic_id)
        topic = await self._store.get_topic(room.room_id)
        if topic is None:
            raise NotFound("no such topic")
        return topic

    async def list_topics(self, user: User, room_id: str, kind: str, limit: int) -> list[Topic]:
        await self._rooms.visible_room(user, room_id)
        return await self._store.topics_in_room(room_id, kind, limit)

    async def news_feed(self, user: User, before_ms: int | None, limit: int) -> list[Topic]:
        return await self._store.news_feed(before_ms if before_ms is not None else 2**62, limit)

    async def update_topic(self, user: User, topic_id: str, *, resolved: bool | None,
                           pinned: bool | None) -> Topic:
        """Resolve (its author or a moderator) or pin (a moderator) a topic; each parent room
        gets a "topic" entry with the new state."""
        topic = await self.get_topic(user, topic_id)
        if pinned is not None and user.role not in MODERATORS:
            raise Forbidden("only moderators pin topics")
        if resolved is not None and user.role not in MODERATORS and user.user_id != topic.author_id:
            raise Forbidden("only the topic's author or a moderator resolves it")
        if pinned is not None or (resolved is not None and user.user_id != topic.author_id):
            await self._rooms.staff.check(user)
        await self._store.update_topic(topic_id, resolved=resolved, pinned=pinned)
        topic = await self.get_topic(user, topic_id)
        await self._announce(user, topic)
        return topic

    async def _create(self, user: User, kind: ThreadKind, room_ids: list[str], title: str, summary: str,
                      body: str, origin_room: str | None, origin_message: str | None,
                      attachments: tuple[str, ...] = ()) -> Topic:
        title = _text(title, "title", MAX_TITLE_CHARS)
        body = _text(body, "body", MAX_TOPIC_BODY_CHARS, required=kind == "news" and not attachments)
        # A topic's checks in its room (a mute there, the spam check); news is in no one room.
        after = await self._rooms.checks.run(Post(user, origin_room if kind == "topic" else None,
                                                  (title, summary, body)))
        body_html = await self._renderer.render(body) if body else ""
        now_ms = self._clock.now_ms()
        topic_id = new_room_id("t" if kind == "topic" else "n")
        # The files are readable by whoever may read the thread (its own room).
        files = await self._rooms.files.attach(user, attachments, room_scope(topic_id)) if attachments else []
        topic = Topic(
            topic_id=topic_id, kind=kind, title=title,
            summary=summary, body=body, body_html=body_html,
            author_id=user.user_id, author_name=user.display_name, author_role=user.role,
            created_at_ms=now_ms,
            last_activity_ms=now_ms, reply_count=0, resolved=False, pinned=False,
            room_ids=tuple(room_ids), origin_room_id=origin_room if origin_message else None,
            origin_message_id=origin_message, attachments=tuple(files))
        await self._store.create_topic(topic)
        committed(after)
        if attachments:
            await self._rooms.files.bind_ref(attachments, f"topic:{topic_id}")
        await self._announce(user, topic)
        return topic

    async def _announce(self, user: User, topic: Topic) -> None:
        summary = {key: value for key, value in topic_json(topic).items()
                   if key not in ("body", "html", "attachments")}
        await asyncio.gather(*(self._append(user, room_id, "topic", {"topic": summary}, None)
                               for room_id in topic.room_ids))

    async def _listable_rooms(self, user: User, room_ids: list[str]) -> list[str]:
        unique = list(dict.fromkeys(room_ids))
        if len(unique) > MAX_LISTED_ROOMS:
            raise InvalidInput(f"a thread is listed in at most {MAX_LISTED_ROOMS} rooms")
        rooms = [await self._rooms.visible_room(user, room_id) for room_id in unique]
        if any(room.kind not in (*PUBLIC_KINDS, "direct") for room in rooms):
            raise InvalidInput("threads are listed in sector, city or direct rooms")
        if len(rooms) > 1 and any(room.kind == "direct" for room in rooms):
            raise InvalidInput("a thread in a direct conversation is listed there alone")
        return unique

    async def _append(self, user: User, room_id: str, kind: EventKind, data: dict[str, Any],
                      cid: str | None) -> Message:
        message, _ = await self._rooms.submit(SendRequest(
            room_id, user.user_id, user.display_name, cid or server_cid(), "", kind=kind,
            data=data, author_role=user.role))
        return message


def room_id_is_public(room_id: str) -> bool:
    return room_id in CATALOG_ORDER
