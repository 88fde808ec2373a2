"""RoomService: what members do with rooms — list, read history, join, send."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from collections.abc import Awaitable, Callable

import structlog

from chat.logs import failure
from chat.errors import ChatError, Forbidden, InvalidInput, NotFound
from chat.hub.hub import Hub
from chat.hub.subscriber import Subscriber
from chat.rooms.abuse import AbuseGuard
from chat.models import STAFF_ROLES, AuthorRole, Message, Room, SendRequest, User
from chat.rooms.attachments import FileBinder, NoFiles, message_ref, room_scope
from chat.rooms.committer import GroupCommitter
from chat.rooms.post_checks import Post, PostChecks, committed
from chat.rooms.turns import Turns
from chat.rooms.rendering import Renderer
from chat.rooms.staff import StaffGate
from chat.store.catalog import SEED_ROOMS
from chat.store.port import Store
from chat.store.rows import Reactions

PUBLIC_KINDS = ("sector", "city")
CATALOG_ORDER = {room.room_id: index for index, room in enumerate(SEED_ROOMS)}
MAX_PAGE = 200
# A rule of one kind of room for what members write there: (user, room id, action, cid), where
# action is "message", "edit", "delete" or "reaction"; raises the ChatError that refuses it.
PostGate = Callable[[User, str, str, str], Awaitable[None]]
# Told of each new message a member sent, once it is committed (the library's "where discussed").
SentListener = Callable[[Message], Awaitable[None]]
log = structlog.get_logger("chat.rooms")
MAX_EVENTS = 1000  # timeline events in one page of history (the nearest to its messages)
NO_BOUND = 2**62  # past any seq a room will reach
OUTCOME_ERRORS: dict[str, type[ChatError]] = {
    "not_found": NotFound, "forbidden": Forbidden, "invalid": InvalidInput,
}


class RoomService:
    def __init__(self, store: Store, hub: Hub, committer: GroupCommitter, renderer: Renderer) -> None:
        self._store = store
        self._hub = hub
        self._committer = committer
        self._renderer = renderer
        self._gates: dict[str, PostGate] = {}
        self._sent: list[SentListener] = []
        self.checks = PostChecks()
        self.turns = Turns()  # one member's sends to a room commit in the order they came
        self.files: FileBinder = NoFiles()
        self.abuse: AbuseGuard | None = None
        self.staff = StaffGate()

    def use_abuse(self, abuse: AbuseGuard) -> None:
        """The abuse limits (node.py): new accounts' sends and links, and the spam check, in
        the post checks; the cap on direct conversations (ConversationService)."""
        self.abuse = abuse
        abuse.install(self.checks)

    def use_files(self, files: FileBinder) -> None:
        """The file service (node.py): messages, topics and webinars attach files through it."""
        self.files = files

    def gate(self, kind: str, check: PostGate) -> None:
        """Check every send, edit, delete and reaction in rooms of this kind with `check` (the
        webinars' audience chat rules: chat/webinars/service.py)."""
        self._gates[kind] = check

    def on_sent(self, listener: SentListener) -> None:
        """Call `listener` with every new message `send` committed (not a repeated cid). A
        failing listener is logged; the send still succeeds."""
        self._sent.append(listener)

    async def _told(self, message: Message) -> None:
        for listener in self._sent:
            try:
                await listener(message)
            except Exception as exc:
                log.error("rooms.sent_listener_failed", **failure(exc))

    async def list_rooms(self, user: User) -> list[Room]:
        """The rooms the user can see: every sector and city room in the platform's order,
        then the user's direct conversations, newest first."""
        rooms = await self._store.list_rooms(PUBLIC_KINDS)
        rooms.sort(key=lambda room: CATALOG_ORDER.get(room.room_id, len(CATALOG_ORDER)))
        return rooms + await self._store.direct_rooms(user.user_id)

    async def visible_room(self, user: User, room_id: str) -> Room:
        """The room if the user may see it; NotFound otherwise — the same answer for a room
        that exists but is not theirs (a direct room they are not in, a thread listed only
        there), so ids do not leak. A webinar's guest sees their webinar's room and no other
        (docs/protocol.md, "Guests (webinars)"): joins, history, sends and reads all ask here."""
        if user.guest_of is not None and room_id != user.guest_of:
            raise NotFound("no such room")
        room, visible = await self._store.room_access(room_id, user.user_id)
        if room is None or not visible:
            raise NotFound("no such room")
        return room

    async def history(
        self, user: User, room_id: str, *, after: int | None, before: int | None, limit: int
    ) -> tuple[list[Message], Reactions, list[Message]]:
        """Messages (current state: edited bodies, tombstones) in seq order, with their
        reactions: after `after`, or the page just before `before`, or the latest page. Then
        the room's timeline events (status, membership and webinar entries) in the page's span, so
        consecutive pages hand out each event once: from `after` (or, when the page reaches
        back to the room's start, from its first seq; else from the first message's seq) up
        to `before` (or the head; or, for a full page read forwards, its last message's seq).
        """
        if after is not None and before is not None:
            raise InvalidInput("give either 'after' or 'before', not both")
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"'limit' must be between 1 and {MAX_PAGE}")
        await self.visible_room(user, room_id)
        messages, reactions = await self._store.message_page(room_id, after=after, before=before, limit=limit)
        full = len(messages) == limit
        if after is not None:
            above, below = after, messages[-1].seq if full else NO_BOUND
        else:
            above, below = messages[0].seq if full else 0, before if before is not None else NO_BOUND
        events = await self._store.timeline_events(
            room_id, above=above, below=below, limit=MAX_EVENTS, newest=after is None)
        return messages, reactions, events

    async def versions(self, user: User, room_id: str, message_id: str) -> list[tuple[int, str, int, int]]:
        """Earlier bodies of an edited message, oldest first: (version, body, edited_at_ms,
        editor_id). A deleted message has none."""
        await self.visible_room(user, room_id)
        versions = await self._store.message_versions(room_id, message_id)
        if versions is None:
            raise NotFound("no such message")
        return versions

    async def send(
        self, user: User, room_id: str, cid: str, body: str, mentions: tuple[int, ...] = (),
        attachments: tuple[str, ...] = (),
    ) -> tuple[Message, bool]:
        """Store a message durably; returns it and whether it is new (False for a repeated
        cid, which returns the original). Raises NotFound for an unknown room.

        `attachments` (file ids, the sender's own uploads) are attached to the room's scope
        before the commit (anything not theirs to attach refuses the send, nothing stored) and
        kept as wire dicts in data["attachments"]; after the commit they are bound to the
        message (a repeated cid returns the original, bound the first time)."""
        if not body.strip() and not attachments:
            raise InvalidInput("a message needs a body or attachments", details={"body": "empty"})
        user = await self._as_now(user)
        turn = self.turns.take((user.user_id, room_id))
        try:
            await self._check_can_post(user, room_id, "message", cid)
            # The checks' reads overlap the rendering (docs/benchmarks.md, "Spam check").
            html, after = await asyncio.gather(self._renderer.render(body),
                                               self.checks.run(Post(user, room_id, (body,))))
            data: dict[str, object] = {"mentions": list(mentions)} if mentions else {}
            # A retried send (its cid is stored) returns the original, whose files are held by
            # it already: attaching them again would be refused (a file shows in one holder only).
            if attachments and not (await self._store.last_chat_message(room_id, user.user_id, cid))[0]:
                data["attachments"] = await self.files.attach(user, attachments, room_scope(room_id))
            request = SendRequest(room_id, user.user_id, user.display_name, cid, body, html=html,
                                  data=data, author_role=user.author_role, mentions=mentions)
            message, created = await turn.hand_over(lambda: self.submit(request))
        finally:
            turn.passed()
        held = [f["id"] for f in message.data.get("attachments", ())]
        if held:  # again on a retried send: idempotent (a crash may have come between)
            await self.files.bind_ref(held, message_ref(room_id, message.message_id))
        if created:
            committed(after)
        if created and self._sent:
            await self._told(message)
        return message, created

    async def edit(self, user: User, room_id: str, message_id: str, cid: str, body: str) -> tuple[Message, bool]:
        """Replace a message's body (its author, or a moderator); the previous body is kept as
        a version, and an `edit` event takes the next seq."""
        user = await self._as_now(user)  # the room's gate and the spam checks see the role as now
        await self._check_can_post(user, room_id, "edit", cid)
        await self.checks.run(Post(user, room_id, (body,), new=False))
        return await self.submit(SendRequest(
            room_id, user.user_id, user.display_name, cid, body, kind="edit", target_id=message_id,
            html=await self._renderer.render(body), author_role=await self._privilege(user, room_id, message_id)))

    async def delete(self, user: User, room_id: str, message_id: str, cid: str) -> tuple[Message, bool]:
        """Delete a message (its author, or a moderator), leaving a tombstone; a `delete`
        event takes the next seq."""
        user = await self._as_now(user)
        await self._check_can_post(user, room_id, "delete", cid)
        event, created = await self.submit(SendRequest(
            room_id, user.user_id, user.display_name, cid, "", kind="delete", target_id=message_id,
            author_role=await self._privilege(user, room_id, message_id)))
        # Its files go from downloads at once (a repeated cid releases nothing more).
        await self.files.release(message_ref(room_id, message_id))
        return event, created

    async def remove_as_moderator(self, actor: User, room_id: str, message_id: str,
                                  cid: str) -> tuple[Message, bool]:
        """Delete a reported message as a moderator (chat/moderation/), in any room, a direct
        conversation they are not in included: no membership check and no room's gate, only
        the role as it is now (Forbidden unless moderator or admin)."""
        role = await self._current_role(actor)
        if role not in STAFF_ROLES:
            raise Forbidden("only moderators and admins remove reported messages")
        await self.staff.check(actor)
        event, created = await self.submit(SendRequest(
            room_id, actor.user_id, actor.display_name, cid, "", kind="delete", target_id=message_id,
            author_role=role))
        await self.files.release(message_ref(room_id, message_id))
        return event, created

    async def react(
        self, user: User, room_id: str, message_id: str, cid: str, emoji: str, add: bool
    ) -> tuple[Message, bool]:
        """Add or remove the user's reaction; a `reaction` event takes the next seq."""
        user = await self._as_now(user)  # before the gate: a demoted moderator is an attendee
        await self._check_can_post(user, room_id, "reaction", cid)
        return await self.submit(SendRequest(
            room_id, user.user_id, user.display_name, cid, "", kind="reaction", target_id=message_id,
            data={"emoji": emoji, "added": add}, author_role=user.author_role))

    async def _privilege(self, user: User, room_id: str, message_id: str) -> AuthorRole:
        """The role an edit or delete acts with: a moderator acting on another member's message
        uses staff privilege, so passes the staff gate first. `user` comes from `_as_now`: a
        staff role it holds is current (no second query); a member may have been promoted."""
        role = user.author_role if user.role in STAFF_ROLES else await self._current_role(user)
        if role in STAFF_ROLES:
            found = await self._store.message_author(room_id, message_id)
            if found is not None and found[0] != user.user_id:
                await self.staff.check(user)
        return role

    async def _as_now(self, user: User) -> User:
        """The user with their staff role as it is now: a WebSocket keeps the User it logged in
        with, and a demoted moderator or admin must not keep the staff mark on what they post,
        the spam checks' staff exemption, nor a room gate's (a webinar's chat off or slow): so
        send, edit, delete and react take it before anything else. Members pay no query: a promotion needs none."""
        if user.role not in STAFF_ROLES or user.guest_of is not None:
            return user
        profile = await self._store.get_profile(user.user_id)
        role = profile.role if profile is not None else "member"
        return user if role == user.role else replace(user, role=role)

    async def _current_role(self, user: User) -> AuthorRole:
        """The role as it is now, not as it was when the connection logged in: a demoted
        moderator must not keep moderating over an old WebSocket. A guest stays a guest."""
        if user.guest_of is not None:
            return "guest"
        profile = await self._store.get_profile(user.user_id)
        return profile.role if profile is not None else "member"

    async def _check_can_post(self, user: User, room_id: str, action: str, cid: str) -> None:
        # The platform's rooms are open to every member and never go away: no query for them.
        if room_id in CATALOG_ORDER and user.guest_of is None:
            return
        room = await self.visible_room(user, room_id)
        gate = self._gates.get(room.kind)
        if gate is not None:
            await gate(user, room_id, action, cid)

    async def submit(self, request: SendRequest) -> tuple[Message, bool]:
        """Commit one log entry; raises the ChatError its refusal names."""
        outcome = await self._committer.submit(request)
        if outcome.message is None:
            code, message = outcome.error or ("not_found", "no such room")
            raise OUTCOME_ERRORS.get(code, InvalidInput)(message)
        return outcome.message, outcome.created

    async def join(self, user: User, subscriber: Subscriber, room_id: str, since: int | None) -> int:
        await self.visible_room(user, room_id)
        if room_id in CATALOG_ORDER:
            return await self._hub.join(subscriber, room_id, since)

        async def still_visible() -> bool:
            _, visible = await self._store.room_access(room_id, user.user_id)
            return visible

        # Private rooms are checked again in the feed's order (a removal may race this join).
        return await self._hub.join(subscriber, room_id, since, still_visible)

    def leave(self, subscriber: Subscriber, room_id: str) -> None:
        self._hub.leave(subscriber, room_id)
