"""The long-polling fallback: the WebSocket's frames over plain HTTP, for clients behind a proxy
that blocks WebSockets (docs/protocol.md, "Long-polling fallback").

- POST /api/v1/poll opens a session (admitted as a WebSocket is: chat/transport/admission.py);
- GET /api/v1/poll/{session}?after=N returns the frames numbered after N, waiting for some;
- POST /api/v1/poll/{session} takes a JSON array of client frames, each handled exactly as a
  WebSocket frame (chat/transport/inbound.py);
- DELETE /api/v1/poll/{session} closes it.

The session (chat/transport/pollsession.py) lives on the node that opened it; any other node
answers `poll_session_gone` and the client opens a new session and resumes with `since`.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.errors import BadRequest, PollSessionGone, Unauthorized
from chat.accounts.service import token_hash
from chat.node import Node
from chat.protocol.codecs import JSON
from chat.text import INT64_MAX
from chat.transport import inbound
from chat.transport.admission import address_of, admit, check_address
from chat.transport.auth import check_origin, credentials
from chat.transport.http import SAFE_METHODS, int_param, node_of, read_json
from chat.transport.pollsession import PollSession, PollSessions

# Client frames per POST, and the body's size: a few WebSocket frames' worth.
MAX_POSTED_FRAMES = 64
POSTED_FRAMES_PER_FRAME_BYTES = 4


def polls_of(request: Request) -> PollSessions:
    polls: PollSessions = request.app.state.polls  # set by create_app (chat/transport/app.py)
    return polls


async def open_session(request: Request) -> Response:
    """
    summary: Open a long-polling session (the WebSocket's fallback over plain HTTP)
    description: >
      Admitted as a WebSocket is (same credentials, Origin rule for the cookie, failed attempts
      per address, connections per member, which counts polling sessions too). Frames come
      back on `GET /api/v1/poll/{session}`, and go in on `POST /api/v1/poll/{session}`, as
      `ecolink.v1.json` maps. See docs/protocol.md, "Long-polling fallback".
    tags: [realtime]
    security: [{bearer: []}, {cookie: []}]
    responses:
      201: {description: "The session", content: {application/json: {schema: {type: object, required: [session, protocol, wait_s, max_frames], properties: {session: {type: string}, protocol: {type: string, enum: [ecolink.v1.json]}, wait_s: {type: number, description: "how long a GET waits for frames"}, max_frames: {type: integer, description: "client frames a POST may carry"}}}}}}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      429: {$ref: '#/components/responses/Error'}
      503: {$ref: '#/components/responses/Error'}
    """
    node = node_of(request)
    address = address_of(request)
    check_address(node, address)
    user, session_key = await admit(request, node, address)
    session = await polls_of(request).open(node, user, session_key)
    return JSONResponse({"session": session.session_id, "protocol": JSON.subprotocol,
                         "wait_s": node.settings.poll_wait_s, "max_frames": MAX_POSTED_FRAMES}, 201)


async def poll_frames(request: Request) -> Response:
    """
    summary: The session's frames after `after`, waiting for some
    description: >
      Frames are numbered 1, 2, 3 … per session. The answer holds the frames numbered after
      `after` (at most 256 of them; `last` is the number of the last one, or `after` when there
      are none) and the session forgets the frames up to `after`: asking again with the same
      `after` returns the same frames. With none waiting the request is held for up to
      `wait_s` seconds; a newer GET of the session answers an older waiting one at once, empty.
      `closed` ({code, reason}, the WebSocket's close codes) is there once the session has
      ended and every frame before the end is in the answer.
    tags: [realtime]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: session, in: path, required: true, schema: {type: string}}
      - {name: after, in: query, required: true, schema: {type: integer, minimum: 0}}
    responses:
      200: {description: "Frames", content: {application/json: {schema: {type: object, required: [frames, last], properties: {frames: {type: array, items: {type: object}}, last: {type: integer}, closed: {type: object, properties: {code: {type: integer}, reason: {type: string}}}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """
    node = node_of(request)
    session = _session(request, node)
    after = int_param(request, "after", default=None, low=0, high=INT64_MAX)
    if after is None:
        raise BadRequest("give 'after': the number of the last frame you have (0 at first)")
    session.acknowledge(after)
    session.supersede()
    session.polling += 1
    try:
        if not session.pending():
            await session.wait(node.settings.poll_wait_s)
        return _json(session.body(after))  # empty if a newer GET took over
    finally:
        session.polling -= 1
        session.last_seen = time.monotonic()


async def post_frames(request: Request) -> Response:
    """
    summary: Send client frames on a long-polling session
    description: >
      The body is a JSON array of client frames (the WebSocket's `ecolink.v1.json` maps), at
      most `max_frames` of them; each is handled in order exactly as a WebSocket frame, and
      its answers (ack, error, joined, pong …) come back on `GET /api/v1/poll/{session}`. A bad
      frame inside the array gets the WebSocket's `error` frame; a bad body changes nothing.
    tags: [realtime]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: session, in: path, required: true, schema: {type: string}}
    requestBody:
      content: {application/json: {schema: {type: array, maxItems: 64, items: {description: "a client frame (a map); anything else is answered on GET with the WebSocket's error frame, as a bad frame is"}}}}
    responses:
      202: {description: "Taken; the answers follow on GET"}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      413: {$ref: '#/components/responses/Error'}
    """
    node = node_of(request)
    session = _session(request, node)
    docs = await read_json(request, POSTED_FRAMES_PER_FRAME_BYTES * node.settings.max_frame_bytes)
    if not isinstance(docs, list):
        raise BadRequest("the body must be a JSON array of frames")
    if len(docs) > MAX_POSTED_FRAMES:
        raise BadRequest(f"send at most {MAX_POSTED_FRAMES} frames at once")
    conn = session.conn
    if session.closed is not None or conn is None:
        raise PollSessionGone()
    for doc in docs:
        if conn.dead or not await inbound.receive_document(conn, node, doc):
            break
    return Response(status_code=202)


async def close_session(request: Request) -> Response:
    """
    summary: Close a long-polling session
    tags: [realtime]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: session, in: path, required: true, schema: {type: string}}
    responses:
      204: {description: "Closed"}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """
    node = node_of(request)
    polls_of(request).forget(_session(request, node))
    return Response(status_code=204)


def _session(request: Request, node: Node) -> PollSession:
    """The session of the path, if it was opened on this node with this request's token (else
    `poll_session_gone`, whoever asks: an id tells nobody else anything)."""
    creds = credentials(request)
    if creds.token is None:
        raise Unauthorized("send the token that opened the session (Bearer or cookie)")
    if creds.via_cookie and request.method not in SAFE_METHODS:
        check_origin(request, node.settings.allowed_origins)
    return polls_of(request).get(request.path_params["session"], token_hash(creds.token))


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")
