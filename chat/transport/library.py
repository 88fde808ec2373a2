"""HTTP routes of the knowledge library: list, propose, read, edit, versions, download, review and
share. Docstrings hold the OpenAPI fragments; docs/protocol.md, "Library", tells the rest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import Field, StrictInt, StrictStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.errors import BadRequest
from chat.library.service import MAX_DESCRIPTION, DocDraft, DocPage, Filters, is_doc_id
from chat.models import Document, DocVersion
from chat.protocol.frames import MAX_CID_CHARS, is_room_id
from chat.transport.files import file_response, wants_whole
from chat.transport.http import Body, Line, Text, current_user, int_param, node_of, read_body

class DocPatch(Body):
    title_en: Line | None = Field(default=None, max_length=300)
    title_zh: Line | None = Field(default=None, max_length=300)
    description: Text | None = Field(default=None, max_length=MAX_DESCRIPTION)
    type: Line | None = None
    language: Line | None = None
    year: StrictInt | None = None
    source: Line | None = Field(default=None, max_length=300)
    sectors: list[Line] | None = Field(default=None, max_length=20)
    cities: list[Line] | None = Field(default=None, max_length=20)

    def draft(self) -> DocDraft:
        return DocDraft(title_en=self.title_en, title_zh=self.title_zh, description=self.description,
                        doc_type=self.type, language=self.language, year=self.year, source=self.source,
                        sectors=self.sectors, cities=self.cities)


class DocBody(DocPatch):
    file: Line = Field(max_length=64)
    note: Text | None = Field(default=None, max_length=500)


class VersionBody(Body):
    file: Line = Field(max_length=64)
    note: Text | None = Field(default=None, max_length=500)


class ReviewBody(Body):
    action: Line = Field(max_length=20)
    reason: Text | None = Field(default=None, max_length=1000)


class ShareBody(Body):
    room: Line = Field(max_length=64)
    cid: StrictStr = Field(min_length=1, max_length=MAX_CID_CHARS)
    comment: Text | None = Field(default=None, max_length=500)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def doc_json(doc: Document) -> dict[str, Any]:
    m = doc.meta
    return {
        "id": doc.doc_id, "title": {"en": m.title_en, "zh": m.title_zh}, "description": m.description,
        "type": m.doc_type, "language": m.language, "year": m.year, "source": m.source,
        "sectors": list(m.sectors), "cities": list(m.cities), "state": doc.state, "reason": doc.reason,
        "proposed_by": {"id": doc.proposed_by, "name": doc.proposer_name},
        "created_at": _iso(doc.created_at_ms), "updated_at": _iso(doc.updated_at_ms),
        "listed_at": _iso(doc.listed_at_ms), "downloads": doc.downloads, "version": doc.current_version,
        "page": f"/#/library/{doc.doc_id}",
    }


def version_json(doc_id: str, v: DocVersion) -> dict[str, Any]:
    return {"version": v.version, "note": v.note, "at": _iso(v.created_at_ms),
            "uploaded_by": {"id": v.uploaded_by, "name": v.uploader_name}, "file": v.file,
            "download": f"/api/v1/library/{doc_id}/download?version={v.version}"}


def page_json(page: DocPage) -> dict[str, Any]:
    doc_id = page.doc.doc_id
    return {"document": {**doc_json(page.doc),
                         "versions": [version_json(doc_id, v) for v in page.versions],
                         "discussed": [{"room": {"id": room.room_id, "kind": room.kind,
                                                 "title": {"en": room.title_en, "zh": room.title_zh}},
                                        "message": mention.message_id, "at": _iso(mention.at_ms)}
                                       for mention, room in page.mentions]}}


def _doc_param(request: Request) -> str:
    doc_id: str = request.path_params["doc"]
    if not is_doc_id(doc_id):
        raise BadRequest("the document id must be d- and 16 hex digits")
    return doc_id


SCHEMAS: dict[str, Any] = {
    "Document": {"type": "object", "description": "A library document (docs/protocol.md, \"Library\")", "properties": {
        "id": {"type": "string", "description": "d-<16 hex>"},
        "title": {"type": "object", "properties": {"en": {"type": "string"}, "zh": {"type": "string"}},
                  "description": "either may be empty, not both"},
        "description": {"type": "string"},
        "type": {"type": "string", "enum": ["report", "guide", "case-study", "policy", "presentation", "data", "other"]},
        "language": {"type": "string", "enum": ["en", "zh", "both"]},
        "year": {"type": "integer"}, "source": {"type": "string", "description": "source or author"},
        "sectors": {"type": "array", "items": {"type": "string"}, "description": "sector room ids"},
        "cities": {"type": "array", "items": {"type": "string"}, "description": "city room ids"},
        "state": {"type": "string", "enum": ["proposed", "published", "rejected", "withdrawn"]},
        "reason": {"type": "string", "description": "why it was rejected or withdrawn"},
        "proposed_by": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "listed_at": {"type": "string", "format": "date-time", "description": "when it was published (or proposed)"},
        "downloads": {"type": "integer"},
        "version": {"type": "integer", "description": "the current version's number"},
        "page": {"type": "string", "description": "the web client's page: /#/library/<id>"}}},
    "DocumentPage": {"allOf": [{"$ref": "#/components/schemas/Document"}, {"type": "object", "properties": {
        "versions": {"type": "array", "description": "newest first", "items": {"type": "object", "properties": {
            "version": {"type": "integer"}, "note": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "uploaded_by": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
            "file": {"type": "object", "description": "the file's wire dict (docs/protocol.md, \"Files\")"},
            "download": {"type": "string"}}}},
        "discussed": {"type": "array", "description": "messages linking it, in rooms the viewer may read, newest first",
                      "items": {"type": "object", "properties": {
                          "room": {"type": "object", "properties": {"id": {"type": "string"}, "kind": {"type": "string"},
                                                                    "title": {"type": "object"}}},
                          "message": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}}}}}]},
    "DocumentBody": {"type": "object", "required": ["file", "type", "language", "year"], "properties": {
        "title_en": {"type": "string", "maxLength": 300}, "title_zh": {"type": "string", "maxLength": 300},
        "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
        "type": {"type": "string", "enum": ["report", "guide", "case-study", "policy", "presentation", "data", "other"]},
        "language": {"type": "string", "enum": ["en", "zh", "both"]},
        "year": {"type": "integer", "description": "1990 to next year"},
        "source": {"type": "string", "maxLength": 300},
        "sectors": {"type": "array", "items": {"type": "string"}}, "cities": {"type": "array", "items": {"type": "string"}},
        "file": {"type": "string", "description": "a file you uploaded (POST /api/v1/uploads), not attached elsewhere"},
        "note": {"type": "string", "maxLength": 500}}},
}
_ONE = "{description: \"The document's page\", content: {application/json: {schema: {type: object, properties: {document: {$ref: '#/components/schemas/DocumentPage'}}}}}}"
_ERRORS = """
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      409: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
"""
_DOC = "\n      - {name: doc, in: path, required: true, schema: {type: string}}"


async def _page(request: Request, doc_id: str, status: int = 200) -> Response:
    user = await current_user(request)
    page = await node_of(request).library.page(user, doc_id)
    return JSONResponse(page_json(page), status)


async def list_documents(request: Request) -> Response:
    user = await current_user(request)
    q = request.query_params
    filters = Filters(
        state=q.get("state"), sector=q.get("sector"), city=q.get("city"), language=q.get("language"),
        doc_type=q.get("type"), year=int_param(request, "year", default=None, low=1, high=9999), q=q.get("q"),
        sort=q.get("sort"), lang=q.get("lang"), after=q.get("after"),
        limit=int_param(request, "limit", default=50, low=1, high=100))
    docs, after = await node_of(request).library.listing(user, filters)
    return JSONResponse({"documents": [doc_json(d) for d in docs], "next": after})


list_documents.__doc__ = """
    summary: The library, filtered, sorted and paged
    description: Members see published documents; `state` other than published lists the viewer's own (moderators and admins see every one).
    tags: [library]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: state, in: query, schema: {type: string, enum: [published, proposed, rejected, withdrawn], default: published}}
      - {name: sector, in: query, schema: {type: string}, description: "a sector room id"}
      - {name: city, in: query, schema: {type: string}, description: "a city room id"}
      - {name: language, in: query, schema: {type: string, enum: [en, zh, both]}, description: "en and zh also match documents in both"}
      - {name: type, in: query, schema: {type: string, enum: [report, guide, case-study, policy, presentation, data, other]}}
      - {name: year, in: query, schema: {type: integer}}
      - {name: q, in: query, schema: {type: string, maxLength: 100}, description: "words in either title (case-insensitive substring)"}
      - {name: sort, in: query, schema: {type: string, enum: [newest, downloads, title], default: newest}}
      - {name: lang, in: query, schema: {type: string, enum: [en, zh], default: en}, description: "which title `sort=title` orders by (falling back to the other)"}
      - {name: after, in: query, schema: {type: string}, description: "the previous page's `next`"}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 50}}
    responses:
      200: {description: "A page; `next` is null on the last", content: {application/json: {schema: {type: object, properties: {documents: {type: array, items: {$ref: '#/components/schemas/Document'}}, next: {type: [string, 'null']}}}}}}
""" + _ERRORS


async def create_document(request: Request) -> Response:
    user = await current_user(request)
    body = await read_body(request, DocBody)
    doc = await node_of(request).library.create(user, body.draft(), body.file, body.note or "")
    return await _page(request, doc.doc_id, 201)


create_document.__doc__ = """
    summary: Propose a document (moderators and admins publish it at once)
    description: Upload its file first (POST /api/v1/uploads); the file becomes the document's version 1.
    tags: [library]
    security: [{bearer: []}, {cookie: []}]
    requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/DocumentBody'}}}}
    responses:
      201: """ + _ONE + _ERRORS


async def get_document(request: Request) -> Response:
    return await _page(request, _doc_param(request))


get_document.__doc__ = """
    summary: A document's page, its versions and where it was discussed
    tags: [library]
    security: [{bearer: []}, {cookie: []}]
    parameters:""" + _DOC + """
    responses:
      200: """ + _ONE + _ERRORS


async def edit_document(request: Request) -> Response:
    user = await current_user(request)
    doc_id = _doc_param(request)
    body = await read_body(request, DocPatch)
    await node_of(request).library.edit(user, doc_id, body.draft())
    return await _page(request, doc_id)


edit_document.__doc__ = """
    summary: Change a document's metadata (moderators; its proposer while proposed)
    tags: [library]
    security: [{bearer: []}, {cookie: []}]
    parameters:""" + _DOC + """
    requestBody: {required: true, content: {application/json: {schema: {type: object, description: "any fields of DocumentBody but file and note"}}}}
    responses:
      200: """ + _ONE + _ERRORS


async def add_version(request: Request) -> Response:
    user = await current_user(request)
    doc_id = _doc_param(request)
    body = await read_body(request, VersionBody)
    await node_of(request).library.add_version(user, doc_id, body.file, body.note or "")
    return await _page(request, doc_id, 201)


add_version.__doc__ = """
    summary: Add a new version of a document (the earlier ones stay downloadable)
    tags: [library]
    security: [{bearer: []}, {cookie: []}]
    parameters:""" + _DOC + """
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [file], properties: {file: {type: string}, note: {type: string, maxLength: 500}}}}}}
    responses:
      201: """ + _ONE + _ERRORS


async def download(request: Request) -> Response:
    user = await current_user(request)
    doc_id = _doc_param(request)
    version = int_param(request, "version", default=None, low=1, high=1_000_000)
    _, _, stored = await node_of(request).library.download(user, doc_id, version,
                                                           count=wants_whole(request))
    return file_response(request, stored)


download.__doc__ = """
    summary: Download a version of a document (default the current one); counts a download
    tags: [library]
    security: [{bearer: []}, {cookie: []}]
    parameters:""" + _DOC + """
      - {name: version, in: query, schema: {type: integer, minimum: 1}}
      - {name: Range, in: header, required: false, schema: {type: string}}
    responses:
      200: {description: "The file, as an attachment (nosniff)", content: {application/octet-stream: {schema: {type: string, format: binary}}}}
      206: {description: "the range asked for (a resumed download, not counted again)"}
      304: {description: "unchanged (If-None-Match)"}
      416: {description: "the range is outside the file"}
""" + _ERRORS


async def review(request: Request) -> Response:
    user = await current_user(request)
    doc_id = _doc_param(request)
    body = await read_body(request, ReviewBody)
    await node_of(request).library.review(user, doc_id, body.action, body.reason or "")
    return await _page(request, doc_id)


review.__doc__ = """
    summary: Publish or reject a proposal, or withdraw a document (moderators and admins)
    description: Rejecting needs a reason. Withdrawing releases the document's files.
    tags: [library]
    security: [{bearer: []}, {cookie: []}]
    parameters:""" + _DOC + """
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [action], properties: {action: {type: string, enum: [publish, reject, withdraw]}, reason: {type: string, maxLength: 1000}}}}}}
    responses:
      200: """ + _ONE + _ERRORS


async def share(request: Request) -> Response:
    user = await current_user(request)
    doc_id = _doc_param(request)
    body = await read_body(request, ShareBody)
    if not is_room_id(body.room):
        raise BadRequest("the room id must be 1-64 of a-z, 0-9 and '-'")
    message = await node_of(request).library.share(user, doc_id, body.room, body.cid, body.comment or "")
    return JSONResponse({"room": message.room_id, "message": message.message_id, "seq": message.seq}, 201)


share.__doc__ = """
    summary: Share a published document into a room you may post in
    description: Posts a message linking the document's page (with your comment); the page lists it under "discussed". `cid` makes it idempotent like a send.
    tags: [library]
    security: [{bearer: []}, {cookie: []}]
    parameters:""" + _DOC + """
    requestBody: {required: true, content: {application/json: {schema: {type: object, required: [room, cid], properties: {room: {type: string}, cid: {type: string, maxLength: 64}, comment: {type: string, maxLength: 500}}}}}}
    responses:
      201: {description: "The message posted", content: {application/json: {schema: {type: object, properties: {room: {type: string}, message: {type: string}, seq: {type: integer}}}}}}
""" + _ERRORS
