"""HTTP routes for webinars: schedule, list, read, edit, start, end, cancel, the chat mode,
registration and the calendar file. Docstrings hold the OpenAPI fragments; docs/protocol.md,
"Webinars", tells the rest."""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictBool, StrictInt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.errors import BadRequest
from chat.models import User, Webinar
from chat.protocol.frames import is_room_id
from chat.protocol.ratelimit import HTTP_WRITE_COST, THREAD_COST_PER_ROOM
from chat.transport.http import Body, FileIds, Id, Line, Text, charge, current_user, int_param, node_of, read_body, room_param
from chat.webinars.rules import WebinarDraft
from chat.webinars.service import role_of
from chat.webinars.calendar import calendar_file
from chat.webinars.shapes import WEBINAR_PAGE, webinar_json

MAX_CURSOR_CHARS = 100


class TitleBody(Body):
    en: Line | None = None
    zh: Line | None = None


class WebinarPatch(Body):
    title: TitleBody | None = None
    description: Text | None = None
    starts_at: Line | None = None
    ends_at: Line | None = None
    time_zone: Line | None = None
    rooms: list[Line] | None = Field(default=None, max_length=10)
    hosts: list[Id] | None = Field(default=None, max_length=50)
    panelists: list[Id] | None = Field(default=None, max_length=50)
    premoderated: StrictBool | None = None
    guests_allowed: StrictBool | None = None
    attachments: FileIds | None = None

    def draft(self) -> WebinarDraft:
        return WebinarDraft(
            title_en=self.title.en if self.title else None, title_zh=self.title.zh if self.title else None,
            description=self.description, starts_at=self.starts_at, ends_at=self.ends_at,
            time_zone=self.time_zone, rooms=self.rooms, hosts=self.hosts, panelists=self.panelists,
            premoderated=self.premoderated, guests_allowed=self.guests_allowed,
            attachments=None if self.attachments is None else tuple(self.attachments))


class WebinarBody(WebinarPatch):
    title: TitleBody
    starts_at: Line
    ends_at: Line


class ChatBody(Body):
    mode: Line
    slow_s: StrictInt | None = None


SCHEMAS: dict[str, Any] = {
    "WebinarSummary": {"type": "object", "description": "A webinar as listings and the log's"
                       " `webinar` entries show it (docs/protocol.md, \"Webinars\")", "properties": {
        "id": {"type": "string", "description": "webinar-<16 hex>: also its room's id"},
        "title": {"type": "object", "properties": {"en": {"type": "string"}, "zh": {"type": "string"}},
                  "description": "either may be empty, not both"},
        "starts_at": {"type": "string", "format": "date-time", "description": "UTC"},
        "ends_at": {"type": "string", "format": "date-time", "description": "UTC"},
        "time_zone": {"type": "string", "description": "the host's IANA zone"},
        "local": {"type": "object", "description": "start and end in the host's zone, with offset",
                  "properties": {"starts_at": {"type": "string"}, "ends_at": {"type": "string"}}},
        "state": {"type": "string", "enum": ["scheduled", "live", "ended", "cancelled"]},
        "started_at": {"type": ["string", "null"], "format": "date-time"},
        "ended_at": {"type": ["string", "null"], "format": "date-time"},
        "chat": {"type": "object", "properties": {
            "mode": {"type": "string", "enum": ["open", "slow", "off"]},
            "slow_s": {"type": "integer", "description": "seconds between an attendee's messages in slow mode (0 otherwise)"}}},
        "premoderated": {"type": "boolean"},
        "guests_allowed": {"type": "boolean"},
        "rooms": {"type": "array", "items": {"type": "string"}, "description": "sector and city rooms listing it"},
        "hosts": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}}}},
        "panelists": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}}}},
        "registrations": {"type": "integer"},
        "version": {"type": "integer", "description": "raised by each edit and the cancellation (the calendar SEQUENCE)"}}},
    "Webinar": {"allOf": [{"$ref": "#/components/schemas/WebinarSummary"}, {"type": "object", "properties": {
        "role": {"type": "string", "enum": ["host", "panelist", "moderator", "attendee"],
                 "description": "the viewer's role in it"},
        "registered": {"type": "boolean", "description": "whether the viewer registered"},
        "page": {"type": "string", "description": "the web client's page of it: /#/webinar/<id>"},
        "description": {"type": "string", "description": "Markdown, as typed (not in lists)"},
        "html": {"type": "string", "description": "the description rendered and sanitised (not in lists)"},
        "attachments": {"$ref": "#/components/schemas/Attachments"}}}]},
    "WebinarBody": {"type": "object", "properties": {
        "title": {"type": "object", "properties": {"en": {"type": "string", "maxLength": 200},
                                                   "zh": {"type": "string", "maxLength": 200}}},
        "description": {"type": "string", "maxLength": 20000, "description": "Markdown"},
        "attachments": {"$ref": "#/components/schemas/FileIds"},
        "starts_at": {"type": "string", "description": "ISO 8601 with offset, e.g. 2027-03-01T09:30:00+01:00"},
        "ends_at": {"type": "string", "description": "after starts_at, by 1 minute to 24 hours"},
        "time_zone": {"type": "string", "description": "IANA zone (default UTC)"},
        "rooms": {"type": "array", "maxItems": 5, "items": {"type": "string"}, "description": "sector and city room ids"},
        "hosts": {"type": "array", "items": {"type": "integer"}, "description": "member ids (default: you)"},
        "panelists": {"type": "array", "items": {"type": "integer"}},
        "premoderated": {"type": "boolean", "default": False},
        "guests_allowed": {"type": "boolean", "default": False}}},
}
_ONE = "{description: \"The webinar\", content: {application/json: {schema: {type: object, properties: {webinar: {$ref: '#/components/schemas/Webinar'}}}}}}"


def _view(user: User, webinar: Webinar, registered: bool, *, description: bool = True) -> dict[str, Any]:
    return webinar_json(webinar, role=role_of(user, webinar), registered=registered, description=description)


async def _one(request: Request, user: User, webinar: Webinar, status: int = 200) -> Response:
    registered = webinar.webinar_id in await node_of(request).webinars.registered(user, [webinar.webinar_id])
    return JSONResponse({"webinar": _view(user, webinar, registered)}, status)


def _webinar_param(request: Request) -> str:
    return room_param(request, "webinar")


def _cursor(request: Request) -> tuple[int, str] | None:
    raw = request.query_params.get("after")
    if raw is None or raw == "":
        return None
    ms, _, webinar_id = raw.partition(".")
    if not (len(raw) <= MAX_CURSOR_CHARS and ms.isascii() and ms.isdigit() and len(ms) <= 18
            and is_room_id(webinar_id)):
        raise BadRequest("'after' must be the `next` of the previous page")
    return int(ms), webinar_id


def _charge_schedule(request: Request, user: User, body: WebinarPatch) -> None:
    """Like a news post: the write, per listing room, and the description's rendering."""
    node = node_of(request)
    charge(request, user, HTTP_WRITE_COST + THREAD_COST_PER_ROOM * len(set(body.rooms or []))
           + node.renderer.cost_tokens(body.description or ""))


async def _page(request: Request, room_id: str | None) -> Response:
    user = await current_user(request)
    when = request.query_params.get("when", "upcoming")
    after = _cursor(request)
    limit = int_param(request, "limit", default=50, low=1, high=100)
    node = node_of(request)
    webinars, last = await node.webinars.listing(user, when, room_id=room_id, after=after, limit=limit)
    registered = await node.webinars.registered(user, [w.webinar_id for w in webinars])
    return JSONResponse({
        "webinars": [_view(user, w, w.webinar_id in registered, description=False) for w in webinars],
        "next": None if last is None else f"{last[0]}.{last[1]}"})


_LIST_PARAMS = """
      - {name: when, in: query, schema: {type: string, enum: [upcoming, live, past], default: upcoming}, description: "upcoming (scheduled) and live ones soonest first; past (ended, cancelled) latest first"}
      - {name: after, in: query, schema: {type: string}, description: "the previous page's `next`"}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 50}}"""
_LIST_RESPONSE = """
      200: {description: "A page of webinars (without descriptions); `next` is null on the last page", content: {application/json: {schema: {type: object, properties: {webinars: {type: array, items: {$ref: '#/components/schemas/Webinar'}}, next: {type: [string, 'null']}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}"""


async def list_webinars(request: Request) -> Response:
    return await _page(request, None)


list_webinars.__doc__ = """
    summary: Webinars platform-wide, upcoming, live or past
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters:""" + _LIST_PARAMS + """
    responses:""" + _LIST_RESPONSE + "\n"


async def room_webinars(request: Request) -> Response:
    return await _page(request, room_param(request))


room_webinars.__doc__ = """
    summary: The webinars listed in a sector or city room, upcoming, live or past
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: room, in: path, required: true, schema: {type: string}}""" + _LIST_PARAMS + """
    responses:""" + _LIST_RESPONSE + """
      404: {$ref: '#/components/responses/Error'}
"""


async def schedule_webinar(request: Request) -> Response:
    user = await current_user(request, cost=0)
    body = await read_body(request, WebinarBody)
    _charge_schedule(request, user, body)
    webinar = await node_of(request).webinars.schedule(user, body.draft())
    return await _one(request, user, webinar, 201)


schedule_webinar.__doc__ = """
summary: Schedule a webinar (moderators and admins)
description: >
  A webinar is a room of its own (kind "webinar", id `webinar-<16 hex>`): join it over the
  WebSocket for its audience chat and its `webinar` entries. Without `hosts`, you host it.
  Its log and each listing room get a `webinar` entry with change "scheduled".
tags: [webinars]
security: [{bearer: []}, {cookie: []}]
requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/WebinarBody'}}}}
responses:
  201: """ + _ONE + """
  400: {$ref: '#/components/responses/Error'}
  403: {description: "forbidden: only moderators and admins schedule webinars", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
  422: {description: "invalid: a field is wrong (times, title, zone, rooms, people); details name it", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
  429: {$ref: '#/components/responses/Error'}
"""


async def get_webinar(request: Request) -> Response:
    user = await current_user(request)
    webinar = await node_of(request).webinars.get(user, _webinar_param(request))
    return await _one(request, user, webinar)


get_webinar.__doc__ = """
    summary: One webinar, with your role in it and whether you registered
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: webinar, in: path, required: true, schema: {type: string}}]
    responses:
      200: """ + _ONE + """
      400: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
"""


async def edit_webinar(request: Request) -> Response:
    user = await current_user(request, cost=0)
    body = await read_body(request, WebinarPatch)
    _charge_schedule(request, user, body)
    webinar = await node_of(request).webinars.edit(user, _webinar_param(request), body.draft())
    return await _one(request, user, webinar)


edit_webinar.__doc__ = """
    summary: Edit a scheduled webinar (its hosts, moderators and admins)
    description: >
      Fields left out stay as they are; `rooms`, `hosts` and `panelists` replace the lists.
      Its log and every room that listed it before or lists it now get a `webinar` entry
      with change "edited"; registered members get a `webinar_edited` notification; `version`
      goes up by one. 409 once it went live, ended or was cancelled.
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: webinar, in: path, required: true, schema: {type: string}}]
    requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/WebinarBody'}}}}
    responses:
      200: """ + _ONE + """
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      409: {description: "conflict: the webinar is no longer scheduled", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {$ref: '#/components/responses/Error'}
"""


def _state_route(action: str) -> Any:
    async def handler(request: Request) -> Response:
        user = await current_user(request)
        webinars = node_of(request).webinars
        webinar_id = _webinar_param(request)
        move = {"start": webinars.start, "end": webinars.end, "cancel": webinars.cancel}[action]
        return await _one(request, user, await move(user, webinar_id))

    return handler


_STATE_DOC = """
    summary: {summary}
    description: >
      {description} Hosts, moderators and admins only (403 otherwise). Asking again once it is
      done answers 200 and changes nothing; 409 from any other state.
    tags: [webinars]
    security: [{{bearer: []}}, {{cookie: []}}]
    parameters: [{{name: webinar, in: path, required: true, schema: {{type: string}}}}]
    responses:
      200: {one}
      403: {{$ref: '#/components/responses/Error'}}
      404: {{$ref: '#/components/responses/Error'}}
      409: {{description: "conflict: not from this state", content: {{application/json: {{schema: {{$ref: '#/components/schemas/Error'}}}}}}}}
"""
start_webinar = _state_route("start")
start_webinar.__doc__ = _STATE_DOC.format(
    summary="Start a scheduled webinar (it goes live)", one=_ONE,
    description="A `webinar` entry with change \"live\"; registered members get a `webinar_live` notification.")
end_webinar = _state_route("end")
end_webinar.__doc__ = _STATE_DOC.format(
    summary="End a live webinar", one=_ONE,
    description="A `webinar` entry with change \"ended\"; its chat is read-only from then on.")
cancel_webinar = _state_route("cancel")
cancel_webinar.__doc__ = _STATE_DOC.format(
    summary="Cancel a scheduled webinar", one=_ONE,
    description="A `webinar` entry with change \"cancelled\"; registered members get a"
                " `webinar_cancelled` notification; the calendar file says STATUS:CANCELLED.")


async def set_chat_mode(request: Request) -> Response:
    user = await current_user(request)
    body = await read_body(request, ChatBody)
    webinar = await node_of(request).webinars.set_chat(user, _webinar_param(request), body.mode, body.slow_s)
    return await _one(request, user, webinar)


set_chat_mode.__doc__ = """
    summary: Open, slow down or turn off the audience chat (hosts, moderators, admins)
    description: >
      "slow": each attendee sends at most one message per `slow_s` seconds (1-3600; refused
      with `slow_mode` and `retry_after`); "off": attendees and panelists send nothing
      (`chat_closed`). Hosts, moderators and admins are never limited. A `webinar` entry with
      change "chat" tells the room. 409 once ended or cancelled.
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: webinar, in: path, required: true, schema: {type: string}}]
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [mode], properties: {mode: {type: string, enum: [open, slow, off]}, slow_s: {type: integer, minimum: 1, maximum: 3600}}}}}}
    responses:
      200: """ + _ONE + """
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      409: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
"""


def _registration_route(registered: bool) -> Any:
    async def handler(request: Request) -> Response:
        user = await current_user(request)
        webinar = await node_of(request).webinars.register(user, _webinar_param(request), registered)
        return await _one(request, user, webinar)

    return handler


register = _registration_route(True)
register.__doc__ = """
    summary: Register for a webinar (idempotent)
    description: Registered members get notifications when it goes live, is edited or is
      cancelled. 409 for one that ended or was cancelled.
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: webinar, in: path, required: true, schema: {type: string}}]
    responses:
      200: """ + _ONE + """
      404: {$ref: '#/components/responses/Error'}
      409: {$ref: '#/components/responses/Error'}
"""
unregister = _registration_route(False)
unregister.__doc__ = """
    summary: Unregister from a webinar (idempotent)
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: webinar, in: path, required: true, schema: {type: string}}]
    responses:
      200: """ + _ONE + """
      404: {$ref: '#/components/responses/Error'}
"""


def _language(request: Request) -> str:
    """`lang` (en or zh) if given, else the first language of Accept-Language."""
    lang = request.query_params.get("lang")
    if lang is not None:
        if lang not in ("en", "zh"):
            raise BadRequest("'lang' must be en or zh")
        return lang
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"


async def webinar_calendar(request: Request) -> Response:
    user = await current_user(request)
    language = _language(request)
    webinar = await node_of(request).webinars.get(user, _webinar_param(request))
    page_url = str(request.base_url).rstrip("/") + WEBINAR_PAGE.format(webinar.webinar_id)
    return Response(calendar_file(webinar, language=language, page_url=page_url),
                    media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{webinar.webinar_id}.ics"',
                             "Cache-Control": "no-store"})


webinar_calendar.__doc__ = """
    summary: The webinar as an iCalendar file (.ics) to add to a calendar
    description: >
      One VEVENT: UID `<webinar id>@webinars.ecolink` (stable), DTSTART/DTEND in UTC, SUMMARY
      the title in your language (`lang`, else Accept-Language; the other language when it
      has no title in yours), DESCRIPTION the description as plain text and the page's
      address, URL the web client's page (`/#/webinar/<id>`), SEQUENCE its `version` (raised
      by each edit and the cancellation), STATUS CONFIRMED or CANCELLED.
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: webinar, in: path, required: true, schema: {type: string}}
      - {name: lang, in: query, schema: {type: string, enum: [en, zh]}}
    responses:
      200: {description: "text/calendar", content: {text/calendar: {schema: {type: string}}}}
      400: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
"""
