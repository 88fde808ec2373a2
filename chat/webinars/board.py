"""BoardService: a webinar's Q&A board and polls (docs/protocol.md, "The Q&A board").

Who may do what (their role in the webinar: chat/webinars/service.py):
- anyone signed in asks (optionally anonymous to the other attendees), upvotes others'
  questions, answers open polls; the asker edits or withdraws their question until it is
  answered;
- hosts and the platform's moderators (and admins) moderate: approve (with pre-moderation),
  dismiss, pin, unpin, reopen; and run polls (draft, open, close, publish the results);
- panelists, hosts and moderators mark a question "answering now" (one at a time) or answered
  (optionally with a written answer, Markdown rendered as messages are).
Attendees are limited (one question per QUESTION_INTERVAL_S, at most
ECOLINK_WEBINAR_OPEN_QUESTIONS open ones); hosts, panelists and moderators never. Nothing is
accepted once the webinar ended or was cancelled (closing a poll and publishing its results
excepted, so the record can still be made); a scheduled webinar's board already takes
questions, votes and polls.

A change and the entry that tells the audience of it (kinds "question", "question_state",
"poll") commit in one transaction (the store's, which appends the entry made here from the row
as the change leaves it); the committed entries then go to the hub (`on_committed`), as the
committer's do. A pending question, and who asked an anonymous one, travel only over HTTP and
the personal channels of the asker, the webinar's hosts and panelists and the platform's
moderators and admins (`question_private` frames). Votes and poll answers are no log entries:
the ticker (chat/webinars/ticker.py) coalesces their counts into `board` frames.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from chat.clock import Clock
from chat.errors import Conflict, Forbidden, InvalidInput, NotFound
from chat.hub.hub import Hub
from chat.hub.personal import personal_channel
from chat.models import (
    STAFF_ROLES, AskLimits, EventKind, Message, Poll, PollOption, Question, QuestionChange,
    QuestionState, SendRequest, User, WebinarPersonRole, WebinarRole,
)
from chat.rooms.post_checks import Post, PostChecks, committed
from chat.rooms.conversations import server_cid
from chat.rooms.rendering import Renderer
from chat.store.board import QuestionEntryFor
from chat.store.port import Store
from chat.text import text_problem
from chat.webinars.board_shapes import poll_view, question_view
from chat.webinars.ticker import BoardTicker

MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 5_000
MAX_POLL_QUESTION_CHARS = 300
MAX_OPTION_CHARS = 100
MIN_OPTIONS, MAX_OPTIONS = 2, 10
QUESTION_INTERVAL_S = 10
MAX_BOARD_QUESTIONS = 500
PEOPLE_CACHE_S = 5.0
MODERATING: tuple[WebinarRole, ...] = ("host", "moderator")
ANSWERING: tuple[WebinarRole, ...] = ("host", "moderator", "panelist")
VISIBLE: tuple[QuestionState, ...] = ("open", "answering", "answered")
CLOSED_STATES = ("ended", "cancelled")
SORTS = ("votes", "time")
# Moderation: action -> (who, the states it leaves, what it sets, the change it is told as).
MODERATION: dict[str, tuple[tuple[WebinarRole, ...], tuple[QuestionState, ...], dict[str, Any]]] = {
    "approve": (MODERATING, ("pending",), {"state": "open"}),
    "dismiss": (MODERATING, ("pending", "open", "answering", "answered"), {"state": "dismissed"}),
    "pin": (MODERATING, VISIBLE, {"pinned": True}),
    "unpin": (MODERATING, VISIBLE, {"pinned": False}),
    "answering": (ANSWERING, ("open",), {"state": "answering"}),
    "answered": (ANSWERING, ("open", "answering"), {"state": "answered"}),
    "reopen": (MODERATING, ("answered", "dismissed"), {"state": "open"}),
}
MODERATION_ACTIONS = tuple(MODERATION)
POLL_CHANGES = ("open", "close", "publish")


def board_role(user: User, person: str | None) -> WebinarRole:
    """As chat/webinars/service.py: a host; a platform moderator or admin; a panelist; else an
    attendee."""
    if person == "host":
        return "host"
    if user.role in STAFF_ROLES:
        return "moderator"
    return cast(WebinarPersonRole | None, person) or "attendee"


def invalid(field: str, problem: str) -> InvalidInput:
    return InvalidInput("some fields are not valid", details={field: problem})


def _text(value: str, field: str, limit: int, *, required: bool, multiline: bool = True) -> str:
    value = value.strip()
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise invalid(field, problem)
    if required and not value:
        raise invalid(field, "must not be empty")
    if len(value) > limit:
        raise invalid(field, f"must be at most {limit} characters")
    return value


@dataclass(frozen=True, slots=True)
class Context:
    webinar_id: str
    state: str
    premoderated: bool
    results_public: bool
    role: WebinarRole

    @property
    def hosting(self) -> bool:
        return self.role in MODERATING


@dataclass(frozen=True, slots=True)
class PollDraft:
    question_en: str
    question_zh: str
    options: list[tuple[str, str]]
    multiple: bool
    results_public: bool | None


class BoardService:
    def __init__(self, store: Store, hub: Hub, clock: Clock, renderer: Renderer, ticker: BoardTicker,
                 on_committed: Callable[[list[Message]], None], *, open_questions: int) -> None:
        """`on_committed`: the committer's listener (the hub's fan-out), for the entries the
        store appends with each change."""
        self._store = store
        self._on_committed = on_committed
        self._hub = hub
        self._clock = clock
        self._renderer = renderer
        self._ticker = ticker
        self._open_questions = open_questions
        self._people: dict[str, tuple[float, dict[int, str]]] = {}
        self.checks = PostChecks()  # node.py gives it RoomService's: one list for every post

    # -- who and where ---------------------------------------------------------------------

    async def context(self, user: User, webinar_id: str) -> Context:
        found = await self._store.board_context(webinar_id, user.user_id) \
            if webinar_id.startswith("webinar-") else None
        if found is None:
            raise NotFound("no such webinar")
        state, premoderated, results_public, person = found
        return Context(webinar_id, state, premoderated, results_public, board_role(user, person))

    async def _open_context(self, user: User, webinar_id: str) -> Context:
        ctx = await self.context(user, webinar_id)
        if ctx.state in CLOSED_STATES:
            raise Conflict(f"the webinar is {ctx.state}: its board takes nothing more")
        return ctx

    async def _people_of(self, webinar_id: str) -> dict[int, str]:
        """Who gets the webinar's private frames live (id -> role): its hosts and panelists and
        the platform's moderators and admins ("moderator"), cached a few seconds: every private
        poll count and pending question needs them."""
        now = time.monotonic()
        cached = self._people.get(webinar_id)
        if cached is None or cached[0] < now:
            if len(self._people) > 1000:
                self._people.clear()
            cached = (now + PEOPLE_CACHE_S, dict(await self._store.board_staff(webinar_id)))
            self._people[webinar_id] = cached
        return cached[1]

    async def _question(self, webinar_id: str, question_id: str, user: User, ctx: Context) -> Question:
        """The question; NotFound also for someone else's pending question to an attendee
        (the same answer as for no question: a pending one is not theirs to know of)."""
        question = await self._store.get_question(question_id)
        if question is None or question.webinar_id != webinar_id or (
                question.state == "pending" and question.author_id != user.user_id
                and ctx.role not in ANSWERING):
            raise NotFound("no such question")
        return question

    # -- questions -------------------------------------------------------------------------

    async def ask(self, user: User, webinar_id: str, body: str, anonymous: bool,
                  cid: str | None) -> tuple[Question, bool]:
        """A new question (or, for a repeated cid, the one it made: False). Visible at once
        without pre-moderation (a `question` event, committed with the row), else pending until
        approved. An attendee's limits are checked by the store as it inserts (atomic across
        nodes)."""
        body = _text(body, "body", MAX_QUESTION_CHARS, required=True)
        # The post checks first (an unverified author learns nothing of the webinar).
        after = await self.checks.run(Post(user, webinar_id, (body,)))
        ctx = await self._open_context(user, webinar_id)
        now_ms = self._clock.now_ms()
        limits = AskLimits(self._open_questions, QUESTION_INTERVAL_S * 1000) if ctx.role == "attendee" else None
        state: QuestionState = "pending" if ctx.premoderated and ctx.role == "attendee" else "open"

        def entry(asked: Question) -> SendRequest | None:
            return None if asked.state == "pending" else self._event(user, asked, "question", "asked")

        question, created, logged = await self._store.ask_question(Question(
            question_id=f"q-{secrets.token_hex(8)}", webinar_id=webinar_id, author_id=user.user_id,
            author_name=user.display_name, author_role=user.author_role, cid=cid or server_cid(),
            anonymous=anonymous, body=body, state=state, pinned=False, answer="", answer_html="",
            answered_by=None, answered_by_name=None, votes=0, votes_version=0, version=0,
            created_at_ms=now_ms, updated_at_ms=now_ms), entry, limits=limits)
        self._on_committed(logged)
        if created:
            committed(after)
        if created and (question.state == "pending" or question.anonymous):
            await self._tell_privately(question, "asked")
        return question, created

    async def edit(self, user: User, webinar_id: str, question_id: str, *, body: str | None,
                   withdraw: bool) -> Question:
        """The asker edits (`body`) or withdraws their question until it is answered."""
        if body is None and not withdraw:
            raise invalid("body", "give a new body or withdraw: true")
        new_body = None if body is None else _text(body, "body", MAX_QUESTION_CHARS, required=True)
        ctx = await self._open_context(user, webinar_id)
        question = await self._question(webinar_id, question_id, user, ctx)
        if question.author_id != user.user_id:
            raise Forbidden("only the asker edits or withdraws a question")
        if withdraw and question.state == "withdrawn":
            return question
        if not withdraw and question.body == new_body:
            return question
        change = QuestionChange(("pending", "open", "answering"), body=new_body,
                                state="withdrawn" if withdraw else None)
        told = "withdrawn" if withdraw else "edited"
        found = await self._store.change_question(question_id, change, self._clock.now_ms(),
                                                  self._told_entry(user, question, told))
        if found is None:
            raise Conflict("the question was answered, dismissed or withdrawn: it can no longer change")
        changed, logged = found
        await self._told(question, changed, told, logged)
        return changed

    async def moderate(self, user: User, webinar_id: str, question_id: str, action: str,
                       answer: str | None) -> Question:
        if action not in MODERATION:
            raise invalid("action", f"must be one of {', '.join(MODERATION_ACTIONS)}")
        if answer is not None and action != "answered":
            raise invalid("answer", "only the action answered takes an answer")
        answer_text = None if answer is None else _text(answer, "answer", MAX_ANSWER_CHARS, required=False)
        ctx = await self._open_context(user, webinar_id)
        allowed, only_from, sets = MODERATION[action]
        if ctx.role not in allowed:
            raise Forbidden("only the webinar's hosts and moderators (and, to answer, its panelists) may do this")
        question = await self._question(webinar_id, question_id, user, ctx)
        if all(getattr(question, key) == value for key, value in sets.items()) and answer_text is None:
            return question  # already so: a repeat changes nothing
        now_ms = self._clock.now_ms()
        told = {"approve": "approved"}.get(action, action)
        entry = self._told_entry(user, question, told)
        changed: Question | None
        logged: list[Message] = []
        if action == "answering":
            changed, _, logged = await self._store.answer_now(
                webinar_id, question_id, now_ms, entry,
                lambda other: self._event(user, other, "question_state", "answering_ended"))
        else:
            extra: dict[str, Any] = {}
            if action == "answered":
                extra["answered_by"] = user.user_id
                if answer_text is not None:
                    extra["answer"] = answer_text
                    extra["answer_html"] = await self._renderer.render(answer_text) if answer_text else ""
            change = QuestionChange(only_from if action != "answered" or answer_text is None
                                    else (*only_from, "answered"), **sets, **extra)
            found = await self._store.change_question(question_id, change, now_ms, entry)
            changed, logged = found if found is not None else (None, [])
        if changed is None:
            raise Conflict(f"the question is {question.state}: it cannot be marked {action}")
        await self._told(question, changed, told, logged)
        return changed

    def _told_entry(self, user: User, before: Question, change: str) -> QuestionEntryFor:
        """The entry of a change, made by the store from the question after it: a question
        that becomes visible, a `question` event; a visible one, a `question_state` event; a
        pending one (still), none (it is told privately)."""

        def make(after: Question) -> SendRequest | None:
            if before.state == "pending" and after.state == "open":
                return self._event(user, after, "question", change)
            if before.state == "pending":
                return None
            return self._event(user, after, "question_state", change)

        return make

    async def _told(self, before: Question, after: Question, change: str, logged: list[Message]) -> None:
        """After a change committed with its entries: fan them out, and tell a pending
        question's change (still pending, or approved) privately."""
        self._on_committed(logged)
        if before.state == "pending":
            await self._tell_privately(after, change)

    @staticmethod
    def _event(user: User, question: Question, kind: EventKind, change: str) -> SendRequest:
        """The event for the room's log; an anonymous asker's own change carries no author."""
        hide = question.anonymous and user.user_id == question.author_id
        return SendRequest(
            question.webinar_id, user.user_id, user.display_name, server_cid(), "", kind=kind,
            target_id=question.question_id,
            data={"change": change, "question": question_view(question), "anonymous": hide},
            author_role=user.author_role)

    async def _tell_privately(self, question: Question, change: str) -> None:
        frame = {"type": "question_private", "room": question.webinar_id, "change": change,
                 "question": question_view(question, hosting=True)}
        people = await self._people_of(question.webinar_id)
        public = {**frame, "question": question_view(question)}
        for user_id in sorted({*people, question.author_id}):
            # Who asked an anonymous question: its hosts and moderators know; its panelists and
            # asker see what everyone will.
            shown = frame if people.get(user_id) in MODERATING else public
            self._hub.broadcast(personal_channel(user_id), shown)

    # -- votes -----------------------------------------------------------------------------

    async def vote(self, user: User, webinar_id: str, question_id: str, add: bool) -> tuple[int, int]:
        """Upvote (or take back the upvote of) someone else's open question: idempotent.
        (votes, version) as the store has them after it. The store checks and votes in one
        statement; only a refusal costs more reads (to say why, as the other routes do)."""
        taken = await self._store.vote(webinar_id, question_id, user.user_id, add) \
            if webinar_id.startswith("webinar-") else None
        if taken is None:
            await self.context(user, webinar_id)  # NotFound for no such webinar
            raise NotFound("no such question")
        changed, votes, version, state, author_id, webinar_state = taken
        if changed:
            self._ticker.question(webinar_id, question_id, votes, version)
            return votes, version
        if webinar_state in CLOSED_STATES:
            raise Conflict(f"the webinar is {webinar_state}: its board takes nothing more")
        if state == "pending" and author_id != user.user_id and \
                (await self.context(user, webinar_id)).role not in ANSWERING:
            raise NotFound("no such question")
        if author_id == user.user_id:
            raise Forbidden("you cannot vote for your own question")
        if state not in ("open", "answering"):
            raise Conflict(f"the question is {state}: only open questions take votes")
        return votes, version  # a repeat: nothing to change

    # -- polls -----------------------------------------------------------------------------

    async def create_poll(self, user: User, webinar_id: str, draft: PollDraft) -> Poll:
        ctx = await self._open_context(user, webinar_id)
        if not ctx.hosting:
            raise Forbidden("only the webinar's hosts and moderators prepare polls")
        question_en = _text(draft.question_en, "question.en", MAX_POLL_QUESTION_CHARS, required=False)
        question_zh = _text(draft.question_zh, "question.zh", MAX_POLL_QUESTION_CHARS, required=False)
        if not question_en and not question_zh:
            raise invalid("question", "give the question in English, Chinese or both")
        if not MIN_OPTIONS <= len(draft.options) <= MAX_OPTIONS:
            raise invalid("options", f"a poll has {MIN_OPTIONS} to {MAX_OPTIONS} options")
        options = []
        for index, (en, zh) in enumerate(draft.options):
            en = _text(en, f"options.{index}.en", MAX_OPTION_CHARS, required=False, multiline=False)
            zh = _text(zh, f"options.{index}.zh", MAX_OPTION_CHARS, required=False, multiline=False)
            if not en and not zh:
                raise invalid(f"options.{index}", "give the option in English, Chinese or both")
            options.append(PollOption(en, zh))
        now_ms = self._clock.now_ms()
        poll = Poll(
            poll_id=f"p-{secrets.token_hex(8)}", webinar_id=webinar_id, question_en=question_en,
            question_zh=question_zh, options=tuple(options), multiple=draft.multiple, state="draft",
            results_public=ctx.results_public if draft.results_public is None else draft.results_public,
            counts=(0,) * len(options), answers=0, counts_version=0, created_by=user.user_id,
            created_at_ms=now_ms, updated_at_ms=now_ms)
        await self._store.create_poll(poll)
        return poll

    async def _poll(self, webinar_id: str, poll_id: str, ctx: Context | None = None) -> Poll:
        """The poll; NotFound also for a draft to one who does not run the webinar's polls
        (the same answer as for no poll: the board shows drafts to its hosts only)."""
        poll = await self._store.get_poll(poll_id)
        if poll is None or poll.webinar_id != webinar_id or (
                ctx is not None and poll.state == "draft" and not ctx.hosting):
            raise NotFound("no such poll")
        return poll

    async def move_poll(self, user: User, webinar_id: str, poll_id: str, change: str) -> Poll:
        """Open a draft, close an open poll (the `poll` event carries the final counts when
        the results are public), publish the results (a `poll` event with the counts)."""
        if change not in POLL_CHANGES:
            raise invalid("change", f"must be one of {', '.join(POLL_CHANGES)}")
        ctx = await self.context(user, webinar_id)
        if not ctx.hosting:
            raise Forbidden("only the webinar's hosts and moderators run polls")
        if change == "open" and ctx.state in CLOSED_STATES:
            raise Conflict(f"the webinar is {ctx.state}: no poll opens now")
        poll = await self._poll(webinar_id, poll_id)
        done = {"open": poll.state in ("open", "closed"), "close": poll.state == "closed",
                "publish": poll.results_public}[change]
        if done:
            return poll
        told = {"open": "opened", "close": "closed", "publish": "results"}[change]
        moved = await self._store.move_poll(poll_id, change, self._clock.now_ms(),
                                            lambda after: poll_entry(after, told, user.user_id, user.display_name,
                                                                     user.role))
        if moved is None:
            current = await self._poll(webinar_id, poll_id)
            raise Conflict(f"the poll is {current.state}: it cannot {change}")
        poll, logged = moved
        self._on_committed(logged)
        return poll

    async def answer_poll(self, user: User, webinar_id: str, poll_id: str,
                          choices: list[int]) -> tuple[Poll, bool]:
        """Answer an open poll, or change the answer while it is open: idempotent. (The poll
        after it, whether the user may see its counts.)"""
        ctx = await self._open_context(user, webinar_id)
        poll = await self._poll(webinar_id, poll_id, ctx)
        if not choices or len(set(choices)) != len(choices):
            raise invalid("choices", "choose one or more options, each once")
        if not poll.multiple and len(choices) != 1:
            raise invalid("choices", "this poll takes exactly one choice")
        if any(not 0 <= choice < len(poll.options) for choice in choices):
            raise invalid("choices", f"each choice is an option index from 0 to {len(poll.options) - 1}")
        was_open, changed, after = await self._store.answer_poll(poll_id, user.user_id, choices,
                                                                 self._clock.now_ms())
        if not was_open or after is None:
            raise Conflict(f"the poll is {poll.state if poll.state != 'open' else 'closed'}: it takes no answers")
        if changed:
            hosts = () if after.results_public else tuple(sorted(
                user_id for user_id, role in (await self._people_of(webinar_id)).items() if role in MODERATING))
            self._ticker.poll(webinar_id, poll_id, after.counts, after.counts_version,
                              public=after.results_public, hosts=hosts)
        return after, after.results_public or ctx.hosting

    # -- the snapshot ----------------------------------------------------------------------

    async def snapshot(self, user: User, webinar_id: str, sort: str) -> dict[str, Any]:
        """The board as this viewer may see it now, and `seq`, the room's head read first: the
        events after it (a join with since=seq) bring every later change (docs/protocol.md)."""
        if sort not in SORTS:
            raise InvalidInput("'sort' must be votes or time")
        ctx = await self.context(user, webinar_id)
        room = await self._store.get_room(webinar_id)
        seq = room.head_seq if room is not None else 0
        hosting = ctx.role in ANSWERING
        questions = await self._store.board_questions(webinar_id, None if hosting else user.user_id,
                                                      MAX_BOARD_QUESTIONS)
        if sort == "votes":
            questions.sort(key=lambda x: (not x.pinned, -x.votes, x.created_at_ms, x.question_id))
        else:
            questions.sort(key=lambda x: (not x.pinned, -x.created_at_ms, x.question_id))
        votes = await self._store.my_votes(webinar_id, user.user_id)
        answers = await self._store.my_answers(webinar_id, user.user_id)
        polls = [poll for poll in await self._store.webinar_polls(webinar_id)
                 if ctx.hosting or poll.state != "draft"]
        shown = []
        for question in questions:
            view = question_view(question, hosting=ctx.hosting or (hosting and not question.anonymous))
            view["mine"] = question.author_id == user.user_id
            shown.append(view)
        return {
            "webinar": webinar_id,
            "seq": seq,
            "role": ctx.role,
            "state": ctx.state,
            "premoderated": ctx.premoderated,
            "sort": sort,
            "questions": shown,
            "my_votes": votes,
            "polls": [poll_view(poll, counts=poll.results_public or ctx.hosting) for poll in polls],
            "my_answers": answers,
        }


def poll_entry(poll: Poll, change: str, author_id: int, author_name: str, author_role: str, *,
               auto: bool = False) -> SendRequest:
    """A `poll` event: opened, closed or results (with the counts when they are public, so a
    public poll's close and any poll's results carry its final counts: the record)."""
    data: dict[str, Any] = {"change": change, "poll": poll_view(poll, counts=poll.results_public)}
    if auto:
        data["auto"] = True
    return SendRequest(poll.webinar_id, author_id, author_name, server_cid(), "", kind="poll",
                       target_id=poll.poll_id, data=data, author_role=cast(Any, author_role))
