"""OpenAPI 3.1 from the code: route docstrings (YAML) plus the component schemas below,
served at /api/v1/openapi.json (docs/api.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from starlette.schemas import SchemaGenerator

from chat import __version__
from chat.transport.http import LoginBody, Proof, RegisterBody
from chat.transport.account import SCHEMAS as ACCOUNT_SCHEMAS
from chat.transport.archive import SCHEMAS as ARCHIVE_SCHEMAS
from chat.transport.board import SCHEMAS as BOARD_SCHEMAS
from chat.transport.library import SCHEMAS as LIBRARY_SCHEMAS
from chat.transport.mail import SCHEMAS as MAIL_SCHEMAS
from chat.transport.members import SCHEMAS as MEMBER_SCHEMAS
from chat.transport.moderation import SCHEMAS as MODERATION_SCHEMAS
from chat.transport.projects import SCHEMAS as PROJECT_SCHEMAS
from chat.transport.reads import SCHEMAS as READ_SCHEMAS
from chat.transport.search import SCHEMAS as SEARCH_SCHEMAS
from chat.transport.security import SCHEMAS as SECURITY_SCHEMAS
from chat.transport.webinars import SCHEMAS as WEBINAR_SCHEMAS

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "retry"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "retry": {"type": "boolean", "description": "whether the same request may succeed if sent again later"},
        # Mostly field -> what is wrong with it; some codes carry typed values (account_suspended:
        # until, a time or null, and banned; unsupported_type: extension, null for a name
        # without one; the upload codes: offset, size, quota, used, max in bytes).
        "details": {"type": "object", "additionalProperties": {"type": ["string", "integer", "boolean", "null"]}},
        "retry_after": {"type": "integer", "minimum": 1,
                        "description": "seconds to wait before retrying (as Retry-After)"}}}},
}
USER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"},
    "role": {"type": "string", "enum": ["admin", "moderator", "member"]},
    "email": {"type": ["string", "null"], "description": "null for a webinar's guest"},
    "guest": {"type": "boolean", "description": "present (true) only for a webinar's guest"},
    "webinar": {"type": "string", "description": "a guest's webinar, the only one they may use"},
    "two_factor": {"type": "object", "description": "a member's own view (me, sessions, login): two-factor sign-in is on; the operator requires it of this member (a staff action is refused until it is on)",
                   "properties": {"enabled": {"type": "boolean"}, "required": {"type": "boolean"}}},
    "email_verified": {"type": "boolean", "description": "a member's own view: whether their"
                       " address is verified (absent for guests)"}}}


def component(model: type[BaseModel]) -> dict[str, Any]:
    """A body's schema whose nested models are components of their own (listed beside it)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


COMPONENTS: dict[str, Any] = {
    "schemas": {
        "Error": ERROR_SCHEMA,
        **MEMBER_SCHEMAS,
        **READ_SCHEMAS,
        **WEBINAR_SCHEMAS,
        **BOARD_SCHEMAS,
        **ARCHIVE_SCHEMAS,
        **PROJECT_SCHEMAS,
        **LIBRARY_SCHEMAS,
        **SEARCH_SCHEMAS,
        **MAIL_SCHEMAS,
        **MODERATION_SCHEMAS,
        **SECURITY_SCHEMAS,
        **ACCOUNT_SCHEMAS,
        "RegisterBody": component(RegisterBody),
        "Proof": Proof.model_json_schema(),
        "LoginBody": LoginBody.model_json_schema(),
        "User": USER_SCHEMA,
        "Session": {"type": "object", "properties": {
            "user": {"$ref": "#/components/schemas/User"}, "token": {"type": "string"}}},
        "Room": {"type": "object", "properties": {
            "id": {"type": "string"}, "kind": {"type": "string"},
            "title": {"type": "object", "properties": {"en": {"type": "string"},
                                                       "zh": {"type": "string"}}},
            "description": {"type": "object", "description": "sector and city rooms: what the room"
                            " is for, a sentence or two", "properties": {
                                "en": {"type": "string"}, "zh": {"type": "string"}}},
            "seq": {"type": "integer", "description": "the room's head seq"},
            "last_read": {"type": "integer", "description": "the user's last-read seq (0: none)"},
            "unread": {"type": "integer", "description": "messages by others after last_read,"
                       " not deleted, counted up to 1000"},
            "notify": {"type": "string", "enum": ["all", "mentions", "none"],
                       "description": "how much the room notifies the user (none: muted)"}}},
        "Topic": {"type": "object", "properties": {
            "id": {"type": "string", "description": "also the id of the thread's room"},
            "kind": {"type": "string", "enum": ["topic", "news"]},
            "title": {"type": "string"}, "summary": {"type": "string"},
            "body": {"type": "string"}, "html": {"type": "string"},
            "author": {"type": "object"}, "created_at": {"type": "string"},
            "last_activity": {"type": "string"}, "replies": {"type": "integer"},
            "resolved": {"type": "boolean"}, "pinned": {"type": "boolean"},
            "rooms": {"type": "array", "items": {"type": "string"}},
            "origin": {"type": "object", "properties": {"room": {"type": "string"},
                                                        "message": {"type": "string"}}},
            "attachments": {"$ref": "#/components/schemas/Attachments"}}},
        "FileIds": {"type": "array", "maxItems": 10, "description": "ids of the member's own uploaded"
                    " files to attach (docs/protocol.md, \"Attachments\")",
                    "items": {"type": "string", "pattern": "^f-[A-Za-z0-9_-]{1,62}$"}},
        "Attachments": {"type": "array", "description": "the attached files' wire dicts, in order"
                        " (only present when there are some)", "items": {"type": "object", "properties": {
                            "id": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string"},
                            "size": {"type": "integer"},
                            "kind": {"type": "string", "enum": ["image", "pdf", "office", "text", "csv", "zip"]},
                            "preview": {"type": "object", "properties": {"w": {"type": "integer"},
                                                                         "h": {"type": "integer"}}}}}},
        "Message": {"type": "object", "properties": {
            "room": {"type": "string"}, "seq": {"type": "integer"}, "id": {"type": "string"},
            "author": {"type": "object", "properties": {"id": {"type": "integer"},
                                                        "name": {"type": "string"}}},
            "body": {"type": "string"}, "sent_at": {"type": "string", "format": "date-time"},
            "attachments": {"$ref": "#/components/schemas/Attachments"}}},
        "TimelineEvent": {"type": "object", "description": "a status, membership or webinar entry of the"
                          " room's log, as its frame (docs/protocol.md)", "properties": {
            "type": {"type": "string", "enum": ["status", "membership", "webinar"]},
            "room": {"type": "string"}, "seq": {"type": "integer"}, "id": {"type": "string"},
            "author": {"type": "object", "properties": {"id": {"type": "integer"},
                                                        "name": {"type": "string"}}},
            "sent_at": {"type": "string", "format": "date-time"},
            "status": {"type": "string", "enum": ["open", "answered", "closed"]},
            "change": {"type": "string", "enum": ["added", "left", "declined", "rejoined", "removed"]},
            "user": {"type": "object"}, "by": {"type": "object"}}},
        # Files (chat/transport/files.py; docs/protocol.md, "Files").
        "File": {"type": "object", "required": ["id", "name", "type", "size", "kind"], "properties": {
            "id": {"type": "string", "pattern": "^f-[A-Za-z0-9_-]{22}$"}, "name": {"type": "string"},
            "type": {"type": "string", "description": "the media type decided from the bytes"},
            "size": {"type": "integer"},
            "kind": {"type": "string", "enum": ["image", "pdf", "office", "text", "csv", "zip"]},
            "preview": {"type": "object", "properties": {"w": {"type": "integer"}, "h": {"type": "integer"}},
                        "description": "present when GET /api/v1/files/{id}/preview has an image"}}},
        "Upload": {"type": "object", "properties": {
            "id": {"type": "string"}, "name": {"type": "string"},
            "offset": {"type": "integer", "description": "bytes committed: send from here"},
            "size": {"type": "integer"}, "part_size": {"type": "integer"},
            "expires_at": {"type": "string", "format": "date-time"},
            "file": {"$ref": "#/components/schemas/File"}}},
    },
    "responses": {
        "Upload": {"description": "The upload (with `file` once complete)", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Upload"}}}},
        "File": {"description": "A stored file", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/File"}}}},
        "Error": {"description": "An error (see docs/protocol.md for codes)",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        # Transcript exports (chat/transport/export.py; docs/protocol.md, "Exports").
        "Transcript": {
            "description": "The transcript, streamed as a download (Content-Disposition: attachment;"
                           " Cache-Control: no-store); its last line states the SHA-256 of every byte"
                           " before it (PDF: the X-Content-SHA256 header)",
            "headers": {"Content-Disposition": {"schema": {"type": "string"}},
                        "X-Content-SHA256": {"description": "PDF only: the file's SHA-256 (hex)",
                                             "schema": {"type": "string"}}},
            "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in (
                "text/markdown", "text/html", "application/pdf", "application/x-ndjson", "text/csv")},
        },
    },
    "parameters": {
        "ExportFormat": {"name": "format", "in": "query", "schema": {
            "type": "string", "enum": ["markdown", "html", "pdf", "jsonl", "csv"], "default": "markdown"}},
        "ExportFrom": {"name": "from", "in": "query", "description":
                       "ISO 8601 date or date-time; without an offset, local time in `tz`; a bare date"
                       " is that day's local midnight (inclusive)", "schema": {"type": "string"}},
        "ExportTo": {"name": "to", "in": "query", "description":
                     "ISO 8601 date or date-time (exclusive); a bare date includes that whole day",
                     "schema": {"type": "string"}},
        "ExportTz": {"name": "tz", "in": "query", "description":
                     "IANA time zone of the times shown and of local `from`/`to` (default: the"
                     " member's profile zone, else UTC)", "schema": {"type": "string"}},
        "ExportLang": {"name": "lang", "in": "query", "description":
                       "Labels' language (default: zh when the member's profile languages start"
                       " with zh, else en)", "schema": {"type": "string", "enum": ["en", "zh"]}},
    },
    "securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"},
        "cookie": {"type": "apiKey", "in": "cookie", "name": "ecolink_session"},
    },
}


# Operations that need no session; every other one needs one (and may answer 401).
NO_SESSION = frozenset({
    ("post", "/api/v1/accounts"), ("get", "/api/v1/registration/challenge"),
    ("post", "/api/v1/sessions"), ("get", "/api/v1/sessions"),
    ("post", "/api/v1/account/verification/confirm"), ("post", "/api/v1/account/email/confirm"),
    ("post", "/api/v1/account/password-reset"), ("post", "/api/v1/account/password-reset/confirm"),
    ("post", "/api/v1/webinars/{webinar}/guests"), ("get", "/api/v1/privacy"),
    ("get", "/api/v1/mail/unsubscribe"), ("post", "/api/v1/mail/unsubscribe"),
    ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"),
})
ERROR_REF = {"$ref": "#/components/responses/Error"}
ERROR_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """The answers every route shares, added where its docstring leaves them out (found by
    fuzzing the document against the server: tests/e2e/test_api_fuzz.py): 401 and the
    security schemes for every route that needs a session; 400 for any route with a parameter
    or a body (chat/transport/edge.py refuses a repeated query parameter, the routes a
    malformed id or body); 413 for any route with a body (each reads a bounded one); an
    integer query parameter may be empty (chat/transport/http.py int_param: read as not given); 422 for any route with a JSON body or query parameters (a value, or
    a combination, out of its rules; mail/unsubscribe's pages aside, which answer 400). A
    400 documented as a page may also be the edge's JSON error."""
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            # The docstrings' YAML gives the statuses as integers.
            responses = operation.setdefault("responses", {})
            if (method, path) not in NO_SESSION:
                operation.setdefault("security", [{"bearer": []}, {"cookie": []}])
                responses.setdefault(401, ERROR_REF)
            has_body = "requestBody" in operation
            if operation.get("parameters") or has_body:
                responses.setdefault(400, ERROR_REF)
                content = responses[400].get("content")
                if content is not None and "application/json" not in content:
                    content.update(ERROR_JSON)
            json_body = has_body and "application/json" in operation["requestBody"].get("content", {})
            if has_body:
                responses.setdefault(413, ERROR_REF)
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter.get("schema", {}).get("type") == "integer":
                    parameter.setdefault("allowEmptyValue", True)
            queried = any(p.get("in") == "query" for p in operation.get("parameters", []))
            if json_body or (queried and not path.startswith("/api/v1/mail/")):
                responses.setdefault(422, ERROR_REF)
    return schema


def build_schema(routes: list[BaseRoute]) -> dict[str, Any]:
    generator = SchemaGenerator({
        "openapi": "3.1.0",
        "info": {"title": "EcoLink chat", "version": __version__},
        "components": COMPONENTS,
    })
    return complete(generator.get_schema(routes))


# The document a route table gives, per process: building it parses every route's docstring
# (~0.15 s), and every app of a process (tests start hundreds) has the same routes.
_SCHEMAS: dict[tuple[tuple[str, str, str], ...], dict[str, Any]] = {}


def _route_key(route: BaseRoute) -> tuple[str, str, str]:
    endpoint = getattr(route, "endpoint", None)
    return (getattr(route, "path", ""), ",".join(sorted(getattr(route, "methods", None) or ())),
            f"{getattr(endpoint, '__module__', '')}.{getattr(endpoint, '__qualname__', '')}")


def openapi_route(routes: list[BaseRoute]) -> Route:
    key = tuple(_route_key(route) for route in routes)
    schema = _SCHEMAS.get(key)
    if schema is None:
        schema = _SCHEMAS[key] = build_schema(routes)

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(schema)

    return Route("/api/v1/openapi.json", openapi, methods=["GET"], include_in_schema=False)
