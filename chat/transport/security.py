"""HTTP routes for two-factor sign-in (/api/v1/account/two-factor…) and deleting one's account
(/api/v1/account/delete), and `staff_check`, the one check every staff route makes
(docs/protocol.md, "Two-factor sign-in" and "Deleting an account"). Docstrings hold the OpenAPI
fragments, as in chat/transport/http.py."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.accounts.two_factor import MAX_CODE_CHARS
from chat.models import User
from chat.transport.auth import COOKIE_NAME
from chat.transport.http import Body, client_address, current_user, node_of, read_body

Code = Annotated[StrictStr, Field(min_length=1, max_length=MAX_CODE_CHARS)]
Password = Annotated[StrictStr, Field(max_length=1024)]


class CodeBody(Body):
    code: Code


class PasswordBody(Body):
    password: Password


class ConfirmBody(Body):
    password: Password
    code: Code | None = None


class DeleteBody(ConfirmBody):
    messages: Literal["keep", "erase"]


async def staff_check(request: Request, actor: User) -> None:
    """After a route's role check: refuse a staff action (403 two_factor_setup_required) by
    staff without two-factor sign-in while ECOLINK_ADMIN_TWO_FACTOR=required. Admin and
    moderation routes call this."""
    await node_of(request).rooms.staff.check(actor)


async def two_factor_state(request: Request) -> Response:
    """
    summary: My two-factor sign-in state
    tags: [accounts]
    security: [{bearer: []}, {cookie: []}]
    responses:
      200: {description: "Whether it is on, whether the operator requires it of me, unused recovery codes", content: {application/json: {schema: {$ref: '#/components/schemas/TwoFactor'}}}}
      401: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    return JSONResponse(await node_of(request).accounts.two_factor.status(user))


async def two_factor_setup(request: Request) -> Response:
    """
    summary: Begin setting up two-factor sign-in (a new secret, not yet on)
    description: >
      A new TOTP secret (RFC 6238: SHA-1, 6 digits, 30 seconds) for the member's authenticator
      app: `secret` (base32, to type), `uri` (otpauth://) and `qr_svg` (the URI as a QR code,
      an SVG element). Sign-in is unchanged until a code from it enables it. Asking again
      replaces a secret not yet enabled. The password is asked (a wrong one counts in the
      login limits), so a stolen session cannot turn it on and lock the member out.
    tags: [accounts]
    security: [{bearer: []}, {cookie: []}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {type: object, required: [password], properties: {password: {type: string}}}
    responses:
      200: {description: "The pending secret", content: {application/json: {schema: {type: object, required: [secret, uri, qr_svg], properties: {secret: {type: string}, uri: {type: string}, qr_svg: {type: string}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {description: "unauthorized: not signed in, or the wrong password", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      409: {description: "conflict: two-factor sign-in is already on", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {$ref: '#/components/responses/Error'}
      429: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    body = await read_body(request, PasswordBody)
    setup = await node_of(request).accounts.setup_two_factor(user, body.password, client_address(request))
    return JSONResponse({"secret": setup.secret, "uri": setup.uri, "qr_svg": setup.qr_svg},
                        headers={"Cache-Control": "no-store"})


async def two_factor_enable(request: Request) -> Response:
    """
    summary: Turn two-factor sign-in on with a code from the app
    description: >
      The answer holds the ten recovery codes, shown this once (the server keeps only their
      hashes); each signs in once in place of a code.
    tags: [accounts]
    security: [{bearer: []}, {cookie: []}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {type: object, required: [code], properties: {code: {type: string, maxLength: 32}}}
    responses:
      200: {description: "On; the recovery codes", content: {application/json: {schema: {$ref: '#/components/schemas/RecoveryCodes'}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      409: {description: "conflict: no setup begun, or already on", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {description: "invalid: the code is not right", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    user = await current_user(request)
    body = await read_body(request, CodeBody)
    codes = await node_of(request).accounts.two_factor.enable(user, body.code)
    return JSONResponse({"recovery_codes": codes}, headers={"Cache-Control": "no-store"})


async def two_factor_recovery_codes(request: Request) -> Response:
    """
    summary: New recovery codes (the old ones stop working)
    tags: [accounts]
    security: [{bearer: []}, {cookie: []}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {type: object, required: [code], properties: {code: {type: string, maxLength: 32}}}
    responses:
      200: {description: "The new recovery codes, shown this once", content: {application/json: {schema: {$ref: '#/components/schemas/RecoveryCodes'}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      409: {description: "conflict: two-factor sign-in is off", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {description: "invalid: the code is not right", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      429: {description: "rate_limited: too many wrong codes for this account (ECOLINK_LOGIN_FAILURES_MAX per ECOLINK_LOGIN_WINDOW_S, from any address)", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    user = await current_user(request)
    body = await read_body(request, CodeBody)
    codes = await node_of(request).accounts.two_factor.regenerate(user, body.code)
    return JSONResponse({"recovery_codes": codes}, headers={"Cache-Control": "no-store"})


async def two_factor_disable(request: Request) -> Response:
    """
    summary: Turn two-factor sign-in off (password and a code asked)
    description: Wrong passwords and codes count in the login limits (429 past them).
    tags: [accounts]
    security: [{bearer: []}, {cookie: []}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/ConfirmBody'}
    responses:
      204: {description: "Off; the secret and the recovery codes are gone"}
      400: {$ref: '#/components/responses/Error'}
      401: {description: "unauthorized: wrong password or code; second_factor_required: no code given", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {$ref: '#/components/responses/Error'}
      429: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    body = await read_body(request, ConfirmBody)
    await node_of(request).accounts.disable_two_factor(user, body.password, body.code,
                                                       client_address(request))
    return Response(status_code=204)


async def delete_account(request: Request) -> Response:
    """
    summary: Delete my account (password, and a code with two-factor on)
    description: >
      `messages`: `keep` — what I wrote stays, its author shown as a deleted member (author
      `name` "" and `deleted: true`); `erase` — every message I wrote is deleted as if I
      deleted each (a `delete` event in its room). Either way: every session ends (sockets
      close with 4001 on every node), and the email, profile, blocks, room settings, read
      state, notifications, registrations, follows, two-factor secret and recovery codes are
      removed; the address may register again. docs/protocol.md, "Deleting an account", lists
      exactly what is kept.
    tags: [accounts]
    security: [{bearer: []}, {cookie: []}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/DeleteBody'}
    responses:
      200: {description: "Deleted; the session cookie is cleared", content: {application/json: {schema: {type: object, properties: {erased: {type: integer, description: "messages deleted"}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {description: "unauthorized: wrong password or code; second_factor_required: no code given", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      403: {description: "guest_scope: a webinar's guest", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      409: {description: "conflict: the last admin (make another member admin first); nothing is erased", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {$ref: '#/components/responses/Error'}
      429: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    body = await read_body(request, DeleteBody)
    erased = await node_of(request).deletion.delete(user, body.password, body.code, body.messages,
                                                    client_address(request))
    response = JSONResponse({"erased": erased})
    response.delete_cookie(COOKIE_NAME, httponly=True, samesite="lax")
    return response


_CODE = {"type": "string", "maxLength": MAX_CODE_CHARS, "description": "a TOTP code or a recovery code"}
SCHEMAS: dict[str, Any] = {
    "TwoFactor": {"type": "object", "required": ["enabled", "required", "recovery_codes_left"], "properties": {
        "enabled": {"type": "boolean"},
        "required": {"type": "boolean", "description": "the operator requires it of this member (staff, ECOLINK_ADMIN_TWO_FACTOR=required)"},
        "recovery_codes_left": {"type": "integer", "minimum": 0}}},
    "RecoveryCodes": {"type": "object", "required": ["recovery_codes"], "properties": {
        "recovery_codes": {"type": "array", "items": {"type": "string", "examples": ["abcde-fghjk"]}}}},
    "ConfirmBody": {"type": "object", "required": ["password"], "properties": {
        "password": {"type": "string"}, "code": _CODE}},
    "DeleteBody": {"type": "object", "required": ["password", "messages"], "properties": {
        "password": {"type": "string"}, "code": _CODE,
        "messages": {"type": "string", "enum": ["keep", "erase"]}}},
}
