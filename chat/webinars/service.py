"""WebinarService: schedule, edit, start, end or cancel a webinar; its audience chat's rules;
registrations; the lists; the sweep that ends webinars left running.

Every change is a "webinar" entry (data {change, webinar: the summary}) in the webinar room's
log, and the same entry in each sector or city room it is listed in, so live and resuming
readers learn of it; members registered for it get a notification when it goes live, is edited
or is cancelled. The row's change (a conditional update: two hosts, or two nodes' sweeps,
change it once) and the entry in the webinar's room commit in one transaction (the store's);
the listing rooms' entries then go through the committer. Ending or cancelling a webinar also
closes its open polls, each with its `poll` entry, in that transaction.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import structlog

from chat.clock import Clock, repeating
from chat.errors import ChatClosed, Conflict, Forbidden, InvalidInput, NotFound, SlowMode
from chat.logs import failure
from chat.models import (
    PUBLIC_KINDS, STAFF_ROLES, Message, NotificationKind, Poll, SendRequest, User, Webinar,
    WebinarChanges, WebinarPerson, WebinarPersonRole, WebinarRole, WEBINAR_WHENS,
)
from chat.rooms.attachments import room_scope
from chat.rooms.conversations import new_room_id, server_cid
from chat.rooms.notifications import NotificationService
from chat.rooms.rendering import Renderer
from chat.rooms.service import RoomService
from chat.store.port import EntryFor, Store
from chat.store.webinars import Changed, PollClosedFor
from chat.webinars.board import poll_entry
from chat.webinars import rules
from chat.webinars.rules import WebinarDraft, invalid
from chat.webinars.shapes import webinar_summary

log = structlog.get_logger("chat.webinars")

MAX_PAGE = 100
SWEEP_BATCH = 100
HOSTING: tuple[WebinarRole, ...] = ("host", "moderator")
NOTIFYING: dict[str, NotificationKind] = {
    "live": "webinar_live", "edited": "webinar_edited", "cancelled": "webinar_cancelled"}


def role_of(user: User, webinar: Webinar) -> WebinarRole:
    """Who the user is in the webinar: a host; else a platform moderator or admin (who act as
    hosts); else a panelist; else an attendee."""
    person = next((p.role for p in webinar.people if p.user_id == user.user_id), None)
    return _role(user, person)


def _role(user: User, person: WebinarPersonRole | None) -> WebinarRole:
    if person == "host":
        return "host"
    if user.role in STAFF_ROLES:
        return "moderator"
    return person or "attendee"


def _signer(user: User | None, webinar: Webinar) -> tuple[int, str, str]:
    """Who signs a change's entries: the user who made it; for the sweep, the webinar's first
    host (else its creator)."""
    if user is not None:
        return user.user_id, user.display_name, user.role
    host = next((p for p in webinar.people if p.role == "host"), None)
    return (host.user_id, host.name, "member") if host else (webinar.created_by, "", "member")


def title_line(webinar: Webinar) -> str:
    """The webinar's title in one line (both languages when it has both): a notification's
    excerpt."""
    return " / ".join(t for t in (webinar.title_en, webinar.title_zh) if t)


class WebinarService:
    def __init__(self, store: Store, rooms: RoomService, notifications: NotificationService,
                 clock: Clock, renderer: Renderer, on_committed: Callable[[list[Message]], None], *,
                 auto_end_min: int, sweep_s: float) -> None:
        """`on_committed`: the committer's listener (the hub's fan-out), for the entries the
        store appends with each change."""
        self._store = store
        self._on_committed = on_committed
        self._rooms = rooms
        self._notifications = notifications
        self._clock = clock
        self._renderer = renderer
        self._auto_end_ms = auto_end_min * 60_000
        self._sweep_s = sweep_s

    # -- who and what ----------------------------------------------------------------------

    async def get(self, user: User, webinar_id: str) -> Webinar:
        """The webinar; NotFound for an unknown id or a room that is no webinar (the answer an
        unknown room gets)."""
        webinar = await self._store.get_webinar(webinar_id) if webinar_id.startswith("webinar-") else None
        if webinar is None:
            raise NotFound("no such webinar")
        return webinar

    async def for_guests(self, webinar_id: str) -> Webinar:
        """The webinar a guest joins through its link (docs/protocol.md, "Guests (webinars)"):
        NotFound unless it exists and takes guests (one answer for both, so its link is the only way to
        learn it does), Conflict once it ended or was cancelled."""
        webinar = await self._store.get_webinar(webinar_id) if webinar_id.startswith("webinar-") else None
        if webinar is None or not webinar.guests_allowed:
            raise NotFound("no such webinar")
        if webinar.state in ("ended", "cancelled"):
            raise Conflict(f"the webinar is {webinar.state}")
        return webinar

    async def role_in(self, user: User, room_id: str) -> WebinarRole:
        """The user's role in the webinar whose room this is: host, panelist, moderator (a
        platform moderator or admin, who acts as a host) or attendee. NotFound for a room that
        is no webinar."""
        rules_row = await self._store.webinar_chat_rules(room_id, user.user_id)
        if rules_row is None:
            raise NotFound("no such webinar")
        return _role(user, cast(WebinarPersonRole | None, rules_row[3]))

    async def registered(self, user: User, webinar_ids: list[str]) -> set[str]:
        return await self._store.registered_for(user.user_id, webinar_ids)

    async def listing(self, user: User, when: str, *, room_id: str | None, after: tuple[int, str] | None,
                      limit: int) -> tuple[list[Webinar], tuple[int, str] | None]:
        """A page of webinars (upcoming, live or past), platform-wide or those listed in one
        room the user may see; and the `after` of the next page (None on the last)."""
        if when not in WEBINAR_WHENS:
            raise InvalidInput("'when' must be upcoming, live or past")
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"'limit' must be between 1 and {MAX_PAGE}")
        if room_id is not None:
            await self._rooms.visible_room(user, room_id)
        found = await self._store.list_webinars(when, listed_in=room_id, after=after,
                                                limit=limit + 1)
        page = found[:limit]
        last = page[-1] if len(found) > limit else None
        return page, None if last is None else (last.starts_at_ms, last.webinar_id)

    # -- scheduling and editing ------------------------------------------------------------

    async def schedule(self, user: User, draft: WebinarDraft) -> Webinar:
        """A new webinar (moderators and admins): its room, row and "scheduled" entry in one
        transaction, then the entry in each room listing it. Without hosts, whoever schedules
        it hosts it."""
        if user.role not in STAFF_ROLES:
            raise Forbidden("only moderators and admins schedule webinars")
        await self._rooms.staff.check(user)
        now_ms = self._clock.now_ms()
        title_en = rules.title(draft.title_en, "title.en") or ""
        title_zh = rules.title(draft.title_zh, "title.zh") or ""
        if not title_en and not title_zh:
            raise invalid({"title": "give a title in English, Chinese or both"})
        description = rules.description(draft.description) or ""
        starts_ms = rules.instant_ms(draft.starts_at, "starts_at")
        ends_ms = rules.instant_ms(draft.ends_at, "ends_at")
        if starts_ms is None or ends_ms is None:
            raise invalid({"starts_at" if starts_ms is None else "ends_at": "is required"})
        rules.times(starts_ms, ends_ms, now_ms, start_changed=True)
        zone = rules.time_zone(draft.time_zone) or "UTC"
        listed = await self._listing_rooms(user, draft.rooms or [])
        people = await self._people(draft.hosts or [user.user_id], draft.panelists or [])
        webinar_id = new_room_id("webinar")
        # The description's files: readable by whoever may read the webinar's room.
        files = await self._rooms.files.attach(user, draft.attachments, room_scope(webinar_id)) \
            if draft.attachments else []
        webinar = Webinar(
            webinar_id=webinar_id, title_en=title_en, title_zh=title_zh, attachments=tuple(files),
            description=description,
            description_html=await self._renderer.render(description) if description else "",
            starts_at_ms=starts_ms, ends_at_ms=ends_ms, time_zone=zone, created_by=user.user_id,
            created_at_ms=now_ms, updated_at_ms=now_ms, premoderated=bool(draft.premoderated),
            guests_allowed=bool(draft.guests_allowed), people=people, listed_in=tuple(listed))
        told = await self._told(await self._store.create_webinar(webinar, self._entry(user, "scheduled")))
        if draft.attachments:
            await self._rooms.files.bind_ref(draft.attachments, f"webinar:{webinar_id}")
        return told

    async def edit(self, user: User, webinar_id: str, draft: WebinarDraft) -> Webinar:
        """Change a scheduled webinar (its hosts, moderators, admins); Conflict once it started,
        ended or was cancelled. The rooms it was and is listed in all get the "edited" entry."""
        webinar = await self._hosting(user, webinar_id)
        if webinar.state != "scheduled":
            raise Conflict(f"the webinar is {webinar.state}: only a scheduled webinar is edited")
        now_ms = self._clock.now_ms()
        title_en = rules.title(draft.title_en, "title.en")
        title_zh = rules.title(draft.title_zh, "title.zh")
        if not (webinar.title_en if title_en is None else title_en) and \
                not (webinar.title_zh if title_zh is None else title_zh):
            raise invalid({"title": "give a title in English, Chinese or both"})
        description = rules.description(draft.description)
        starts_ms = rules.instant_ms(draft.starts_at, "starts_at")
        ends_ms = rules.instant_ms(draft.ends_at, "ends_at")
        if starts_ms is not None or ends_ms is not None:
            rules.times(webinar.starts_at_ms if starts_ms is None else starts_ms,
                        webinar.ends_at_ms if ends_ms is None else ends_ms, now_ms,
                        start_changed=starts_ms is not None and starts_ms != webinar.starts_at_ms)
        zone = rules.time_zone(draft.time_zone)
        listed = None if draft.rooms is None else tuple(await self._listing_rooms(user, draft.rooms))
        people = None
        if draft.hosts is not None or draft.panelists is not None:
            chosen = await self._people(
                list(webinar.ids_of("host")) if draft.hosts is None else draft.hosts,
                list(webinar.ids_of("panelist")) if draft.panelists is None else draft.panelists)
            if not any(person.role == "host" for person in chosen):
                raise invalid({"hosts": "a webinar needs at least one host"})
            people = tuple((person.user_id, person.role) for person in chosen)
        files = None
        holder = f"webinar:{webinar_id}"
        before = {f["id"]: f for f in webinar.attachments}
        if draft.attachments is not None:  # the new list: files kept from before, whoever
            # uploaded them (a co-host's, a moderator's edit), and the editor's new uploads
            added = [i for i in draft.attachments if i not in before]
            fresh = {f["id"]: f for f in await self._rooms.files.attach(
                user, added, room_scope(webinar_id), holder=holder)} if added else {}
            files = [before.get(i) or fresh[i] for i in draft.attachments]
        changes = WebinarChanges(
            title_en=title_en, title_zh=title_zh, description=description,
            description_html=None if description is None else (
                await self._renderer.render(description) if description else ""),
            starts_at_ms=starts_ms, ends_at_ms=ends_ms, time_zone=zone,
            premoderated=draft.premoderated, guests_allowed=draft.guests_allowed,
            people=people, listed_in=listed, attachments=None if files is None else json.dumps(files))
        changed = await self._store.edit_webinar(webinar_id, changes, now_ms, self._entry(user, "edited"))
        if changed is None:
            raise Conflict("the webinar is no longer scheduled: only a scheduled webinar is edited")
        if files is not None:
            kept = {f["id"] for f in files}
            await self._rooms.files.bind_ref([i for i in kept if i not in before], holder)
            # A file the edit dropped is released, as a deleted message's (its bytes go later).
            await self._rooms.files.release(holder, [i for i in before if i not in kept])
        return await self._told(changed, also_in=webinar.listed_in)

    async def _listing_rooms(self, user: User, room_ids: list[str]) -> list[str]:
        """The sector and city rooms a webinar is listed in (at most 5), sorted."""
        unique = sorted(set(room_ids))
        if len(unique) > rules.MAX_LISTED_ROOMS:
            raise invalid({"rooms": f"a webinar is listed in at most {rules.MAX_LISTED_ROOMS} rooms"})
        for room_id in unique:
            room = await self._store.get_room(room_id)
            if room is None or room.kind not in PUBLIC_KINDS:
                raise invalid({"rooms": "webinars are listed in existing sector and city rooms only"})
        return unique

    async def _people(self, hosts: list[int], panelists: list[int]) -> tuple[WebinarPerson, ...]:
        chosen = rules.people(hosts, panelists)
        names = await self._store.users_by_id([user_id for user_id, _ in chosen])
        unknown = [user_id for user_id, _ in chosen if user_id not in names]
        if unknown:
            raise invalid({"hosts" if unknown[0] in hosts else "panelists":
                           f"no such member: {', '.join(map(str, unknown))}"})
        return tuple(WebinarPerson(user_id, names[user_id], cast(WebinarPersonRole, role))
                     for user_id, role in chosen)

    async def _hosting(self, user: User, webinar_id: str) -> Webinar:
        """The webinar if the user may run it (a host, moderator or admin); Forbidden for its
        panelists and attendees."""
        webinar = await self.get(user, webinar_id)
        if role_of(user, webinar) not in HOSTING:
            raise Forbidden("only the webinar's hosts, moderators and admins may do this")
        return webinar

    # -- states ----------------------------------------------------------------------------

    async def start(self, user: User, webinar_id: str) -> Webinar:
        """Scheduled → live (hosts, moderators, admins, at any time); Conflict otherwise."""
        return await self._move(user, webinar_id, "live", "scheduled")

    async def end(self, user: User, webinar_id: str) -> Webinar:
        """Live → ended; Conflict otherwise. Its chat is read-only from then on; its open polls
        close with it (their entries commit with the change, before its own)."""
        return await self._move(user, webinar_id, "ended", "live")

    async def cancel(self, user: User, webinar_id: str) -> Webinar:
        """Scheduled → cancelled; Conflict otherwise."""
        return await self._move(user, webinar_id, "cancelled", "scheduled")

    async def _move(self, user: User, webinar_id: str, state: str, from_state: str) -> Webinar:
        webinar = await self._hosting(user, webinar_id)
        if webinar.state == state:
            return webinar  # a repeated request (a retry, a second host) changes nothing
        changed = None
        if webinar.state == from_state:
            changed = await self._store.set_webinar_state(
                webinar_id, cast(Any, state), self._clock.now_ms(), self._entry(user, state),
                self._poll_closed(user))
        if changed is None:
            current = await self.get(user, webinar_id)
            if current.state == state:
                return current
            raise Conflict(f"the webinar is {current.state}: it cannot become {state}")
        return await self._told(changed)

    async def set_chat(self, user: User, webinar_id: str, mode: str, slow_s: int | None) -> Webinar:
        """The audience chat: open, slow (one message per `slow_s` seconds per attendee) or
        off; hosts, moderators, admins; Conflict once ended or cancelled."""
        seconds = rules.slow_seconds(mode, slow_s)
        webinar = await self._hosting(user, webinar_id)
        if webinar.state in ("ended", "cancelled"):
            raise Conflict(f"the webinar is {webinar.state}: its chat is read-only")
        if webinar.chat_mode == mode and webinar.slow_mode_s == seconds:
            return webinar
        changed = await self._store.set_webinar_chat(webinar_id, mode, seconds, self._clock.now_ms(),
                                                     self._entry(user, "chat"))
        if changed is None:
            raise Conflict("the webinar is over: its chat is read-only")
        return await self._told(changed, listed=False)

    # -- registrations ---------------------------------------------------------------------

    async def register(self, user: User, webinar_id: str, registered: bool) -> Webinar:
        """Register (or unregister) for a webinar: idempotent. Registering for one that ended
        or was cancelled: Conflict (unregistering is always fine)."""
        webinar = await self.get(user, webinar_id)
        if registered and webinar.state in ("ended", "cancelled"):
            raise Conflict(f"the webinar is {webinar.state}")
        await self._store.set_registration(webinar_id, user.user_id, registered, self._clock.now_ms())
        return await self.get(user, webinar_id)

    # -- the audience chat -----------------------------------------------------------------

    async def check_chat(self, user: User, room_id: str, action: str, cid: str) -> None:
        """RoomService's gate for webinar rooms (every send, edit, delete and reaction there):
        nothing once the webinar ended or was cancelled (moderators and admins may still
        delete); with the chat off, attendees and panelists may only delete their own
        messages; in slow mode, an attendee's next message waits `slow_s` seconds after their
        last. Hosts, panelists, moderators and admins are never slowed."""
        found = await self._store.webinar_chat_rules(room_id, user.user_id)
        if found is None:
            return
        state, mode, slow_s, person = found
        role = _role(user, cast(WebinarPersonRole | None, person))
        if state in ("ended", "cancelled"):
            if action == "delete" and user.role in STAFF_ROLES:
                return
            raise ChatClosed(f"the webinar is {state}: its chat is read-only")
        if role in HOSTING or action == "delete":
            return
        if mode == "off" and role != "panelist":
            raise ChatClosed("the hosts turned the audience chat off")
        if mode == "slow" and role == "attendee" and action == "message":
            exists, last_ms = await self._store.last_chat_message(room_id, user.user_id, cid)
            wait_ms = 0 if exists or last_ms is None else last_ms + slow_s * 1000 - self._clock.now_ms()
            if wait_ms > 0:
                raise SlowMode(f"slow mode: one message every {slow_s} s", retry_after_s=wait_ms / 1000)

    # -- the log ---------------------------------------------------------------------------

    def _entry(self, user: User | None, change: str) -> EntryFor:
        """How the store makes the change's entry from the webinar as the change leaves it:
        kind "webinar", data {change, webinar: the summary}; its body the title (the excerpt of
        the notifications it causes). Without a user (the sweep), its first host signs it and
        data says `auto: true`."""

        def make(webinar: Webinar) -> SendRequest:
            data: dict[str, Any] = {"change": change, "webinar": webinar_summary(webinar)}
            if user is None:
                data["auto"] = True
            author_id, name, role = _signer(user, webinar)
            return SendRequest(webinar.webinar_id, author_id, name, server_cid(), title_line(webinar),
                               kind="webinar", data=data, author_role=cast(Any, role))

        return make

    def _poll_closed(self, user: User | None) -> PollClosedFor:
        """The `poll` event (change "closed") of a poll the webinar's end or cancellation
        closes, signed as the change's entry is (the sweep's: `auto: true`)."""

        def make(poll: Poll, webinar: Webinar) -> SendRequest:
            return poll_entry(poll, "closed", *_signer(user, webinar), auto=user is None)

        return make

    async def _told(self, changed: Changed, *, listed: bool = True,
                    also_in: tuple[str, ...] = ()) -> Webinar:
        """After a change committed with its entry (and the entries of the polls it closed,
        which come first in the log): fan them out, repeat the entry in each room listing the
        webinar (when `listed`; also those in `also_in`, which listed it before), and notify
        the registered members of what concerns them."""
        webinar, entry, also = changed
        self._on_committed([*also, entry])
        if listed:
            for room_id in sorted({*webinar.listed_in, *also_in}):
                await self._rooms.submit(SendRequest(
                    room_id, entry.author_id, entry.author_name, server_cid(), entry.body,
                    kind="webinar", data=entry.data, author_role=entry.author_role))
        kind = NOTIFYING.get(entry.data["change"])
        if kind is not None:
            await self._notify(webinar.webinar_id, entry, kind)
        return webinar

    async def _notify(self, webinar_id: str, entry: Message, kind: NotificationKind) -> None:
        """Notifications are derived data: the change stands even when they fail (logged)."""
        try:
            await self._notifications.notify_registered(webinar_id, entry.message_id, kind)
        except Exception as exc:
            log.error("webinars.notify_failed", webinar=webinar_id, **failure(exc))

    # -- the sweep -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WebinarService]:
        """The sweep: every `sweep_s`, end the live webinars whose end is more than
        ECOLINK_WEBINAR_AUTO_END_MIN minutes past. Every node runs it; each webinar is ended
        (and told) by the one whose conditional update won."""
        async with repeating(self._sweep_s, self.sweep, "webinar-sweep", "webinars.sweep_failed"):
            yield self

    async def sweep(self) -> list[str]:
        """End the overdue live webinars now; the ids this node ended."""
        now_ms = self._clock.now_ms()
        ended = await self._store.end_overdue_webinars(now_ms - self._auto_end_ms, now_ms, SWEEP_BATCH,
                                                       self._entry(None, "ended"), self._poll_closed(None))
        for changed in ended:
            await self._told(changed)
        if ended:
            log.info("webinars.ended_overdue", count=len(ended))
        return [changed.webinar.webinar_id for changed in ended]
