"""The route that makes a webinar's guest (docs/protocol.md, "Guests (webinars)"): a display
name in, a session for that one webinar out. What a guest may do afterwards is chat/transport/guest_scope.py
(HTTP) and RoomService.visible_room (the rooms of the live transports)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from chat.transport.auth import check_origin
from chat.transport.http import Body, Line, client_address, node_of, read_body, room_param, session_response


class GuestBody(Body):
    display_name: Line


async def join_as_guest(request: Request) -> Response:
    """
    summary: Join a webinar as a guest, through its link
    description: >
      For a webinar that takes guests (`guests_allowed`), scheduled or live. No account: the
      answer is a session for this webinar only (it reads the webinar, its chat and board,
      asks, votes and answers polls, and nothing else on the platform), ending
      ECOLINK_GUEST_SESSION_AFTER_END_H hours after the webinar's scheduled end; everyone sees
      the guest marked `guest: true`. `display_name` follows the members' rules (the staff's
      names are refused). A webinar that takes no guests answers 404, as an unknown one does.
    tags: [webinars]
    parameters: [{name: webinar, in: path, required: true, schema: {type: string}}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {type: object, required: [display_name], properties: {display_name: {type: string, minLength: 1, maxLength: 64}}}
    responses:
      201: {description: "The guest (`guest: true`, `webinar`) and a session token; also sets the session cookie.", content: {application/json: {schema: {$ref: '#/components/schemas/Session'}}}}
      400: {$ref: '#/components/responses/Error'}
      403: {description: "forbidden: the request came from a page of a foreign Origin", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      404: {description: "not_found: no such webinar, or it takes no guests", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      409: {description: "conflict: the webinar ended or was cancelled", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      413: {$ref: '#/components/responses/Error'}
      422: {description: "invalid: the display name is empty, too long, not printable or a staff name", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      429: {description: "rate_limited: too many guests from this address; see Retry-After", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    node = node_of(request)
    check_origin(request, node.settings.allowed_origins, required=False)  # it sets the cookie
    webinar_id = room_param(request, "webinar")
    body = await read_body(request, GuestBody)
    webinar = await node.webinars.for_guests(webinar_id)
    now_ms = node.clock.now_ms()
    expires_ms = max(webinar.ends_at_ms, now_ms) + node.settings.guest_session_after_end_h * 3_600_000
    session = await node.accounts.join_as_guest(
        webinar.webinar_id, body.display_name, address=client_address(request), expires_ms=expires_ms)
    max_age_s = min((expires_ms - now_ms) // 1000, node.settings.session_ttl_days * 86400)
    return session_response(request, session, 201, max_age_s=max_age_s)
