"""The knowledge library's rules (docs/protocol.md, "Library"): who may see, propose, publish,
reject, withdraw, edit and add versions; the list's filters, orders and cursors; downloads;
where a document was discussed.

- Members see published documents and their own (whatever their state); moderators and admins
  see every one. A document nobody may see is NotFound, the same as no document.
- Members propose (state "proposed"); moderators and admins publish at once when they add one,
  and publish, reject (with a reason) or withdraw (its files released) any other.
- Metadata and new versions: staff on any document not withdrawn; its proposer while it is
  still proposed. A new version keeps the earlier ones downloadable.
- A version's file is a file of chat/files bound to scope "doc:<doc_id>" (readable by whoever
  may see the document: the scope rule registered here) with ref "doc:<doc_id>:<n>".
- "Where discussed": each new message whose body links `/library/<doc_id>` (the web client's
  `#/library/<doc_id>`) records a mention (RoomService.on_sent), and so does a share.
- Search: a published document is in the index with its titles, description and the text of
  its current version's file (chat/search/extract.py, in a worker thread), written when it is
  published and again after each edit and new version; withdrawn, it leaves the index.
  `reindex_documents` does it again for every published document (`ecolink reindex`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, UTC
from typing import Any, Literal

import structlog

from chat.clock import Clock
from chat.errors import BadRequest, Conflict, Forbidden, GuestScope, InvalidInput, NotFound
from chat.files.service import FileService
from chat.models import (DOC_LANGUAGES, DOC_SORTS, DOC_STATES, DOC_TYPES, DocLanguage, DocMeta, DocMention,
                         DocSort, DocState, DocType, DocVersion, Document, LibraryQuery, Message, Room,
                         StoredFile, User)
from chat.rooms.service import RoomService
from chat.search.entries import document_entry
from chat.search.extract import MAX_SOURCE_BYTES, extract, has_text
from chat.store.catalog import SEED_ROOMS
from chat.store.library import sort_keys
from chat.store.port import Store
from chat.text import text_problem

log = structlog.get_logger("chat.library")

SECTORS = tuple(room.room_id for room in SEED_ROOMS if room.kind == "sector")
CITIES = tuple(room.room_id for room in SEED_ROOMS if room.kind == "city")
DOC_ID = re.compile(r"^d-[0-9a-f]{16}$")
# A document's page linked in a message body: "#/library/<id>" or ".../library/<id>".
LINK = re.compile(r"/library/(d-[0-9a-f]{16})(?![0-9a-z])")
STAFF = ("admin", "moderator")
FIRST_YEAR = 1990
MAX_TITLE = 300
MAX_DESCRIPTION = 5000
MAX_SOURCE = 300
MAX_NOTE = 500
MAX_REASON = 1000
MAX_QUERY = 100
MAX_LINKS = 10  # documents one message may record as discussed
MENTIONS_READ = 100  # the latest mentions read for a page, before the viewer's rooms filter them
MENTIONS_SHOWN = 20
MAX_CURSOR_CHARS = 400
REINDEX_PAGE = 100  # published documents read at once by reindex_documents
INDEX_ATTEMPTS = 5  # index_document: how often a document changed while indexed is read again


def new_doc_id() -> str:
    return "d-" + secrets.token_hex(8)


def is_doc_id(value: str) -> bool:
    return bool(DOC_ID.match(value))


def is_staff(user: User) -> bool:
    return user.guest_of is None and user.role in STAFF


@dataclass(frozen=True, slots=True)
class DocDraft:
    """Metadata as typed (a create has every field it needs; an edit only those it changes).
    Lists may come as lists or as one ';'-separated string (the importer's CSV)."""

    title_en: str | None = None
    title_zh: str | None = None
    description: str | None = None
    doc_type: str | None = None
    language: str | None = None
    year: int | None = None
    source: str | None = None
    sectors: Sequence[str] | None = None
    cities: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class Filters:
    """The list's query, as typed (strings from the query string; checked by `listing`)."""

    state: str | None = None
    sector: str | None = None
    city: str | None = None
    language: str | None = None
    doc_type: str | None = None
    year: int | None = None
    q: str | None = None
    sort: str | None = None
    lang: str | None = None
    after: str | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class DocPage:
    """What a document's page shows: the document, its versions (newest first) and where it was
    discussed among the rooms the viewer may read (newest first, with the rooms)."""

    doc: Document
    versions: list[DocVersion]
    mentions: list[tuple[DocMention, Room]]


def _text(problems: dict[str, str], name: str, value: str | None, limit: int, *, multiline: bool = False) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems[name] = "must be text"
        return ""
    value = value.strip()
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        problems[name] = problem
    elif len(value) > limit:
        problems[name] = f"must be at most {limit} characters"
    return value


def _tags(problems: dict[str, str], name: str, value: Sequence[str] | str | None, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [part.strip() for part in value.split(";")] if isinstance(value, str) else list(value)
    tags: list[str] = []
    for item in items:
        if item == "":
            continue
        if not isinstance(item, str) or item not in allowed:
            problems[name] = f"each must be one of: {', '.join(allowed)}"
            return ()
        if item not in tags:
            tags.append(item)
    return tuple(tags)


def check_meta(draft: DocDraft, base: DocMeta | None, this_year: int) -> DocMeta:
    """The metadata `draft` gives (over `base` for an edit), or InvalidInput naming every field
    that is wrong."""
    problems: dict[str, str] = {}

    def pick(name: str, given: Any, default: Any) -> Any:
        return default if given is None else given

    title_en = _text(problems, "title_en", pick("title_en", draft.title_en, base and base.title_en), MAX_TITLE)
    title_zh = _text(problems, "title_zh", pick("title_zh", draft.title_zh, base and base.title_zh), MAX_TITLE)
    if not title_en and not title_zh and "title_en" not in problems and "title_zh" not in problems:
        problems["title"] = "give a title in English, in Chinese or both"
    description = _text(problems, "description", pick("", draft.description, base and base.description),
                        MAX_DESCRIPTION, multiline=True)
    source = _text(problems, "source", pick("", draft.source, base and base.source), MAX_SOURCE)
    doc_type = pick("", draft.doc_type, base and base.doc_type)
    if doc_type not in DOC_TYPES:
        problems["type"] = f"must be one of: {', '.join(DOC_TYPES)}"
    language = pick("", draft.language, base and base.language)
    if language not in DOC_LANGUAGES:
        problems["language"] = f"must be one of: {', '.join(DOC_LANGUAGES)}"
    year = pick("", draft.year, base and base.year)
    if type(year) is not int or not FIRST_YEAR <= year <= this_year + 1:
        problems["year"] = f"must be a year from {FIRST_YEAR} to {this_year + 1}"
    sectors = _tags(problems, "sectors", pick("", draft.sectors, base and base.sectors), SECTORS)
    cities = _tags(problems, "cities", pick("", draft.cities, base and base.cities), CITIES)
    if problems:
        raise InvalidInput("some fields of the document are missing or wrong", details=problems)
    return DocMeta(title_en, title_zh, description, doc_type, language, year, source, sectors, cities)


def encode_cursor(key: int | str, doc_id: str) -> str:
    raw = json.dumps([key, doc_id], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(raw: str, sort: DocSort) -> tuple[int | str, str]:
    refused = BadRequest("'after' must be the `next` of the previous page")
    if len(raw) > MAX_CURSOR_CHARS:
        raise refused
    try:
        value = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise refused from None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], str) and is_doc_id(value[1])):
        raise refused
    key = value[0]
    if sort == "title":
        if not isinstance(key, str) or text_problem(key) is not None:
            raise refused
    elif type(key) is not int or not 0 <= key < 2**62:
        raise refused
    return key, value[1]


def cursor_of(doc: Document, sort: DocSort, lang: str) -> str:
    if sort == "newest":
        return encode_cursor(doc.listed_at_ms, doc.doc_id)
    if sort == "downloads":
        return encode_cursor(doc.downloads, doc.doc_id)
    sort_en, sort_zh, _ = sort_keys(doc.meta.title_en, doc.meta.title_zh)
    return encode_cursor(sort_zh if lang == "zh" else sort_en, doc.doc_id)


def _one_of(name: str, value: str | None, allowed: Sequence[str]) -> Any:
    if value is None or value == "":
        return None
    if value not in allowed:
        raise BadRequest(f"'{name}' must be one of: {', '.join(allowed)}")
    return value



def _indexed_as(doc: Document) -> tuple[object, ...]:
    """What a document's search entry is made from (its downloads and reviewer aside)."""
    return doc.state, doc.meta, doc.current_version, doc.listed_at_ms

class LibraryService:
    def __init__(self, store: Store, files: FileService, clock: Clock, rooms: RoomService | None = None) -> None:
        """`rooms` None: outside a node (ecolink import-library), where nothing reads pages,
        shares or sends; a node passes its RoomService, which tells of sent messages."""
        self._store = store
        self._files = files
        self._clock = clock
        self._room_service = rooms
        files.scope_rule("doc", self._may_read_file)
        if rooms is not None:
            rooms.on_sent(self._record_links)

    @property
    def _rooms(self) -> RoomService:
        if self._room_service is None:
            raise RuntimeError("this library service has no room service (a command-line import)")
        return self._room_service

    # -- seeing --------------------------------------------------------------------------

    def _this_year(self) -> int:
        return datetime.fromtimestamp(self._clock.now_ms() / 1000, UTC).year

    @staticmethod
    def _may_see(user: User, doc: Document) -> bool:
        return doc.state == "published" or is_staff(user) or doc.proposed_by == user.user_id

    @staticmethod
    def _member(user: User) -> None:
        if user.guest_of is not None:
            raise GuestScope("a webinar's guest may not use the library")

    async def get(self, user: User, doc_id: str) -> Document:
        """The document if the user may see it, else NotFound."""
        self._member(user)
        doc = await self._store.get_document(doc_id) if is_doc_id(doc_id) else None
        if doc is None or not self._may_see(user, doc):
            raise NotFound("no such document")
        return doc

    async def _may_read_file(self, user: User, doc_id: str) -> bool:
        try:
            doc = await self.get(user, doc_id)
        except (NotFound, GuestScope):
            return False
        return doc.state != "withdrawn"

    async def project_document(self, user: User, doc_id: str) -> dict[str, Any]:
        """A published document as an eco-city project's page shows it (its titles), for the
        project's documents (chat/projects/service.py); NotFound otherwise."""
        doc = await self.get(user, doc_id)
        if doc.state != "published":
            raise NotFound("no such document")
        return {"title_en": doc.meta.title_en, "title_zh": doc.meta.title_zh}

    async def page(self, user: User, doc_id: str) -> DocPage:
        doc = await self.get(user, doc_id)
        versions = [] if doc.state == "withdrawn" else await self._store.document_versions(doc_id)
        shown: list[tuple[DocMention, Room]] = []
        rooms: dict[str, Room | None] = {}
        for mention in await self._store.document_mentions(doc_id, MENTIONS_READ):
            if mention.room_id not in rooms:
                try:
                    rooms[mention.room_id] = await self._rooms.visible_room(user, mention.room_id)
                except NotFound:
                    rooms[mention.room_id] = None
            room = rooms[mention.room_id]
            if room is not None:
                shown.append((mention, room))
                if len(shown) == MENTIONS_SHOWN:
                    break
        return DocPage(doc, versions, shown)

    async def listing(self, user: User, filters: Filters) -> tuple[list[Document], str | None]:
        """A page of the list and the cursor of the next (None on the last page)."""
        self._member(user)
        state: DocState = _one_of("state", filters.state, DOC_STATES) or "published"
        sort: DocSort = _one_of("sort", filters.sort, DOC_SORTS) or "newest"
        lang: Literal["en", "zh"] = _one_of("lang", filters.lang, ("en", "zh")) or "en"
        language: DocLanguage | None = _one_of("language", filters.language, DOC_LANGUAGES)
        doc_type: DocType | None = _one_of("type", filters.doc_type, DOC_TYPES)
        sector = _one_of("sector", filters.sector, SECTORS)
        city = _one_of("city", filters.city, CITIES)
        q = (filters.q or "").strip()
        if len(q) > MAX_QUERY or text_problem(q) is not None:
            raise BadRequest(f"'q' must be at most {MAX_QUERY} characters of text")
        if filters.year is not None and not FIRST_YEAR <= filters.year <= self._this_year() + 1:
            raise BadRequest(f"'year' must be from {FIRST_YEAR} to {self._this_year() + 1}")
        after = decode_cursor(filters.after, sort) if filters.after else None
        query = LibraryQuery(state=state, viewer_id=None if is_staff(user) else user.user_id, sector=sector,
                             city=city, language=language, doc_type=doc_type, year=filters.year, q=q or None,
                             sort=sort, lang=lang, after=after, limit=filters.limit + 1)
        docs = await self._store.list_documents(query)
        more = len(docs) > filters.limit
        docs = docs[:filters.limit]
        return docs, cursor_of(docs[-1], sort, lang) if more else None

    # -- proposing and curating ---------------------------------------------------------

    async def _own_file(self, user: User, file_id: str, doc_id: str) -> tuple[dict[str, Any], StoredFile]:
        if not isinstance(file_id, str) or not file_id:
            raise InvalidInput("a document version needs a file", details={"file": "give the id of a file you uploaded"})
        wire, = await self._files.attach(user, [file_id], f"doc:{doc_id}")
        stored = await self._store.get_file(file_id)
        if stored is None:  # attach just found it
            raise NotFound("no such file")
        return wire, stored

    async def create(self, user: User, draft: DocDraft, file_id: str, note: str = "", *,
                     doc_id: str | None = None) -> Document:
        """A member's proposal, or (staff) a published document, with its first version."""
        self._member(user)
        meta = check_meta(draft, None, self._this_year())
        note = self._note(note)
        doc_id = doc_id or new_doc_id()
        wire, stored = await self._own_file(user, file_id, doc_id)
        state: DocState = "published" if is_staff(user) else "proposed"
        doc = await self._store.create_document(doc_id, meta, state, user.user_id, self._clock.now_ms(),
                                                (file_id, stored.sha256, wire, note))
        await self._files.bind_ref([file_id], f"doc:{doc_id}:1")
        log.info("library.created", doc=doc_id, state=state, user=user.user_id)
        if state == "published":
            await self.index_document(doc_id)
        return doc

    def _note(self, note: str | None) -> str:
        problems: dict[str, str] = {}
        value = _text(problems, "note", note, MAX_NOTE)
        if problems:
            raise InvalidInput("the version note is wrong", details=problems)
        return value

    def _may_change(self, user: User, doc: Document) -> None:
        if doc.state == "withdrawn":
            raise Conflict("the document was withdrawn")
        if not (is_staff(user) or (doc.proposed_by == user.user_id and doc.state == "proposed")):
            raise Forbidden("only moderators (or its proposer, while it is proposed) may change a document")

    async def edit(self, user: User, doc_id: str, draft: DocDraft) -> Document:
        doc = await self.get(user, doc_id)
        self._may_change(user, doc)
        meta = check_meta(draft, doc.meta, self._this_year())
        changed = await self._store.update_document(doc_id, meta, self._clock.now_ms())
        if changed is None:
            raise NotFound("no such document")
        if changed.state == "published":
            await self.index_document(doc_id)
        return changed

    async def add_version(self, user: User, doc_id: str, file_id: str, note: str = "") -> tuple[Document, int]:
        doc = await self.get(user, doc_id)
        self._may_change(user, doc)
        note = self._note(note)
        if any(v.file_id == file_id for v in await self._store.document_versions(doc_id)):
            raise InvalidInput("this file is already a version of the document",
                               details={"file": "upload the new version's file"})
        wire, stored = await self._own_file(user, file_id, doc_id)
        version = await self._store.add_document_version(doc_id, file_id, stored.sha256, wire, note,
                                                         user.user_id, self._clock.now_ms())
        if version is None:
            raise NotFound("no such document")
        await self._files.bind_ref([file_id], f"doc:{doc_id}:{version}")
        fresh = await self._store.get_document(doc_id)
        assert fresh is not None
        if fresh.state == "published":
            await self.index_document(doc_id)
        return fresh, version

    async def review(self, user: User, doc_id: str, action: str, reason: str = "") -> Document:
        """publish (a proposal), reject (a proposal, with a reason) or withdraw (a proposed or
        published document: its files are released)."""
        doc = await self.get(user, doc_id)
        if not is_staff(user):
            raise Forbidden("only moderators may review documents")
        if self._room_service is not None:  # outside a node: the operator's own tools
            await self._room_service.staff.check(user)
        problems: dict[str, str] = {}
        reason = _text(problems, "reason", reason, MAX_REASON, multiline=True)
        moves: dict[str, tuple[tuple[DocState, ...], DocState]] = {
            "publish": (("proposed",), "published"),
            "reject": (("proposed",), "rejected"),
            "withdraw": (("proposed", "published"), "withdrawn"),
        }
        if action not in moves:
            problems["action"] = "must be publish, reject or withdraw"
        elif action == "reject" and not reason and "reason" not in problems:
            problems["reason"] = "say why the proposal is rejected"
        if problems:
            raise InvalidInput("the review is missing something", details=problems)
        from_states, state = moves[action]
        if doc.state not in from_states:
            raise Conflict(f"a {doc.state} document cannot be {state}")
        done = await self._store.review_document(doc_id, from_states, state, user.user_id, reason,
                                                 self._clock.now_ms())
        if done is None:
            raise Conflict("the document changed meanwhile")
        if state == "withdrawn":
            for version in range(1, done.current_version + 1):
                await self._files.release(f"doc:{doc_id}:{version}")
        log.info("library.reviewed", doc=doc_id, state=state, user=user.user_id)
        await self.index_document(doc_id)  # published: in the index; else out of it
        return done

    # -- search ---------------------------------------------------------------------------

    async def index_document(self, doc_id: str) -> bool:
        """Write the document's search entry from what it is now: published, its titles,
        description and its current file's text; else no entry. Whether it is indexed.

        The file is read and its text extracted outside any transaction, so the document is
        read again once the entry is written: a withdrawal that committed meanwhile (its own
        unindexing may have run before this entry was written) takes the entry out again, and
        an edit or a new version (whose own indexing may have finished first) is indexed
        again, so the older text is not what stays."""
        doc = await self._store.get_document(doc_id)
        for _ in range(INDEX_ATTEMPTS):
            if doc is None or doc.state != "published":
                await self._store.unindex_entries("document", [doc_id])
                return False
            text = await self._file_text(doc)
            await self._store.index_entries([document_entry(doc, text)])
            again = await self._store.get_document(doc_id)
            if again is not None and _indexed_as(again) == _indexed_as(doc):
                return True
            doc = again
        return doc is not None and doc.state == "published"  # changing still: its changer indexes it

    async def _file_text(self, doc: Document) -> str:
        """The text of the document's current version's file ("" when it has none, or it
        cannot be read: logged with the document's id and the file's type, never its content)."""
        found = next((v for v in await self._store.document_versions(doc.doc_id)
                      if v.version == doc.current_version), None)
        stored = None if found is None else await self._store.get_file(found.file_id)
        if stored is None or stored.state != "ready" or not has_text(stored.mime):
            return ""
        if stored.size > MAX_SOURCE_BYTES:
            log.info("library.text_skipped", doc=doc.doc_id, kind=stored.kind, size=stored.size)
            return ""
        try:
            data = b"".join([chunk async for chunk in self._files.stream(stored)])
        except Exception as exc:  # noqa: BLE001 - storage gone: the title and description still count
            log.warning("library.text_unreadable", doc=doc.doc_id, kind=stored.kind, error=type(exc).__name__)
            return ""
        extracted = await extract(data, stored.mime)
        if extracted.problem is not None:
            log.warning("library.text_unreadable", doc=doc.doc_id, kind=stored.kind, error=extracted.problem)
        return extracted.text

    async def reindex_documents(self) -> int:
        """Index every published document again, its file's text extracted anew (`ecolink
        reindex`; the store's search_sources gives documents without their text). How many."""
        count, after = 0, ""
        while True:
            entries = await self._store.search_sources("document", after, REINDEX_PAGE)
            for entry in entries:
                count += await self.index_document(entry.ref_id)
            if len(entries) < REINDEX_PAGE:
                return count
            after = entries[-1].ref_id

    # -- downloads, sharing, mentions -----------------------------------------------------

    async def download(self, user: User, doc_id: str, version: int | None,
                       count: bool = True) -> tuple[Document, DocVersion, StoredFile]:
        """The version's file (default: the current one), counting one download (unless
        `count` is false: a resumed download's later bytes)."""
        doc = await self.get(user, doc_id)
        wanted = doc.current_version if version is None else version
        found = next((v for v in await self._store.document_versions(doc_id) if v.version == wanted), None)
        if doc.state == "withdrawn" or found is None:
            raise NotFound("no such version")
        stored = await self._files.readable(user, found.file_id)
        if count:
            await self._store.count_download(doc_id)
        return doc, found, stored

    async def share(self, user: User, doc_id: str, room_id: str, cid: str, comment: str = "") -> Message:
        """Post a message linking the (published) document into a room the member may post in."""
        doc = await self.get(user, doc_id)
        if doc.state != "published":
            raise Conflict("only a published document can be shared")
        problems: dict[str, str] = {}
        comment = _text(problems, "comment", comment, MAX_NOTE, multiline=True)
        if problems:
            raise InvalidInput("the comment is wrong", details=problems)
        title = doc.meta.title_en or doc.meta.title_zh
        if doc.meta.title_en and doc.meta.title_zh:
            title = f"{doc.meta.title_en} / {doc.meta.title_zh}"
        link = f"[{_escape(title)}](#/library/{doc_id})"
        body = f"{comment}\n\n📄 {link}" if comment else f"📄 {link}"
        message, _ = await self._rooms.send(user, room_id, cid, body)
        # A repeated cid returns the original; record it anyway (idempotent).
        await self._store.add_document_mention(doc_id, room_id, message.message_id, message.sent_at_ms)
        return message

    async def _record_links(self, message: Message) -> None:
        """RoomService.on_sent: a message linking documents' pages records where they were discussed."""
        if "/library/d-" not in message.body:
            return
        seen: list[str] = []
        for match in LINK.finditer(message.body):
            if match.group(1) not in seen:
                seen.append(match.group(1))
            if len(seen) == MAX_LINKS:
                break
        for doc_id in seen:
            await self._store.add_document_mention(doc_id, message.room_id, message.message_id, message.sent_at_ms)

    async def duplicate_of(self, sha256: str, meta: DocMeta) -> str | None:
        return await self._store.find_document_file(sha256, meta.title_en, meta.title_zh)


def _escape(title: str) -> str:
    """A title inside a Markdown link's text."""
    return re.sub(r"([\\\[\]*_`<>])", r"\\\1", title)


__all__ = ["DocDraft", "DocPage", "Filters", "LibraryService", "check_meta", "is_doc_id"]
