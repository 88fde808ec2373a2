"""HTTP API routes (/api/v1) and the operational endpoints. Docstrings hold the OpenAPI
fragments that /api/v1/openapi.json is generated from."""

from __future__ import annotations

import hmac
import ipaddress
import json
import time
from typing import Annotated, Any, overload

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.accounts.service import Session
from chat.clock import iso_ms
from chat.config import Settings
from chat.errors import BadRequest, Forbidden, InvalidInput, PayloadTooLarge, RateLimited, Unauthorized
from chat.models import Message, Room, User
from chat.node import Node
from chat.protocol.frames import MAX_MESSAGE_ID_CHARS, MESSAGE_ID_CHARS, is_room_id, message_frame
from chat.protocol.ratelimit import HTTP_WRITE_COST
from chat.protocol.frames import ATTACHMENTS_PROBLEM, attachment_ids
from chat.text import INT64_MAX, storage_problem, text_problem
from chat.transport.auth import COOKIE_NAME, check_origin, credentials
from chat.transport.guest_scope import check_guest_scope

MAX_JSON_BODY_BYTES = 64 * 1024
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _text_rule(*, multiline: bool) -> AfterValidator:
    def check(value: str) -> str:
        problem = text_problem(value, multiline=multiline)
        if problem is not None:
            raise ValueError(problem)  # pydantic reports it under the field's name
        return value
    return AfterValidator(check)


# Typed fields of request bodies (chat/text.py holds the rules). Every string of every body is
# also checked for NUL and unpaired surrogates, and every number for the signed 64-bit range,
# by read_body, before the model sees it; these add the rest per field.
Line = Annotated[StrictStr, _text_rule(multiline=False)]  # names, titles, ids, emails
Text = Annotated[StrictStr, _text_rule(multiline=True)]  # bodies, summaries
Id = Annotated[StrictInt, Field(ge=1, le=INT64_MAX)]  # user ids, notification ids


def _file_ids(value: list[str]) -> list[str]:
    ids = attachment_ids(value)
    if ids is None:
        raise ValueError(ATTACHMENTS_PROBLEM)
    return list(ids)


# The files a body attaches (docs/protocol.md, "Attachments"): at most 10 of the member's uploads.
FileIds = Annotated[list[StrictStr], AfterValidator(_file_ids)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class Proof(Body):
    challenge: Annotated[StrictStr, Field(max_length=200)]
    nonce: Annotated[StrictStr, Field(max_length=20)]


class RegisterBody(Body):
    email: Line
    password: StrictStr  # any text (its rules are the account service's), but see read_body
    display_name: Line
    # The browser's IANA zone (Intl.DateTimeFormat().resolvedOptions().timeZone); checked by
    # the account service.
    time_zone: StrictStr | None = None
    # The solved registration challenge (chat/accounts/challenge.py); required unless the
    # server asks for none.
    proof: Proof | None = None


class LoginBody(Body):
    email: StrictStr
    password: StrictStr
    # With two-factor sign-in on: a TOTP code or a recovery code (chat/accounts/two_factor.py).
    code: Annotated[StrictStr, Field(min_length=1, max_length=32)] | None = None


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node  # set by the lifespan (chat/transport/app.py)
    return node


async def read_body(request: Request, model: type[Body]) -> Any:
    """Parse a JSON body into a model, with a size limit and errors that echo no values."""
    doc = await read_json(request, MAX_JSON_BODY_BYTES)
    if not isinstance(doc, dict):
        raise BadRequest("the body must be a JSON object")
    unstorable = dict(_unstorable(doc, ""))
    if unstorable:
        raise InvalidInput("some fields hold values that cannot be stored", details=unstorable)
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        details = {".".join(map(str, e["loc"])) or "body": e["msg"] for e in exc.errors()}
        raise InvalidInput("some fields are missing or of the wrong type", details=details) from None


async def read_json(request: Request, max_bytes: int) -> Any:
    """A JSON body of at most max_bytes, parsed (any JSON value); errors echo no values."""
    # The media type exactly (RFC 9110 §8.3.1; parameters such as charset may follow): a
    # substring test let `text/plain;application/json` through, a type an HTML form can send
    # across sites without a CORS preflight.
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise BadRequest("send a JSON body with Content-Type: application/json")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise PayloadTooLarge(f"the body must be at most {max_bytes} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"the body must be at most {max_bytes} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None


def client_address(request: Request) -> str:
    """The peer's address (behind a proxy, uvicorn's --forwarded-allow-ips makes it the
    client's: docs/operations.md)."""
    return request.client.host if request.client else "unknown"


def _unstorable(value: Any, path: str) -> Any:
    """(field path, problem) for every string no store can hold (NUL, unpaired surrogates) and
    every number outside signed 64 bits, anywhere in a body: such a value fails in the
    driver, a 500 whose traceback would quote it. The problem never quotes the value."""
    if isinstance(value, str):
        problem = storage_problem(value)
        if problem is not None:
            yield path or "body", problem
    elif type(value) is int:
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            yield path or "body", "is outside the signed 64-bit range"
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = storage_problem(key)
            name = f"{path}.{key}" if path else key
            if problem is not None:
                yield path or "body", f"has a field name that {problem}"
                continue
            yield from _unstorable(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable(item, f"{path}.{index}" if path else str(index))


async def current_user(request: Request, *, cost: float = HTTP_WRITE_COST) -> User:
    """The authenticated member (or a webinar's guest, on the routes of their webinar only:
    chat/transport/guest_scope.py). A write (any unsafe method) spends `cost` of the member's
    budget, the one their WebSocket frames spend too (RateLimited: 429 with Retry-After)."""
    creds = credentials(request)
    node = node_of(request)
    unsafe = request.method not in SAFE_METHODS
    if creds.via_cookie and unsafe:
        check_origin(request, node.settings.allowed_origins)
    user = await node.accounts.authenticate(creds.token)
    check_guest_scope(request, user)
    if unsafe and cost:
        charge(request, user, cost)
    return user


def charge(request: Request, user: User, cost: float) -> None:
    """Spend `cost` of the member's budget on this node, or refuse the request."""
    node = node_of(request)
    retry_s = node.budgets.take(user.user_id, time.monotonic(), cost)
    if retry_s is not None:
        node.metrics.rate_limited.labels("member").inc()
        raise RateLimited("too many writes; slow down", retry_after_s=retry_s)


def session_response(request: Request, session: Session, status: int,
                     max_age_s: int | None = None, *, verified: bool | None = None,
                     two_factor: dict[str, Any] | None = None) -> JSONResponse:
    """The user and token, and the session cookie (for `max_age_s`, by default the members'
    session lifetime). `verified`: the member's `email_verified`, `two_factor` their
    {enabled, required}, when known."""
    settings = node_of(request).settings
    user = user_json(session.user)
    if verified is not None:
        user["email_verified"] = verified
    if two_factor is not None:
        user["two_factor"] = {"enabled": two_factor["enabled"], "required": two_factor["required"]}
    response = JSONResponse({"user": user, "token": session.token}, status)
    response.set_cookie(
        COOKIE_NAME,
        session.token,
        max_age=settings.session_ttl_days * 86400 if max_age_s is None else max_age_s,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )
    return response


def room_param(request: Request, name: str = "room") -> str:
    """A room id from the path (room and topic ids are both room ids)."""
    room_id = request.path_params[name]
    if not is_room_id(room_id):
        raise BadRequest(f"the {name} id must be 1-64 of a-z, 0-9 and '-'")
    return room_id


def id_param(request: Request, name: str) -> int:
    """A user id (or other positive 64-bit id) from the path."""
    raw = request.path_params[name]
    # isascii: str.isdigit() also accepts '²' and '١٢'; the length keeps int() cheap.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19 and 1 <= int(raw) <= INT64_MAX):
        raise BadRequest(f"the {name.removesuffix('_id')} id must be a whole number from 1 to {INT64_MAX}")
    return int(raw)


def message_id_param(request: Request, name: str = "message") -> str:
    message_id: str = request.path_params[name]
    if not (0 < len(message_id) <= MAX_MESSAGE_ID_CHARS and MESSAGE_ID_CHARS.issuperset(message_id)):
        raise BadRequest("the message id must be a message's id")
    return message_id


@overload
def int_param(request: Request, name: str, *, default: int, low: int, high: int) -> int: ...


@overload
def int_param(request: Request, name: str, *, default: None, low: int, high: int) -> int | None: ...


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


def room_json(room: Room, members: list[tuple[int, str, str | None]] | None = None) -> dict[str, Any]:
    """A room as the room list and a direct conversation's answer show it; `members` as
    (id, name, time zone) when the caller may see them."""
    fields: dict[str, Any] = {
        "id": room.room_id,
        "kind": room.kind,
        "title": {"en": room.title_en, "zh": room.title_zh},
        "seq": room.head_seq,
    }
    if room.description_en or room.description_zh:
        fields["description"] = {"en": room.description_en, "zh": room.description_zh}
    if room.status is not None:
        fields["status"] = room.status
    if members is not None:
        fields["members"] = [{"id": i, "name": n, "time_zone": tz} for i, n, tz in members]
    return fields


def user_json(user: User) -> dict[str, Any]:
    """The signed-in user's own account (with the email: only ever sent to that user). A
    webinar's guest has no email: `guest: true` and `webinar`, the one they may take part in
    (docs/protocol.md, "Guests (webinars)")."""
    if user.guest_of is not None:
        return {"id": user.user_id, "name": user.display_name, "role": user.role, "email": None,
                "guest": True, "webinar": user.guest_of}
    return {"id": user.user_id, "name": user.display_name, "role": user.role, "email": user.email}


async def own_user_json(request: Request, user: User) -> dict[str, Any]:
    """user_json with `email_verified` and `two_factor` ({enabled, required}: a client sends
    staff whom the operator requires it of to set it up): a member's own view, GET /api/v1/me
    and /sessions."""
    fields = user_json(user)
    if user.guest_of is None:
        fields["email_verified"] = await node_of(request).recovery.is_verified(user)
        state = await node_of(request).accounts.two_factor.status(user)
        fields["two_factor"] = {"enabled": state["enabled"], "required": state["required"]}
    return fields


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
    description: >
      `time_zone` (optional) is the member's IANA time zone, as the browser reports it
      (`Intl.DateTimeFormat().resolvedOptions().timeZone`); a name the server does not know is
      refused (422). Without it the member's local time is unknown and shown to nobody until
      they set it in their profile. `proof` is a solved registration challenge
      (GET /api/v1/registration/challenge; docs/protocol.md, "Registration challenge"),
      required unless that route answers `challenge: null`; each serves one registration,
      checked once the other fields are valid.
    tags: [accounts]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/RegisterBody'}
    responses:
      201: {description: "The user and a session token; also sets the session cookie.", content: {application/json: {schema: {$ref: '#/components/schemas/Session'}}}}
      400: {description: "proof_required: no solved challenge, or one expired or used (fetch another); proof_invalid: forged, or the nonce does not solve it; bad_request: malformed body", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
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
    proof = body.proof

    async def admit() -> None:
        await node.challenges.spend(proof and proof.challenge, proof and proof.nonce)

    session = await node.accounts.register(body.email, body.password, body.display_name,
                                           address=client_address(request),
                                           time_zone=body.time_zone, admit=admit,
                                           user_agent=request.headers.get("user-agent"))
    await node.recovery.registered(session.user)
    return session_response(request, session, 201, verified=False)


async def registration_challenge(request: Request) -> Response:
    """
    summary: A challenge to solve before registering (proof-of-work)
    description: >
      Find a `nonce` (1-20 decimal digits) such that SHA-256 of the UTF-8 text
      `<challenge>:<nonce>` starts with `bits` zero bits, then send
      `proof: {challenge, nonce}` with the registration before `expires_at`. Each challenge
      serves one registration. `challenge` is null (and `bits` 0) when this server asks for
      none. Stateless and cheap: nothing is stored until a registration spends it.
    tags: [accounts]
    responses:
      200: {description: "The challenge", content: {application/json: {schema: {type: object, properties: {challenge: {type: [string, "null"]}, bits: {type: integer}, expires_at: {type: [string, "null"], format: date-time}}}}}}
    """
    challenge = await node_of(request).challenges.issue()
    body: dict[str, object] = {"challenge": None, "bits": 0, "expires_at": None}
    if challenge is not None:
        body = {"challenge": challenge.challenge, "bits": challenge.bits,
                "expires_at": iso_ms(challenge.expires_at_ms)}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


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
      401: {description: "unauthorized: wrong email, password or code (a wrong code counts as a failed login); second_factor_required: the password is right and the account has two-factor sign-in: send again with `code`", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      403: {description: "forbidden: the request came from a page of a foreign Origin", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      429: {description: "rate_limited: too many failed logins for this account from this address; see Retry-After", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      503: {description: "busy: too many passwords being checked; retry after Retry-After", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    node = node_of(request)
    check_origin(request, node.settings.allowed_origins, required=False)
    body = await read_body(request, LoginBody)
    session = await node.accounts.login(body.email, body.password, client_address(request),
                                        body.code, user_agent=request.headers.get("user-agent"))
    return session_response(request, session, 200,
                            verified=await node.recovery.is_verified(session.user),
                            two_factor=await node.accounts.two_factor.status(session.user))


async def delete_session(request: Request) -> Response:
    """
    summary: Log out (ends the session of the token or cookie used)
    tags: [accounts]
    security: [{bearer: []}, {cookie: []}]
    responses:
      204: {description: "Logged out; the session cookie is cleared."}
      401: {$ref: '#/components/responses/Error'}
    """
    await current_user(request, cost=0)  # logging out is never refused
    token = credentials(request).token
    assert token is not None
    await node_of(request).accounts.logout(token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, httponly=True, samesite="lax")
    return response


async def current_session(request: Request) -> Response:
    """
    summary: Who this session is, if anyone, and the node's limits a client shows
    description: Like `GET /api/v1/me`, but 200 with `user` null when the request carries no
      valid session, so a client can ask on start-up without an error in its console. `limits`
      (with or without a session) holds what a client should check before sending -
      `max_body_chars`, the longest message body a `send` or `edit` may carry (longer is refused
      with `too_large`), counted in Unicode code points; `email_verification`, the node's policy
      (with `required`, members whose `email_verified` is false cannot post, 403 `email_unverified`).
    tags: [accounts]
    security: [{}, {bearer: []}, {cookie: []}]
    responses:
      200: {description: "The user, or null, and the limits", content: {application/json: {schema: {type: object, required: [user, limits], properties: {user: {oneOf: [{$ref: '#/components/schemas/User'}, {type: 'null'}]}, limits: {type: object, required: [max_body_chars, email_verification], properties: {max_body_chars: {type: integer, minimum: 1}, email_verification: {type: string, enum: [encouraged, required]}}}}}}}}
    """
    settings = node_of(request).settings
    limits = {"max_body_chars": settings.max_body_chars,
              "email_verification": settings.email_verification}
    try:
        user = await current_user(request)
    except Unauthorized:
        return JSONResponse({"user": None, "limits": limits})
    return JSONResponse({"user": await own_user_json(request, user), "limits": limits})


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
    return JSONResponse({"user": await own_user_json(request, user)})


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
    notify = await node.reads.notify_levels(user, rooms)  # one query
    listed = []
    for room in rooms:
        last_read, unread = reads.get(room.room_id, (0, 0))
        listed.append({**room_json(room), "last_read": last_read, "unread": unread,
                       "notify": notify[room.room_id]})
    return JSONResponse({"rooms": listed})


async def room_messages(request: Request) -> Response:
    """
    summary: A page of a room's history, in seq order
    description: >
      With `after`, the messages with seq > after (oldest first); with `before`, the `limit`
      messages just before that seq; with neither, the latest page. `events` are the room's
      timeline entries besides messages (`status`, `membership` and `webinar`, as their frames) in the
      page's span, oldest first, so that a client shows the same lines as one that saw them
      live: from `after` (or the room's start, for a page that reaches it; else the page's
      first message) up to `before` (or the head; for a full page read with `after`, its last
      message), at most 1000 (those nearest the messages). Consecutive pages never repeat one.
    tags: [rooms]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: room, in: path, required: true, schema: {type: string, pattern: '^[a-z0-9-]{1,64}$'}}
      - {name: after, in: query, schema: {type: integer, minimum: 0}}
      - {name: before, in: query, schema: {type: integer, minimum: 1}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 200, default: 50}}
    responses:
      200: {description: "Messages and the timeline events among them", content: {application/json: {schema: {type: object, properties: {messages: {type: array, items: {$ref: '#/components/schemas/Message'}}, events: {type: array, items: {$ref: '#/components/schemas/TimelineEvent'}}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """
    room_id = room_param(request)
    user = await current_user(request)
    big = 2**62
    after = int_param(request, "after", default=None, low=0, high=big)
    before = int_param(request, "before", default=None, low=1, high=big)
    limit = int_param(request, "limit", default=50, low=1, high=200)
    assert limit is not None
    messages, reactions, events = await node_of(request).rooms.history(
        user, room_id, after=after, before=before, limit=limit)
    return JSONResponse({"messages": [message_json(m, reactions.get(m.message_id)) for m in messages],
                         "events": [message_frame(e) for e in events]})


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
    room_id = room_param(request)
    message_id = message_id_param(request)
    user = await current_user(request)
    versions = await node_of(request).rooms.versions(user, room_id, message_id)
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
    summary: Readiness — the store answers, the broker is subscribed, the files' storage answers
    description: 503 with status "degraded" while Redis or the files' storage is lost (the node
      still serves chat, polling the store), or "unavailable" when the database does not answer, or "draining" on shutdown.
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
    # After a loss the broker is "ok" only once resubscribed and backfilled (Hub.caught_up).
    checks["broker"] = ("down" if not node.broker.healthy
                        else "ok" if node.hub.caught_up() else "backfilling")
    try:
        await node.blobs.ping()
        checks["files"] = "ok"
    except Exception as exc:
        checks["files"] = type(exc).__name__
    if node.draining:
        status = "draining"
    elif checks["store"] != "ok":
        status = "unavailable"
    elif checks["broker"] != "ok" or checks["files"] != "ok":
        status = "degraded"
    else:
        status = "ready"
    body = {"status": status, "node": node.node_id, "checks": checks, **node.hub.stats()}
    return JSONResponse(body, 200 if status == "ready" else 503)


async def metrics(request: Request) -> Response:
    """
    summary: Prometheus metrics of this node
    description: "For clients from ECOLINK_METRICS_ALLOW (default loopback), or with
      `Authorization: Bearer <ECOLINK_METRICS_TOKEN>` when a token is set."
    tags: [operations]
    security: [{}, {bearer: []}]
    responses:
      200: {description: "text exposition format"}
      403: {$ref: '#/components/responses/Error'}
    """
    node = node_of(request)
    if not metrics_allowed(request, node.settings):
        raise Forbidden("metrics are served to allowed addresses, or with the metrics token")
    return Response(generate_latest(node.metrics.registry), media_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """The client's address is in ECOLINK_METRICS_ALLOW, or it sent the metrics token. The
    address is the peer's, or the one a trusted proxy forwarded (uvicorn's proxy headers,
    FORWARDED_ALLOW_IPS)."""
    token = settings.metrics_token
    if token is not None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
            return True
    try:
        address = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:  # a Unix socket or a test client: no address to allow
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in settings.metrics_networks)
