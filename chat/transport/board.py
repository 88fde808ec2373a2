"""HTTP routes of a webinar's Q&A board and polls: the snapshot, asking, editing, moderating,
voting, preparing and running polls, answering them. Docstrings hold the OpenAPI fragments;
docs/protocol.md, "The Q&A board", tells the rest (events, the `board` frame, limits)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, StrictBool, StrictInt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.errors import BadRequest
from chat.transport.http import Body, Line, Text, charge, current_user, node_of, read_body, room_param
from chat.webinars.board import SORTS, PollDraft
from chat.webinars.board_shapes import poll_view, question_view

BOARD_ID = re.compile(r"[qp]-[0-9a-f]{16}")


class AskBody(Body):
    body: Text
    anonymous: StrictBool = False
    cid: Line | None = Field(default=None, min_length=1, max_length=64)


class QuestionPatch(Body):
    body: Text | None = None
    withdrawn: StrictBool | None = None


class ModerationBody(Body):
    action: Line
    answer: Text | None = None


class PollText(Body):
    en: Line = ""
    zh: Line = ""


class PollBody(Body):
    question: PollText
    options: list[PollText] = Field(max_length=20)
    multiple: StrictBool = False
    results_public: StrictBool | None = None


class AnswerBody(Body):
    choices: list[StrictInt] = Field(max_length=20)


SCHEMAS: dict[str, Any] = {
    "Question": {"type": "object", "description": "A question on the board (docs/protocol.md, \"The Q&A board\")", "properties": {
        "id": {"type": "string", "description": "q-<16 hex>"},
        "room": {"type": "string", "description": "the webinar's id"},
        "body": {"type": "string", "description": "plain text, at most 500 characters"},
        "anonymous": {"type": "boolean"},
        "author": {"type": ["object", "null"], "description": "{id, name, role?}; null when anonymous"},
        "asked_by": {"type": "object", "description": "who asked: to its hosts and the platform's moderators only (and, when not anonymous, its panelists)"},
        "state": {"type": "string", "enum": ["pending", "open", "answering", "answered", "dismissed", "withdrawn"]},
        "pinned": {"type": "boolean"},
        "answer": {"type": ["object", "null"], "description": "{body (Markdown), html (rendered), by: {id, name}}"},
        "votes": {"type": "array", "items": {"type": "integer"}, "description": "[votes, version]: keep the highest version"},
        "version": {"type": "integer", "description": "raised by every change but votes"},
        "asked_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "mine": {"type": "boolean", "description": "the board snapshot only: the viewer asked it"}}},
    "Poll": {"type": "object", "properties": {
        "id": {"type": "string", "description": "p-<16 hex>"},
        "room": {"type": "string"},
        "question": {"type": "object", "properties": {"en": {"type": "string"}, "zh": {"type": "string"}}},
        "options": {"type": "array", "items": {"type": "object", "properties": {"en": {"type": "string"}, "zh": {"type": "string"}}}},
        "multiple": {"type": "boolean"},
        "state": {"type": "string", "enum": ["draft", "open", "closed"]},
        "results_public": {"type": "boolean"},
        "counts": {"type": ["array", "null"], "items": {"type": "integer"}, "description": "answers per option; null unless the results are public or you host"},
        "answers": {"type": ["integer", "null"], "description": "members who answered; null as counts"},
        "version": {"type": "integer", "description": "raised by every answer: keep the highest"},
        "opened_at": {"type": ["string", "null"], "format": "date-time"},
        "closed_at": {"type": ["string", "null"], "format": "date-time"}}},
    "Board": {"type": "object", "properties": {
        "webinar": {"type": "string"},
        "seq": {"type": "integer", "description": "the room's head this snapshot reflects: join with since=seq for every later change"},
        "role": {"type": "string", "enum": ["host", "panelist", "moderator", "attendee"]},
        "state": {"type": "string", "enum": ["scheduled", "live", "ended", "cancelled"]},
        "premoderated": {"type": "boolean"},
        "sort": {"type": "string", "enum": ["votes", "time"]},
        "questions": {"type": "array", "items": {"$ref": "#/components/schemas/Question"}},
        "my_votes": {"type": "array", "items": {"type": "string"}, "description": "ids of the questions you voted for"},
        "polls": {"type": "array", "items": {"$ref": "#/components/schemas/Poll"}},
        "my_answers": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer"}}, "description": "poll id -> your choices"}}},
}
_PATH = "[{name: webinar, in: path, required: true, schema: {type: string}}"
_QUESTION = _PATH + ", {name: question, in: path, required: true, schema: {type: string}}]"
_POLL = _PATH + ", {name: poll, in: path, required: true, schema: {type: string}}]"
_ONE_QUESTION = "{description: \"The question\", content: {application/json: {schema: {type: object, properties: {question: {$ref: '#/components/schemas/Question'}}}}}}"
_ONE_POLL = "{description: \"The poll\", content: {application/json: {schema: {type: object, properties: {poll: {$ref: '#/components/schemas/Poll'}}}}}}"
_ERRORS = """
      400: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      409: {description: "conflict: the webinar ended or was cancelled, or the question or poll is not in a state that allows it", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {$ref: '#/components/responses/Error'}
      429: {$ref: '#/components/responses/Error'}
"""


def _webinar(request: Request) -> str:
    return room_param(request, "webinar")


def _board_id(request: Request, name: str) -> str:
    value: str = request.path_params[name]
    if not BOARD_ID.fullmatch(value):
        raise BadRequest(f"the {name} id must be a {name}'s id")
    return value


async def board(request: Request) -> Response:
    user = await current_user(request)
    sort = request.query_params.get("sort", "votes")
    if sort not in SORTS:
        raise BadRequest("'sort' must be votes or time")
    return JSONResponse(await node_of(request).board.snapshot(user, _webinar(request), sort))


board.__doc__ = """
    summary: The Q&A board and polls of a webinar, as you may see them now
    description: >
      Visible questions (open, answering, answered), your own pending ones, and for its hosts,
      panelists and moderators every question; who asked an anonymous one only for hosts and
      moderators. Counts come with their versions; `seq` is the room's head read first: a
      client joins the room with since=seq (or keeps its place) and applies every later event
      and `board` frame, keeping per question and poll the highest version, so it ends exact.
      At most the 500 newest questions; pinned ones first, then by votes (most first, then
      oldest first) or by time (newest first).
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters: """ + _PATH + """, {name: sort, in: query, schema: {type: string, enum: [votes, time], default: votes}}]
    responses:
      200: {description: "The board", content: {application/json: {schema: {$ref: '#/components/schemas/Board'}}}}
      400: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
"""


async def ask(request: Request) -> Response:
    user = await current_user(request)
    body = await read_body(request, AskBody)
    question, created = await node_of(request).board.ask(user, _webinar(request), body.body,
                                                         body.anonymous, body.cid)
    return JSONResponse({"question": question_view(question, hosting=True)}, 201 if created else 200)


ask.__doc__ = """
    summary: Ask a question on a webinar's board
    description: >
      At most 500 characters of text. `anonymous` hides who asked from the other attendees
      (hosts and moderators still see it). Without pre-moderation it is visible at once (a
      `question` event in the room's log); with it, it stays `pending` (seen by you and the
      hosts, over HTTP and `question_private` frames) until approved. A repeated `cid` answers
      200 with the question it made. Attendees: one question per 10 s (429
      `question_too_soon` with `retry_after`), at most ECOLINK_WEBINAR_OPEN_QUESTIONS open
      ones (429 `too_many_open_questions`); hosts, panelists and moderators are not limited.
      Asking is open while the webinar is scheduled or live; 409 once it ended or was cancelled.
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters: """ + _PATH + """]
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [body], properties: {body: {type: string, maxLength: 500}, anonymous: {type: boolean, default: false}, cid: {type: string, maxLength: 64, description: "your id for this question: a retry with it stores nothing twice"}}}}}}
    responses:
      201: """ + _ONE_QUESTION + """
      200: {description: "The question this cid made before", content: {application/json: {schema: {type: object}}}}""" + _ERRORS


async def edit_question(request: Request) -> Response:
    user = await current_user(request)
    body = await read_body(request, QuestionPatch)
    if body.withdrawn is False:
        raise BadRequest("'withdrawn' may only be true (a withdrawn question stays withdrawn)")
    question = await node_of(request).board.edit(user, _webinar(request), _board_id(request, "question"),
                                                 body=body.body, withdraw=bool(body.withdrawn))
    return JSONResponse({"question": question_view(question, hosting=True)})


edit_question.__doc__ = """
    summary: Edit or withdraw your question (until it is answered)
    description: >
      `body` replaces the text; `withdrawn: true` withdraws it (repeating that changes
      nothing). A visible question's change is a `question_state` event (change "edited" or
      "withdrawn"). 403 for someone else's question; 409 once it is answered or dismissed.
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters: """ + _QUESTION + """
    requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {body: {type: string, maxLength: 500}, withdrawn: {type: boolean, enum: [true]}}}}}}
    responses:
      200: """ + _ONE_QUESTION + _ERRORS


async def moderate(request: Request) -> Response:
    user = await current_user(request, cost=0)
    body = await read_body(request, ModerationBody)
    node = node_of(request)
    charge(request, user, 1 + node.renderer.cost_tokens(body.answer or ""))
    question = await node.board.moderate(user, _webinar(request), _board_id(request, "question"),
                                         body.action, body.answer)
    return JSONResponse({"question": question_view(question, hosting=True)})


moderate.__doc__ = """
    summary: Moderate a question (hosts and moderators; panelists may mark answering and answered)
    description: >
      `action`: approve (a pending question becomes visible: a `question` event), dismiss,
      pin, unpin, answering ("answering now": one at a time, the one before goes back to open
      with a `question_state` event of change "answering_ended"), answered (optionally with
      `answer`, Markdown up to 5,000 characters, rendered like messages; answering again
      replaces the answer), reopen (an answered or dismissed one). Each change of a visible
      question is a `question_state` event. Asking for what already is answers 200 and changes
      nothing; 409 when the question's state does not allow the action.
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters: """ + _QUESTION + """
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [action], properties: {action: {type: string, enum: [approve, dismiss, pin, unpin, answering, answered, reopen]}, answer: {type: string, maxLength: 5000}}}}}}
    responses:
      200: """ + _ONE_QUESTION + _ERRORS


def _vote_route(add: bool) -> Any:
    async def handler(request: Request) -> Response:
        user = await current_user(request)
        question_id = _board_id(request, "question")
        votes, version = await node_of(request).board.vote(user, _webinar(request), question_id, add)
        return JSONResponse({"question": question_id, "voted": add, "votes": [votes, version]})

    return handler


_VOTE_DOC = """
    summary: {summary}
    description: >
      Idempotent. Votes are no log events: the counts reach every member of the room in
      `board` frames, at most one per ECOLINK_BOARD_TICK_MS per node. 403 for your own
      question; 409 unless the question is open or answering, or once the webinar ended.
    tags: [webinars]
    security: [{{bearer: []}}, {{cookie: []}}]
    parameters: {params}
    responses:
      200: {{description: "The question's votes after it: [votes, version]", content: {{application/json: {{schema: {{type: object, properties: {{question: {{type: string}}, voted: {{type: boolean}}, votes: {{type: array, items: {{type: integer}}}}}}}}}}}}}}""" + _ERRORS.replace("{", "{{").replace("}", "}}")
vote = _vote_route(True)
vote.__doc__ = _VOTE_DOC.format(summary="Upvote someone else's question", params=_QUESTION)
unvote = _vote_route(False)
unvote.__doc__ = _VOTE_DOC.format(summary="Take back your upvote", params=_QUESTION)


async def create_poll(request: Request) -> Response:
    user = await current_user(request)
    body = await read_body(request, PollBody)
    poll = await node_of(request).board.create_poll(user, _webinar(request), PollDraft(
        body.question.en, body.question.zh, [(o.en, o.zh) for o in body.options], body.multiple,
        body.results_public))
    return JSONResponse({"poll": poll_view(poll, counts=True)}, 201)


create_poll.__doc__ = """
    summary: Prepare a poll (hosts and moderators), as a draft
    description: >
      The question and each of 2 to 10 options in English, Chinese or both (300 and 100
      characters); `multiple` lets attendees choose several; `results_public` (default: the
      webinar's setting) shows the counts to everyone, else to hosts only. Drafts are seen by
      hosts only, before or during the webinar. 409 once it ended or was cancelled.
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters: """ + _PATH + """]
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [question, options], properties: {question: {type: object, properties: {en: {type: string}, zh: {type: string}}}, options: {type: array, minItems: 2, maxItems: 10, items: {type: object, properties: {en: {type: string}, zh: {type: string}}}}, multiple: {type: boolean, default: false}, results_public: {type: boolean}}}}}}
    responses:
      201: """ + _ONE_POLL + _ERRORS


def _poll_route(change: str) -> Any:
    async def handler(request: Request) -> Response:
        user = await current_user(request)
        poll = await node_of(request).board.move_poll(user, _webinar(request), _board_id(request, "poll"), change)
        return JSONResponse({"poll": poll_view(poll, counts=True)})

    return handler


_POLL_DOC = """
    summary: {summary}
    description: >
      {description} Hosts and moderators. Repeating it answers 200 and changes nothing; 409
      from a state it cannot leave.
    tags: [webinars]
    security: [{{bearer: []}}, {{cookie: []}}]
    parameters: {params}
    responses:
      200: {one}""" + _ERRORS.replace("{", "{{").replace("}", "}}")
open_poll = _poll_route("open")
open_poll.__doc__ = _POLL_DOC.format(
    summary="Open a draft poll", params=_POLL, one=_ONE_POLL,
    description="A `poll` event with change \"opened\"; attendees answer from now on. Not once the webinar ended.")
close_poll = _poll_route("close")
close_poll.__doc__ = _POLL_DOC.format(
    summary="Close an open poll", params=_POLL, one=_ONE_POLL,
    description="A `poll` event with change \"closed\", carrying the final counts when the results are public"
                " (else publishing them later does). Also after the webinar ended.")
publish_poll = _poll_route("publish")
publish_poll.__doc__ = _POLL_DOC.format(
    summary="Make a poll's results public", params=_POLL, one=_ONE_POLL,
    description="A `poll` event with change \"results\" carrying the counts; `board` frames carry them to"
                " everyone from now on. Also after the webinar ended.")


async def answer_poll(request: Request) -> Response:
    user = await current_user(request)
    body = await read_body(request, AnswerBody)
    poll, counts = await node_of(request).board.answer_poll(user, _webinar(request), _board_id(request, "poll"),
                                                            body.choices)
    return JSONResponse({"poll": poll_view(poll, counts=counts),
                         "choices": sorted(body.choices)})


answer_poll.__doc__ = """
    summary: Answer an open poll, or change your answer while it is open (idempotent)
    description: >
      `choices`: option indexes (exactly one unless the poll is `multiple`). No log event: the
      counts travel in `board` frames (to everyone when the results are public, else to the
      personal channels of the hosts and the platform's moderators). 409 when the poll is not open or the webinar ended.
    tags: [webinars]
    security: [{bearer: []}, {cookie: []}]
    parameters: """ + _POLL + """
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [choices], properties: {choices: {type: array, items: {type: integer, minimum: 0}}}}}}}
    responses:
      200: {description: "The poll (counts when you may see them) and your choices", content: {application/json: {schema: {type: object, properties: {poll: {$ref: '#/components/schemas/Poll'}, choices: {type: array, items: {type: integer}}}}}}}""" + _ERRORS
