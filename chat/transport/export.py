"""Transcript export routes: a room's, a topic's and a webinar's transcript as a streamed download
(docs/protocol.md, "Exports"). The service (chat/export/service.py) checks everything before the
first byte, so every refusal is a JSON error with its status; then the bytes stream."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from chat.export.scope import ExportRequest, Transcript
from chat.transport.http import current_user, node_of, room_param

Scoped = Callable[[str, ExportRequest], Awaitable[Transcript]]


def transcript_headers(transcript: Transcript) -> dict[str, str]:
    name = transcript.filename
    return {
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name, safe='')}",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        **transcript.headers,
    }


def transcript_response(transcript: Transcript) -> StreamingResponse:
    """The transcript as an attachment, streamed, never cached."""
    return StreamingResponse(transcript.chunks, media_type=transcript.media_type,
                             headers=transcript_headers(transcript))


async def _export(request: Request, param: str, scoped: Callable[[Request], Scoped]) -> Response:
    room_id = room_param(request, param)
    user = await current_user(request)
    exports = node_of(request).exports
    export_request = await exports.request(request.query_params, user)
    transcript = await scoped(request)(room_id, export_request)
    if request.method == "HEAD":
        # The answer a GET would get, without running the export (StreamingResponse would read
        # it all for nothing): the stream is closed unread, which frees its slot.
        close = getattr(transcript.chunks, "aclose", None)
        if close is not None:
            await close()
        return Response(media_type=transcript.media_type, headers=transcript_headers(transcript))
    return transcript_response(transcript)


async def room_export(request: Request) -> Response:
    """
    summary: Download a room's transcript (any room the member can read)
    description: >
      The room's messages in their final state (edited ones marked, deleted ones shown as
      deleted), reactions with who reacted, room events, and each topic listed in the room
      followed by its replies, in the chosen format; a webinar's room also has its questions and
      polls. Streamed as a download (`Content-Disposition: attachment`); the last line states the
      SHA-256 of every byte before it (PDF: header `X-Content-SHA256`). A room the member may
      not read gets the same 404 as a room that does not exist. docs/protocol.md, "Exports".
    tags: [exports]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: room, in: path, required: true, schema: {type: string, pattern: '^[a-z0-9-]{1,64}$'}}
      - {$ref: '#/components/parameters/ExportFormat'}
      - {$ref: '#/components/parameters/ExportFrom'}
      - {$ref: '#/components/parameters/ExportTo'}
      - {$ref: '#/components/parameters/ExportTz'}
      - {$ref: '#/components/parameters/ExportLang'}
    responses:
      200: {$ref: '#/components/responses/Transcript'}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      413: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
      429: {$ref: '#/components/responses/Error'}
    """
    return await _export(request, "room", lambda r: node_of(r).exports.room)


async def topic_export(request: Request) -> Response:
    """
    summary: Download a topic's or news post's transcript
    description: >
      The post, then its replies (final text, edited and deleted marked, reactions), in the
      chosen format; 404 for a thread the member may not read, as for one that does not exist.
      docs/protocol.md, "Exports".
    tags: [exports]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: topic, in: path, required: true, schema: {type: string, pattern: '^[a-z0-9-]{1,64}$'}}
      - {$ref: '#/components/parameters/ExportFormat'}
      - {$ref: '#/components/parameters/ExportFrom'}
      - {$ref: '#/components/parameters/ExportTo'}
      - {$ref: '#/components/parameters/ExportTz'}
      - {$ref: '#/components/parameters/ExportLang'}
    responses:
      200: {$ref: '#/components/responses/Transcript'}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      413: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
      429: {$ref: '#/components/responses/Error'}
    """
    return await _export(request, "topic", lambda r: node_of(r).exports.topic)


async def webinar_export(request: Request) -> Response:
    """
    summary: Download a webinar's transcript (chat, questions, polls)
    description: >
      Sections "chat" (the audience chat), "questions" (what the member may see on the board:
      state, votes, pinned, the written answer and who answered; anonymous questions name
      nobody) and "polls" (options; counts and answers only where the member may see the
      results; drafts for hosts only). docs/protocol.md, "Exports".
    tags: [exports]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: webinar, in: path, required: true, schema: {type: string, pattern: '^[a-z0-9-]{1,64}$'}}
      - {$ref: '#/components/parameters/ExportFormat'}
      - {$ref: '#/components/parameters/ExportFrom'}
      - {$ref: '#/components/parameters/ExportTo'}
      - {$ref: '#/components/parameters/ExportTz'}
      - {$ref: '#/components/parameters/ExportLang'}
    responses:
      200: {$ref: '#/components/responses/Transcript'}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      413: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
      429: {$ref: '#/components/responses/Error'}
    """
    return await _export(request, "webinar", lambda r: node_of(r).exports.webinar)
