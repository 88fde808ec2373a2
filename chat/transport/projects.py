"""HTTP routes for eco-city projects: list, create, read and edit pages, the timeline of
updates, following, documents. Docstrings hold the OpenAPI fragments; docs/protocol.md,
"Projects", tells the rest."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, StrictFloat, StrictInt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.errors import BadRequest
from chat.models import Project, User
from chat.projects.service import MAX_FIGURES, MAX_MEMBERS, MAX_ORGANISATIONS, ProjectDraft
from chat.projects.shapes import project_json, update_json
from chat.protocol.ratelimit import HTTP_WRITE_COST, THREAD_COST_PER_ROOM
from chat.transport.http import Body, FileIds, Id, Line, Text, charge, current_user, int_param, node_of, read_body

PROJECT_ID = re.compile(r"p-[0-9a-f]{16}")
ITEM_ID = re.compile(r"[df]-[A-Za-z0-9_-]{1,64}")
UPDATE_ID = re.compile(r"pu-[0-9a-f]{16}")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_CURSOR_CHARS = 120


class NameBody(Body):
    en: Line | None = None
    zh: Line | None = None


class FigureBody(Body):
    label_en: Line | None = None
    label_zh: Line | None = None
    value: StrictInt | StrictFloat
    unit: Line | None = None


class ProjectPatch(Body):
    name: NameBody | None = None
    city: Line | None = None
    sectors: list[Line] | None = Field(default=None, max_length=10)
    status: Line | None = None
    description: Text | None = None
    figures: list[FigureBody] | None = Field(default=None, max_length=MAX_FIGURES)
    organisations: list[Line] | None = Field(default=None, max_length=MAX_ORGANISATIONS)
    members: list[Id] | None = Field(default=None, max_length=MAX_MEMBERS)

    def draft(self) -> ProjectDraft:
        return ProjectDraft(
            name_en=self.name.en if self.name else None, name_zh=self.name.zh if self.name else None,
            city=self.city, sectors=self.sectors, status=self.status, description=self.description,
            figures=None if self.figures is None else [f.model_dump() for f in self.figures],
            organisations=self.organisations, members=self.members)


class ProjectBody(ProjectPatch):
    name: NameBody
    city: Line


class UpdateBody(Body):
    happened_on: Line
    body: Text
    attachments: FileIds = Field(default_factory=list)  # as every body that attaches files


class DocumentBody(Body):
    doc: Line | None = None
    file: Line | None = None


_FIGURE = {"type": "object", "properties": {
    "label_en": {"type": "string", "maxLength": 100}, "label_zh": {"type": "string", "maxLength": 100},
    "value": {"type": "number"}, "unit": {"type": "string", "maxLength": 30}},
    "description": "a key figure: a label in English and/or Chinese, a number and its unit"}
SCHEMAS: dict[str, Any] = {
    "Project": {"type": "object", "description": "An eco-city project's page (docs/protocol.md, \"Projects\")",
                "properties": {
        "id": {"type": "string", "description": "p-<16 hex>"},
        "name": {"type": "object", "properties": {"en": {"type": "string"}, "zh": {"type": "string"}},
                 "description": "either may be empty, not both"},
        "city": {"type": "string", "description": "a city room id"},
        "sectors": {"type": "array", "items": {"type": "string"}, "description": "sector room ids (at most 4)"},
        "status": {"type": "string", "enum": ["planned", "running", "completed"]},
        "description": {"type": "string"},
        "figures": {"type": "array", "items": _FIGURE},
        "organisations": {"type": "array", "items": {"type": "string"}},
        "members": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}}}, "description": "partner members"},
        "documents": {"type": "array", "items": {"type": "object", "properties": {
            "kind": {"type": "string", "enum": ["doc", "file"]},
            "id": {"type": "string", "description": "d-… (library) or f-… (file)"},
            "title_en": {"type": "string"}, "title_zh": {"type": "string"},
            "file": {"type": "object", "description": "a file's wire model (kind file): download at /api/v1/files/{id}"},
            "added_at": {"type": "string", "format": "date-time"}}}},
        "thread": {"type": "string", "description": "its discussion thread (a topic id)"},
        "created_by": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "followers": {"type": "integer"},
        "following": {"type": "boolean", "description": "whether you follow it"},
        "can_edit": {"type": "boolean", "description": "whether you may edit it and post updates"},
        "page": {"type": "string", "description": "the web client's page: /#/projects/<id>"}}},
    "ProjectBody": {"type": "object", "properties": {
        "name": {"type": "object", "properties": {"en": {"type": "string", "maxLength": 200},
                                                  "zh": {"type": "string", "maxLength": 200}}},
        "city": {"type": "string", "description": "one of the ten city room ids"},
        "sectors": {"type": "array", "maxItems": 4, "items": {"type": "string"}, "description": "sector room ids"},
        "status": {"type": "string", "enum": ["planned", "running", "completed"], "default": "planned"},
        "description": {"type": "string", "maxLength": 4000},
        "figures": {"type": "array", "maxItems": 20, "items": _FIGURE},
        "organisations": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 200}},
        "members": {"type": "array", "maxItems": 50, "items": {"type": "integer"},
                    "description": "partner members' ids (moderators and admins set them)"}}},
    "ProjectUpdate": {"type": "object", "properties": {
        "id": {"type": "string", "description": "pu-<16 hex>"},
        "project": {"type": "string"},
        "author": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "happened_on": {"type": "string", "format": "date"},
        "body": {"type": "string", "description": "Markdown, as typed"},
        "html": {"type": "string", "description": "rendered and sanitised"},
        "attachments": {"type": "array", "items": {"type": "object"}, "description": "files' wire models"},
        "message_id": {"type": ["string", "null"], "description": "its message in the project's thread"},
        "created_at": {"type": "string", "format": "date-time"}}},
}
_ONE = "{description: \"The project\", content: {application/json: {schema: {type: object, properties: {project: {$ref: '#/components/schemas/Project'}}}}}}"
_PATH = "[{name: project, in: path, required: true, schema: {type: string}}]"
_ERR = "{$ref: '#/components/responses/Error'}"


def _project_param(request: Request) -> str:
    project_id: str = request.path_params["project"]
    if not PROJECT_ID.fullmatch(project_id):
        raise BadRequest("the project id must be p- and 16 hex digits")
    return project_id


def _one(user: User, project: Project, status: int = 200) -> Response:
    return JSONResponse({"project": project_json(project, user)}, status)


def _filter(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value or None


def _project_cursor(request: Request) -> tuple[int, str] | None:
    raw = request.query_params.get("after")
    if raw is None or raw == "":
        return None
    ms, _, project_id = raw.partition(".")
    if not (len(raw) <= MAX_CURSOR_CHARS and ms.isascii() and ms.isdigit() and len(ms) <= 18
            and PROJECT_ID.fullmatch(project_id)):
        raise BadRequest("'after' must be the `next` of the previous page")
    return int(ms), project_id


def _update_cursor(request: Request) -> tuple[str, int, str] | None:
    raw = request.query_params.get("before")
    if raw is None or raw == "":
        return None
    parts = raw.split(".")
    if not (len(raw) <= MAX_CURSOR_CHARS and len(parts) == 3 and DAY.fullmatch(parts[0])
            and parts[1].isascii() and parts[1].isdigit() and len(parts[1]) <= 18 and UPDATE_ID.fullmatch(parts[2])):
        raise BadRequest("'before' must be the `next` of the previous page")
    return parts[0], int(parts[1]), parts[2]


async def list_projects(request: Request) -> Response:
    user = await current_user(request)
    limit = int_param(request, "limit", default=50, low=1, high=100)
    projects, last = await node_of(request).projects.listing(
        user, city=_filter(request, "city"), sector=_filter(request, "sector"),
        status=_filter(request, "status"), after=_project_cursor(request), limit=limit)
    return JSONResponse({"projects": [project_json(p, user) for p in projects],
                         "next": None if last is None else f"{last[0]}.{last[1]}"})


list_projects.__doc__ = """
    summary: Eco-city projects, newest first, filtered by city, sector and status
    tags: [projects]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: city, in: query, schema: {type: string}, description: "a city room id"}
      - {name: sector, in: query, schema: {type: string}, description: "a sector room id"}
      - {name: status, in: query, schema: {type: string, enum: [planned, running, completed]}}
      - {name: after, in: query, schema: {type: string}, description: "the previous page's `next`"}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 50}}
    responses:
      200: {description: "A page of projects; `next` is null on the last page", content: {application/json: {schema: {type: object, properties: {projects: {type: array, items: {$ref: '#/components/schemas/Project'}}, next: {type: [string, 'null']}}}}}}
      400: """ + _ERR + """
      401: """ + _ERR + """
      403: {description: "a webinar's guest (guest_scope)", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {description: "invalid: an unknown city, sector or status", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
"""


async def create_project(request: Request) -> Response:
    user = await current_user(request, cost=0)
    body = await read_body(request, ProjectBody)
    charge(request, user, HTTP_WRITE_COST + THREAD_COST_PER_ROOM * (1 + len(set(body.sectors or []))))
    project = await node_of(request).projects.create(user, body.draft())
    return _one(user, project, 201)


create_project.__doc__ = """
    summary: Create a project (moderators and admins)
    description: >
      Also starts its discussion thread: a topic in its city room, listed in its sector rooms
      too (those rooms get a `topic` entry). Its members follow it.
    tags: [projects]
    security: [{bearer: []}, {cookie: []}]
    requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/ProjectBody'}}}}
    responses:
      201: """ + _ONE + """
      400: """ + _ERR + """
      403: {description: "forbidden: only moderators and admins create projects", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {description: "invalid: a field is wrong (names, city, sectors, status, figures, members); details name it", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      429: """ + _ERR + """
"""


async def get_project(request: Request) -> Response:
    user = await current_user(request)
    return _one(user, await node_of(request).projects.get(user, _project_param(request)))


get_project.__doc__ = """
    summary: One project's page, with its follower count and whether you follow it
    tags: [projects]
    security: [{bearer: []}, {cookie: []}]
    parameters: """ + _PATH + """
    responses:
      200: """ + _ONE + """
      400: """ + _ERR + """
      404: """ + _ERR + """
"""


async def edit_project(request: Request) -> Response:
    user = await current_user(request)
    body = await read_body(request, ProjectPatch)
    project = await node_of(request).projects.edit(user, _project_param(request), body.draft())
    return _one(user, project)


edit_project.__doc__ = """
    summary: Edit a project's page (its members, moderators and admins)
    description: >
      Fields left out stay as they are; lists replace the lists. Only moderators and admins
      set `members` (new members follow it). The discussion thread stays listed where it was.
    tags: [projects]
    security: [{bearer: []}, {cookie: []}]
    parameters: """ + _PATH + """
    requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/ProjectBody'}}}}
    responses:
      200: """ + _ONE + """
      400: """ + _ERR + """
      403: {description: "forbidden: not a member of the project nor a moderator", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      404: """ + _ERR + """
      422: """ + _ERR + """
"""


async def post_update(request: Request) -> Response:
    user = await current_user(request, cost=0)
    body = await read_body(request, UpdateBody)
    node = node_of(request)
    charge(request, user, HTTP_WRITE_COST + node.renderer.cost_tokens(body.body))
    update = await node.projects.post_update(user, _project_param(request), day=body.happened_on,
                                             body=body.body, attachments=body.attachments)
    return JSONResponse({"update": update_json(update)}, 201)


post_update.__doc__ = """
    summary: Post a dated update to a project's timeline (its members, moderators and admins)
    description: >
      The update is also posted into the project's discussion thread as a message whose
      `project_update` is {id, project, happened_on} (its readers see it live), and its
      followers and members get a `project_update` notification. `attachments` are ids of
      your uploaded files (docs/protocol.md, "Uploads").
    tags: [projects]
    security: [{bearer: []}, {cookie: []}]
    parameters: """ + _PATH + """
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [happened_on, body], properties: {happened_on: {type: string, format: date, description: "YYYY-MM-DD, from 1990 to today"}, body: {type: string, maxLength: 20000, description: Markdown}, attachments: {type: array, maxItems: 10, items: {type: string}}}}}}}
    responses:
      201: {description: "The update", content: {application/json: {schema: {type: object, properties: {update: {$ref: '#/components/schemas/ProjectUpdate'}}}}}}
      400: """ + _ERR + """
      403: {description: "forbidden: not a member of the project nor a moderator", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      404: """ + _ERR + """
      422: {description: "invalid: the date, the body or an attachment; details name it", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      429: """ + _ERR + """
"""


async def list_updates(request: Request) -> Response:
    user = await current_user(request)
    limit = int_param(request, "limit", default=20, low=1, high=100)
    updates, last = await node_of(request).projects.updates(
        user, _project_param(request), before=_update_cursor(request), limit=limit)
    return JSONResponse({"updates": [update_json(u) for u in updates],
                         "next": None if last is None else f"{last[0]}.{last[1]}.{last[2]}"})


list_updates.__doc__ = """
    summary: A project's timeline, newest first (by the date it happened, then when posted)
    tags: [projects]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: project, in: path, required: true, schema: {type: string}}
      - {name: before, in: query, schema: {type: string}, description: "the previous page's `next`"}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 20}}
    responses:
      200: {description: "A page of updates; `next` is null on the last page", content: {application/json: {schema: {type: object, properties: {updates: {type: array, items: {$ref: '#/components/schemas/ProjectUpdate'}}, next: {type: [string, 'null']}}}}}}
      400: """ + _ERR + """
      404: """ + _ERR + """
"""


def _follow_route(following: bool) -> Any:
    async def handler(request: Request) -> Response:
        user = await current_user(request)
        return _one(user, await node_of(request).projects.follow(user, _project_param(request), following))

    return handler


follow_project = _follow_route(True)
follow_project.__doc__ = """
    summary: Follow a project (its updates notify you); idempotent
    tags: [projects]
    security: [{bearer: []}, {cookie: []}]
    parameters: """ + _PATH + """
    responses:
      200: """ + _ONE + """
      400: """ + _ERR + """
      404: """ + _ERR + """
"""
unfollow_project = _follow_route(False)
unfollow_project.__doc__ = """
    summary: Stop following a project; idempotent
    tags: [projects]
    security: [{bearer: []}, {cookie: []}]
    parameters: """ + _PATH + """
    responses:
      200: """ + _ONE + """
      400: """ + _ERR + """
      404: """ + _ERR + """
"""


async def add_document(request: Request) -> Response:
    user = await current_user(request)
    body = await read_body(request, DocumentBody)
    project = await node_of(request).projects.add_document(user, _project_param(request),
                                                            doc_id=body.doc, file_id=body.file)
    return _one(user, project)


add_document.__doc__ = """
    summary: Add a document to a project's page (its members, moderators and admins)
    description: >
      Exactly one of `doc` (a library document's id, d-…) or `file` (one of your uploaded,
      unattached files, f-…, which becomes readable by every signed-in member). Adding one that
      is there already changes nothing.
    tags: [projects]
    security: [{bearer: []}, {cookie: []}]
    parameters: """ + _PATH + """
    requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {doc: {type: string}, file: {type: string}}}}}}
    responses:
      200: """ + _ONE + """
      400: """ + _ERR + """
      403: """ + _ERR + """
      404: """ + _ERR + """
      422: """ + _ERR + """
"""


async def remove_document(request: Request) -> Response:
    user = await current_user(request)
    item_id = request.query_params.get("id", "")
    if not ITEM_ID.fullmatch(item_id):
        raise BadRequest("'id' must be the id of a document on the page (d-… or f-…)")
    project = await node_of(request).projects.remove_document(user, _project_param(request), item_id)
    return _one(user, project)


remove_document.__doc__ = """
    summary: Take a document off a project's page (its members, moderators and admins)
    description: A file attached to the page is released (gone from downloads).
    tags: [projects]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: project, in: path, required: true, schema: {type: string}}
      - {name: id, in: query, required: true, schema: {type: string}, description: "d-… or f-…"}
    responses:
      200: """ + _ONE + """
      400: """ + _ERR + """
      403: """ + _ERR + """
      404: """ + _ERR + """
"""
