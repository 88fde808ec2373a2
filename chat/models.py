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
# Who wrote something, as frames mark it: a role, or "guest" for a webinar's guest (a users row
# with guest_of; never a stored role: docs/decisions.md, "Webinar guests").
AuthorRole = Literal["admin", "moderator", "member", "guest"]


def is_role(value: object) -> TypeGuard[Role]:
    return value in ROLES


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    email: str
    display_name: str
    role: Role
    created_at_ms: int
    # A webinar's guest (docs/protocol.md, "Guests (webinars)"): the webinar (its room id) this
    # account exists for, the only place it may act. None for the platform's members.
    guest_of: str | None = None

    @property
    def author_role(self) -> AuthorRole:
        """The role frames mark this user's entries with: "guest" for a guest."""
        return "guest" if self.guest_of is not None else self.role


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


EventKind = Literal["message", "edit", "delete", "reaction", "topic", "status", "membership", "webinar",
                    "question", "question_state", "poll"]
EVENT_KINDS: tuple[EventKind, ...] = (
    "message", "edit", "delete", "reaction", "topic", "status", "membership", "webinar",
    "question", "question_state", "poll")
# Entries about the room itself, not about one of its messages: the service that writes them
# checked who may (chat/store/batch.py stores them as they are).
# The webinar board's kinds (chat/webinars/board.py) name their question or poll in data.
ROOM_EVENT_KINDS: tuple[EventKind, ...] = ("message", "topic", "status", "membership", "webinar",
                                           "question", "question_state", "poll")


@dataclass(frozen=True, slots=True)
class Message:
    """An entry of a room's log: `seq` is its gapless position in the room.

    kind "message" is a message (its body/html are current: edits and deletes change them in
    place, and `edited_at_ms`/`deleted` say so); the other kinds are events about the message
    `target_id` (an edit with the new body, a delete, a reaction with data["emoji"] and
    data["added"]), or events about the room itself (a "topic" listed in it, with
    data["topic"]; a consultation "status" change, with data["status"]; a "webinar" change,
    with data["change"] and data["webinar"], in the webinar's room and the rooms listing it),
    which resuming readers replay like messages.
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
    author_role: AuthorRole = "member"


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
    author_role: AuthorRole = "member"
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
    guest_of: str | None = None  # a webinar's guest (User.guest_of): shown marked, never listed


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
    attachments: tuple[dict[str, Any], ...] = ()  # the body's files, as wire dicts


# -- notifications (chat/rooms/notifications.py) -------------------------------------------

NotificationKind = Literal["mention", "reply", "direct", "webinar_live", "webinar_edited",
                           "webinar_cancelled", "project_update"]
NOTIFICATION_KINDS: tuple[NotificationKind, ...] = (
    "mention", "reply", "direct", "webinar_live", "webinar_edited", "webinar_cancelled", "project_update")
# What a webinar change tells the members registered for it (chat/webinars/service.py).
WEBINAR_NOTIFICATION_KINDS: tuple[NotificationKind, ...] = (
    "webinar_live", "webinar_edited", "webinar_cancelled")


@dataclass(frozen=True, slots=True)
class Notification:
    """Something in a room the member should look at: a message mentioning them, a reply in a
    topic or news thread they started, a message in one of their direct conversations, a
    webinar they registered for going live, edited or cancelled (the "webinar" entry of its
    room's log). `excerpt` is the start of the message's current body ("" once it is
    deleted); for a webinar, its title."""

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
    # A project update (kind "project_update"): the project whose thread `room_id` is.
    project_id: str | None = None


# -- eco-city projects (chat/projects/) --------------------------------------------------------

ProjectStatus = Literal["planned", "running", "completed"]
PROJECT_STATUSES: tuple[ProjectStatus, ...] = ("planned", "running", "completed")
ProjectDocumentKind = Literal["doc", "file"]


@dataclass(frozen=True, slots=True)
class ProjectFigure:
    """A key figure: a number with its unit and a label in either language (or both)."""

    label_en: str
    label_zh: str
    value: float
    unit: str


@dataclass(frozen=True, slots=True)
class ProjectDocument:
    """A document of a project: a library document (`kind` "doc", `item_id` "d-…") or a file
    attached to the project (`kind` "file", `item_id` "f-…"). `wire` is what the page shows of
    it, taken when it was added: the file's wire dict, or the document's titles."""

    item_id: str
    kind: ProjectDocumentKind
    wire: dict[str, Any]
    added_by: int
    added_at_ms: int


@dataclass(frozen=True, slots=True)
class Project:
    """An eco-city pilot project's page. `topic_id` is its discussion thread (a topic listed in
    its city and sector rooms). `members` are its partner members (user id, name);
    `followers` counts who follows it, `following` says whether the viewer does."""

    project_id: str
    name_en: str
    name_zh: str
    city: str
    sectors: tuple[str, ...]
    status: ProjectStatus
    description: str
    figures: tuple[ProjectFigure, ...]
    organisations: tuple[str, ...]
    topic_id: str
    created_by: int
    created_at_ms: int
    updated_at_ms: int
    members: tuple[tuple[int, str], ...] = ()
    documents: tuple[ProjectDocument, ...] = ()
    followers: int = 0
    following: bool = False


@dataclass(frozen=True, slots=True)
class ProjectChanges:
    """An edit of a project's page: None leaves a field as it is."""

    name_en: str | None = None
    name_zh: str | None = None
    city: str | None = None
    sectors: tuple[str, ...] | None = None
    status: ProjectStatus | None = None
    description: str | None = None
    figures: tuple[ProjectFigure, ...] | None = None
    organisations: tuple[str, ...] | None = None
    members: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ProjectUpdate:
    """A dated entry of a project's timeline. `happened_on` is an ISO date (YYYY-MM-DD);
    `html` the body rendered and sanitised; `attachments` the files' wire dicts;
    `message_id` the message that told it in the project's thread (None until posted)."""

    update_id: str
    project_id: str
    author_id: int
    author_name: str
    happened_on: str
    body: str
    html: str
    attachments: tuple[dict[str, Any], ...]
    created_at_ms: int
    message_id: str | None = None


# -- webinars (chat/webinars/) ----------------------------------------------------------------

WebinarState = Literal["scheduled", "live", "ended", "cancelled"]
WEBINAR_STATES: tuple[WebinarState, ...] = ("scheduled", "live", "ended", "cancelled")
ChatMode = Literal["open", "slow", "off"]
CHAT_MODES: tuple[ChatMode, ...] = ("open", "slow", "off")
WebinarPersonRole = Literal["host", "panelist"]
# Who someone is in one webinar: its hosts and panelists (webinar_people), the platform's
# moderators and admins (who act as hosts), everyone else signed in.
WebinarRole = Literal["host", "panelist", "moderator", "attendee"]
WebinarWhen = Literal["upcoming", "live", "past"]
WEBINAR_WHENS: tuple[WebinarWhen, ...] = ("upcoming", "live", "past")


@dataclass(frozen=True, slots=True)
class WebinarPerson:
    user_id: int
    name: str
    role: WebinarPersonRole


@dataclass(frozen=True, slots=True)
class Webinar:
    """A webinar: a room of kind "webinar" (`webinar_id` is its room id) and its schedule.

    Times are ms since the epoch (UTC); `time_zone` is the host's IANA zone, for display.
    `sequence` is the calendar SEQUENCE (raised by each edit and the cancellation);
    `registrations` how many members registered."""

    webinar_id: str
    title_en: str
    title_zh: str
    description: str
    description_html: str
    starts_at_ms: int
    ends_at_ms: int
    time_zone: str
    created_by: int
    created_at_ms: int
    updated_at_ms: int
    state: WebinarState = "scheduled"
    premoderated: bool = False
    chat_mode: ChatMode = "open"
    slow_mode_s: int = 0
    results_public: bool = False
    guests_allowed: bool = False
    started_at_ms: int | None = None
    ended_at_ms: int | None = None
    sequence: int = 0
    people: tuple[WebinarPerson, ...] = ()
    listed_in: tuple[str, ...] = ()
    registrations: int = 0
    attachments: tuple[dict[str, Any], ...] = ()  # the description's files, as wire dicts

    def ids_of(self, role: WebinarPersonRole) -> tuple[int, ...]:
        return tuple(person.user_id for person in self.people if person.role == role)


@dataclass(frozen=True, slots=True)
class WebinarChanges:
    """A validated edit of a scheduled webinar: None leaves a field as it is; `people` and
    `listed_in` replace the whole list."""

    title_en: str | None = None
    title_zh: str | None = None
    description: str | None = None
    description_html: str | None = None
    starts_at_ms: int | None = None
    ends_at_ms: int | None = None
    time_zone: str | None = None
    premoderated: bool | None = None
    guests_allowed: bool | None = None
    people: tuple[tuple[int, WebinarPersonRole], ...] | None = None
    listed_in: tuple[str, ...] | None = None
    attachments: str | None = None  # the description's files: a JSON list of wire dicts


# -- the webinar Q&A board and polls (chat/webinars/board.py) ---------------------------------

QuestionState = Literal["pending", "open", "answering", "answered", "dismissed", "withdrawn"]
QUESTION_STATES: tuple[QuestionState, ...] = (
    "pending", "open", "answering", "answered", "dismissed", "withdrawn")
PollState = Literal["draft", "open", "closed"]


@dataclass(frozen=True, slots=True)
class AskLimits:
    """An attendee's limits on asking, checked by the store under the webinar's row lock as the
    question is inserted (so asks on several nodes at once cannot pass them together): the next
    question `interval_ms` after their last, at most `open_questions` pending, open or
    answering."""

    open_questions: int
    interval_ms: int


@dataclass(frozen=True, slots=True)
class Question:
    """A question on a webinar's board. `votes` and `votes_version` change together with each
    vote; `version` with every other change (state, pin, edit, answer)."""

    question_id: str
    webinar_id: str
    author_id: int
    author_name: str
    author_role: AuthorRole
    cid: str
    anonymous: bool
    body: str
    state: QuestionState
    pinned: bool
    answer: str
    answer_html: str
    answered_by: int | None
    answered_by_name: str | None
    votes: int
    votes_version: int
    version: int
    created_at_ms: int
    updated_at_ms: int


@dataclass(frozen=True, slots=True)
class QuestionChange:
    """What a question change sets (None: unchanged). `only_from`: the states it may leave
    (the store refuses the change otherwise)."""

    only_from: tuple[QuestionState, ...]
    state: QuestionState | None = None
    pinned: bool | None = None
    body: str | None = None
    answer: str | None = None
    answer_html: str | None = None
    answered_by: int | None = None


@dataclass(frozen=True, slots=True)
class PollOption:
    en: str
    zh: str


@dataclass(frozen=True, slots=True)
class Poll:
    """A poll of a webinar: `counts[i]` members chose option i; `answers` members answered;
    `counts_version` rises with every answer (and its change)."""

    poll_id: str
    webinar_id: str
    question_en: str
    question_zh: str
    options: tuple[PollOption, ...]
    multiple: bool
    state: PollState
    results_public: bool
    counts: tuple[int, ...]
    answers: int
    counts_version: int
    created_by: int
    created_at_ms: int
    updated_at_ms: int
    opened_at_ms: int | None = None
    closed_at_ms: int | None = None


# -- the audit log and the personal data archive (issue 12) ------------------------------------


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One act the audit log keeps: who (`actor_id` None for an operator at the command line;
    `actor_label` as the log shows them), what (`action`, e.g. "export.compliance") and its
    facts (`detail`, a JSON object), when."""

    audit_id: int
    at_ms: int
    actor_id: int | None
    actor_label: str
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OwnMessage:
    """A message a member wrote, for their personal archive: its room, final state and the
    reactions on it (emoji, names of who reacted, in the order they reacted)."""

    room_id: str
    room_kind: str
    room_title_en: str
    room_title_zh: str
    seq: int
    message_id: str
    sent_at_ms: int
    text: str
    edited_at_ms: int | None
    deleted: bool
    reactions: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class OwnReaction:
    """A reaction a member gave: the emoji, the message and its room."""

    message_id: str
    emoji: str
    room_id: str
    seq: int


@dataclass(frozen=True, slots=True)
class OwnRead:
    """A member's read position in a room (topics are rooms too) and the room's head."""

    room_id: str
    room_kind: str
    room_title_en: str
    room_title_zh: str
    last_read_seq: int
    head_seq: int


@dataclass(frozen=True, slots=True)
class OwnLink:
    """A tie between a member and a room besides their messages: "member" of a direct
    conversation (since `at_ms`, until `until_ms`; value "left" when they left it by their own
    hand), "registered" for a webinar, "host"/"panelist" of one, "notify" (value: their level)."""

    relation: str
    room_id: str
    at_ms: int | None = None
    until_ms: int | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class OwnWebinarItem:
    """Something a member did on a webinar's board: "question" (asked: body, state, answer,
    anonymous), "vote" (for a question) or "poll_answer" (choices)."""

    kind: Literal["question", "vote", "poll_answer"]
    item_id: str  # question id (question, vote) or poll id
    webinar_id: str
    at_ms: int | None
    data: dict[str, Any]


# -- the knowledge library (chat/library/; docs/protocol.md, "Library") --------------------------

DocType = Literal["report", "guide", "case-study", "policy", "presentation", "data", "other"]
DOC_TYPES: tuple[DocType, ...] = ("report", "guide", "case-study", "policy", "presentation", "data", "other")
DocLanguage = Literal["en", "zh", "both"]
DOC_LANGUAGES: tuple[DocLanguage, ...] = ("en", "zh", "both")
DocState = Literal["proposed", "published", "rejected", "withdrawn"]
DOC_STATES: tuple[DocState, ...] = ("proposed", "published", "rejected", "withdrawn")
DocSort = Literal["newest", "downloads", "title"]
DOC_SORTS: tuple[DocSort, ...] = ("newest", "downloads", "title")


@dataclass(frozen=True, slots=True)
class DocMeta:
    """A library document's metadata, as members describe it."""

    title_en: str
    title_zh: str
    description: str
    doc_type: DocType
    language: DocLanguage
    year: int
    source: str
    sectors: tuple[str, ...]
    cities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Document:
    """A document of the library: its metadata, review state and counters. `current_version`
    is 0 until its first version is stored."""

    doc_id: str
    meta: DocMeta
    state: DocState
    reason: str  # the moderator's reason for a rejection or withdrawal ("" otherwise)
    proposed_by: int
    proposer_name: str
    reviewed_by: int | None
    created_at_ms: int
    updated_at_ms: int
    listed_at_ms: int
    downloads: int
    current_version: int


@dataclass(frozen=True, slots=True)
class DocVersion:
    """One version of a document: its file (the wire dict of chat/files) and who added it."""

    doc_id: str
    version: int
    file_id: str
    sha256: str
    file: dict[str, Any]
    note: str
    uploaded_by: int
    uploader_name: str
    created_at_ms: int


@dataclass(frozen=True, slots=True)
class DocMention:
    """A message that linked a document's page (or shared it) in a room."""

    doc_id: str
    room_id: str
    message_id: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class LibraryQuery:
    """One page of the library's list. `viewer_id` None: staff (every proposer); else a
    non-published state is limited to the viewer's own. `after` is the previous page's last
    (sort key, doc id)."""

    state: DocState = "published"
    viewer_id: int | None = None
    sector: str | None = None
    city: str | None = None
    language: DocLanguage | None = None
    doc_type: DocType | None = None
    year: int | None = None
    q: str | None = None
    sort: DocSort = "newest"
    lang: Literal["en", "zh"] = "en"
    after: tuple[int | str, str] | None = None
    limit: int = 50


# -- files: uploads, attachments, library documents (issue 13; chat/files/) ------------------

FileKind = Literal["image", "pdf", "office", "text", "csv", "zip"]
FileState = Literal["ready", "deleted"]


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An uploaded file (chat/files/service.py): its safe display name, the type decided from
    its bytes (`mime`, `kind`), size and SHA-256, where its bytes live (`storage_key`, a random
    name) and its preview's. Unattached (`scope` None) only its owner may read it; `scope`
    ("room:<id>", "doc:<id>", "project:<id>") says who may once attached, `ref` what holds it
    ("msg:<room>:<id>" …). A deleted file is gone for readers at once; its bytes go at
    `purge_after_ms`."""

    file_id: str
    owner_id: int
    name: str
    mime: str
    kind: FileKind
    size: int
    sha256: str
    storage_key: str
    state: FileState = "ready"
    scope: str | None = None
    ref: str | None = None
    preview_key: str | None = None
    preview_w: int | None = None
    preview_h: int | None = None
    created_at_ms: int = 0
    bound_at_ms: int | None = None
    deleted_at_ms: int | None = None
    purge_after_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Upload:
    """A resumable upload in progress (docs/protocol.md, "Files"): `offset` bytes committed in
    `parts` ((number, tag), each `part_size` bytes but the last) of the storage's multipart
    upload `handle` under `storage_key`; `mime`/`kind` once its first bytes were sniffed;
    `file_id` once complete (kept until it expires, so a retried last chunk gets the file)."""

    upload_id: str
    owner_id: int
    client_key: str | None
    name: str
    claimed: str | None
    size: int
    offset: int
    part_size: int
    parts: tuple[tuple[int, str], ...]
    storage_key: str
    handle: str
    mime: str | None
    kind: FileKind | None
    created_at_ms: int
    expires_at_ms: int
    file_id: str | None = None


# -- search (chat/search; docs/protocol.md, "Search") ------------------------------------------

SearchKind = Literal["message", "topic", "news", "question", "answer", "document", "project"]
SEARCH_KINDS: tuple[SearchKind, ...] = ("message", "topic", "news", "question", "answer", "document",
                                        "project")
SearchOrder = Literal["newest", "relevance"]


@dataclass(frozen=True, slots=True)
class SearchParams:
    """One search as a client asked for it (the query string or a `search` frame), types
    already checked by the transport or chat/protocol/frames.py; values are checked by
    chat/search/service.py, SearchService.search."""

    q: str
    rooms: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    authors: tuple[int, ...] = ()
    since_ms: int | None = None
    until_ms: int | None = None
    lang: str | None = None
    has_files: bool | None = None
    order: str | None = None
    cursor: str | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class SearchEntry:
    """One searchable thing, as the index holds it (one row per (kind, ref_id)). The store
    computes its terms and language from title, body and extra (chat/search/tokens.py)."""

    kind: SearchKind
    ref_id: str  # message_id, topic_id, question_id (question and answer), doc_id, project_id
    # Whose readers may find it: its room (a message's room, a topic's or news post's own thread
    # room, a question's webinar room); None: every member (published documents, projects),
    # never a webinar's guest.
    room_id: str | None
    seq: int | None  # a message's place in its room (to open it in context); else None
    author_id: int | None  # None: anonymous (an anonymous question) or nobody
    created_at_ms: int
    title: str  # plain text: a topic's, document's or project's title; "" for a message
    body: str  # plain text shown in snippets (cut at tokens.MAX_INDEXED_CHARS)
    has_files: bool = False
    extra: str = ""  # indexed, never shown: attachment names, a document's other title


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """One item of a parsed query (chat/search/query.py): a word, a quoted phrase, or a CJK
    run, as its terms (chat/search/tokens.py). Several terms: a phrase (adjacent, in order);
    prefix: the last term is a prefix (a single CJK character); negated: `-word`."""

    terms: tuple[str, ...]
    prefix: bool = False
    negated: bool = False
    text: str = ""  # what the member typed for it (folded), to mark in snippets


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What the store searches: every non-negated term matches, no negated one does, and every
    given filter holds (an empty tuple: no filter)."""

    terms: tuple[SearchTerm, ...]
    kinds: tuple[SearchKind, ...] = ()
    room_ids: tuple[str, ...] = ()  # in these rooms, or in a thread listed in one of them
    author_ids: tuple[int, ...] = ()
    since_ms: int | None = None  # created_at_ms >= since_ms
    until_ms: int | None = None  # created_at_ms < until_ms
    language: Literal["en", "zh"] | None = None  # that language or mixed text
    has_files: bool | None = None
    order: SearchOrder = "newest"
    # Paging. newest: after (created_at_ms, entry_id) of the last hit of the previous page;
    # relevance: skip `offset` hits, among the entries up to `anchor` (an entry_id: the
    # store's search_anchor() when the first page was asked for; None: the store reads it).
    after: tuple[int, int] | None = None
    offset: int = 0
    anchor: int | None = None
    limit: int = 20


@dataclass(frozen=True, slots=True)
class SearchHit:
    entry_id: int
    kind: SearchKind
    ref_id: str
    room_id: str | None
    room_kind: RoomKind | None
    room_title_en: str
    room_title_zh: str
    seq: int | None
    author_id: int | None
    author_name: str  # "" when anonymous or none
    created_at_ms: int
    title: str
    body: str
    has_files: bool
    language: str
    rank: float  # higher is more relevant (0 when ordered by newest)


@dataclass(frozen=True, slots=True)
class NoticeItem:
    """One notification an unread-notifications email lists (chat/mail/notices.py): who wrote,
    where (the room's kind and titles; a topic or news thread's title), and the start of the
    message."""

    notification_id: int
    kind: NotificationKind
    room_id: str
    room_kind: str
    room_title_en: str
    room_title_zh: str
    thread_title: str | None
    seq: int
    message_id: str
    actor_name: str
    excerpt: str


@dataclass(frozen=True, slots=True)
class DigestThread:
    """A topic or news post a digest lists (started within its period)."""

    topic_id: str
    kind: str  # "topic" or "news"
    title: str
    replies: int


@dataclass(frozen=True, slots=True)
class DigestRoom:
    """One room of a member's digest: its new messages in the period, and the topics and news
    posts started there, the most answered first."""

    room_id: str
    title_en: str
    title_zh: str
    messages: int
    threads: tuple[DigestThread, ...]


# -- account recovery (chat/accounts/recovery.py) -----------------------------------------

TokenPurpose = Literal["verify", "reset", "email_change"]


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One of a member's sessions as their session list shows it; None where the session was
    made before the list existed."""

    token_hash: bytes
    created_at_ms: int | None
    last_seen_ms: int | None
    user_agent: str | None
    address: str | None
    expires_ms: int


@dataclass(frozen=True, slots=True)
class UsedToken:
    """A mailed link's token, just taken: whose, and the address it was sent to."""

    user_id: int
    email: str


# -- email (issue 15: chat/mail/, migration 0025) --------------------------------------------

MailStatus = Literal["queued", "sent", "failed"]
# The kinds of mail a member can turn off one by one (the digest has its own frequency).
MAIL_SWITCH_KINDS: tuple[str, ...] = ("direct", "mention", "reply", "webinar_reminder")
DigestFrequency = Literal["off", "daily", "weekly"]
MAIL_DIGEST_ROOMS_MAX = 50


@dataclass(frozen=True, slots=True)
class OutboxMail:
    """One row of the mail outbox: a rendered email waiting to be sent, sent, or given up on.
    `mail_id` (32 hex) makes the Message-ID, the same at every attempt. `headers` are extra
    headers (List-Unsubscribe …). `attempts` counts claims; `due_ms` is when it may be tried
    next; `lease_until_ms` is when a claim lapses (a node that died while sending)."""

    mail_id: str
    recipient: str
    kind: str
    user_id: int | None
    dedupe_key: str | None
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    status: MailStatus
    attempts: int
    due_ms: int
    lease_until_ms: int
    created_ms: int
    sent_ms: int | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class MailPreferences:
    """What email a member wants: each switchable kind on or off (absent: on), the digest's
    frequency and rooms, and the language of their mail (None: both, English first)."""

    switches: dict[str, bool]
    digest: DigestFrequency = "off"
    digest_rooms: tuple[str, ...] = ()
    language: Literal["en", "zh"] | None = None

    def wants(self, kind: str) -> bool:
        """Whether mail of this kind may go to the member (the digest: when not off)."""
        if kind == "digest":
            return self.digest != "off"
        return self.switches.get(kind, True)
# -- moderation (chat/moderation/) --------------------------------------------------------------

ReportReason = Literal["spam", "abuse", "harassment", "illegal", "other"]
REPORT_REASONS: tuple[ReportReason, ...] = ("spam", "abuse", "harassment", "illegal", "other")
ReportStatus = Literal["open", "resolved", "dismissed"]
SanctionKind = Literal["warn", "mute", "suspend", "ban"]
SANCTION_KINDS: tuple[SanctionKind, ...] = ("warn", "mute", "suspend", "ban")


@dataclass(frozen=True, slots=True)
class ReportedMessage:
    """The copy a report keeps of the message it is about, as its reporter saw it: the body,
    its author's display name then, when it was sent and its seq in the report's room."""

    body: str
    author_name: str
    sent_at_ms: int
    seq: int


@dataclass(frozen=True, slots=True)
class Report:
    """A member's report of a message (`room_id`, `message_id`; `message` its copy) or of a
    member (all three None). `resolution` names the action that resolved it (None while open or
    when dismissed)."""

    report_id: int
    reporter_id: int
    reporter_name: str
    target_user_id: int
    target_name: str
    room_id: str | None
    message_id: str | None
    reason: ReportReason
    note: str
    status: ReportStatus
    created_at_ms: int
    resolution: str | None = None
    resolved_by: int | None = None
    resolved_at_ms: int | None = None
    message: ReportedMessage | None = None


@dataclass(frozen=True, slots=True)
class Sanction:
    """What a moderator did to a member: a warning, a mute in `room_id`, a suspension, a ban.
    `until_ms` None: no end. In force while not lifted and before its end (warnings never
    are: they are only on the record)."""

    sanction_id: int
    user_id: int
    kind: SanctionKind
    room_id: str | None
    until_ms: int | None
    reason: str
    actor_id: int | None
    report_id: int | None
    created_at_ms: int
    lifted_at_ms: int | None = None
    lifted_by: int | None = None

    def in_force(self, now_ms: int) -> bool:
        return (self.kind != "warn" and self.lifted_at_ms is None
                and (self.until_ms is None or self.until_ms > now_ms))


@dataclass(frozen=True, slots=True)
class TwoFactorState:
    """A member's two-factor sign-in (chat/accounts/two_factor.py): the TOTP secret (base32),
    whether a code confirmed it (only then does sign-in ask for one), the last time step
    accepted (never accepted again) and how many recovery codes are still unused."""

    secret: str
    enabled: bool
    last_step: int
    recovery_codes_left: int
