"""HTTP routes for account recovery (/api/v1/account/...): verification, password reset,
change of email and password, and the member's sessions (chat/accounts/recovery.py holds the
rules; docs/protocol.md, "Account recovery"). Docstrings hold the OpenAPI fragments; SCHEMAS
joins the document's components. HTTP only: these are account actions, not chat."""

from __future__ import annotations

from typing import Any

from pydantic import StrictStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.accounts.recovery import session_id
from chat.accounts.service import token_hash
from chat.clock import iso_ms
from chat.models import SessionInfo
from chat.transport.auth import check_origin, credentials
from chat.transport.http import Body, Line, client_address, current_user, node_of, read_body
from chat.transport.security import Code


class TokenBody(Body):
    token: StrictStr


class ResetRequestBody(Body):
    email: StrictStr


class ResetBody(Body):
    token: StrictStr
    password: StrictStr


class EmailChangeBody(Body):
    email: Line
    password: StrictStr
    code: Code | None = None


class PasswordChangeBody(Body):
    current_password: StrictStr
    new_password: StrictStr
    code: Code | None = None


SESSION_SCHEMA = {"type": "object", "required": ["id", "current"], "properties": {
    "id": {"type": "string", "description": "the session's id for DELETE (not its token)"},
    "current": {"type": "boolean", "description": "the session this request came with"},
    "created_at": {"type": ["string", "null"], "format": "date-time"},
    "last_seen_at": {"type": ["string", "null"], "format": "date-time",
                     "description": "updated at most every 5 minutes"},
    "user_agent": {"type": ["string", "null"], "description": "the browser's User-Agent, trimmed"},
    "address": {"type": ["string", "null"], "description": "the client address it signed in from"},
    "expires_at": {"type": "string", "format": "date-time"}}}
SCHEMAS: dict[str, Any] = {
    "TokenBody": TokenBody.model_json_schema(),
    "ResetRequestBody": ResetRequestBody.model_json_schema(),
    "ResetBody": ResetBody.model_json_schema(),
    "EmailChangeBody": EmailChangeBody.model_json_schema(),
    "PasswordChangeBody": PasswordChangeBody.model_json_schema(),
    "AccountSession": SESSION_SCHEMA,
}


def _ms(value: int | None) -> str | None:
    return None if value is None else iso_ms(value)


def session_json(info: SessionInfo, current: bytes) -> dict[str, Any]:
    return {"id": session_id(info.token_hash), "current": info.token_hash == current,
            "created_at": _ms(info.created_at_ms), "last_seen_at": _ms(info.last_seen_ms),
            "user_agent": info.user_agent, "address": info.address,
            "expires_at": iso_ms(info.expires_ms)}


def _session_key(request: Request) -> bytes:
    token = credentials(request).token
    assert token is not None  # current_user authenticated it
    return token_hash(token)


async def resend_verification(request: Request) -> Response:
    """
    summary: Mail a new verification link to the member's address
    description: The previous link stops working. At most ECOLINK_VERIFY_RESEND_MAX per
      ECOLINK_RECOVERY_WINDOW_S.
    tags: [account]
    security: [{bearer: []}, {cookie: []}]
    responses:
      202: {description: "The mail is queued"}
      401: {$ref: '#/components/responses/Error'}
      409: {description: "already_verified", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      429: {description: "rate_limited: see Retry-After", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    user = await current_user(request)
    await node_of(request).recovery.resend_verification(user)
    return Response(status_code=202)


async def confirm_verification(request: Request) -> Response:
    """
    summary: Confirm the address with the token of a verification link (signed in or not)
    tags: [account]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/TokenBody'}
    responses:
      200: {description: "Verified", content: {application/json: {schema: {type: object, properties: {verified: {type: boolean}}}}}}
      400: {description: "invalid_token: unknown, used, expired, replaced by a newer link, or the address changed since; bad_request", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      403: {description: "forbidden: a foreign Origin", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    node = node_of(request)
    check_origin(request, node.settings.allowed_origins, required=False)
    body = await read_body(request, TokenBody)
    await node.recovery.verify(body.token)
    return JSONResponse({"verified": True})


async def request_reset(request: Request) -> Response:
    """
    summary: Ask for a password reset link
    description: >
      Always 202, with the same body, whether an account has this address or not; if one has,
      a single-use link valid ECOLINK_RESET_TOKEN_MIN minutes is mailed to it (at most
      ECOLINK_RESET_PER_ACCOUNT_MAX per window; past that, the same 202 and no mail).
    tags: [account]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/ResetRequestBody'}
    responses:
      202: {description: "Accepted (says nothing about the address)", content: {application/json: {schema: {type: object, properties: {accepted: {type: boolean}}}}}}
      400: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
      429: {description: "rate_limited: too many requests from this client address; see Retry-After", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    node = node_of(request)
    check_origin(request, node.settings.allowed_origins, required=False)
    body = await read_body(request, ResetRequestBody)
    await node.recovery.request_reset(body.email[:1024], client_address(request))
    return JSONResponse({"accepted": True}, 202)


async def confirm_reset(request: Request) -> Response:
    """
    summary: Set a new password with the token of a reset link
    description: Every session of the account ends (its WebSockets close on every node with
      SESSION_ENDED); sign in with the new password. A refused password leaves the link usable.
    tags: [account]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/ResetBody'}
    responses:
      204: {description: "The password is set"}
      400: {description: "invalid_token (checked before the password is hashed), bad_request", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {description: "invalid: the password breaks the password rules (details.password)", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      429: {description: "rate_limited: more than ECOLINK_RESET_PER_ADDRESS_MAX tries from this client address per ECOLINK_RECOVERY_WINDOW_S; see Retry-After", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      503: {description: "busy: too many passwords being hashed; retry", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    node = node_of(request)
    check_origin(request, node.settings.allowed_origins, required=False)
    body = await read_body(request, ResetBody)
    await node.recovery.reset(body.token, body.password, client_address(request))
    return Response(status_code=204)


async def request_email_change(request: Request) -> Response:
    """
    summary: Ask to change the account's address (the current password, and a code with two-factor on, confirm it)
    description: A confirmation link goes to the new address; the address changes when it is
      confirmed, and the old address is then told. If an account has the new address already,
      that address is told so instead; the answer is the same 202 either way. Wrong passwords
      and codes count in the login limits; at most ECOLINK_VERIFY_RESEND_MAX such mails per
      member per ECOLINK_RECOVERY_WINDOW_S.
    tags: [account]
    security: [{bearer: []}, {cookie: []}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/EmailChangeBody'}
    responses:
      202: {description: "A mail is queued (the confirmation link, or the notice that the address has an account)"}
      401: {description: "unauthorized: not signed in, or a wrong password or code; second_factor_required: two-factor is on and no code was given", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      403: {description: "forbidden (foreign Origin); guest_scope", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {$ref: '#/components/responses/Error'}
      429: {description: "rate_limited: too many wrong passwords or codes, or too many changes asked; see Retry-After", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    user = await current_user(request)
    body = await read_body(request, EmailChangeBody)
    await node_of(request).recovery.request_email_change(user, body.password, body.code, body.email,
                                                         client_address(request))
    return Response(status_code=202)


async def confirm_email_change(request: Request) -> Response:
    """
    summary: Apply a change of address with the token of its confirmation link (signed in or not)
    tags: [account]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/TokenBody'}
    responses:
      200: {description: "The address is changed (and verified)", content: {application/json: {schema: {type: object, properties: {changed: {type: boolean}}}}}}
      400: {description: "invalid_token, bad_request", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      403: {description: "account_suspended: the member is banned or suspended (the link stays unused); forbidden: a foreign Origin", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      409: {description: "email_taken: another account took the address meanwhile", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    node = node_of(request)
    check_origin(request, node.settings.allowed_origins, required=False)
    body = await read_body(request, TokenBody)
    await node.recovery.change_email(body.token)
    return JSONResponse({"changed": True})


async def change_password(request: Request) -> Response:
    """
    summary: Change the password (the current one, and a code with two-factor on, asked); the account's other sessions end
    tags: [account]
    security: [{bearer: []}, {cookie: []}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/PasswordChangeBody'}
    responses:
      204: {description: "Changed; this session stays"}
      401: {description: "unauthorized: not signed in, or a wrong password or code; second_factor_required: two-factor is on and no code was given", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      403: {description: "forbidden (foreign Origin); guest_scope", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {description: "invalid: details.new_password", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      429: {description: "rate_limited: too many wrong passwords; see Retry-After", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    user = await current_user(request)
    body = await read_body(request, PasswordChangeBody)
    await node_of(request).recovery.change_password(
        user, _session_key(request), body.current_password, body.code, body.new_password,
        client_address(request))
    return Response(status_code=204)


async def list_sessions(request: Request) -> Response:
    """
    summary: The member's active sessions, most recently seen first
    tags: [account]
    security: [{bearer: []}, {cookie: []}]
    responses:
      200: {description: "The sessions", content: {application/json: {schema: {type: object, properties: {sessions: {type: array, items: {$ref: '#/components/schemas/AccountSession'}}}}}}}
      401: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    current = _session_key(request)
    infos = await node_of(request).recovery.sessions(user)
    return JSONResponse({"sessions": [session_json(info, current) for info in infos]})


async def end_session(request: Request) -> Response:
    """
    summary: End one of the member's sessions (its WebSockets close on every node)
    tags: [account]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: session, in: path, required: true, schema: {type: string}}
    responses:
      204: {description: "Ended"}
      401: {$ref: '#/components/responses/Error'}
      404: {description: "not_found: no such session of this member", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    user = await current_user(request)
    await node_of(request).recovery.end_session(user, request.path_params["session"][:128])
    return Response(status_code=204)


async def end_other_sessions(request: Request) -> Response:
    """
    summary: End every session of the member but this one
    tags: [account]
    security: [{bearer: []}, {cookie: []}]
    responses:
      200: {description: "How many ended", content: {application/json: {schema: {type: object, properties: {ended: {type: integer}}}}}}
      401: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    ended = await node_of(request).recovery.end_other_sessions(user, _session_key(request))
    return JSONResponse({"ended": ended})
