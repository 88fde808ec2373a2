"""The Store port: the one source of truth for history, rooms and accounts.

Contract shared by every backend (tests/contract/test_store.py runs it against each):
- `append_batch` commits all new messages of a batch in one transaction and returns only after
  the commit is durable. Within a room, seq is assigned head+1, head+2, … with no hole and no
  duplicate, also when several nodes append concurrently.
- A repeated (room_id, author_id, cid) never creates a row: its outcome carries the original
  message with created=False (also when both copies are in the same batch).
- Edits, deletes and reactions are checked against their target message inside the same
  transaction (it exists in the room and is not deleted; the editor is its author or a
  moderator; a reaction is not added twice nor removed when absent); a refused one takes no
  seq and its outcome carries `error`.
- Reads return messages in ascending seq order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.resources.abc import Traversable
from typing import Any, Protocol

from chat.models import Message, Role, Room, SendOutcome, SendRequest, Topic, User
from chat.models import MemberPage, MemberQuery, Profile, ProfileChanges
from chat.models import DigestRoom, NoticeItem, Notification, NotificationKind
from chat.models import Project, ProjectChanges, ProjectDocument, ProjectUpdate
from chat.models import Webinar, WebinarChanges, WebinarPersonRole, WebinarState, WebinarWhen
from chat.models import AskLimits, Poll, Question, QuestionChange
from chat.models import DocMeta, DocMention, DocState, DocVersion, Document, LibraryQuery
from chat.models import StoredFile, Upload
from chat.models import SearchEntry, SearchHit, SearchKind, SearchQuery
from chat.models import SessionInfo, TokenPurpose

from chat.models import MailPreferences, OutboxMail
from chat.models import Report, ReportStatus, Sanction, SanctionKind
from chat.models import AuditEntry, OwnLink, OwnMessage, OwnRead, OwnReaction, OwnWebinarItem
from chat.models import TwoFactorState
from chat.store.board import Asked, PollEntryFor, QuestionEntryFor, VoteTaken
from chat.store.personal import WebinarItemKind
from chat.store.exports import NamedReactions
from chat.store.rows import Reactions
from chat.store.webinars import Changed, PollClosedFor

# A change's log entry, made from the webinar as the change leaves it (chat/store/webinars.py).
EntryFor = Callable[[Webinar], SendRequest]


class Store(Protocol):
    dialect: str

    async def ping(self) -> None:
        """Raise if the store cannot answer a trivial query."""

    async def migrate(self, source: Traversable | None = None) -> list[str]:
        """Apply pending migrations once (safe when several nodes start together); seed rooms.
        Returns the versions applied by this call. `source` holds the migration folders
        (default: chat/store/migrations; chat/store/migrations/__init__.py tells their layout)."""

    # -- rooms and history -----------------------------------------------------------------

    async def list_rooms(self, kinds: tuple[str, ...]) -> list[Room]: ...

    async def rooms_after(self, kinds: tuple[str, ...], after: str, limit: int) -> list[Room]:
        """At most `limit` rooms of these kinds with an id after `after` (code-point order),
        in that order: every room, page by page (a compliance export of all rooms)."""

    async def get_room(self, room_id: str) -> Room | None: ...

    async def room_heads(self, room_ids: list[str]) -> dict[str, int]:
        """Current head seq of each existing room among room_ids."""

    async def append_batch(self, sends: list[SendRequest], now_ms: int) -> list[SendOutcome]:
        """Commit a group of sends (see module contract); outcomes match sends by index."""

    async def messages_after(self, room_id: str, after_seq: int, limit: int) -> list[Message]:
        """Log entries (every kind) with seq > after_seq, oldest first, at most limit."""

    async def messages_before(self, room_id: str, before_seq: int, limit: int) -> list[Message]:
        """The `limit` log entries just before before_seq, returned oldest first."""

    async def message_page(
        self, room_id: str, *, after: int | None, before: int | None, limit: int
    ) -> tuple[list[Message], Reactions]:
        """History as people read it: only kind "message" entries, in their current state
        (edited body, tombstone), oldest first — after `after`, else the `limit` just before
        `before` (or the latest) — with their reactions."""

    async def timeline_events(
        self, room_id: str, *, above: int, below: int, limit: int, newest: bool
    ) -> list[Message]:
        """The room's timeline entries besides messages (kinds "status" and "membership") with
        above < seq < below, oldest first; at most `limit` of them: the newest of the span when
        `newest`, else the oldest."""

    async def message_versions(self, room_id: str, message_id: str) -> list[tuple[int, str, int, int]] | None:
        """(version, earlier body, edited_at_ms, editor_id) of a message, oldest first; None
        when the room has no such message."""

    # -- access, direct rooms, topics (chat/store/conversations.py; tests/e2e/test_privacy.py)

    async def room_access(self, room_id: str, user_id: int) -> tuple[Room | None, bool]:
        """The room (None if it does not exist) and whether the user may see it: sector and
        city rooms everyone; a direct room its current members; a thread whoever may see one
        of the rooms it is listed in."""

    async def visible_pairs(self, pairs: list[tuple[str, int]]) -> set[tuple[str, int]]:
        """The (room_id, user_id) pairs among `pairs` whose user may see the room, by
        room_access's rule, in one query (or a few for many pairs); a room that does not exist
        is seen by no one."""

    async def users_by_id(self, user_ids: list[int]) -> dict[int, str]:
        """Display names of the members among user_ids that exist (never a webinar's guest)."""

    async def open_direct(
        self, room_id: str, member_ids: list[int], creator_id: int, title: str, now_ms: int,
        *, replacing: str | None = None,
    ) -> tuple[Room | None, bool]:
        """The direct room of exactly these members, created (True) under room_id unless one
        exists (False); safe when several callers open it at once. Every member of a new room
        counts as added by creator_id. Nobody's membership changes in an existing one.
        (None, False), nothing changed, when a member other than creator_id left for good a
        room that started with exactly these members or had exactly them when they left.
        replacing: a room the creator left for good and others wrote in since; it stops being
        found for these members (if it still was) in the same transaction."""

    async def find_direct(self, member_ids: list[int]) -> Room | None:
        """The direct room open_direct would find for these members, or None. A room stays
        findable after members left it by their own hand (remove_member for_good), not after
        an add or an admin's removal changed who is in it."""

    async def direct_rooms(self, user_id: int) -> list[Room]: ...

    async def room_members(self, room_ids: list[str]) -> dict[str, list[tuple[int, str, str | None]]]:
        """Current members per room: (user_id, display_name, time_zone); the zone is None when
        the member never set one."""

    async def add_member(self, room_id: str, user_id: int, now_ms: int, max_members: int,
                         *, by_id: int | None = None) -> str:
        """Bring user_id into a direct room (by_id: who did), checked and done in one
        transaction that adds and leaves of the room wait for. Returns "added"; "member" when
        they are one already; "not_addable" (nothing changed) when they left the room for good
        or a block stands between them and a current member, either way, or when they left
        for good another room that started with, or had when they left, exactly the members
        this add would make; "full" (nothing changed) when the room has max_members;
        "not_found" (nothing changed) when by_id is not a current member (any more)."""

    async def rejoin_direct(self, room_id: str, user_id: int, now_ms: int, max_members: int) -> str:
        """A member who left for good comes back by their own hand: "rejoined"; "member" when
        they are one; "not_addable" when they never were, did not leave by themselves, or a
        block stands between them and a current member, either way; "full" when the room has
        max_members; "moved_on" (nothing changed) when someone wrote in the room since they
        left. Checked and done in one transaction, like add_member."""

    async def added_by(self, room_id: str, user_id: int) -> int | None:
        """Who brought a current member in (themselves for one who opened or rejoined it);
        None for someone who is not a current member, or was added before this was recorded."""

    async def remove_member(self, room_id: str, user_id: int, now_ms: int, *, for_good: bool = False) -> None:
        """Remove a current member (nothing if they are not one). for_good: they left or
        declined by their own hand, so add_member refuses them from now on and the room stays
        findable by its first members (find_direct); who was there and the room's head seq
        are recorded for open_direct, add_member and rejoin_direct; else (an admin's removal) they may be
        added again and the room is no longer "the conversation of exactly these people"."""

    async def block_user(self, blocker_id: int, blocked_id: int, now_ms: int) -> None:
        """Record that blocker_id blocked blocked_id (again: nothing changes). From then on no
        notification of blocker_id has blocked_id as its actor (create_notifications), and
        add_member / any_block_among see the block."""

    async def unblock_user(self, blocker_id: int, blocked_id: int) -> None:
        """Lift a block; nothing happens if there is none."""

    async def blocked_users(self, blocker_id: int) -> list[tuple[int, str]]:
        """(user_id, display_name) of everyone blocker_id blocked, oldest block first."""

    async def any_block_among(self, user_ids: list[int]) -> bool:
        """Whether one of these users blocked another of them."""

    async def threads_in_room(self, room_id: str) -> list[str]:
        """Ids of the topics and news posts listed in a room."""

    async def create_topic(self, topic: Topic) -> None: ...

    async def get_topic(self, topic_id: str) -> Topic | None: ...

    async def topics_in_room(self, room_id: str, kind: str, limit: int) -> list[Topic]:
        """Pinned first, then by last activity."""

    async def news_feed(self, before_ms: int, limit: int) -> list[Topic]:
        """News listed in sector or city rooms, created before before_ms, newest first."""

    async def update_topic(self, topic_id: str, *, resolved: bool | None, pinned: bool | None) -> None: ...

    # -- accounts --------------------------------------------------------------------------

    async def create_user(
        self, email: str, display_name: str, password_hash: str, role: Role, now_ms: int
    ) -> User:
        """Raises EmailTaken if the (lower-cased) email exists."""

    async def create_guest(
        self, webinar_id: str, placeholder: str, display_name: str, password_hash: str, now_ms: int
    ) -> User:
        """A webinar's guest: a users row with guest_of = webinar_id, role 'member', the
        (unique, random, non-address) placeholder as its email."""

    async def user_by_id(self, user_id: int) -> User | None:
        """The account of this id (member, guest or deleted: whatever the row says), or None."""

    async def user_credentials(self, email: str) -> tuple[User, str] | None:
        """The member (never a guest) and password hash for an email, or None."""

    async def set_role(self, user_id: int, role: Role) -> None: ...

    async def create_session(self, token_hash: bytes, user_id: int, expires_ms: int, *,
                             created_ms: int | None = None, user_agent: str | None = None,
                             address: str | None = None) -> None:
        """A session; `created_ms` (also its first last-seen time), the client's user agent
        (trimmed by the caller) and address are what the member's session list shows."""

    async def session_user(self, token_hash: bytes, now_ms: int) -> User | None:
        """The user of an unexpired session, or None."""

    async def delete_session(self, token_hash: bytes) -> int | None:
        """End a session; returns its user's id, or None if there was no such session."""


    async def live_sessions(self, token_hashes: list[bytes], now_ms: int) -> set[bytes]:
        """Those of the given sessions that exist and have not expired (one batched query;
        the hub's sweep asks it about every session with a WebSocket on the node)."""

    # -- account recovery (issue 15, H3; chat/store/recovery.py, migration 0026) -------------

    async def create_account_token(self, token_hash: str, purpose: TokenPurpose, user_id: int,
                                   email: str, now_ms: int, expires_ms: int) -> None:
        """Keep a mailed link's token (its SHA-256, hex) for `purpose`, sent to `email`; the
        member's earlier unused tokens of that purpose stop working."""

    async def live_token_user(self, token_hash: str, purpose: TokenPurpose, now_ms: int) -> int | None:
        """The user of a mailed token of `purpose` not used and not expired, else None; takes
        nothing (a cheap check before costly work: hashing a new password, say)."""

    async def verify_email(self, token_hash: str, now_ms: int) -> int | None:
        """Take an unused, unexpired verify token (once, on any node) and mark its member's
        address verified if it is still the address the link was sent to: the member's id, or
        None (unknown, used, expired, or the address changed since)."""

    async def reset_password(self, token_hash: str, password_hash: str, now_ms: int) -> int | None:
        """Take an unused, unexpired reset token and set its member's password hash (and mark
        the address verified: the link reached it), in one transaction: the member's id, or
        None (nothing changed)."""

    async def change_email(self, token_hash: str, now_ms: int) -> tuple[int, str] | None:
        """Take an unused, unexpired email_change token and make its address the member's
        (verified), in one transaction: (member id, the previous address), or None. Raises
        EmailTaken (nothing changed, the token not taken) if another account has it now."""

    async def email_verified_at(self, user_id: int) -> int | None:
        """When the member's current address was proved, or None."""

    async def set_email_verified(self, user_id: int, now_ms: int) -> None:
        """Mark the address verified (kept if it already was)."""

    async def set_password_hash(self, user_id: int, password_hash: str) -> None: ...

    async def touch_session(self, token_hash: bytes, now_ms: int) -> None:
        """Record that the session was used at now_ms (callers do so at most every few minutes)."""

    async def user_sessions(self, user_id: int, now_ms: int) -> list[SessionInfo]:
        """The member's unexpired sessions, most recently seen first."""

    # -- attempt counters (login and registration limits; chat/store/attempts.py) -----------

    async def count_attempts(
        self, keys: list[str], now_ms: int, window_ms: int
    ) -> list[tuple[int, int]]:
        """Count one attempt on each key, each atomically: (attempts in the key's current
        window, this one included; the window's end). A window starts at a key's
        first attempt after the previous one ended and lasts window_ms. Concurrent calls, on
        any node, each see a distinct count."""

    async def forgive_attempts(self, counted: list[tuple[str, int]]) -> None:
        """Take back one attempt per (key, window end) counted earlier, if that window is
        still the key's current one (a success is not a failure)."""

    async def clear_attempts(self, key: str) -> None:
        """Forget a key's attempts."""

    # -- profiles and the member directory (tests/contract/test_profiles_store.py) ----------

    async def get_profile(self, user_id: int) -> Profile | None:
        """A member's profile (sectors and languages in code-point order), or None."""

    async def update_profile(self, user_id: int, changes: ProfileChanges) -> Profile | None:
        """Apply the given fields in one transaction (given sectors or languages replace the
        whole list) and return the new profile; None for an unknown user (nothing changes)."""

    async def list_members(self, query: MemberQuery) -> MemberPage:
        """Members matching every filter, ordered by display name folded to lower case, then
        user id (code-point order on every store, so pages are stable), at most query.limit of
        them after query.after; next_after is set only when more follow."""

    async def change_role(self, user_id: int, role: Role) -> Profile | None:
        """Set a member's role; None for an unknown user. Raises Conflict, changing nothing,
        when it would leave no admin (also when two admins demote each other at once)."""

    async def members_without_search_key(self, limit: int) -> list[tuple[int, str, str]]:
        """Up to `limit` members whose search key was never written, (user_id, display_name,
        alt_name) by user id; the caller writes each key with update_profile."""

    # -- read state (tests/contract/test_reads_store.py) ------------------------------------

    async def advance_read(self, user_id: int, room_id: str, seq: int) -> tuple[int, bool]:
        """Raise the user's last-read seq in an existing room to `seq`, never lower it; a
        position of 0 stores nothing (no row reads as 0). Returns the position now and whether
        it moved. The caller checks the room and that seq is not past its head."""

    async def read_position(self, user_id: int, room_id: str) -> int:
        """The user's last-read seq in the room, 0 when never set."""

    async def read_summaries(self, user_id: int, room_ids: list[str]) -> dict[str, tuple[int, int]]:
        """(last-read seq, unread) per existing room among room_ids, in one statement. Unread
        counts kind "message" entries by others, not deleted, after the position, up to
        chat/store/reads.py UNREAD_CAP."""

    async def member_reads(self, room_id: str) -> list[tuple[int, str, int]]:
        """(user_id, display_name, last-read seq) of each current member of a room with
        members (direct rooms), by user id."""

    # -- room settings (tests/contract/test_room_settings_store.py) --------------------------

    async def set_room_notify(self, user_id: int, room_id: str, notify: str | None) -> None:
        """Store the user's notify level ("all", "mentions" or "none") for an existing room,
        replacing any earlier one; None removes it (back to the default for the room's kind).
        The caller checks the room and the value."""

    async def room_notify_levels(self, user_id: int, room_ids: list[str]) -> dict[str, str]:
        """The user's stored notify level per room among room_ids that has one, in one
        statement (rooms without one are left out)."""

    # -- notifications (tests/contract/test_notifications_store.py) ------------------------

    async def create_notifications(self, message_ids: list[str], now_ms: int) -> list[Notification]:
        """Store the notifications these new messages cause and return them: for each kind
        "message" entry still not deleted, one per user other than its author — "mention"
        (mentioned and may see the room), else "reply" (authored the topic or news thread it is
        in), else "direct" (a current member of its direct room) — and none for a user who
        blocked its author (block_user). Not idempotent: call once."""

    async def list_notifications(
        self, user_id: int, *, unread_only: bool, before_id: int, limit: int
    ) -> list[Notification]:
        """The user's notifications with id < before_id, newest first, at most limit, only in
        rooms the user may see now."""

    async def unread_notifications(self, user_id: int) -> int:
        """How many of the user's notifications in rooms they may see are unread."""

    async def mark_notifications_read(
        self, user_id: int, notification_ids: list[int] | None, now_ms: int
    ) -> list[int]:
        """Mark the user's unread notifications among notification_ids (None: all of them)
        read; other users' ids are ignored. Returns the ids that changed, ascending."""

    # -- webinars (chat/store/webinars.py; tests/contract/test_webinars_store.py) -----------

    async def create_webinar(self, webinar: Webinar, entry: EntryFor | None = None) -> Changed:
        """Create the webinar's room (kind "webinar", its titles), its row, people and listing
        rooms, and append `entry(webinar as stored)` to its log, in one transaction;
        `registrations` is ignored. Every change below appends its entry the same way: the
        webinar room's log holds its changes in the order they committed. Without `entry`
        (tests that only need the row), a bare entry: data {change}, by the creator."""

    async def get_webinar(self, webinar_id: str) -> Webinar | None:
        """The webinar with its people (hosts, then panelists, by id), listing rooms (sorted)
        and registration count; None for an unknown id."""

    async def list_webinars(self, when: WebinarWhen, *, listed_in: str | None,
                            after: tuple[int, str] | None, limit: int) -> list[Webinar]:
        """At most `limit` webinars: "upcoming" (scheduled) and "live" ones by (starts_at_ms,
        id) ascending after `after`, "past" ones (ended or cancelled) descending before it;
        only those listed in `listed_in` when given."""

    async def edit_webinar(self, webinar_id: str, changes: WebinarChanges, now_ms: int,
                           entry: EntryFor) -> Changed | None:
        """Apply an edit (the room's titles follow; people and listing rooms are replaced when
        given), raise `sequence` by one and append the entry, only while the webinar is
        scheduled. None (nothing changed) otherwise or for an unknown id."""

    async def set_webinar_state(self, webinar_id: str, state: WebinarState, now_ms: int,
                                entry: EntryFor | None = None, closing: PollClosedFor | None = None,
                                ) -> Changed | None:
        """Move it to "live" (from scheduled; started_at), "ended" (from live; ended_at) or
        "cancelled" (from scheduled; ended_at, sequence + 1), with its entry. Only for the one
        caller whose conditional update changed it; None for the others. Ending or cancelling
        also closes its open polls, each with its `closing` entry (in `also`, before the
        webinar's entry), in the same transaction."""

    async def end_overdue_webinars(self, ends_before_ms: int, now_ms: int, limit: int,
                                   entry: EntryFor, closing: PollClosedFor | None = None) -> list[Changed]:
        """End (as set_webinar_state "ended") at most `limit` live webinars whose end is before
        `ends_before_ms`; those this call ended, so concurrent sweeps end each once."""

    async def set_webinar_chat(self, webinar_id: str, mode: str, slow_mode_s: int, now_ms: int,
                               entry: EntryFor) -> Changed | None:
        """Set the audience chat mode while scheduled or live, with its entry; None otherwise."""

    async def webinar_person_role(self, webinar_id: str, user_id: int) -> WebinarPersonRole | None:
        """"host" or "panelist" when the user is one of the webinar's people, else None."""

    async def set_registration(self, webinar_id: str, user_id: int, registered: bool, now_ms: int) -> bool:
        """Register or unregister the user (idempotent); whether anything changed."""

    async def registered_for(self, user_id: int, webinar_ids: list[str]) -> set[str]:
        """Which of these webinars the user registered for."""

    async def webinar_chat_rules(self, webinar_id: str, user_id: int) -> tuple[str, str, int, str | None] | None:
        """(state, chat mode, slow mode seconds, the user's role among its people or None) of
        a webinar; None for an unknown id. One query: it runs on every send in the room."""

    async def last_chat_message(self, room_id: str, user_id: int, cid: str) -> tuple[bool, int | None]:
        """(whether the user's entry with this cid exists in the room, when the user's latest
        kind "message" entry there was sent, or None)."""

    async def notify_registered(self, webinar_id: str, message_id: str, kind: NotificationKind,
                                now_ms: int) -> list[Notification]:
        """One notification of `kind` about the webinar's log entry `message_id` for every
        member registered for it but the entry's author; returned by id. Not idempotent."""

    # -- the webinar board (chat/store/board.py; tests/contract/test_board_store.py) ---------

    async def board_context(self, webinar_id: str, user_id: int) -> tuple[str, bool, bool, str | None] | None:
        """(state, premoderated, results_public, the user's role among its people or None) of
        a webinar; None for an unknown id. One query: it runs on every board write."""

    async def webinar_people(self, webinar_id: str) -> list[tuple[int, str]]:
        """The webinar's hosts and panelists: (user id, "host" or "panelist"), by id."""

    async def board_staff(self, webinar_id: str) -> list[tuple[int, str]]:
        """Who sees the webinar's pending questions and private counts live: its hosts and
        panelists, and the platform's moderators and admins who are neither ("moderator"), by
        id."""

    async def ask_question(self, question: Question, entry: QuestionEntryFor | None = None, *,
                           limits: AskLimits | None = None) -> Asked:
        """Store a new question (votes 0, version 0) and append `entry(question as stored)` (if
        not None) to the webinar's log, in one transaction under the webinar's row lock:
        (question, True, entries). A repeated (webinar, author, cid) stores nothing and returns
        the original with False and no entries, whatever the limits. NotFound for no such
        webinar; Conflict once it ended or was cancelled; with `limits`, QuestionTooSoon or
        TooManyOpenQuestions, checked in the same transaction (atomic across nodes)."""

    async def question_by_cid(self, webinar_id: str, author_id: int, cid: str) -> Question | None:
        """The question this author asked with this cid in the webinar, if any."""

    async def asker_limits(self, webinar_id: str, user_id: int) -> tuple[int, int | None]:
        """(how many of the user's questions there are pending, open or answering; when they
        last asked there, or None)."""

    async def get_question(self, question_id: str) -> Question | None: ...

    async def board_questions(self, webinar_id: str, viewer_id: int | None, limit: int) -> list[Question]:
        """The newest `limit` questions of a webinar: all of them (viewer None: its hosts), or
        the open, answering and answered ones and the viewer's own pending ones."""

    async def change_question(self, question_id: str, change: QuestionChange, now_ms: int,
                              entry: QuestionEntryFor | None = None) -> tuple[Question, list[Message]] | None:
        """Apply the change and raise `version` by one, only if the question is in one of
        `change.only_from` (else None, nothing changed), and append `entry(question after)`,
        in one transaction: (question, entries)."""

    async def answer_now(self, webinar_id: str, question_id: str, now_ms: int,
                         entry: QuestionEntryFor | None = None, ended: QuestionEntryFor | None = None,
                         ) -> tuple[Question | None, list[str], list[Message]]:
        """Mark an open question "answering" and put the one answering before back to open,
        in one transaction under the webinar's row lock, with their entries (`ended` of each
        put back, then `entry`): (the question or None when it was not open, the ids put back,
        the entries)."""

    async def vote(self, webinar_id: str, question_id: str, user_id: int, add: bool) -> VoteTaken | None:
        """Add or take back the user's vote and change the counter and its version with it,
        only for an open or answering question of this webinar, not the user's own, while the
        webinar is scheduled or live; idempotent. One statement on PostgreSQL, one transaction
        on SQLite: (changed, votes, votes_version, question state, author, webinar state), or
        None for no such question in this webinar."""

    async def my_votes(self, webinar_id: str, user_id: int) -> list[str]:
        """The ids of the webinar's questions the user voted for, sorted."""

    async def create_poll(self, poll: Poll) -> None:
        """Store a draft poll with zero counts."""

    async def get_poll(self, poll_id: str) -> Poll | None: ...

    async def webinar_polls(self, webinar_id: str) -> list[Poll]:
        """Every poll of the webinar, oldest first."""

    async def move_poll(self, poll_id: str, change: str, now_ms: int,
                        entry: PollEntryFor | None = None) -> tuple[Poll, list[Message]] | None:
        """"open" (draft to open), "close" (open to closed) or "publish" (results public, once),
        and append `entry(poll after)`, in one transaction: (poll, entries); None when the poll
        was not where the change starts (nothing changed)."""

    async def answer_poll(self, poll_id: str, user_id: int, choices: list[int],
                          now_ms: int) -> tuple[bool, bool, Poll | None]:
        """Set the user's answer to an open poll and the poll's counts, answers and
        counts_version with it, under the poll's row lock: (it was open, something changed,
        the poll after it; None for no such poll)."""

    async def my_answers(self, webinar_id: str, user_id: int) -> dict[str, list[int]]:
        """The user's answers to the webinar's polls: poll id -> chosen option indexes."""

    # -- the audit log (chat/store/audit.py; tests/contract/test_audit_store.py) -------------

    async def add_audit(self, at_ms: int, actor_id: int | None, actor_label: str, action: str,
                        detail: dict[str, Any]) -> AuditEntry:
        """Append an entry (committed when this returns) and return it with its id; ids rise
        with every entry. actor_id None: an operator at the command line."""

    async def audit_entries(self, before_id: int, limit: int) -> list[AuditEntry]:
        """At most `limit` entries with id < before_id, newest first."""

    # -- secrets the nodes share (chat/store/secrets.py; tests/contract/test_secrets_store.py) --

    async def server_secret(self, name: str, now_ms: int) -> bytes:
        """The 32 random bytes named `name`: made at the first call on any node, the same for
        every later call, on every node (a race makes one, both callers get it)."""

    # -- email notifications: what the producers read and claim (chat/store/mail_notices.py;
    #    tests/contract/test_mail_notices_store.py) -------------------------------------------

    async def mail_notices_due(self, since_ms: int, cutoff_ms: int, now_ms: int, mailed_before_ms: int,
                               limit: int) -> list[int]:
        """At most `limit` user ids (ascending) with a notification of kind mention, reply or
        direct made in (since_ms, cutoff_ms], still unread (not marked read, its room not read
        up to its seq) and not yet dealt with (claim/finish_mail_notices), whose batch no node
        holds at now_ms and who were last mailed at or before mailed_before_ms."""

    async def claim_mail_notices(self, user_id: int, newest_ms: int, now_ms: int, lease_ms: int,
                                 mailed_before_ms: int) -> tuple[int, int] | None:
        """Take the member's next batch for lease_ms: (after_id, through_id), the notification
        ids in (after_id, through_id]. A batch whose lease lapsed unfinished is taken over as
        it was; else it ends at their newest notification made by newest_ms. None when another
        holds it, they were mailed after mailed_before_ms, or there is nothing new. Of nodes
        racing, one gets it."""

    async def mail_notice_items(self, user_id: int, after_id: int, through_id: int,
                                limit: int) -> list[NoticeItem]:
        """The batch's notifications still worth an email, by id, at most `limit`: mention,
        reply or direct, unread (as mail_notices_due), the message not deleted, the room visible
        to them and not muted by them (notify "none"), the actor not blocked by them."""

    async def mail_member(self, user_id: int, now_ms: int) -> User | None:
        """The member (never a webinar's guest, whose email is no address) by id, or None. Only members notification mail may go to: not deleted, their address verified, no
        suspension or ban in force at now_ms (chat/store/mail_notices.py, mailable)."""

    async def finish_mail_notices(self, user_id: int, through_id: int, mailed_at_ms: int | None) -> bool:
        """The batch ending at through_id is dealt with: later batches start after it;
        mailed_at_ms (None: nothing was mailed) becomes when they were last mailed. False (and
        nothing changes) when that is not the member's batch now."""

    async def claim_mail_job(self, job_key: str, now_ms: int, lease_ms: int) -> bool:
        """Take the piece of work `job_key` for lease_ms: True when it is not done and no node
        holds it (a lapsed lease is taken over). Of nodes racing, one gets it."""

    async def finish_mail_job(self, job_key: str, now_ms: int) -> None:
        """Mark the piece of work done: never claimed again (until pruned)."""

    async def mail_jobs_done(self, job_keys: list[str]) -> set[str]:
        """Which of these pieces of work are done."""

    async def prune_mail_jobs(self, done_before_ms: int) -> None:
        """Forget the pieces of work done before done_before_ms."""

    async def webinars_starting(self, after_ms: int, until_ms: int) -> list[tuple[str, int]]:
        """(webinar id, starts_at_ms) of the scheduled webinars starting in (after_ms,
        until_ms], by start then id."""

    async def webinar_audience(self, webinar_id: str, now_ms: int) -> list[tuple[User, str | None]]:
        """The members (no guests) registered for the webinar and its people (hosts, panelists),
        once each, by user id, each with the time zone they set (None: never set). Only members notification mail may go to: not deleted, their address verified, no
        suspension or ban in force at now_ms (chat/store/mail_notices.py, mailable)."""

    async def digest_members(self, after_id: int, limit: int, now_ms: int) -> list[tuple[User, str | None, str]]:
        """At most `limit` members with user id > after_id (ascending) whose digest is "daily"
        or "weekly": (member, the time zone they set or None, the frequency). Only members notification mail may go to: not deleted, their address verified, no
        suspension or ban in force at now_ms (chat/store/mail_notices.py, mailable)."""

    async def digest_contents(self, user_id: int, room_ids: list[str], from_ms: int,
                              to_ms: int) -> list[DigestRoom]:
        """For each of room_ids the member may see (in that order; others left out): its kind
        "message" entries not deleted sent in [from_ms, to_ms), and the topics and news posts
        listed in it created in that time, the most replies first."""
    # -- two-factor sign-in (chat/store/two_factor.py, migration 0027;
    #    tests/contract/test_two_factor_store.py) --------------------------------------------

    async def two_factor_state(self, user_id: int) -> TwoFactorState | None:
        """The member's two-factor row (secret, enabled, last accepted step, unused recovery
        codes), or None when they never began setting it up."""

    async def begin_two_factor(self, user_id: int, secret: str, now_ms: int) -> bool:
        """Keep `secret` as the member's pending TOTP secret (replacing a pending one). False,
        changing nothing, when two-factor is already enabled."""

    async def enable_two_factor(self, user_id: int, step: int, code_hashes: list[str],
                                now_ms: int) -> bool:
        """Turn the pending secret on, `step` counting as used, with these recovery codes
        (replacing any). False, changing nothing, when nothing is pending (none, or already
        enabled) or the step is not after the last one accepted."""

    async def use_totp_step(self, user_id: int, step: int) -> bool:
        """Accept the time step `step` once: True when two-factor is enabled and `step` is
        after the last accepted one (which it becomes); False otherwise, across every node."""

    async def use_recovery_code(self, user_id: int, code_hash: str, now_ms: int) -> bool:
        """Spend an unused recovery code: True once per code, False for an unknown or used one."""

    async def replace_recovery_codes(self, user_id: int, code_hashes: list[str]) -> bool:
        """The member's recovery codes become these (all unused). False, changing nothing,
        when two-factor is not enabled."""

    async def disable_two_factor(self, user_id: int) -> bool:
        """Remove the secret and the recovery codes. False when there was none."""

    # -- deleting an account (chat/store/deletion.py, migration 0027;
    #    tests/contract/test_deletion_store.py) ----------------------------------------------

    async def delete_account(self, user_id: int, placeholder: str, password_hash: str,
                             now_ms: int) -> list[bytes] | None:
        """In one transaction: blank the user's row (email becomes `placeholder`, which frees
        the address; name empty, which readers show as "deleted member"; profile fields to their
        defaults; role member; the unusable `password_hash`; deleted_at_ms set), and delete
        their sessions, tags, blocks (both ways), room settings, read state, notifications,
        webinar registrations, project follows, two-factor secret and recovery codes, mailed
        links' tokens, mail preferences and digest rooms, and mail to them in the outbox (sent
        or not), mail notice state, spam-check digests, project memberships, the note of
        each report they filed (the report stays); unfinished uploads expire at once (the
        files sweeper removes them); the email verification is reset. Messages, topics,
        reactions, room memberships and files stay. Returns the ended sessions' token hashes;
        None, changing nothing, for a guest, an unknown or an already deleted user. Raises
        Conflict, changing nothing, for the last admin."""

    async def account_deleted(self, user_id: int) -> bool:
        """Whether the user's account was deleted."""

    async def is_last_admin(self, user_id: int) -> bool:
        """Whether the user is the only admin (a cheap check before deleting; delete_account
        checks again under lock)."""
    # -- abuse limits (chat/store/abuse.py, migration 0029; tests/contract/test_abuse_store.py) --

    async def texts_elsewhere(self, user_id: int, digest: str, room_id: str, since_ms: int) -> int:
        """The spam check's read: how many rooms other than room_id user_id sent the text of
        this `digest` to since since_ms (as noted by note_texts)."""

    async def note_texts(self, notes: list[tuple[int, str, str, int]]) -> None:
        """Note (user_id, digest, room_id, sent_ms) rows in one transaction; a row already
        there for (user_id, digest, room_id) takes the new time."""

    async def prune_texts(self, before_ms: int) -> int:
        """Forget the texts noted before before_ms; returns how many rows went."""

    async def use_challenge(self, digest: str, expires_ms: int, now_ms: int) -> bool:
        """Spend a registration challenge: True the first time its digest is given, on any
        node, False after; kept until expires_ms (spent ones past now_ms are pruned)."""

    # -- a member's own data, for their archive (chat/store/personal.py;
    #    tests/contract/test_personal_store.py). Each pages by a key, oldest key first. -------

    async def own_messages(self, user_id: int, after: tuple[str, int], limit: int) -> list[OwnMessage]:
        """The user's kind "message" entries with (room_id, seq) after `after` (("", 0): from
        the start), by room id then seq, at most limit, in their final state (a deleted one
        has empty text), each with its reactions and the names of who gave them."""

    async def own_topics(self, user_id: int, after: str, limit: int) -> list[Topic]:
        """The topics and news posts the user started, by id after `after`, at most limit,
        each with the rooms it is listed in."""

    async def own_reactions(self, user_id: int, after: tuple[str, str], limit: int) -> list[OwnReaction]:
        """The reactions the user gave, by (message_id, emoji) after `after`, at most limit."""

    async def own_notifications(self, user_id: int, after_id: int, limit: int) -> list[Notification]:
        """All of the user's notifications with id > after_id, oldest first, at most limit;
        the excerpt is "" where the user may no longer see the room or the message is deleted."""

    async def own_reads(self, user_id: int, after_room: str, limit: int) -> list[OwnRead]:
        """The user's stored read positions in rooms with id > after_room, by room id."""

    async def own_links(self, user_id: int) -> list[OwnLink]:
        """Every tie of the user to a room besides messages (OwnLink), by relation and room."""

    async def own_webinar_items(self, user_id: int, kind: WebinarItemKind, after: str,
                                limit: int) -> list[OwnWebinarItem]:
        """The user's webinar questions (by question id), votes (by question id) or poll
        answers (by poll id) with an id > after, at most limit."""
    # -- transcript exports (chat/store/exports.py; tests/contract/test_exports_store.py) ---

    async def export_span(self, room_id: str, from_ms: int | None, to_ms: int | None) -> tuple[int, int]:
        """The room log's entries an export of [from_ms, to_ms) covers, as seqs (after, upto):
        after < seq <= upto. `after` is just before the first entry sent at or after from_ms
        (0 when None; the head when none is), `upto` the last entry sent before to_ms (the
        room's head, read now, when None; 0 when none is), never below `after` (then the span
        is empty). Two index lookups (migration 0016) whatever the room's size. (0, 0) for a
        room that does not exist."""

    async def export_page(self, room_id: str, after: int, upto: int, limit: int) -> tuple[list[Message], NamedReactions]:
        """At most `limit` log entries with after < seq <= upto, oldest first: kind "message"
        in its current state (final body, edited_at_ms, tombstone) and the room events
        ("topic", "status", "membership", "webinar"), never edit/delete/reaction or board
        events; with the reactions of the page's messages not deleted: message id ->
        [(emoji, display names in the order they reacted)], emojis in code-point order."""

    async def export_count(self, room_id: str, after: int, upto: int) -> int:
        """How many entries export_page would hand out over the whole span."""

    async def export_participants(self, room_id: str, after: int, upto: int, *,
                                  threads_from_ms: int | None = None,
                                  threads_to_ms: int | None = None, threads: bool = False) -> list[str]:
        """Display names of who wrote a message in the span (deleted ones too), and with
        `threads`, of who replied in [threads_from_ms, threads_to_ms) in a thread listed in
        the room; case-folded order, each name once."""

    async def export_earlier_threads(self, room_id: str, from_ms: int, to_ms: int | None) -> list[str]:
        """The ids of the threads listed in the room that were started before from_ms and have
        a reply sent in [from_ms, to_ms) (to_ms None: no end), oldest first."""

    async def export_questions(self, webinar_id: str, viewer_id: int | None, from_ms: int | None,
                               to_ms: int | None, after: tuple[int, str] | None,
                               limit: int) -> list[Question]:
        """A page of a webinar's questions asked in [from_ms, to_ms), oldest first (by
        created_at_ms, then id) after the key `after` (the last one's (created_at_ms,
        question_id)): all of them for viewer None (its hosts), else exactly what
        board_questions shows that viewer (open, answering and answered questions and their
        own pending ones)."""

    # -- eco-city projects (chat/store/projects.py; tests/contract/test_projects_store.py) ---

    async def create_project(self, project: Project) -> None:
        """Store a project with its `members` (ids; names are ignored), each of whom follows
        it. Its city and thread (topic_id) must be rooms, its creator and members users."""

    async def get_project(self, project_id: str, viewer_id: int) -> Project | None:
        """The project with its members (by name), documents (oldest first), follower count
        and whether `viewer_id` follows it; None for an unknown id."""

    async def list_projects(self, viewer_id: int, *, city: str | None, sector: str | None,
                            status: str | None, after: tuple[int, str] | None, limit: int) -> list[Project]:
        """At most `limit` projects, newest first (created_at_ms, then id, both descending),
        after the key `after` (the last one's (created_at_ms, project_id)); only those in
        `city`, having `sector` among theirs and of `status`, for each filter given. Each as
        get_project gives it for the viewer."""

    async def edit_project(self, project_id: str, changes: ProjectChanges, now_ms: int) -> bool:
        """Set the fields the changes name (and updated_at_ms) in one transaction; `members`
        replaces the member list, and each new member follows the project (followers who
        stop being members keep following). False for an unknown project."""

    async def is_project_member(self, project_id: str, user_id: int) -> bool: ...

    async def set_following(self, project_id: str, user_id: int, following: bool, now_ms: int) -> bool:
        """Follow or unfollow; True when that changed something (idempotent otherwise)."""

    async def add_project_document(self, project_id: str, document: ProjectDocument) -> bool:
        """Add a document (a library document or a file) to the project's page; False (and
        nothing changed) when it is there already. Touches updated_at_ms."""

    async def remove_project_document(self, project_id: str, item_id: str, now_ms: int) -> bool:
        """Take it off the page; False when it was not there."""

    async def add_project_update(self, update: ProjectUpdate) -> None:
        """Add a dated update to the project's timeline (touches updated_at_ms)."""

    async def get_project_update(self, update_id: str) -> ProjectUpdate | None: ...

    async def project_updates(self, project_id: str, *, before: tuple[str, int, str] | None,
                              limit: int) -> list[ProjectUpdate]:
        """At most `limit` of the project's updates, newest first: by happened_on, then
        created_at_ms, then id, all descending, after the key `before` (the last one's
        (happened_on, created_at_ms, update_id))."""

    async def notify_project_update(self, project_id: str, update_id: str, message_id: str,
                                    now_ms: int) -> list[Notification]:
        """Record that the update was told by the thread message `message_id`, and make one
        "project_update" notification about that message for each follower and member of
        the project but its author (each once); returned by id. Nothing (an empty list) when
        the message is not in the project's thread. Not idempotent."""
    # -- the knowledge library (chat/store/library.py; tests/contract/test_library_store.py) --

    async def create_document(self, doc_id: str, meta: DocMeta, state: DocState, proposed_by: int,
                              now_ms: int, first: tuple[str, str, dict[str, Any], str] | None) -> Document:
        """Store a new document (state "proposed" or "published"; published: reviewed by its
        proposer) with its sector and city tags and, when `first` = (file_id, sha256, file wire
        dict, note) is given, its version 1 by the proposer, in one transaction."""

    async def get_document(self, doc_id: str) -> Document | None: ...

    async def update_document(self, doc_id: str, meta: DocMeta, now_ms: int) -> Document | None:
        """Replace a document's metadata and tags (its state, counters and versions stay);
        None for no such document."""

    async def review_document(self, doc_id: str, from_states: tuple[DocState, ...], state: DocState,
                              reviewer_id: int, reason: str, now_ms: int) -> Document | None:
        """Move a document to `state` if it is in one of `from_states` now (checked under a row
        lock: two moderators cannot both act on one proposal), recording the reviewer and
        reason; publishing lists it anew (listed_at_ms = now). None when it is not (nothing
        changed) or does not exist."""

    async def add_document_version(self, doc_id: str, file_id: str, sha256: str, file: dict[str, Any],
                                   note: str, uploaded_by: int, now_ms: int) -> int | None:
        """Store the next version (current + 1, under a row lock: concurrent uploads get
        distinct numbers) and make it current; returns its number, None for no such document.
        Earlier versions stay."""

    async def document_versions(self, doc_id: str) -> list[DocVersion]:
        """Every version of the document, newest first, with the uploader's display name."""

    async def count_download(self, doc_id: str) -> None:
        """One more download of the document."""

    async def list_documents(self, query: LibraryQuery) -> list[Document]:
        """A page of documents in `query.state` matching every filter given: a tag (sector,
        city), a language (en and zh also match "both"), a type, a year, and `q` as a
        case-insensitive substring of either title. Ordered newest (listed_at_ms) or most
        downloaded first, or by the title in `query.lang` (falling back to the other, folded,
        code-point order); ties by doc id; after the key `query.after`."""

    async def add_document_mention(self, doc_id: str, room_id: str, message_id: str, at_ms: int) -> bool:
        """Record that a message in a room linked the document; False when the document does
        not exist or the message was recorded already."""

    async def document_mentions(self, doc_id: str, limit: int) -> list[DocMention]:
        """The document's latest `limit` mentions, newest first."""

    async def find_document_file(self, sha256: str, title_en: str, title_zh: str) -> str | None:
        """The id of a document (not withdrawn) with these exact titles that has a version of a
        file with this sha256: the importer's duplicate check."""

    async def first_admin(self) -> User | None:
        """The admin with the lowest id (who `ecolink import-library` acts as by default)."""
    # -- files and uploads (chat/store/files.py; tests/contract/test_files_store.py) --------

    async def create_upload(self, upload: Upload) -> tuple[Upload, bool]:
        """Store a new upload: (it, True); when the owner already has one with the same
        client_key: (that one, False), nothing stored."""

    async def upload_by_key(self, owner_id: int, client_key: str) -> Upload | None:
        """The owner's upload with this client key, if any."""

    async def get_upload(self, upload_id: str) -> Upload | None: ...

    async def commit_part(self, upload_id: str, from_offset: int, to_offset: int,
                          parts: Sequence[tuple[int, str]], mime: str | None, kind: str | None,
                          expires_at_ms: int) -> bool:
        """Move an unfinished upload from `from_offset` to `to_offset` with these parts (and the
        sniffed type, when not None), only if it is still at `from_offset` (else False, nothing
        changed: another request committed first)."""

    async def finish_upload(self, upload_id: str, file: StoredFile) -> bool:
        """Mark a fully received upload finished with `file` and store the file, in one
        transaction, once: False (nothing stored) when it was finished already or is not whole."""

    async def delete_upload(self, upload_id: str) -> bool:
        """Forget the upload row (True when there was one)."""

    async def expired_uploads(self, now_ms: int, limit: int) -> list[Upload]:
        """At most `limit` uploads (finished or not) that expired at or before now_ms, oldest first."""

    async def bytes_in_use(self, owner_id: int) -> int:
        """What counts against the owner's quota: the sizes of their ready files and of their
        unfinished uploads (declared sizes)."""

    async def add_file(self, file: StoredFile) -> None:
        """Store a file row as it is (a whole file stored in one go)."""

    async def get_file(self, file_id: str) -> StoredFile | None:
        """The file row in any state, or None."""

    async def files_by_id(self, file_ids: list[str]) -> dict[str, StoredFile]:
        """The rows among these ids, by id."""

    async def bind_files(self, owner_id: int, file_ids: list[str], scope: str, now_ms: int) -> int:
        """Give `scope` (and bound_at_ms) to those of the files that are the owner's, ready and
        unbound; how many changed."""

    async def set_file_ref(self, file_ids: list[str], ref: str) -> int:
        """Record `ref` on those of the files that are ready and bound to a scope; how many."""

    async def release_files(self, ref: str, now_ms: int, purge_after_ms: int,
                            file_ids: Sequence[str] | None = None) -> int:
        """Every ready file with this ref (of `file_ids` only, when given) becomes deleted now,
        its bytes due at purge_after_ms; how many."""

    async def drop_orphan_files(self, cutoff_ms: int, now_ms: int, purge_after_ms: int) -> int:
        """Every ready file without a ref, unbound since before cutoff_ms (created, or bound,
        before it), becomes deleted like release_files; how many."""

    async def files_to_purge(self, now_ms: int, limit: int) -> list[StoredFile]:
        """At most `limit` deleted files whose bytes are due (purge_after_ms <= now_ms)."""

    async def forget_file(self, file_id: str) -> bool:
        """Remove a deleted file's row (its bytes are gone); False when there was none."""

    # -- search (chat/store/search.py; tests/contract/test_search_store.py) -------------------

    # Messages index themselves: the append writer (chat/store/append.py) indexes a batch's new
    # messages, edits and deletes in the batch's transaction, so a search on any node finds
    # (or no longer finds) them as soon as the ack is sent. So do topics, news posts, webinar
    # questions and answers, and projects, in the transactions that change them. Documents'
    # text is extracted by the library service, which calls index_entries itself.
    search_indexing: bool  # False: the append writer indexes nothing (measuring its cost only)

    async def index_entries(self, entries: list[SearchEntry]) -> None:
        """Insert or replace these entries (by (kind, ref_id)), terms and language computed
        from their text."""

    async def unindex_entries(self, kind: SearchKind, ref_ids: list[str]) -> int:
        """Remove these entries; how many there were."""

    async def search(self, query: SearchQuery, user_id: int, guest_of: str | None) -> list[SearchHit]:
        """At most query.limit + 1 hits (one more says another page exists) that the user may
        read now: entries of rooms they may see (the rule of room_access, evaluated at query
        time, so a member removed from a direct conversation stops finding it at once), and
        room-less entries unless a guest (who finds their webinar's room only). Ordered by
        created_at_ms then entry_id, newest first, or by relevance: the newest
        search_sql.RELEVANCE_WINDOW matches (by entry_id, up to query.anchor), those among the
        newest RELEVANCE_RECENT entries up to the anchor first, each part best first
        (docs/decisions.md, "Search: CJK bigrams in Python")."""

    async def search_anchor(self) -> int:
        """The newest entry's id now (0: none), which a relevance search's pages keep as their
        SearchQuery.anchor so that entries added meanwhile do not shift them."""

    async def search_sources(self, kind: SearchKind, after: str, limit: int) -> list[SearchEntry]:
        """Rebuilding the index: at most `limit` entries of this kind made from the tables they
        come from, with ref_id after `after`, in ref_id order (documents: title and
        description only; the library service adds their text)."""

    async def reindex_sources(self, kind: SearchKind, after: str, limit: int) -> list[SearchEntry]:
        """search_sources' page written to the index, read and written in one transaction
        whose source rows no writer changes meanwhile (so a delete or withdrawal racing the
        rebuild never puts its text back); the page. `ecolink reindex` runs it for every kind
        but documents (whose text the library service extracts)."""

    async def clear_search_index(self, kinds: tuple[SearchKind, ...]) -> int:
        """Remove every entry of these kinds (none given: of every kind); how many."""

    async def search_index_size(self) -> dict[str, int]:
        """Entries per kind, and "bytes": the index's size on disk where the backend tells it."""

    # -- email (chat/store/mail.py, migration 0025; tests/contract/test_mail_store.py) ---------

    async def enqueue_mail(self, mail: OutboxMail) -> bool:
        """Adds the mail to the outbox as queued (attempts 0, no lease), durable on return;
        False and nothing written when its dedupe_key (if any) is already in the outbox."""

    async def claim_mail(self, now_ms: int, lease_ms: int, limit: int) -> list[OutboxMail]:
        """At most `limit` queued mails due by now_ms whose lease lapsed, oldest due first,
        each leased until now_ms + lease_ms and its attempts raised by one, in one transaction:
        two claimers at once never get the same mail (PostgreSQL: SKIP LOCKED). The rows as
        claimed (their `attempts` identifies this claim to mark/retry/fail)."""

    async def mark_mail_sent(self, mail_id: str, attempt: int, now_ms: int) -> bool:
        """The claim `attempt` of this mail succeeded: sent, its recipient, bodies and headers
        blanked (the row keeps no address, words or links). False (nothing changed) when the
        mail is no longer queued under that claim (its lease lapsed and another took it)."""

    async def renew_mail_lease(self, mail_id: str, attempt: int, until_ms: int) -> bool:
        """The claim `attempt` holds the mail until until_ms (a sender renews it right before
        sending). False as for mark_mail_sent: the sender then leaves the mail alone."""

    async def prune_mail(self, before_ms: int) -> int:
        """Deletes the sent and failed mails done (sent, else queued) before before_ms; how many."""

    async def retry_mail(self, mail_id: str, attempt: int, due_ms: int, error: str) -> bool:
        """The claim failed for now: queued again, due at due_ms, lease dropped, `error` kept
        (a short reason without addresses). False as for mark_mail_sent."""

    async def fail_mail(self, mail_id: str, attempt: int, error: str) -> bool:
        """The claim failed for good: status failed, `error` kept, blanked as for mark_mail_sent.
        False as for mark_mail_sent."""

    async def outbox_mail(self, mail_id: str) -> OutboxMail | None: ...

    async def outbox_mail_by_key(self, dedupe_key: str) -> OutboxMail | None: ...

    async def next_mail_due_ms(self) -> int | None:
        """When the earliest queued mail may next be claimed (its due time, or its lease's end
        if later); None when nothing is queued."""

    async def mail_counts(self) -> dict[str, int]:
        """How many mails are queued, sent and failed."""

    async def mail_preferences(self, user_id: int) -> MailPreferences:
        """The member's email preferences; the defaults (every kind on, no digest, language
        unknown) when they never set any."""

    async def set_mail_preferences(self, user_id: int, prefs: MailPreferences, now_ms: int) -> None:
        """Replaces the member's preferences, digest rooms included (the rooms must exist)."""

    async def turn_mail_off(self, user_id: int, kind: str, now_ms: int) -> bool:
        """Turns one kind off (`digest`: its frequency to off), the rest unchanged; False when
        it was off already."""
    # -- moderation (chat/store/moderation.py; tests/contract/test_moderation_store.py) ---------

    async def message_author(self, room_id: str, message_id: str) -> tuple[int, bool] | None:
        """(author id, deleted) of a message (kind "message") in that room; None if none."""

    async def add_report(self, reporter_id: int, target_user_id: int, room_id: str | None,
                         message_id: str | None, reason: str, note: str, now_ms: int) -> tuple[Report, bool]:
        """File a report (of a message: room_id and message_id; of a member: both None) and
        whether it is new: while the reporter's report of the same message (or member) is
        still open, the same report comes back (False) and nothing is written. A new report of
        a message keeps a copy of it as it is now (`Report.message`: body, its author's name,
        sent time, seq), which later edits, deletions and account deletions leave as it is."""

    async def get_report(self, report_id: int) -> Report | None: ...

    async def report_page(self, open_reports: bool, cursor: int | None, limit: int) -> list[Report]:
        """Open reports oldest first with ids above `cursor`; or closed ones (resolved,
        dismissed) newest first with ids below it. None: from the start."""

    async def open_report_count(self) -> int: ...

    async def reports_about(self, user_id: int, limit: int) -> list[Report]:
        """The newest `limit` reports about a member, newest first."""

    async def close_report(self, report_id: int, status: ReportStatus, resolution: str | None,
                           actor_id: int, now_ms: int) -> bool:
        """Close an open report ("resolved" with the action's name, or "dismissed"); False
        when it does not exist or is closed already (nothing changes)."""

    async def add_sanction(self, user_id: int, kind: SanctionKind, room_id: str | None, until_ms: int | None,
                           reason: str, actor_id: int | None, report_id: int | None, now_ms: int) -> Sanction:
        """Record a sanction, durable when this returns."""

    async def sanction_in_force(self, user_id: int, kind: SanctionKind, room_id: str | None,
                                now_ms: int) -> Sanction | None:
        """The member's sanction of this kind (in this room; None: the room-less ones) not
        lifted and not ended at now_ms, the one lasting longest; None if none."""

    async def lift_sanctions(self, user_id: int, kind: SanctionKind, room_id: str | None, actor_id: int,
                             now_ms: int) -> list[Sanction]:
        """Lift every sanction of this kind (and room) in force now; those lifted, oldest
        first (empty: there was none)."""

    async def sanctions_of(self, user_id: int, limit: int) -> list[Sanction]:
        """The member's newest `limit` sanctions, newest first, lifted and ended ones too."""

    async def close(self) -> None: ...
