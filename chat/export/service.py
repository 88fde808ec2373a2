"""ExportService: a room's transcript (any kind: sector, city, direct, topic, news, webinar) in
any format, streamed page by page (docs/protocol.md, "Exports"; docs/decisions.md, "Transcript
exports").

Everything that can refuse an export is checked before the first byte: the parameters
(chat/export/scope.py), who may read the room (the rule history uses: someone who may not read
it gets the answer an unknown room gets), the node's and the member's running exports (429
export_busy), a PDF's length (413 export_too_large). Then the transcript streams: the header
at once, then the room log read in pages of ECOLINK_EXPORT_PAGE entries by seq (keyset; the
time range turned into a seq range once), each page formatted by the writer (in a thread when
it is big, so the event loop stays free), so memory stays flat whatever the room's size. A
failure after the first byte cannot change the status any more: it is logged and the stream
ends without its digest line (an incomplete file is visible as such).

PDF is the one format not streamed as it is written: its writer lays out pages, so the service
builds the file in a temporary file (the writer's calls in a thread), then streams the file
with its SHA-256 in the X-Content-SHA256 header (`_pdf_transcript`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import weakref
from importlib import import_module
from pathlib import Path
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import structlog

from chat.clock import Clock
from chat.errors import ExportBusy, ExportTooLarge, NotFound, Unavailable
from chat.export import fonts
from chat.export.digest import Digest
from chat.export.formats import Writer, new_writer
from chat.export.formats.pdf_limits import PDF_MAX_PAGES, pdf_pages_estimate
from chat.export.records import (
    Entry, Header, PollRecord, QuestionRecord, Reaction, Record, Scope, Section, with_attachments,
)
from chat.export.scope import ExportRequest, Transcript, parse_request, transcript_filename
from chat.logs import failure
from chat.models import THREAD_KINDS, Message, Poll, Question, Room, User
from chat.store.exports import NamedReactions
from chat.store.port import Store
from chat.webinars.board import ANSWERING, MODERATING, board_role

log = structlog.get_logger("chat.export")

# A page this big or bigger is formatted in a thread (smaller ones cost less than the hop).
THREAD_MIN_RECORDS = 64
# How long a client told export_busy should wait before asking again.
BUSY_RETRY_S = 5.0
FILE_CHUNK_BYTES = 64 * 1024
ROOM_SCOPES: tuple[Scope, ...] = ("sector", "city", "direct", "topic", "news", "webinar")


@dataclass(frozen=True, slots=True)
class Plan:
    """What one export reads, fixed before its first byte."""

    room: Room
    request: ExportRequest
    header: Header
    after: int  # the room log's span: after < seq <= upto
    upto: int
    staff_access: bool
    viewer_id: int | None  # whose board visibility the webinar's questions follow (None: all)
    hosting: bool  # sees the webinar's draft polls and every poll's counts


class _Slot:
    """One running export: counted against the node's cap and its member's one, until released
    (once, whichever of the stream's end or its collection comes first)."""

    def __init__(self, service: ExportService, member: int | None) -> None:
        self._service = service
        self._member = member
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._service._running -= 1
            if self._member is not None:
                self._service._members.discard(self._member)


class _Incomplete(Exception):
    """A transcript's stream failed after its first byte (logged): it ends without its digest."""


class _Chunks:
    """A transcript's byte stream that gives its slot back however it ends: exhausted, failed,
    closed (aclose, also before its first byte) or collected without being read. `incomplete`
    is set when it ended early after a failure (its status already sent, it simply ends: the
    command line exits non-zero on it)."""

    def __init__(self, stream: AsyncIterator[bytes], release: Callable[[], None]) -> None:
        """`release`: gives the slot back (and removes a built file); safe to call twice."""
        self._stream = stream
        self._release = release
        self.incomplete = False
        weakref.finalize(self, release)

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await anext(self._stream)
        except _Incomplete:
            self.incomplete = True
            self._release()
            raise StopAsyncIteration from None
        except BaseException:  # exhausted (StopAsyncIteration), failed or cancelled
            self._release()
            raise

    async def aclose(self) -> None:
        try:
            closer = getattr(self._stream, "aclose", None)
            if closer is not None:
                await closer()
        finally:
            self._release()


class ExportService:
    def __init__(self, store: Store, clock: Clock, *, concurrency: int, page: int,
                 pdf_max_pages: int = PDF_MAX_PAGES, pdf_font: Path | None = None) -> None:
        """`concurrency`: exports this node runs at once (ECOLINK_EXPORT_CONCURRENCY); `page`:
        log entries read per store call (ECOLINK_EXPORT_PAGE). The store is all it needs, so
        the command line runs it without a node."""
        self._store = store
        self._clock = clock
        self._concurrency = concurrency
        self._page = page
        # The longest PDF this node makes, in (estimated) pages: past it, 413 export_too_large.
        self.pdf_max_pages = pdf_max_pages
        # ECOLINK_PDF_FONT (None: the system's CJK font, chat/export/fonts.py).
        self._pdf_font = pdf_font
        self._running = 0
        self._members: set[int] = set()

    @property
    def running(self) -> int:
        """Exports running on this node now."""
        return self._running

    async def request(self, params: Mapping[str, str], requester: User | None) -> ExportRequest:
        """The request from query parameters (chat/export/scope.py), its defaults from the
        requester's profile (zone; zh when their languages hold Chinese and not English)."""
        profile = await self._store.get_profile(requester.user_id) if requester is not None else None
        return parse_request(
            params, requester, self._clock.now_ms(),
            profile_zone=profile.time_zone if profile is not None else None,
            profile_languages=profile.languages if profile is not None else ())

    # -- scopes ----------------------------------------------------------------------------

    async def room(self, room_id: str, request: ExportRequest, *, staff_access: bool = False,
                   head: bool = False) -> Transcript:
        """Any room's transcript, by the room's kind. Someone who may not read the room gets
        NotFound exactly like an unknown room; staff_access (compliance, the CLI) skips that
        check. Everything is validated before the first byte (ChatError → 4xx)."""
        room = await self._readable(room_id, request, staff_access, "room")
        return await self._export(room, request, staff_access, head)

    async def topic(self, topic_id: str, request: ExportRequest, *, staff_access: bool = False,
                    head: bool = False) -> Transcript:
        """A topic or news thread: its post, then its replies. NotFound for anything else."""
        room = await self._readable(topic_id, request, staff_access, "topic")
        if room.kind not in THREAD_KINDS:
            raise NotFound("no such topic")
        return await self._export(room, request, staff_access, head)

    async def webinar(self, webinar_id: str, request: ExportRequest, *, staff_access: bool = False,
                      head: bool = False) -> Transcript:
        """A webinar: its audience chat, then its questions and polls as the requester may see
        them on the board. NotFound for anything else."""
        room = await self._readable(webinar_id, request, staff_access, "webinar")
        if room.kind != "webinar":
            raise NotFound("no such webinar")
        return await self._export(room, request, staff_access, head)

    async def _readable(self, room_id: str, request: ExportRequest, staff_access: bool, noun: str) -> Room:
        """The room, if the requester may read it: the rule of history (RoomService.visible_room:
        store.room_access, and a webinar's guest their webinar only); else NotFound, the same
        for a room that does not exist."""
        user = request.requester
        if staff_access or user is None:
            room = await self._store.get_room(room_id)
        elif user.guest_of is not None and room_id != user.guest_of:
            room = None
        else:
            room, visible = await self._store.room_access(room_id, user.user_id)
            room = room if visible else None
        if room is None:
            raise NotFound(f"no such {noun}")
        return room

    # -- the export ------------------------------------------------------------------------

    async def _export(self, room: Room, request: ExportRequest, staff_access: bool, head: bool = False) -> Transcript:
        """`head`: a HEAD request's answer: every check, no file (a PDF is not built)."""
        slot = self._take(request.requester)
        try:
            plan = await self._plan(room, request, staff_access or request.requester is None)
            if request.format == "pdf":
                return await self._pdf_transcript(plan, slot, head)
            writer = new_writer(request.format)
        except BaseException:
            slot.release()
            raise
        return Transcript(
            filename=transcript_filename(room.kind, room.room_id, request, writer.extension),
            media_type=writer.media_type, chunks=_Chunks(self._stream(plan, writer, slot), slot.release))

    def counted(self, requester: User | None,
                make: Callable[[], Awaitable[AsyncIterator[bytes]]]) -> Awaitable[AsyncIterator[bytes]]:
        """Run `make` (which prepares a stream, e.g. a personal archive) as one of this node's
        running exports, counted like a transcript (ExportBusy first when none is free) until
        the stream it returns ends, fails or is dropped."""

        async def run() -> AsyncIterator[bytes]:
            slot = self._take(requester)
            try:
                stream = await make()
            except BaseException:
                slot.release()
                raise
            return _Chunks(stream, slot.release)

        return run()

    def _take(self, requester: User | None) -> _Slot:
        member = requester.user_id if requester is not None else None
        if self._running >= self._concurrency:
            raise ExportBusy("this node is running as many exports as it may: try again shortly",
                             retry_after_s=BUSY_RETRY_S)
        if member is not None and member in self._members:
            raise ExportBusy("one export at a time: wait until your running export is done",
                             retry_after_s=BUSY_RETRY_S)
        self._running += 1
        if member is not None:
            self._members.add(member)
        return _Slot(self, member)

    async def _plan(self, room: Room, request: ExportRequest, staff: bool) -> Plan:
        after, upto = await self._store.export_span(room.room_id, request.from_ms, request.to_ms)
        listing = room.kind in ("sector", "city", "direct")
        names = await self._store.export_participants(
            room.room_id, after, upto, threads=listing,
            threads_from_ms=request.from_ms, threads_to_ms=request.to_ms)
        title_en, title_zh = room.title_en, room.title_zh
        if room.kind in THREAD_KINDS:
            topic = await self._store.get_topic(room.room_id)
            if topic is not None:
                title_en = title_zh = topic.title
                if _in_range(topic.created_at_ms, request) and topic.author_name not in names:
                    names = sorted([*names, topic.author_name], key=lambda name: (name.casefold(), name))
        viewer_id, hosting = None, True
        if room.kind == "webinar" and not staff:
            assert request.requester is not None
            found = await self._store.board_context(room.room_id, request.requester.user_id)
            role = board_role(request.requester, found[3] if found is not None else None)
            # The board's rule (BoardService.snapshot): hosts, panelists and moderators see every
            # question; hosts and moderators the draft polls and every poll's counts.
            viewer_id = None if role in ANSWERING else request.requester.user_id
            hosting = role in MODERATING
        requester = request.requester
        header = Header(
            scope=room.kind, room_id=room.room_id, title_en=title_en, title_zh=title_zh,
            from_ms=request.from_ms, to_ms=request.to_ms, time_zone=request.time_zone, lang=request.lang,
            made_at_ms=request.made_at_ms, made_by_id=None if requester is None else requester.user_id,
            made_by_name="" if requester is None else requester.display_name,
            participants=tuple(names), format=request.format)
        return Plan(room, request, header, after, upto, staff, viewer_id, hosting)

    async def _stream(self, plan: Plan, writer: Writer, slot: _Slot) -> AsyncIterator[bytes]:
        """The transcript's bytes, the header first; the digest line last (over every byte
        before it)."""
        digest = Digest()
        counts = {"records": 0}
        room, request = plan.room, plan.request
        log.info("export.started", scope=room.kind, room=room.room_id, format=request.format,
                 by=None if request.requester is None else request.requester.user_id)
        try:
            yield digest.add(writer.start(plan.header))
            async for section, batch in self._records(plan):
                data = await self._format(writer, section, batch)
                counts["records"] += len(batch)
                if data:
                    yield digest.add(data)
            # Markdown's blank line, so its digest line is a paragraph of its own.
            tail: bytes = getattr(writer, "before_digest", b"")
            if tail:
                yield digest.add(tail)
            yield writer.end(digest.hexdigest())
        except Exception as exc:  # noqa: BLE001 — the status is sent: log, end the stream
            log.error("export.failed", scope=room.kind, room=room.room_id, format=request.format,
                      records=counts["records"], bytes=digest.size, **failure(exc))
            raise _Incomplete from None
        finally:
            slot.release()
        log.info("export.done", scope=room.kind, room=room.room_id, format=request.format,
                 records=counts["records"], bytes=digest.size)

    @staticmethod
    async def _format(writer: Writer, section: Section | None, batch: Sequence[Record]) -> bytes:
        """A section's heading (section set, batch empty) or a page's bytes."""
        if section is not None:
            return writer.section(section)
        if len(batch) >= THREAD_MIN_RECORDS:
            return await asyncio.to_thread(writer.records, batch)
        return writer.records(batch)

    async def _records(self, plan: Plan) -> AsyncIterator[tuple[Section | None, list[Record]]]:
        """(section, []) when a section starts, then (None, batch) for each page of its
        records, in the transcript's order."""
        yield "chat", []
        async for batch in self._chat(plan):
            yield None, batch
        if plan.room.kind == "webinar":
            yield "questions", []
            async for questions in self._questions(plan):
                yield None, questions
            yield "polls", []
            polls = await self._polls(plan)
            if polls:
                yield None, polls

    async def _chat(self, plan: Plan) -> AsyncIterator[list[Record]]:
        """The room log's entries in pages; in a room that lists threads, each thread's first
        entry is followed by its replies (thread_id set) in the same range; a thread's own
        export starts with its post."""
        room, request = plan.room, plan.request
        batch: list[Record] = []
        if room.kind in THREAD_KINDS:
            post = await self._thread_post(room.room_id, None)
            if post is not None and _in_range(post.at_ms, request):
                batch.append(post)
        listing = room.kind in ("sector", "city", "direct")
        seen: set[str] = set()
        if listing and request.from_ms is not None:
            # Threads started before the range with replies in it: their entry (outside the
            # range, for context) first, each followed by its replies in the range.
            for earlier in await self._store.export_earlier_threads(room.room_id, request.from_ms, request.to_ms):
                post = await self._thread_post(earlier, room.room_id)
                if post is None:
                    continue
                seen.add(earlier)
                batch.append(post)
                async for replies in self._thread_replies(earlier, request):
                    batch.extend(replies)
                    if len(batch) >= self._page:
                        yield batch
                        batch = []
        async for messages, reactions in self._pages(room.room_id, plan.after, plan.upto):
            for message in messages:
                thread = _thread_of(message) if listing and message.kind == "topic" else None
                first = thread is not None and thread not in seen
                entry = _entry(message, reactions, None)
                if message.kind == "topic":
                    entry = replace(entry, data={**entry.data, "first": first})
                batch.append(entry)
                if first and thread is not None:
                    seen.add(thread)
                    post = await self._thread_post(thread, room.room_id)
                    if post is not None:
                        batch[-1] = replace(entry, text=post.text, html=post.html)
                    async for replies in self._thread_replies(thread, request):
                        batch.extend(replies)
                        if len(batch) >= self._page:
                            yield batch
                            batch = []
                if len(batch) >= self._page:
                    yield batch
                    batch = []
        if batch:
            yield batch

    async def _pages(self, room_id: str, after: int, upto: int) -> AsyncIterator[tuple[list[Message], NamedReactions]]:
        while after < upto:
            messages, reactions = await self._store.export_page(room_id, after, upto, self._page)
            if not messages:
                return
            yield messages, reactions
            after = messages[-1].seq

    async def _thread_post(self, topic_id: str, listed_in: str | None) -> Entry | None:
        """A thread's post as an entry (kind "topic", its body as text)."""
        topic = await self._store.get_topic(topic_id)
        if topic is None:
            return None
        text, html_text = with_attachments(topic.body, topic.body_html, list(topic.attachments))
        return Entry(
            room_id=listed_in or topic_id, seq=0, entry_id=topic.topic_id, at_ms=topic.created_at_ms,
            kind="topic", author_id=topic.author_id, author_name=topic.author_name,
            author_role=topic.author_role, text=text, html=html_text,
            data={"topic": {"id": topic.topic_id, "kind": topic.kind, "title": topic.title,
                            "summary": topic.summary}, "first": True})

    async def _thread_replies(self, topic_id: str, request: ExportRequest) -> AsyncIterator[list[Entry]]:
        after, upto = await self._store.export_span(topic_id, request.from_ms, request.to_ms)
        async for messages, reactions in self._pages(topic_id, after, upto):
            yield [_entry(m, reactions, topic_id) for m in messages if m.kind == "message"]

    async def _questions(self, plan: Plan) -> AsyncIterator[list[Record]]:
        request = plan.request
        key: tuple[int, str] | None = None
        while True:
            page = await self._store.export_questions(
                plan.room.room_id, plan.viewer_id, request.from_ms, request.to_ms, key, self._page)
            if not page:
                return
            yield [_question(x) for x in page]
            key = (page[-1].created_at_ms, page[-1].question_id)
            if len(page) < self._page:
                return

    async def _polls(self, plan: Plan) -> list[Record]:
        polls = await self._store.webinar_polls(plan.room.room_id)
        return [_poll(p, counts=p.results_public or plan.hosting) for p in polls
                if (plan.hosting or p.state != "draft") and _in_range(p.created_at_ms, plan.request)]

    # -- PDF -------------------------------------------------------------------------------

    async def _pdf_transcript(self, plan: Plan, slot: _Slot, head: bool = False) -> Transcript:
        """Refuse a PDF past the page limit; else build it into a temporary file (every writer
        call in a thread, chat/export/formats/pdf.py) and stream that file, with its SHA-256 in
        X-Content-SHA256 and its length in Content-Length."""
        # reportlab loads on a node's first PDF only, and in a thread, like the font below: both
        # take a few hundred milliseconds the event loop must not wait for (docs/benchmarks.md).
        pdf = await asyncio.to_thread(import_module, "chat.export.formats.pdf")

        entries = await self._store.export_count(plan.room.room_id, plan.after, plan.upto)
        pages = pdf_pages_estimate(entries)
        if pages > self.pdf_max_pages:
            raise _too_large(pages, self.pdf_max_pages)
        try:
            font = fonts.find_font(self._pdf_font)
        except fonts.FontError as e:
            log.error("export.pdf_font", error=str(e))
            raise Unavailable("PDF exports are not available on this node (its PDF font is"
                              " misconfigured); choose another format") from None
        filename = transcript_filename(plan.room.kind, plan.room.room_id, plan.request, "pdf")
        if head:  # what a GET would start with, without building the file
            slot.release()
            return Transcript(filename=filename, media_type=pdf.MEDIA_TYPE, chunks=_Chunks(_nothing(), slot.release))
        writer = await asyncio.to_thread(pdf.writer, font=font, max_pages=self.pdf_max_pages)
        try:
            await asyncio.to_thread(writer.start, plan.header)
            async for section, batch in self._records(plan):
                if section is not None:
                    await asyncio.to_thread(writer.section, section)
                else:
                    await asyncio.to_thread(writer.records, batch)
            await asyncio.to_thread(writer.end, "")
            done = writer.finish()
        except pdf.PdfPageLimit:
            writer.discard()
            raise _too_large(self.pdf_max_pages + 1, self.pdf_max_pages) from None
        except BaseException:
            writer.discard()
            raise
        log.info("export.built", scope=plan.room.kind, room=plan.room.room_id, format="pdf",
                 records=entries, pages=done.pages, bytes=done.size)
        path = str(done.path)
        stream = _Chunks(_file_chunks(path, slot), functools.partial(_discard, path, slot))
        return Transcript(
            filename=transcript_filename(plan.room.kind, plan.room.room_id, plan.request, writer.extension),
            media_type=writer.media_type, chunks=stream,
            headers={"X-Content-SHA256": done.sha256, "Content-Length": str(done.size)})


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield  # an async generator that yields nothing


def _too_large(pages: int, most: int) -> ExportTooLarge:
    return ExportTooLarge(
        f"a PDF of this range would take about {pages} pages (at most {most}):"
        " choose a narrower range (from, to), or another format")


def _in_range(at_ms: int, request: ExportRequest) -> bool:
    return ((request.from_ms is None or at_ms >= request.from_ms)
            and (request.to_ms is None or at_ms < request.to_ms))


def _thread_of(message: Message) -> str | None:
    topic = message.data.get("topic")
    value = topic.get("id") if isinstance(topic, dict) else None
    return value if isinstance(value, str) else None


def _entry(m: Message, reactions: NamedReactions, thread_id: str | None) -> Entry:
    data: dict[str, Any] = m.data
    text, html_text = ("", "") if m.deleted else with_attachments(m.body, m.html, data.get("attachments"))
    return Entry(
        room_id=m.room_id, seq=m.seq, entry_id=m.message_id, at_ms=m.sent_at_ms,
        kind=m.kind,  # type: ignore[arg-type]  # export_page returns only Entry's kinds
        author_id=m.author_id, author_name=m.author_name, author_role=m.author_role,
        text=text, html=html_text, data=data,
        edited_at_ms=m.edited_at_ms, deleted=m.deleted,
        reactions=tuple(Reaction(emoji, tuple(names)) for emoji, names in reactions.get(m.message_id, [])),
        thread_id=thread_id)


def _question(x: Question) -> QuestionRecord:
    return QuestionRecord(
        question_id=x.question_id, at_ms=x.created_at_ms,
        author_name=None if x.anonymous else x.author_name, state=x.state, pinned=x.pinned,
        votes=x.votes, text=x.body, answer=x.answer, answer_html=x.answer_html,
        answered_by_name=x.answered_by_name if x.answered_by is not None else None)


def _poll(p: Poll, *, counts: bool) -> PollRecord:
    return PollRecord(
        poll_id=p.poll_id, at_ms=p.opened_at_ms or p.created_at_ms, question_en=p.question_en,
        question_zh=p.question_zh, options=tuple((o.en, o.zh) for o in p.options), multiple=p.multiple,
        state=p.state, counts=tuple(p.counts) if counts else None, answers=p.answers if counts else None)



def _discard(path: str, slot: _Slot) -> None:
    slot.release()
    with contextlib.suppress(OSError):
        os.unlink(path)


async def _file_chunks(path: str, slot: _Slot) -> AsyncIterator[bytes]:
    """A built file's bytes; the file is removed and the slot released at the end."""
    try:
        with open(path, "rb") as file:
            while block := await asyncio.to_thread(file.read, FILE_CHUNK_BYTES):
                yield block
    finally:
        _discard(path, slot)
