"""HTTP routes for email: a member's email preferences (/api/v1/me/mail-preferences) and the
one-click unsubscribe link every notification email carries (/api/v1/mail/unsubscribe).
Docstrings hold the OpenAPI fragments; SCHEMAS joins the document's components."""

from __future__ import annotations

import html
from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictStr
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from chat.errors import BadRequest, ChatError, InvalidInput, NotFound
from chat.mail.service import preferences_json
from chat.mail.unsubscribe import UNSUBSCRIBE_KINDS
from chat.models import MAIL_DIGEST_ROOMS_MAX, MAIL_SWITCH_KINDS, MailPreferences
from chat.protocol.frames import is_room_id
from chat.transport.http import Body, current_user, node_of, read_body


class MailPreferencesBody(Body):
    """Any subset of the preferences; what is left out stays as it was."""

    model_config = ConfigDict(extra="forbid", strict=True)

    direct: StrictBool | None = None
    mention: StrictBool | None = None
    reply: StrictBool | None = None
    webinar_reminder: StrictBool | None = None
    digest: Literal["off", "daily", "weekly"] | None = None
    digest_rooms: list[StrictStr] | None = Field(default=None, max_length=MAIL_DIGEST_ROOMS_MAX)
    # The language of the member's mail; null: unknown (both, English first). The web client
    # sends it whenever the member picks a language.
    language: Literal["en", "zh"] | None = None


async def my_mail_preferences(request: Request) -> Response:
    """
    summary: The caller's email preferences
    description: >
      Which email the caller takes: `direct`, `mention`, `reply` and `webinar_reminder` on or
      off (default on), the `digest` (`off`, `daily` or `weekly`; default off) and the rooms it
      covers, and the `language` of their mail (`en`, `zh`, or null: both, English first).
    tags: [email]
    security: [{bearer: []}, {cookie: []}]
    responses:
      200: {description: The preferences, content: {application/json: {schema: {$ref: '#/components/schemas/MailPreferences'}}}}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    return JSONResponse(preferences_json(await node_of(request).mail.preferences(user.user_id)))


async def update_my_mail_preferences(request: Request) -> Response:
    """
    summary: Change the caller's email preferences
    description: >
      Any subset of the fields of `GET`; the others stay. `digest_rooms` replaces the list:
      at most 50 rooms the caller can read, each once (422 `invalid` naming the entry
      otherwise). Unknown fields are refused (422). Nothing changes when anything is refused.
    tags: [email]
    security: [{bearer: []}, {cookie: []}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/MailPreferencesBody'}
    responses:
      200: {description: The preferences now, content: {application/json: {schema: {$ref: '#/components/schemas/MailPreferences'}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      413: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    body: MailPreferencesBody = await read_body(request, MailPreferencesBody)
    node = node_of(request)
    current = await node.mail.preferences(user.user_id)
    switches = dict(current.switches)
    for kind in MAIL_SWITCH_KINDS:
        value = getattr(body, kind)
        if value is not None:
            switches[kind] = value
    rooms = current.digest_rooms
    if body.digest_rooms is not None:
        problems: dict[str, str] = {}
        for index, room_id in enumerate(body.digest_rooms):
            if not is_room_id(room_id):
                problems[f"digest_rooms.{index}"] = "is not a room id"
                continue
            try:
                await node.rooms.visible_room(user, room_id)
            except NotFound:
                problems[f"digest_rooms.{index}"] = "is no room you can read"
        if len(set(body.digest_rooms)) != len(body.digest_rooms):
            problems["digest_rooms"] = "lists a room twice"
        if problems:
            raise InvalidInput("some digest rooms cannot be chosen", details=problems)
        rooms = tuple(body.digest_rooms)
    language = body.language if "language" in body.model_fields_set else current.language
    prefs = MailPreferences(switches, body.digest or current.digest, rooms, language)
    return JSONResponse(preferences_json(await node.mail.set_preferences(user.user_id, prefs)))


# -- unsubscribe -------------------------------------------------------------------------------

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self';"
                               " frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
KIND_NAMES = {
    "direct": ("direct messages", "私信"),
    "mention": ("mentions", "提及"),
    "reply": ("replies", "回复"),
    "webinar_reminder": ("webinar reminders", "网络研讨会提醒"),
    "digest": ("the digest", "摘要"),
}
STYLE = ("font-family:-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei',sans-serif;max-width:32rem;"
         "margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1f2a24")
BUTTON = ("font:inherit;background:#2f6f4e;color:#fff;border:0;border-radius:6px;padding:.6rem 1.2rem;"
          "cursor:pointer")


def page(status: int, title: str, paragraphs: list[str], form_action: str | None = None) -> HTMLResponse:
    """A tiny bilingual page (both languages: the link says nothing of the reader's);
    `paragraphs` alternate English and Chinese."""
    # English first, then Chinese, each marked with its language (screen readers switch voice).
    body = "".join(f'<p lang="{"en" if i % 2 == 0 else "zh-CN"}">{html.escape(p)}</p>' for i, p in enumerate(paragraphs))
    if form_action is not None:
        body += (f'<form method="post" action="{html.escape(form_action, quote=True)}">'
                 '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
                 f'<button type="submit" style="{BUTTON}">Unsubscribe / 退订</button></form>')
    document = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width,initial-scale=1">'
                f"<title>{html.escape(title)}</title></head><body style=\"{STYLE}\"><main>"
                f"<h1 style=\"font-size:1.4rem\">{html.escape(title)}</h1>{body}</main></body></html>")
    return HTMLResponse(document, status, headers=PAGE_HEADERS)


def unsubscribe_params(request: Request) -> tuple[int, str, str]:
    """(user id, kind, token) of the link; BadRequest for anything malformed."""
    query = request.query_params
    raw_user, kind, token = query.get("u", ""), query.get("k", ""), query.get("t", "")
    # ASCII only: str.isdigit() passes "²", and hmac.compare_digest refuses a non-ASCII str
    # with TypeError (a 500 the API fuzzing found: tests/e2e/test_api_fuzz.py).
    if (not (raw_user.isascii() and raw_user.isdigit()) or len(raw_user) > 18 or kind not in UNSUBSCRIBE_KINDS
            or not 0 < len(token) <= 64 or not token.isascii()):
        raise BadRequest("this unsubscribe link is not valid")
    return int(raw_user), kind, token


def invalid_page() -> HTMLResponse:
    return page(400, "Link not valid / 链接无效", [
        "This unsubscribe link is not valid. Change which emails you get in the chat: Account and security.",
        "此退订链接无效。您可以在聊天平台的“账户与安全”中更改接收哪些邮件。"])


async def unsubscribe_page(request: Request) -> Response:
    """
    summary: The unsubscribe link's page (changes nothing)
    description: >
      The link in every notification email (`u` member, `k` kind, `t` signature; the same
      URL as the List-Unsubscribe header). GET only shows a small bilingual page with a confirm
      button that POSTs to the same URL: link scanners that open links change nothing. A
      malformed or forged link: 400 and a page saying so. No sign-in needed.
    tags: [email]
    parameters:
      - {name: u, in: query, required: true, schema: {type: integer}}
      - {name: k, in: query, required: true, schema: {type: string, enum: [direct, mention, reply, webinar_reminder, digest]}}
      - {name: t, in: query, required: true, schema: {type: string}}
    responses:
      200: {description: The confirmation page, content: {text/html: {schema: {type: string}}}}
      400: {description: Not a valid link, content: {text/html: {schema: {type: string}}}}
    """
    try:
        user_id, kind, token = unsubscribe_params(request)
        if not await node_of(request).mail.check_unsubscribe(user_id, kind, token):
            raise BadRequest("this unsubscribe link is not valid")
    except BadRequest:
        return invalid_page()
    en, zh = KIND_NAMES[kind]
    return page(200, "Unsubscribe / 退订", [
        f"Stop emails about {en}? You can turn them back on in the chat: Account and security.",
        f"不再接收关于{zh}的邮件？您可以在聊天平台的“账户与安全”中重新开启。"],
        form_action=str(request.url.path) + "?" + request.url.query)


async def unsubscribe(request: Request) -> Response:
    """
    summary: Unsubscribe in one click (RFC 8058)
    description: >
      Turns the link's kind of email off for its member (the other kinds stay). What mail
      clients send for `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, and what the page's
      button sends; any body is ignored. Answers a small bilingual page. A malformed or forged
      link: 400, nothing changes. No sign-in needed: the signature is the authority.
    tags: [email]
    parameters:
      - {name: u, in: query, required: true, schema: {type: integer}}
      - {name: k, in: query, required: true, schema: {type: string, enum: [direct, mention, reply, webinar_reminder, digest]}}
      - {name: t, in: query, required: true, schema: {type: string}}
    responses:
      200: {description: Done (also when it was off already), content: {text/html: {schema: {type: string}}}}
      400: {description: Not a valid link, content: {text/html: {schema: {type: string}}}}
    """
    try:
        user_id, kind, token = unsubscribe_params(request)
        await node_of(request).mail.unsubscribe(user_id, kind, token)
    except ChatError as exc:
        if exc.status != 400:
            raise
        return invalid_page()
    en, zh = KIND_NAMES[kind]
    return page(200, "Unsubscribed / 已退订", [
        f"You will get no more emails about {en}. Turn them back on in the chat: Account and security.",
        f"您将不再收到关于{zh}的邮件。可在聊天平台的“账户与安全”中重新开启。"])


SCHEMAS: dict[str, Any] = {
    "MailPreferencesBody": MailPreferencesBody.model_json_schema(),
    "MailPreferences": {"type": "object", "properties": {
        **{kind: {"type": "boolean"} for kind in MAIL_SWITCH_KINDS},
        "digest": {"type": "string", "enum": ["off", "daily", "weekly"]},
        "digest_rooms": {"type": "array", "items": {"type": "string"}},
        "language": {"type": ["string", "null"], "enum": ["en", "zh", None]}}},
}
