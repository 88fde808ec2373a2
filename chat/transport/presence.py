"""HTTP view of presence (the WebSocket gets the same as `presence` frames). The docstring holds
the OpenAPI fragment, as in chat/transport/http.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.presence.frames import person
from chat.transport.http import current_user, node_of, room_param


async def room_presence(request: Request) -> Response:
    """
    summary: Who is online in a room now, on any node
    description: >
      A member is online while at least one of their connections, on any node, has joined the
      room. A node that dies takes its users with it within ECOLINK_PRESENCE_TTL_S (30 s).
      Users are listed by id.
    tags: [rooms]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: room, in: path, required: true, schema: {type: string, pattern: '^[a-z0-9-]{1,64}$'}}
    responses:
      200: {description: "The users online", content: {application/json: {schema: {type: object, properties: {room: {type: string}, online: {type: array, items: {type: object, properties: {id: {type: integer}, name: {type: string}, guest: {type: boolean, description: "true for a webinar's guest"}}}}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      503: {$ref: '#/components/responses/Error'}
    """
    room_id = room_param(request)
    user = await current_user(request)
    node = node_of(request)
    await node.rooms.visible_room(user, room_id)
    online = await node.presence.online(room_id)
    return JSONResponse({"room": room_id,
                         "online": [person(u.user_id, u.name) for u in online]})
