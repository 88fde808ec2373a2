"""ModerationService: members report messages and members; moderators (role moderator or admin)
work the queue of reports and act on members (warn, mute in a room, suspend, ban; and lift);
every act is recorded in the audit log before it is done (actions `moderation.*`, no message
bodies, no email addresses). The checks the rest of the node calls: `check_mute` (a mute, on
every post in a room) and `check_login` (a suspension or ban)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from chat.audit.service import AuditLog
from chat.clock import Clock, iso_ms
from chat.errors import AccountSuspended, Conflict, Forbidden, InvalidInput, Muted, NotFound, RateLimited
from chat.hub.hub import Hub
from chat.hub.personal import personal_channel
from chat.models import REPORT_REASONS, STAFF_ROLES, Report, Sanction, SanctionKind, User
from chat.rooms.post_checks import Post
from chat.rooms.service import RoomService
from chat.store.port import Store
from chat.text import is_clean

NOTE_MAX = 1000
REASON_MAX = 500
PAGE_MAX = 100
PAGE_DEFAULT = 25
RECORD_LIMIT = 100
DURATION_MIN_S = 60
DURATION_MAX_S = 366 * 86400
# What a moderator may do with a report, and what each does to its member.
ACTIONS: Final = ("dismiss", "remove", "warn", "mute", "suspend", "ban")
SANCTIONING: Final[dict[str, SanctionKind]] = {"warn": "warn", "mute": "mute", "suspend": "suspend", "ban": "ban"}
LIFTABLE: Final[dict[str, SanctionKind]] = {"unmute": "mute", "unsuspend": "suspend", "unban": "ban"}
# Actions that end every session of the member (their sockets close on every node).
ENDS_SESSIONS: Final = ("suspend", "ban")
# Ends every session of a member through the accounts' one session-ending path.
EndSessions = Callable[[int], Awaitable[int]]


def audit_action(action: str) -> str:
    """The audit log's name of a moderation act ("moderation.ban")."""
    return f"moderation.{action}"


def report_json(report: Report) -> dict[str, Any]:
    """A report as the API shows it; `message` is the copy of a reported message (None for a
    report of a member)."""
    copy = report.message
    return {
        "id": report.report_id, "reporter": {"id": report.reporter_id, "name": report.reporter_name},
        "member": {"id": report.target_user_id, "name": report.target_name},
        "room": report.room_id, "message_id": report.message_id, "reason": report.reason,
        "note": report.note, "status": report.status, "resolution": report.resolution,
        "created_at": iso_ms(report.created_at_ms),
        "resolved_at": None if report.resolved_at_ms is None else iso_ms(report.resolved_at_ms),
        "message": None if copy is None else {
            "body": copy.body, "author": {"id": report.target_user_id, "name": copy.author_name},
            "sent_at": iso_ms(copy.sent_at_ms), "room": report.room_id, "seq": copy.seq},
    }


def sanction_json(sanction: Sanction, now_ms: int) -> dict[str, Any]:
    return {
        "id": sanction.sanction_id, "kind": sanction.kind, "room": sanction.room_id,
        "until": None if sanction.until_ms is None else iso_ms(sanction.until_ms),
        "reason": sanction.reason, "report": sanction.report_id,
        "created_at": iso_ms(sanction.created_at_ms),
        "lifted_at": None if sanction.lifted_at_ms is None else iso_ms(sanction.lifted_at_ms),
        "in_force": sanction.in_force(now_ms),
    }


@dataclass(frozen=True, slots=True)
class Record:
    """A member as moderators see them: name, role, sanctions and the reports about them."""

    user_id: int
    name: str
    role: str
    sanctions: list[Sanction]
    reports: list[Report]


@dataclass(frozen=True, slots=True)
class _Plan:
    """A sanction checked and ready to apply."""

    target: User
    kind: SanctionKind
    room_id: str | None
    until_ms: int | None
    reason: str


def _text(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit or not is_clean(value):
        raise InvalidInput("some fields are not valid", details={field: f"at most {limit} characters of text"})
    return value


class ModerationService:
    def __init__(self, store: Store, clock: Clock, audit: AuditLog, rooms: RoomService, hub: Hub,
                 end_sessions: EndSessions, *, reports_per_window: int,
                 report_window_s: int) -> None:
        self._store = store
        self._clock = clock
        self._audit = audit
        self._rooms = rooms
        self._hub = hub
        self._end_sessions = end_sessions
        self._reports_max = reports_per_window
        self._report_window_ms = report_window_s * 1000

    # -- members ---------------------------------------------------------------------------

    async def report(self, user: User, *, reason: str, note: str, room_id: str | None = None,
                     message_id: str | None = None, member_id: int | None = None) -> tuple[Report, bool]:
        """Report a message (room and message id) or a member; returns the report and whether it
        is new (the same open report again: False). A message the reporter cannot read, or that
        is gone: NotFound; their own message or themselves: Forbidden; too many reports in the
        window: RateLimited. Nothing is stored when refused."""
        if reason not in REPORT_REASONS:
            raise InvalidInput("some fields are not valid", details={"reason": f"one of {', '.join(REPORT_REASONS)}"})
        note = _text(note, "note", NOTE_MAX)
        if (room_id is None) != (message_id is None) or (room_id is None) == (member_id is None):
            raise InvalidInput("report a message (room and message_id) or a member (member), not both")
        if room_id is not None and message_id is not None:
            await self._rooms.visible_room(user, room_id)
            found = await self._store.message_author(room_id, message_id)
            if found is None or found[1]:
                raise NotFound("no such message")
            target = found[0]
            if target == user.user_id:
                raise Forbidden("you cannot report your own message")
        else:
            assert member_id is not None
            if member_id == user.user_id:
                raise Forbidden("you cannot report yourself")
            if not await self._store.users_by_id([member_id]):
                raise NotFound("no such member")
            target = member_id
        await self._count_report(user)
        return await self._store.add_report(user.user_id, target, room_id, message_id, reason, note,
                                            self._clock.now_ms())

    async def _count_report(self, user: User) -> None:
        now_ms = self._clock.now_ms()
        [(count, window_end_ms)] = await self._store.count_attempts(
            [f"report:{user.user_id}"], now_ms, self._report_window_ms)
        if count > self._reports_max:
            raise RateLimited("too many reports; try again later", retry_after_s=(window_end_ms - now_ms) / 1000)

    async def check_mute(self, post: Post) -> None:
        """The post check (chat/rooms/post_checks.py): raise Muted while the member is muted in
        the post's room (a webinar's questions: its room)."""
        if post.room_id is None:
            return
        mute = await self._store.sanction_in_force(post.user.user_id, "mute", post.room_id, self._clock.now_ms())
        if mute is not None:
            raise Muted(None if mute.until_ms is None else iso_ms(mute.until_ms))

    async def check_login(self, user: User) -> None:
        """Raise AccountSuspended while the member is banned or suspended."""
        now_ms = self._clock.now_ms()
        if await self._store.sanction_in_force(user.user_id, "ban", None, now_ms) is not None:
            raise AccountSuspended(None, banned=True)
        suspension = await self._store.sanction_in_force(user.user_id, "suspend", None, now_ms)
        if suspension is not None:
            raise AccountSuspended(None if suspension.until_ms is None else iso_ms(suspension.until_ms), banned=False)

    async def standing(self, user: User) -> dict[str, Any]:
        """What a member sees of their own record: mutes in force, and warnings."""
        now_ms = self._clock.now_ms()
        mine = await self._store.sanctions_of(user.user_id, RECORD_LIMIT)
        return {
            "mutes": [sanction_json(s, now_ms) for s in mine if s.kind == "mute" and s.in_force(now_ms)],
            "warnings": [sanction_json(s, now_ms) for s in mine if s.kind == "warn"],
        }

    # -- moderators ------------------------------------------------------------------------

    async def check_moderator(self, actor: User) -> None:
        """Moderators and admins (the role as it is now, not as the session began), passing the
        staff check; Forbidden otherwise."""
        profile = await self._store.get_profile(actor.user_id)
        if actor.guest_of is not None or profile is None or profile.role not in STAFF_ROLES:
            raise Forbidden("only moderators and admins moderate")
        await self._rooms.staff.check(actor)

    async def queue(self, actor: User, *, closed: bool, cursor: int | None,
                    limit: int = PAGE_DEFAULT) -> tuple[list[Report], int | None, int]:
        """A page of open reports (oldest first) or of closed ones (newest first), the cursor of
        the next page (None: the last), and how many are open."""
        if not 1 <= limit <= PAGE_MAX:
            raise InvalidInput("some fields are not valid", details={"limit": f"1-{PAGE_MAX}"})
        await self.check_moderator(actor)
        page = await self._store.report_page(not closed, cursor, limit + 1)
        more = len(page) > limit
        page = page[:limit]
        return page, page[-1].report_id if more and page else None, await self._store.open_report_count()

    async def act(self, actor: User, report_id: int, action: str, *, duration_s: int | None = None,
                  room_id: str | None = None, reason: str = "") -> Report:
        """Resolve an open report with one of ACTIONS: dismiss it, remove the message (the
        delete path, as moderator), or warn, mute (in the report's room, or `room_id` for a
        report of a member), suspend or ban its member. NotFound: no such report; Conflict
        when it is closed already."""
        await self.check_moderator(actor)
        if action not in ACTIONS:
            raise InvalidInput("some fields are not valid", details={"action": f"one of {', '.join(ACTIONS)}"})
        report = await self._store.get_report(report_id)
        if report is None:
            raise NotFound("no such report")
        if report.status != "open":
            raise Conflict("this report is closed already")
        plan: _Plan | None = None
        if action == "remove":
            if report.room_id is None or report.message_id is None:
                raise InvalidInput("this report is about a member, not a message", details={"action": "remove"})
        elif action != "dismiss":
            plan = await self._plan(actor, report.target_user_id, action, duration_s=duration_s,
                                    room_id=room_id or report.room_id, reason=reason)
        # Everything that could refuse the act is checked; closing the report is the claim that
        # makes one moderator's act the only one (two acting at once: the second gets Conflict).
        if not await self._store.close_report(report_id, "dismissed" if action == "dismiss" else "resolved",
                                              None if action == "dismiss" else action, actor.user_id,
                                              self._clock.now_ms()):
            raise Conflict("this report is closed already")
        if action == "dismiss":
            await self._audit.record(actor, audit_action("dismiss"), {"report": report_id,
                                                                      "user_id": report.target_user_id})
        elif action == "remove":
            assert report.room_id is not None and report.message_id is not None
            await self._audit.record(actor, audit_action("remove"), {
                "report": report_id, "user_id": report.target_user_id, "room": report.room_id,
                "message_id": report.message_id})
            found = await self._store.message_author(report.room_id, report.message_id)
            if found is not None and not found[1]:  # its author may have deleted it meanwhile
                await self._rooms.remove_as_moderator(actor, report.room_id, report.message_id,
                                                      f"mod-{report_id}")
        else:
            assert plan is not None
            await self._apply(actor, plan, report_id)
        closed = await self._store.get_report(report_id)
        assert closed is not None
        return closed

    async def sanction(self, actor: User, user_id: int, action: str, *, duration_s: int | None = None,
                       room_id: str | None = None, reason: str = "", report_id: int | None = None) -> Sanction:
        """Warn, mute (in `room_id`, for `duration_s`), suspend (for `duration_s`) or ban (no
        end) a member, with or without a report. A warning or mute reaches the member's
        connections at once (a `moderation_notice` frame) and shows in their standing when they
        come back; a suspension or ban ends every session of theirs, closing their WebSockets
        on every node. Staff are not sanctioned (an admin changes their role first): Forbidden."""
        await self.check_moderator(actor)
        plan = await self._plan(actor, user_id, action, duration_s=duration_s, room_id=room_id, reason=reason)
        return await self._apply(actor, plan, report_id)

    async def _plan(self, actor: User, user_id: int, action: str, *, duration_s: int | None,
                    room_id: str | None, reason: str) -> _Plan:
        """The sanction checked in full (raises what refuses it); nothing is done yet."""
        kind = SANCTIONING.get(action)
        if kind is None:
            raise InvalidInput("some fields are not valid", details={"action": f"one of {', '.join(SANCTIONING)}"})
        reason = _text(reason, "reason", REASON_MAX)
        until_ms = self._until(kind, duration_s, self._clock.now_ms())
        if kind == "mute":
            if room_id is None:
                raise InvalidInput("some fields are not valid", details={"room": "name the room of the mute"})
            if await self._store.get_room(room_id) is None:
                raise NotFound("no such room")
        else:
            room_id = None
        target = await self._target(actor, user_id)
        return _Plan(target, kind, room_id, until_ms, reason)

    async def _apply(self, actor: User, plan: _Plan, report_id: int | None) -> Sanction:
        user_id = plan.target.user_id
        detail: dict[str, Any] = {"user_id": user_id, "member": plan.target.display_name}
        detail |= {"room": plan.room_id} if plan.room_id else {}
        detail |= {"until": iso_ms(plan.until_ms)} if plan.until_ms is not None else {}
        detail |= {"report": report_id} if report_id is not None else {}
        await self._audit.record(actor, audit_action(plan.kind), detail)
        now_ms = self._clock.now_ms()
        sanction = await self._store.add_sanction(user_id, plan.kind, plan.room_id, plan.until_ms, plan.reason,
                                                  actor.user_id, report_id, now_ms)
        if plan.kind in ENDS_SESSIONS:
            await self._end_sessions(user_id)
        else:
            self._hub.broadcast(personal_channel(user_id), {
                "type": "moderation_notice", "notice": sanction_json(sanction, now_ms)})
        return sanction

    async def lift(self, actor: User, user_id: int, action: str, *, room_id: str | None = None) -> list[Sanction]:
        """Unmute (in `room_id`), unsuspend or unban a member; the sanctions lifted (none: it
        was not in force, and nothing is recorded)."""
        await self.check_moderator(actor)
        kind = LIFTABLE.get(action)
        if kind is None:
            raise InvalidInput("some fields are not valid", details={"action": f"one of {', '.join(LIFTABLE)}"})
        if kind == "mute" and room_id is None:
            raise InvalidInput("some fields are not valid", details={"room": "name the room of the mute"})
        target = await self._target(actor, user_id, staff_ok=True)
        room_id = room_id if kind == "mute" else None
        now_ms = self._clock.now_ms()
        if await self._store.sanction_in_force(user_id, kind, room_id, now_ms) is None:
            return []
        detail: dict[str, Any] = {"user_id": user_id, "member": target.display_name}
        detail |= {"room": room_id} if room_id else {}
        await self._audit.record(actor, audit_action(action), detail)
        return await self._store.lift_sanctions(user_id, kind, room_id, actor.user_id, now_ms)

    async def record(self, actor: User, user_id: int) -> Record:
        """A member's sanctions and the reports about them, newest first."""
        await self.check_moderator(actor)
        profile = await self._store.get_profile(user_id)
        if profile is None:
            raise NotFound("no such member")
        return Record(user_id, profile.display_name, profile.role,
                      await self._store.sanctions_of(user_id, RECORD_LIMIT),
                      await self._store.reports_about(user_id, RECORD_LIMIT))

    async def _target(self, actor: User, user_id: int, *, staff_ok: bool = False) -> User:
        profile = await self._store.get_profile(user_id)
        if profile is None:
            raise NotFound("no such member")
        if user_id == actor.user_id:
            raise Forbidden("you cannot moderate yourself")
        if not staff_ok and profile.role in STAFF_ROLES:
            raise Forbidden("staff are not sanctioned; an admin changes their role first")
        return User(user_id, "", profile.display_name, profile.role, 0)

    @staticmethod
    def _until(kind: SanctionKind, duration_s: int | None, now_ms: int) -> int | None:
        if kind in ("warn", "ban"):
            if duration_s is not None:
                raise InvalidInput("some fields are not valid", details={"duration_s": f"a {kind} has no duration"})
            return None
        if duration_s is None or not DURATION_MIN_S <= duration_s <= DURATION_MAX_S:
            raise InvalidInput("some fields are not valid",
                               details={"duration_s": f"{DURATION_MIN_S}-{DURATION_MAX_S} seconds"})
        return now_ms + duration_s * 1000
