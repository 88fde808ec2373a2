"""HTTP API routes (/api/v1) and the operational endpoints. Docstrings hold the OpenAPI
fragments that /api/v1/openapi.json is generated from."""

from __future__ import annotations

import json
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.accounts.service import Session
from chat.clock import iso_ms
from chat.errors import BadRequest, InvalidInput, PayloadTooLarge, Unauthorized
from chat.models import Message, User
from chat.node import Node
from chat.protocol.frames import is_room_id, message_frame
from chat.transport.auth import COOKIE_NAME, check_origin, credentials

MAX_JSON_BODY_BYTES = 64 * 1024
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class RegisterBody(Body):
    email: StrictStr
    password: StrictStr
    display_name: StrictStr


class LoginBody(Body):
    email: StrictStr
    password: StrictStr


def node_of(request: Request) -> Node:
    return request.app.state.node


async def read_body(request: Request, model: type[Body]) -> Any:
    """Parse a JSON body into a model, with a size limit and errors that echo no values."""
    # The media type exactly (RFC 9110 §8.3.1; parameters such as charset may follow): a
    # substring test let `text/plain;application/json` through, a type an HTML form can send
    # across sites without a CORS preflight.
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise BadRequest("send a JSON body with Content-Type: application/json")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_JSON_BODY_BYTES):
        raise PayloadTooLarge(f"the body must be at most {MAX_JSON_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BODY_BYTES:
            raise PayloadTooLarge(f"the body must be at most {MAX_JSON_BODY_BYTES} bytes")
        chunks.append(chunk)
    try:
        doc = json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(doc, dict):
        raise BadRequest("the body must be a JSON object")
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        details = {".".join(map(str, e["loc"])) or "body": e["msg"] for e in exc.errors()}
        raise InvalidInput("some fields are missing or of the wrong type", details=details) from None


def client_address(request: Request) -> str:
    """The peer's address (behind a proxy, uvicorn's --forwarded-allow-ips makes it the
    client's: docs/operations.md)."""
    return request.client.host if request.client else "unknown"


async def current_user(request: Request) -> User:
    creds = credentials(request)
    node = node_of(request)
    if creds.via_cookie and request.method not in SAFE_METHODS:
        check_origin(request, node.settings.allowed_origins)
    return await node.accounts.authenticate(creds.token)


def session_response(request: Request, session: Session, status: int) -> JSONResponse:
    settings = node_of(request).settings
    response = JSONResponse({"user": session.user.private(), "token": session.token}, status)
    response.set_cookie(
        COOKIE_NAME,
        session.token,
        max_age=settings.session_ttl_days * 86400,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )
    return response


def int_param(request: Request, name: str, *, default: int | None, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    # isascii: str.isdigit() also accepts '²' and '١٢', which int() refuses or reads oddly;
    # int() also refuses over sys.get_int_max_str_digits() digits. Either was a 500.
    try:
        value = int(raw) if raw.isascii() and raw.isdigit() else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise BadRequest(f"'{name}' must be a whole number from {low} to {high}")
    return value


def message_json(message: Message, reactions: dict[str, list[int]] | None = None) -> dict[str, Any]:
    """A message as history returns it: its current state, with reactions (emoji → user ids)."""
    frame = message_frame(message)
    del frame["type"]
    frame["reactions"] = reactions or {}
    return frame


# -- accounts and sessions ---------------------------------------------------------------


async def create_account(request: Request) -> Response:
    """
    summary: Register a member account
    tags: [accounts]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/RegisterBody'}
    responses:
      201: {description: "The user and a session token; also sets the session cookie.", content: {application/json: {schema: {$ref: '#/components/schemas/Session'}}}}
      400: {$ref: '#/components/responses/Error'}
      403: {description: "forbidden: the request came from a page of a foreign Origin", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      409: {description: "email_taken: an account with this email exists", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      413: {$ref: '#/components/responses/Error'}
      422: {description: "invalid: a field is wrong (a common password, a lookalike email, a staff name...); details name the fields", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      429: {description: "rate_limited: too many registrations from this address; see Retry-After", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      503: {description: "busy: too many passwords being checked; retry after Retry-After", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    node = node_of(request)
    check_origin(request, node.settings.allowed_origins, required=False)
    body = await read_body(request, RegisterBody)
    session = await node.accounts.register(body.email, body.password, body.display_name,
                                           address=client_address(request))
    return session_response(request, session, 201)


async def create_session(request: Request) -> Response:
    """
    summary: Log in
    tags: [accounts]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/LoginBody'}
    responses:
      200: {description: "The user and a new session token; also sets the session cookie.", content: {application/json: {schema: {$ref: '#/components/schemas/Session'}}}}
      401: {$ref: '#/components/responses/Error'}
      403: {description: "forbidden: the request came from a page of a foreign Origin", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      429: {description: "rate_limited: too many failed logins for this account from this address; see Retry-After", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      503: {description: "busy: too many passwords being checked; retry after Retry-After", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    node = node_of(request)
    check_origin(request, node.settings.allowed_origins, required=False)
    body = await read_body(request, LoginBody)
    session = await node.accounts.login(body.email, body.password, client_address(request))
    return session_response(request, session, 200)


async def delete_session(request: Request) -> Response:
    """
    summary: Log out (ends the session of the token or cookie used)
    tags: [accounts]
    security: [{bearer: []}, {cookie: []}]
    responses:
      204: {description: "Logged out; the session cookie is cleared."}
      401: {$ref: '#/components/responses/Error'}
    """
    await current_user(request)
    token = credentials(request).token
    assert token is not None
    await node_of(request).accounts.logout(token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, httponly=True, samesite="lax")
    return response


async def current_session(request: Request) -> Response:
    """
    summary: Who this session is, if anyone
    description: Like `GET /api/v1/me`, but 200 with `user` null when the request carries no
      valid session, so a client can ask on start-up without an error in its console.
    tags: [accounts]
    security: [{}, {bearer: []}, {cookie: []}]
    responses:
      200: {description: "The user, or null", content: {application/json: {schema: {type: object, properties: {user: {oneOf: [{$ref: '#/components/schemas/User'}, {type: 'null'}]}}}}}}
    """
    try:
        user = await current_user(request)
    except Unauthorized:
        return JSONResponse({"user": None})
    return JSONResponse({"user": user.private()})


async def me(request: Request) -> Response:
    """
    summary: The logged-in user
    tags: [accounts]
    security: [{bearer: []}, {cookie: []}]
    responses:
      200: {description: "The user", content: {application/json: {schema: {type: object, properties: {user: {$ref: '#/components/schemas/User'}}}}}}
      401: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    return JSONResponse({"user": user.private()})


# -- rooms and history -------------------------------------------------------------------


async def list_rooms(request: Request) -> Response:
    """
    summary: The rooms the user can see, with their head seq and the user's read state
    tags: [rooms]
    security: [{bearer: []}, {cookie: []}]
    responses:
      200: {description: "Sector and city rooms", content: {application/json: {schema: {type: object, properties: {rooms: {type: array, items: {$ref: '#/components/schemas/Room'}}}}}}}
      401: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    node = node_of(request)
    rooms = await node.rooms.list_rooms(user)
    reads = await node.reads.summaries(user, [room.room_id for room in rooms])  # one query
    listed = []
    for room in rooms:
        last_read, unread = reads.get(room.room_id, (0, 0))
        listed.append({**room.to_wire(), "last_read": last_read, "unread": unread})
    return JSONResponse({"rooms": listed})


async def room_messages(request: Request) -> Response:
    """
    summary: A page of a room's history, in seq order
    description: >
      With `after`, the messages with seq > after (oldest first); with `before`, the `limit`
      messages just before that seq; with neither, the latest page.
    tags: [rooms]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: room, in: path, required: true, schema: {type: string, pattern: '^[a-z0-9-]{1,64}$'}}
      - {name: after, in: query, schema: {type: integer, minimum: 0}}
      - {name: before, in: query, schema: {type: integer, minimum: 1}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 200, default: 50}}
    responses:
      200: {description: "Messages", content: {application/json: {schema: {type: object, properties: {messages: {type: array, items: {$ref: '#/components/schemas/Message'}}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """
    room_id = request.path_params["room"]
    if not is_room_id(room_id):
        raise BadRequest("the room id must be 1-64 of a-z, 0-9 and '-'")
    user = await current_user(request)
    big = 2**62
    after = int_param(request, "after", default=None, low=0, high=big)
    before = int_param(request, "before", default=None, low=1, high=big)
    limit = int_param(request, "limit", default=50, low=1, high=200)
    assert limit is not None
    messages, reactions = await node_of(request).rooms.history(
        user, room_id, after=after, before=before, limit=limit)
    return JSONResponse({"messages": [message_json(m, reactions.get(m.message_id)) for m in messages]})


async def message_versions(request: Request) -> Response:
    """
    summary: Earlier versions of an edited message, oldest first
    tags: [rooms]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: room, in: path, required: true, schema: {type: string}}
      - {name: message, in: path, required: true, schema: {type: string}}
    responses:
      200: {description: "Versions (a deleted message has none)", content: {application/json: {schema: {type: object, properties: {versions: {type: array, items: {type: object, properties: {version: {type: integer}, body: {type: string}, edited_at: {type: string}, editor: {type: integer}}}}}}}}}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """
    room_id = request.path_params["room"]
    if not is_room_id(room_id):
        raise BadRequest("the room id must be 1-64 of a-z, 0-9 and '-'")
    user = await current_user(request)
    versions = await node_of(request).rooms.versions(user, room_id, request.path_params["message"])
    return JSONResponse({"versions": [
        {"version": v, "body": body, "edited_at": iso_ms(at), "editor": editor}
        for v, body, at, editor in versions]})


# -- operations --------------------------------------------------------------------------


async def healthz(request: Request) -> Response:
    """
    summary: Liveness — the process answers
    tags: [operations]
    responses:
      200: {description: "alive"}
    """
    return JSONResponse({"status": "alive"})


async def readyz(request: Request) -> Response:
    """
    summary: Readiness — the store answers and the broker is subscribed
    description: 503 with status "degraded" while Redis is lost (the node still serves, polling
      the store), or "unavailable" when the database does not answer, or "draining" on shutdown.
    tags: [operations]
    responses:
      200: {description: "ready"}
      503: {description: "degraded, unavailable or draining"}
    """
    node = node_of(request)
    checks: dict[str, str] = {}
    try:
        await node.store.ping()
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = type(exc).__name__
    checks["broker"] = "ok" if node.broker.healthy else "down"
    if node.draining:
        status = "draining"
    elif checks["store"] != "ok":
        status = "unavailable"
    elif checks["broker"] != "ok":
        status = "degraded"
    else:
        status = "ready"
    body = {"status": status, "node": node.node_id, "checks": checks, **node.hub.stats()}
    return JSONResponse(body, 200 if status == "ready" else 503)


async def metrics(request: Request) -> Response:
    """
    summary: Prometheus metrics of this node
    tags: [operations]
    responses:
      200: {description: "text exposition format"}
    """
    return Response(generate_latest(node_of(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)
