"""HTTP routes for read state (/api/v1/rooms/{room}/read, /reads) and notifications
(/api/v1/notifications). Docstrings hold the OpenAPI fragments; SCHEMAS joins the document's
components. `GET /api/v1/rooms` adds each room's read state in chat/transport/http.py."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictInt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.errors import BadRequest, InvalidInput
from chat.models import NOTIFICATION_KINDS
from chat.rooms.notifications import MAX_IDS, MAX_PAGE, notification_json
from chat.transport.http import Body, current_user, int_param, node_of, read_body, room_param

MAX_SEQ = 2**63 - 1


class ReadBody(Body):
    seq: StrictInt = Field(ge=0, le=MAX_SEQ)


class RoomSettingsBody(Body):
    notify: Literal["all", "mentions", "none"] | None


class MarkReadBody(Body):
    ids: list[Annotated[StrictInt, Field(ge=1, le=MAX_SEQ)]] | None = Field(default=None, max_length=MAX_IDS)
    all: StrictBool | None = None


def bool_param(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "")
    if raw not in ("", "true", "false"):
        raise BadRequest(f"'{name}' must be true or false")
    return raw == "true"


# -- read state ---------------------------------------------------------------------------


async def mark_room_read(request: Request) -> Response:
    """
    summary: Raise the caller's read position in a room
    description: >
      `seq` is the last seq the caller has read. A position never goes down: an older or
      equal seq changes nothing (and is not an error). A seq past the room's head is refused
      (422). When the position moves, the caller's connections get a `read` frame, and in a
      direct room so do the members who have it open.
    tags: [read state]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: room, in: path, required: true, schema: {type: string, pattern: '^[a-z0-9-]{1,64}$'}}
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/ReadBody'}
    responses:
      200: {description: "The position now, and the room's unread count from it", content: {application/json: {schema: {type: object, properties: {room: {type: string}, last_read: {type: integer}, unread: {type: integer}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      413: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    room_id = room_param(request)
    user = await current_user(request)
    body = await read_body(request, ReadBody)
    reads = node_of(request).reads
    last_read = await reads.mark_read(user, room_id, body.seq)
    _, unread = (await reads.summaries(user, [room_id]))[room_id]  # the room exists: just seen
    return JSONResponse({"room": room_id, "last_read": last_read, "unread": unread})


async def mark_all_rooms_read(request: Request) -> Response:
    """
    summary: Mark every room of the caller's listing read
    description: >
      Raises the caller's read position to the head in each room of `GET /api/v1/rooms` that
      has anything past it. Each room that moved is announced like `PUT .../read` (a `read`
      frame). Takes no body.
    tags: [read state]
    security: [{bearer: []}, {cookie: []}]
    responses:
      200: {description: "The rooms whose position moved", content: {application/json: {schema: {type: object, properties: {rooms: {type: array, items: {type: string}}}}}}}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    return JSONResponse({"rooms": await node_of(request).reads.mark_all_read(user)})


async def room_settings(request: Request) -> Response:
    """
    summary: Set how much a room notifies the caller (mute it)
    description: >
      `notify` is `all` (every message), `mentions` (only mentions of the caller) or `none`
      (muted: no notifications, and clients leave it out of unread totals); `null` goes back
      to the default (all in direct conversations, mentions elsewhere). Stored per member on
      the server, so it follows them to every device; `GET /api/v1/rooms` lists it per room,
      and the caller's connections get a `room_settings` frame.
    tags: [read state]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: room, in: path, required: true, schema: {type: string, pattern: '^[a-z0-9-]{1,64}$'}}
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/RoomSettingsBody'}
    responses:
      200: {description: "The level now in force", content: {application/json: {schema: {type: object, properties: {room: {type: string}, notify: {type: string, enum: [all, mentions, none]}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      413: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    room_id = room_param(request)
    user = await current_user(request)
    body = await read_body(request, RoomSettingsBody)
    notify = await node_of(request).reads.set_notify(user, room_id, body.notify)
    return JSONResponse({"room": room_id, "notify": notify})


async def room_reads(request: Request) -> Response:
    """
    summary: How far members have read a room ("read by")
    description: >
      In a direct room, every current member's last-read seq (0: none yet). In any other room
      the caller may see, only the caller's own: read receipts are not shown in open rooms.
    tags: [read state]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: room, in: path, required: true, schema: {type: string, pattern: '^[a-z0-9-]{1,64}$'}}
    responses:
      200: {description: "Read positions by user id", content: {application/json: {schema: {type: object, properties: {reads: {type: array, items: {$ref: '#/components/schemas/ReadPosition'}}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """
    room_id = room_param(request)
    user = await current_user(request)
    reads = await node_of(request).reads.read_by(user, room_id)
    return JSONResponse({"reads": [
        {"user": {"id": user_id, "name": name}, "seq": seq} for user_id, name, seq in reads]})


# -- notifications ------------------------------------------------------------------------


async def list_notifications(request: Request) -> Response:
    """
    summary: The caller's notifications, newest first
    description: >
      Mentions, replies in topics and news threads the caller started, and messages in their
      direct conversations. Pass a page's `next` as `before` for the following (older) page;
      `next` is null on the last page. Notifications of rooms the caller may no longer see are
      left out.
    tags: [notifications]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: unread, in: query, description: "true: only unread ones", schema: {type: boolean, default: false}}
      - {name: before, in: query, description: "a notification id: only older ones", schema: {type: integer, minimum: 1}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 50}}
    responses:
      200: {description: "A page of notifications", content: {application/json: {schema: {type: object, properties: {notifications: {type: array, items: {$ref: '#/components/schemas/Notification'}}, next: {type: [integer, 'null']}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    unread_only = bool_param(request, "unread")
    before = int_param(request, "before", default=None, low=1, high=MAX_SEQ)
    limit = int_param(request, "limit", default=50, low=1, high=MAX_PAGE)
    assert limit is not None
    page, cursor = await node_of(request).notifications.listing(
        user, unread_only=unread_only, before=before, limit=limit)
    return JSONResponse({"notifications": [notification_json(n) for n in page], "next": cursor})


async def notification_count(request: Request) -> Response:
    """
    summary: How many of the caller's notifications are unread
    tags: [notifications]
    security: [{bearer: []}, {cookie: []}]
    responses:
      200: {description: "The unread count", content: {application/json: {schema: {type: object, properties: {unread: {type: integer}}}}}}
      401: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    return JSONResponse({"unread": await node_of(request).notifications.unread(user)})


async def mark_notifications_read(request: Request) -> Response:
    """
    summary: Mark notifications read
    description: >
      Either `{ids: [...]}` (up to 100; ids that are not the caller's, or already read, are
      ignored) or `{all: true}`. The caller's connections get a `notifications_read` frame
      when something changed.
    tags: [notifications]
    security: [{bearer: []}, {cookie: []}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/MarkReadBody'}
    responses:
      200: {description: "How many changed, and the unread count after", content: {application/json: {schema: {type: object, properties: {marked: {type: integer}, unread: {type: integer}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      413: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    body = await read_body(request, MarkReadBody)
    if (body.ids is None) == (body.all is None) or body.all is False:
        raise InvalidInput("give either 'ids' or 'all': true", details={"body": "ids or all"})
    changed, unread = await node_of(request).notifications.mark_read(user, body.ids)
    return JSONResponse({"marked": len(changed), "unread": unread})


SCHEMAS: dict[str, Any] = {
    "ReadBody": ReadBody.model_json_schema(),
    "MarkReadBody": MarkReadBody.model_json_schema(),
    "RoomSettingsBody": RoomSettingsBody.model_json_schema(),
    "ReadPosition": {"type": "object", "properties": {
        "user": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "seq": {"type": "integer", "description": "the member's last-read seq (0: none)"}}},
    "Notification": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": list(NOTIFICATION_KINDS)},
        "room": {"type": "string"},
        "seq": {"type": "integer", "description": "the message's seq in the room"},
        "message_id": {"type": "string"},
        "actor": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "excerpt": {"type": "string", "description": "the start of the message's current body; empty once deleted"},
        "created_at": {"type": "string", "format": "date-time"},
        "read_at": {"type": ["string", "null"], "format": "date-time"},
        "project": {"type": "string", "description": "kind project_update only: the project whose thread `room` is"}}},
}
