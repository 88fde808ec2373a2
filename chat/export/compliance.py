"""The admins' compliance export: the transcripts of several rooms, or of all of them (direct
conversations included), for one range, format, zone and language, in one streamed zip with a
manifest (GET /api/v1/admin/export, `ecolink export compliance`).

Everything that can refuse it is checked before the first byte: the parameters (chat/export/
scope.py, through ExportService.request), the room selection (an unknown room id is a 404 for
the whole export), who asks (admins; the operator at the command line). Then the audit log
records it ("export.compliance": who, which rooms, range, zone, format, language), and only
then does the first transcript start. Each room's transcript is made by ExportService.room with
staff_access (every room, whoever is in it), one after the other, so the export holds one
export slot at a time. A transcript refused once the zip has started (the node busy for too
long, a PDF too long) becomes a short `<room>.error.txt` in the zip instead, listed in the
manifest; the other rooms follow. A transcript that fails part way stays as it is (no digest
line) and is followed by a `<room>.error.txt` saying so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import structlog

from chat.audit.service import EXPORT_COMPLIANCE, AuditLog, actor_label
from chat.clock import iso_ms
from chat.errors import BadRequest, ChatError, ExportBusy, Forbidden, NotFound
from chat.export.archive import MEDIA_TYPE, Archive, Member, zip_stream
from chat.export.scope import ExportRequest, Transcript
from chat.export.service import ExportService
from chat.models import User
from chat.protocol.frames import is_room_id
from chat.store.port import Store

log = structlog.get_logger("chat.export.compliance")

# Kinds an "all rooms" export covers: topics and news threads are in the transcripts of the
# rooms they are listed in (a room's export shows each listed topic with its replies).
ALL_KINDS = ("sector", "city", "direct", "webinar")
MAX_ROOMS = 200  # rooms named in one request (all=true has no limit)
ROOM_PAGE = 200
BUSY_RETRIES = 60  # a later room waits this many times for a free export slot


def parse_selection(rooms: str | None, all_rooms: str | None) -> list[str] | None:
    """The rooms asked for: a list of ids (`rooms=a,b`, deduplicated, in order) or None for all
    (`all=true`); exactly one of the two. BadRequest otherwise."""
    if all_rooms not in (None, "", "true", "false"):
        raise BadRequest("'all' must be true or false")
    everything = all_rooms == "true"
    if everything and rooms:
        raise BadRequest("give either 'rooms' or all=true, not both")
    if everything:
        return None
    if not rooms:
        raise BadRequest("name the rooms (rooms=a,b) or ask for all of them (all=true)")
    ids = list(dict.fromkeys(part.strip() for part in rooms.split(",")))
    if len(ids) > MAX_ROOMS:
        raise BadRequest(f"at most {MAX_ROOMS} rooms per export; use all=true for every room")
    if not all(is_room_id(room_id) for room_id in ids):
        raise BadRequest("each room id must be 1-64 of a-z, 0-9 and '-'")
    return ids


def check_admin(actor: User | None) -> None:
    """Admins (and the operator, None) run compliance exports: Forbidden otherwise."""
    if actor is not None and actor.role != "admin":
        raise Forbidden("only admins can run compliance exports")


class ComplianceExports:
    def __init__(self, store: Store, exports: ExportService, audit: AuditLog) -> None:
        self._store = store
        self._exports = exports
        self._audit = audit

    async def archive(self, selection: list[str] | None, request: ExportRequest) -> Archive:
        """The zip of the selected rooms' transcripts (None: every room of ALL_KINDS), made for
        request.requester (None: the operator). Raises before any byte: Forbidden, NotFound
        (an unknown room), and whatever the first transcript refuses with."""
        actor = request.requester
        check_admin(actor)
        if selection is not None:
            for room_id in selection:
                if await self._store.get_room(room_id) is None:
                    raise NotFound("no such room")
        detail: dict[str, Any] = {
            "rooms": "all" if selection is None else selection,
            "from": None if request.from_ms is None else iso_ms(request.from_ms),
            "to": None if request.to_ms is None else iso_ms(request.to_ms),
            "time_zone": request.time_zone, "format": request.format, "lang": request.lang,
        }
        await self._audit.record(actor, EXPORT_COMPLIANCE, detail)
        rooms = self._room_ids(selection)
        first_id = await anext(rooms, None)
        first = None if first_id is None else await self._exports.room(first_id, request, staff_access=True)
        day = iso_ms(request.made_at_ms)[:10]
        manifest = {"scope": "compliance", **detail,
                    "made_by": {"id": None if actor is None else actor.user_id, "label": actor_label(actor)}}
        members = self._members(first_id, first, rooms, request)
        log.info("export.compliance_started", rooms="all" if selection is None else len(selection),
                 format=request.format, by=None if actor is None else actor.user_id)
        return Archive(f"ecolink-compliance-{day}.zip", MEDIA_TYPE,
                       zip_stream(members, request.made_at_ms, manifest))

    async def _room_ids(self, selection: list[str] | None) -> AsyncIterator[str]:
        if selection is not None:
            for room_id in selection:
                yield room_id
            return
        after = ""
        while page := await self._store.rooms_after(ALL_KINDS, after, ROOM_PAGE):
            for room in page:
                yield room.room_id
            after = page[-1].room_id

    async def _members(self, first_id: str | None, first: Transcript | None, rest: AsyncIterator[str],
                       request: ExportRequest) -> AsyncIterator[Member]:
        if first_id is not None and first is not None:
            yield _transcript_member(first)
            if getattr(first.chunks, "incomplete", False):
                yield _incomplete_member(first_id)
        async for room_id in rest:
            try:
                transcript = await self._room(room_id, request)
            except ChatError as exc:
                log.warning("export.compliance_room_refused", room=room_id, code=exc.code)
                yield _error_member(room_id, exc)
                continue
            yield _transcript_member(transcript)
            # The zip has read that transcript to its end by the time it asks for the next file.
            if getattr(transcript.chunks, "incomplete", False):
                yield _incomplete_member(room_id)

    async def _room(self, room_id: str, request: ExportRequest) -> Transcript:
        """One room's transcript, waiting for a free export slot when the node is busy."""
        for _ in range(BUSY_RETRIES):
            try:
                return await self._exports.room(room_id, request, staff_access=True)
            except ExportBusy as exc:
                await asyncio.sleep(exc.retry_after_s or 1.0)
        return await self._exports.room(room_id, request, staff_access=True)


def _transcript_member(transcript: Transcript) -> Member:
    def chunks() -> AsyncIterator[bytes]:
        return transcript.chunks
    return Member(transcript.filename, chunks)


def _incomplete_member(room_id: str) -> Member:
    async def chunks() -> AsyncIterator[bytes]:
        yield (f"{room_id}: incomplete: the transcript failed part way (it has no digest line);"
               " export this room again\n").encode()
    return Member(f"{room_id}.error.txt", chunks)


def _error_member(room_id: str, error: ChatError) -> Member:
    async def chunks() -> AsyncIterator[bytes]:
        yield f"{room_id}: not exported ({error.code}): {error.message}\n".encode()
    return Member(f"{room_id}.error.txt", chunks)
