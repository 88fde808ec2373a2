"""HTTP routes for direct conversations, members, consultation status, topics and news.
Docstrings hold the OpenAPI fragments."""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictBool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.models import Room, User
from chat.protocol.ratelimit import DIRECT_COST, HTTP_WRITE_COST, THREAD_COST_PER_ROOM
from chat.rooms.conversations import topic_json
from chat.transport.http import (
    Body, FileIds, Id, Line, Text, charge, current_user, id_param, int_param, node_of, read_body, room_json,
    room_param,
)
from chat.transport.members import user_id_param


class DirectBody(Body):
    members: list[Id] = Field(min_length=1, max_length=50)
    title: Line = ""


class MemberBody(Body):
    user_id: Id


class DeclineBody(Body):
    block: StrictBool = False


class StatusBody(Body):
    status: Line


class TopicBody(Body):
    title: Line
    body: Text = ""
    also_in: list[Line] = Field(default_factory=list, max_length=10)
    message_id: Line | None = None
    attachments: FileIds = Field(default_factory=list)


class TopicPatch(Body):
    resolved: StrictBool | None = None
    pinned: StrictBool | None = None


class NewsBody(Body):
    title: Line
    summary: Text = ""
    body: Text
    rooms: list[Line] = Field(min_length=1, max_length=10)
    attachments: FileIds = Field(default_factory=list)


def _charge_thread(request: Request, user: User, rooms: int, body: str) -> None:
    """A topic or news post is announced in every room it is listed in, and its body rendered:
    it costs the write, per room and per estimated ms of rendering, charged at once."""
    node = node_of(request)
    charge(request, user, HTTP_WRITE_COST + THREAD_COST_PER_ROOM * rooms
           + node.renderer.cost_tokens(body))


async def open_direct(request: Request) -> Response:
    """
    summary: Open a direct conversation with one or more members (or find the existing one)
    description: >
      The conversation of exactly you and these members is found again if it exists
      (200); else it is created with consultation status "open" (201). Only its members can
      see it; everyone else gets 404 for its id. Opening it again brings back nobody who left
      it by their own hand, except you, if you had. 403 `not_addable` when a new conversation
      would put together two people one of whom blocked the other (or your return, you and
      a current member): the answer an add gets, so it does not reveal a block.
    tags: [direct]
    security: [{bearer: []}, {cookie: []}]
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [members], properties: {members: {type: array, items: {type: integer}}, title: {type: string}}}}}}
    responses:
      200: {description: "The existing conversation", content: {application/json: {schema: {type: object, properties: {room: {$ref: '#/components/schemas/Room'}}}}}}
      201: {description: "A new conversation"}
      403: {description: "not_addable: a block stands between two of these people", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      404: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request, cost=DIRECT_COST)
    body = await read_body(request, DirectBody)
    node = node_of(request)
    room, created = await node.conversations.open_direct(user, body.members, body.title)
    members = await node.conversations.members(user, room.room_id)
    return JSONResponse({"room": room_json(room, members)}, 201 if created else 200)


async def list_members(request: Request) -> Response:
    """
    summary: The members of a direct conversation, with their time zones
    description: >
      `added_by` is who brought you in ({id, name}), or null when you opened or
      rejoined it yourself: the web client offers to decline a conversation someone else
      started with you.
    tags: [direct]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: room, in: path, required: true, schema: {type: string}}]
    responses:
      200: {description: "Members", content: {application/json: {schema: {type: object, properties: {members: {type: array, items: {type: object}}, added_by: {type: [object, 'null']}}}}}}
      404: {$ref: '#/components/responses/Error'}
      422: {description: "invalid: the room is not a direct conversation (only those have a member list)", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    user = await current_user(request)
    room_id = room_param(request)
    conversations = node_of(request).conversations
    members = await conversations.members(user, room_id)
    by = await conversations.added_by(user, room_id)
    return JSONResponse({"members": room_json(Room("", "direct", "", ""), members)["members"],
                         "added_by": None if by is None else {"id": by[0], "name": by[1]}})


async def add_member(request: Request) -> Response:
    """
    summary: Bring a member into a direct conversation (any member may, with their consent rules)
    description: >
      Nobody can be brought back into a conversation they left or declined, nor put
      together with someone they blocked or who blocked them. Every such case is the same
      403 `not_addable`, so the answer does not say which (nor that a block exists).
    tags: [direct]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: room, in: path, required: true, schema: {type: string}}]
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [user_id], properties: {user_id: {type: integer}}}}}}
    responses:
      204: {description: "Added (or a member already)"}
      403: {description: "not_addable: they left or declined it, or a block stands between them and a member", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      404: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request, cost=DIRECT_COST)
    body = await read_body(request, MemberBody)
    await node_of(request).conversations.add_member(user, room_param(request), body.user_id)
    return Response(status_code=204)


async def remove_member(request: Request) -> Response:
    """
    summary: Leave a direct conversation for good, or (admins) remove a member
    description: >
      The removed member's open connections receive `left` with reason "removed",
      and from then on every route answers 404 for the conversation. A member who leaves by
      their own hand cannot be added back by anyone (403 `not_addable`); they come back only
      by opening the conversation of the same people themselves (POST /api/v1/direct). A
      member an admin removed may be added again.
    tags: [direct]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: room, in: path, required: true, schema: {type: string}}
      - {name: user, in: path, required: true, schema: {type: integer}}
    responses:
      204: {description: "Removed"}
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      422: {description: "invalid: the room is not a direct conversation (only those have members to remove)", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    user = await current_user(request)
    await node_of(request).conversations.remove_member(user, room_param(request), id_param(request, "user"))
    return Response(status_code=204)


async def decline(request: Request) -> Response:
    """
    summary: Decline a direct conversation (leave it for good), optionally blocking who added you
    description: >
      Like leaving (you are out, for good, and nobody can add you back), with the
      `membership` frame's change "declined". With `block` true, whoever brought you in
      (`added_by` in the member list) is blocked as well.
    tags: [direct]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: room, in: path, required: true, schema: {type: string}}]
    requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {block: {type: boolean, default: false}}}}}}
    responses:
      204: {description: "Declined"}
      404: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    body = await read_body(request, DeclineBody)
    await node_of(request).conversations.decline(user, room_param(request), body.block)
    return Response(status_code=204)


async def blocked_members(request: Request) -> Response:
    """
    summary: The members you blocked, oldest block first
    tags: [direct]
    security: [{bearer: []}, {cookie: []}]
    responses:
      200: {description: "Blocked members", content: {application/json: {schema: {type: object, properties: {blocked: {type: array, items: {type: object, properties: {id: {type: integer}, name: {type: string}}}}}}}}}
      401: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    blocked = await node_of(request).conversations.blocked_users(user)
    return JSONResponse({"blocked": [{"id": i, "name": n} for i, n in blocked]})


def _block_route(blocked: bool) -> Any:
    async def handler(request: Request) -> Response:
        user_id = user_id_param(request)
        user = await current_user(request)
        await node_of(request).conversations.block(user, user_id, blocked=blocked)
        return Response(status_code=204)

    return handler


block_member = _block_route(True)
block_member.__doc__ = """
    summary: Block a member
    description: >
      They can no longer open a direct conversation with you, add you to one, or
      be added to one you are in (403 `not_addable`, the answer any not-addable member gives:
      they are not told), and nothing they write notifies you. Conversations you already
      share stay as they are; leave them to be rid of them. Blocking twice is no error.
    tags: [direct]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: user_id, in: path, required: true, schema: {type: integer, minimum: 1}}]
    responses:
      204: {description: "Blocked"}
      400: {$ref: '#/components/responses/Error'}
      404: {description: "not_found: no such member, or yourself", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
unblock_member = _block_route(False)
unblock_member.__doc__ = """
    summary: Unblock a member
    description: >
      Unblocking someone not blocked is no error.
    tags: [direct]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: user_id, in: path, required: true, schema: {type: integer, minimum: 1}}]
    responses:
      204: {description: "Unblocked"}
      400: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """


async def set_status(request: Request) -> Response:
    """
    summary: Set a consultation's status (open, answered, closed)
    description: Appends a `status` entry to the conversation's log, which every member sees live.
    tags: [direct]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: room, in: path, required: true, schema: {type: string}}]
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [status], properties: {status: {type: string, enum: [open, answered, closed]}}}}}}
    responses:
      200: {description: "The entry's seq", content: {application/json: {schema: {type: object, properties: {status: {type: string}, seq: {type: integer}}}}}}
      404: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    body = await read_body(request, StatusBody)
    entry = await node_of(request).conversations.set_status(user, room_param(request), body.status)
    return JSONResponse({"status": body.status, "seq": entry.seq})


async def create_topic(request: Request) -> Response:
    """
    summary: Start a topic in a room (optionally from one of its messages, and listed in more rooms)
    description: A topic is a room of its own (join its id for live replies; send to it to
      reply). Every room it is listed in gets a `topic` entry.
    tags: [topics]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: room, in: path, required: true, schema: {type: string}}]
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [title], properties: {title: {type: string}, body: {type: string}, also_in: {type: array, items: {type: string}}, message_id: {type: string}, attachments: {$ref: '#/components/schemas/FileIds'}}}}}}
    responses:
      201: {description: "The topic", content: {application/json: {schema: {type: object, properties: {topic: {$ref: '#/components/schemas/Topic'}}}}}}
      404: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request, cost=0)
    body = await read_body(request, TopicBody)
    _charge_thread(request, user, 1 + len(set(body.also_in)), body.body)
    topic = await node_of(request).conversations.create_topic(
        user, room_param(request), body.title, body.body, body.also_in, body.message_id,
        tuple(body.attachments))
    return JSONResponse({"topic": topic_json(topic)}, 201)


def _thread_list(kind: str) -> Any:
    async def handler(request: Request) -> Response:
        user = await current_user(request)
        limit = int_param(request, "limit", default=50, low=1, high=200)
        topics = await node_of(request).conversations.list_topics(user, room_param(request), kind, limit)
        return JSONResponse({"topics" if kind == "topic" else "news": [topic_json(t) for t in topics]})

    return handler


room_topics = _thread_list("topic")
room_topics.__doc__ = """
    summary: A room's topics, pinned first, then by last activity
    tags: [topics]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: room, in: path, required: true, schema: {type: string}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 200, default: 50}}
    responses:
      200: {description: "Topics with reply counts", content: {application/json: {schema: {type: object, properties: {topics: {type: array, items: {$ref: '#/components/schemas/Topic'}}}}}}}
      404: {$ref: '#/components/responses/Error'}
    """
room_news = _thread_list("news")
room_news.__doc__ = """
    summary: The news posts listed in a room, pinned first, then by last activity
    tags: [news]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: room, in: path, required: true, schema: {type: string}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 200, default: 50}}
    responses:
      200: {description: "News posts", content: {application/json: {schema: {type: object, properties: {news: {type: array, items: {$ref: '#/components/schemas/Topic'}}}}}}}
      404: {$ref: '#/components/responses/Error'}
    """


async def get_topic(request: Request) -> Response:
    """
    summary: A topic or news post
    tags: [topics]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: topic, in: path, required: true, schema: {type: string}}]
    responses:
      200: {description: "The topic", content: {application/json: {schema: {type: object, properties: {topic: {$ref: '#/components/schemas/Topic'}}}}}}
      404: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    topic = await node_of(request).conversations.get_topic(user, room_param(request, "topic"))
    return JSONResponse({"topic": topic_json(topic)})


async def update_topic(request: Request) -> Response:
    """
    summary: Resolve (author or moderator) or pin (moderator) a topic
    tags: [topics]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: topic, in: path, required: true, schema: {type: string}}]
    requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {resolved: {type: boolean}, pinned: {type: boolean}}}}}}
    responses:
      200: {description: "The topic", content: {application/json: {schema: {type: object, properties: {topic: {$ref: '#/components/schemas/Topic'}}}}}}
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    body = await read_body(request, TopicPatch)
    topic = await node_of(request).conversations.update_topic(
        user, room_param(request, "topic"), resolved=body.resolved, pinned=body.pinned)
    return JSONResponse({"topic": topic_json(topic)})


async def post_news(request: Request) -> Response:
    """
    summary: Post news (moderators and admins), listed in one or more sector and city rooms
    tags: [news]
    security: [{bearer: []}, {cookie: []}]
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [title, body, rooms], properties: {title: {type: string}, summary: {type: string}, body: {type: string, description: Markdown}, rooms: {type: array, items: {type: string}}, attachments: {$ref: '#/components/schemas/FileIds'}}}}}}
    responses:
      201: {description: "The news post", content: {application/json: {schema: {type: object, properties: {topic: {$ref: '#/components/schemas/Topic'}}}}}}
      403: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request, cost=0)
    body = await read_body(request, NewsBody)
    _charge_thread(request, user, len(set(body.rooms)), body.body)
    topic = await node_of(request).conversations.post_news(user, body.title, body.summary, body.body, body.rooms,
                                                             tuple(body.attachments))
    return JSONResponse({"topic": topic_json(topic)}, 201)


async def news_feed(request: Request) -> Response:
    """
    summary: The platform-wide news feed, newest first
    tags: [news]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: before, in: query, description: "created_at in ms since the epoch (paging)", schema: {type: integer}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 200, default: 50}}
    responses:
      200: {description: "News posts", content: {application/json: {schema: {type: object, properties: {news: {type: array, items: {$ref: '#/components/schemas/Topic'}}}}}}}
    """
    user = await current_user(request)
    before = int_param(request, "before", default=None, low=1, high=2**62)
    limit = int_param(request, "limit", default=50, low=1, high=200)
    topics = await node_of(request).conversations.news_feed(user, before, limit or 50)
    return JSONResponse({"news": [topic_json(t) for t in topics]})
