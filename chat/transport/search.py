"""HTTP route of search: `GET /api/v1/search` (docs/protocol.md, "Search"). The WebSocket's
`search` frame reaches the same service through chat/transport/inbound.py.

The query string's types are read here (every wrong parameter named in one 400); the values'
rules are the service's. `room`, `kind` and `author` may repeat (chat/transport/edge.py lets
them); every other parameter is given at most once. The query is never logged.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.errors import InvalidSearch
from chat.protocol.ratelimit import SEARCH_COST
from chat.search.service import SearchParams
from chat.text import INT64_MAX
from chat.transport.http import charge, current_user, node_of

# The parameters that may be given more than once, and the service's names for them.
REPEATED = {"room": "rooms", "kind": "kinds", "author": "authors"}
_HTTP_NAME = {service: http for http, service in REPEATED.items()}
MAX_PARAM_CHARS = 1000  # any one value, before the service's own limits


def _whole(raw: str, low: int) -> int | None:
    # isascii: str.isdigit() also accepts '²' and '١٢'; the length keeps int() cheap.
    if raw.isascii() and raw.isdigit() and len(raw) <= 19 and low <= int(raw) <= INT64_MAX:
        return int(raw)
    return None


def read_params(items: list[tuple[str, str]]) -> SearchParams:
    """The search the query string asks for; InvalidSearch naming every parameter whose type
    is wrong. Empty values count as absent (but an empty q is refused by the service)."""
    problems: dict[str, str] = {}
    lists: dict[str, list[str]] = {name: [] for name in REPEATED}
    one: dict[str, str] = {}
    for name, value in items:
        if len(value) > MAX_PARAM_CHARS:
            problems.setdefault(name, f"at most {MAX_PARAM_CHARS} characters")
        elif name in REPEATED:
            if value:
                lists[name].append(value)
        elif value or name == "q":
            one[name] = value
    if "q" not in one:
        problems.setdefault("q", "the words to look for")
    authors: list[int] = []
    for raw in lists["author"]:
        author = _whole(raw, 1)
        if author is None:
            problems.setdefault("author", f"user ids: whole numbers from 1 to {INT64_MAX}")
        else:
            authors.append(author)
    numbers: dict[str, int | None] = {}
    for name, low in (("since_ms", 0), ("until_ms", 0), ("limit", 1)):
        given = one.get(name)
        numbers[name] = None if given is None else _whole(given, low)
        if given is not None and numbers[name] is None:
            problems.setdefault(name, f"a whole number from {low} to {INT64_MAX}")
    has_files: bool | None = None
    if (flag := one.get("has_files")) is not None:
        if flag not in ("true", "false"):
            problems.setdefault("has_files", "true or false")
        has_files = flag == "true"
    if problems:
        names = ", ".join(sorted(problems))
        raise InvalidSearch(f"some search parameters are wrong: {names}", details=problems)
    return SearchParams(
        q=one["q"], rooms=tuple(lists["room"]), kinds=tuple(lists["kind"]), authors=tuple(authors),
        since_ms=numbers["since_ms"], until_ms=numbers["until_ms"], lang=one.get("lang"),
        has_files=has_files, order=one.get("order"), cursor=one.get("cursor"), limit=numbers["limit"])


async def search(request: Request) -> Response:
    user = await current_user(request)
    charge(request, user, SEARCH_COST)
    try:
        params = read_params(request.query_params.multi_items())
        page = await node_of(request).search.search(user, params)
    except InvalidSearch as exc:
        if isinstance(exc.details, dict):
            # The service names lists as the frame does (rooms); here they are `room`.
            exc.details = {_HTTP_NAME.get(name, name): why for name, why in exc.details.items()}
        raise
    return JSONResponse({"results": page.results, "next": page.next_cursor})


search.__doc__ = """
    summary: Search everything you may read
    description: >
      Messages, topics, news posts, webinar questions and answers, library documents and
      project pages that match the query and every filter, and that you may read now (a
      webinar's guest: their webinar's only). Query syntax (docs/protocol.md, "Search"):
      words (English ones match by stem), "quoted phrases", -word and -"phrase" to exclude,
      from:name and in:room (names in quotes when they hold spaces); Chinese matches inside
      longer words (two characters are one term), traditional and full-width forms find the
      simplified and half-width ones. A search costs 2 of your rate budget.
    tags: [search]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: q, in: query, required: true, schema: {type: string, maxLength: 500}, description: "the query: at most 20 words, phrases and filters, at least one word not excluded"}
      - {name: room, in: query, schema: {type: array, items: {type: string}, maxItems: 20}, style: form, explode: true, description: "only in these rooms (or threads listed in them); repeat the parameter for several"}
      - {name: kind, in: query, schema: {type: array, items: {type: string, enum: [message, topic, news, question, answer, document, project]}}, style: form, explode: true, description: "only these kinds; repeat for several"}
      - {name: author, in: query, schema: {type: array, items: {type: integer, minimum: 1}, maxItems: 20}, style: form, explode: true, description: "only by these members (user ids); repeat for several"}
      - {name: since_ms, in: query, schema: {type: integer, minimum: 0}, description: "created at or after (ms since 1970)"}
      - {name: until_ms, in: query, schema: {type: integer, minimum: 0}, description: "created before (ms since 1970); later than since_ms"}
      - {name: lang, in: query, schema: {type: string, enum: [en, zh]}, description: "in this language (mixed text counts for both)"}
      - {name: has_files, in: query, schema: {type: boolean}, description: "true: only with attachments; false: only without"}
      - {name: order, in: query, schema: {type: string, enum: [newest, relevance], default: newest}}
      - {name: cursor, in: query, schema: {type: string}, description: "the previous page's `next` (same search, same order)"}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 50, default: 20}}
    responses:
      200: {description: "A page of results; `next` is null on the last", content: {application/json: {schema: {type: object, required: [results, next], properties: {results: {type: array, items: {$ref: '#/components/schemas/SearchResult'}}, next: {type: [string, 'null']}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      429: {$ref: '#/components/responses/Error'}
"""

SCHEMAS: dict[str, Any] = {
    "SearchResult": {"type": "object", "description": "One search result (docs/protocol.md, \"Search\")",
                     "required": ["kind", "id", "room_id", "room", "seq", "author", "at_ms", "title", "snippet",
                                  "has_files", "lang"], "properties": {
        "kind": {"type": "string", "enum": ["message", "topic", "news", "question", "answer", "document", "project"]},
        "id": {"type": "string", "description": "the message's, topic's (its thread room's), question's (also for"
                                                " its answer), document's or project's id"},
        "room_id": {"type": ["string", "null"], "description": "where it is: a message's room, a topic's thread"
                                                               " room, a question's webinar room; null for documents"
                                                               " and projects"},
        "room": {"type": ["object", "null"], "properties": {
            "kind": {"type": "string"}, "title_en": {"type": "string"}, "title_zh": {"type": "string"}}},
        "seq": {"type": ["integer", "null"], "description": "a message's place in its room (open the room there)"},
        "author": {"type": ["object", "null"], "description": "null when anonymous or nobody's",
                   "properties": {"user_id": {"type": "integer"}, "name": {"type": "string"}}},
        "at_ms": {"type": "integer", "description": "when it was written (ms since 1970)"},
        "title": {"type": "string", "description": "a topic's, document's or project's title; empty for a message"},
        "snippet": {"type": "object", "properties": {
            "text": {"type": "string", "description": "plain text around the first match, at most 160 characters"
                                                      " plus an ellipsis (…) at a cut end"},
            "marks": {"type": "array", "items": {"type": "array", "items": {"type": "integer"},
                                                 "minItems": 2, "maxItems": 2},
                      "description": "[start, end) of each matched word in `text`, in Unicode code points"}}},
        "has_files": {"type": "boolean"},
        "lang": {"type": "string", "enum": ["en", "zh", "mixed", ""]}}},
}
