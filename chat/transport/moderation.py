"""HTTP routes for moderation: members' reports (/api/v1/reports; the `report` frame does the
same over the WebSocket), a member's own standing (/api/v1/me/moderation), and the moderators'
queue, actions and member records (/api/v1/moderation/...). Docstrings hold the OpenAPI
fragments; docs/operations.md, "Moderator's guide", tells how they are used."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictInt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.errors import BadRequest
from chat.moderation.service import (
    DURATION_MAX_S, DURATION_MIN_S, NOTE_MAX, PAGE_DEFAULT, PAGE_MAX, REASON_MAX, Record, report_json,
    sanction_json,
)
from chat.models import ReportReason
from chat.protocol.frames import MAX_MESSAGE_ID_CHARS, MESSAGE_ID_CHARS, is_room_id
from chat.text import INT64_MAX
from chat.transport.http import Body, Id, Line, Text, current_user, id_param, int_param, node_of, read_body

class ReportBody(Body):
    reason: ReportReason
    note: Text = Field(default="", max_length=NOTE_MAX)
    room: Line | None = None
    message_id: Line | None = None
    member: Id | None = None


class ReportActionBody(Body):
    action: Literal["dismiss", "remove", "warn", "mute", "suspend", "ban"]
    duration_s: StrictInt | None = Field(default=None, ge=DURATION_MIN_S, le=DURATION_MAX_S)
    room: Line | None = None
    reason: Text = Field(default="", max_length=REASON_MAX)


class MemberActionBody(Body):
    action: Literal["warn", "mute", "suspend", "ban", "unmute", "unsuspend", "unban"]
    duration_s: StrictInt | None = Field(default=None, ge=DURATION_MIN_S, le=DURATION_MAX_S)
    room: Line | None = None
    reason: Text = Field(default="", max_length=REASON_MAX)


def check_ids(room: str | None, message_id: str | None) -> None:
    """Room and message ids as the protocol spells them; BadRequest otherwise."""
    if room is not None and not is_room_id(room):
        raise BadRequest("the room id must be 1-64 of a-z, 0-9 and '-'")
    if message_id is not None and not (0 < len(message_id) <= MAX_MESSAGE_ID_CHARS
                                       and MESSAGE_ID_CHARS.issuperset(message_id)):
        raise BadRequest("the message id must be a message's id")


def record_json(record: Record, now_ms: int) -> dict[str, Any]:
    return {"member": {"id": record.user_id, "name": record.name, "role": record.role},
            "sanctions": [sanction_json(s, now_ms) for s in record.sanctions],
            "reports": [report_json(r) for r in record.reports]}


async def file_report(request: Request) -> Response:
    """
    summary: Report a message or a member to the moderators
    description: >
      Give `room` and `message_id` (a message you can read) or `member` (a member's id), a
      `reason` (spam, abuse, harassment, illegal, other) and an optional `note` (at most 1000
      characters). 201 with the new report; 200 with the same report when yours about that
      message (or member) is still open. 404 for a message you cannot read or that is gone;
      403 for your own message or yourself; 429 past ECOLINK_REPORTS_PER_WINDOW reports per
      ECOLINK_REPORT_WINDOW_S. The `report` frame does the same over the WebSocket.
    tags: [moderation]
    security: [{bearer: []}, {cookie: []}]
    requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/ReportBody'}}}}
    responses:
      200: {description: "Your open report of it, unchanged", content: {application/json: {schema: {type: object, properties: {report: {$ref: '#/components/schemas/Report'}}}}}}
      201: {description: "The new report", content: {application/json: {schema: {type: object, properties: {report: {$ref: '#/components/schemas/Report'}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
      429: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    body = await read_body(request, ReportBody)
    check_ids(body.room, body.message_id)
    report, created = await node_of(request).moderation.report(
        user, reason=body.reason, note=body.note, room_id=body.room, message_id=body.message_id,
        member_id=body.member)
    return JSONResponse({"report": report_json(report)}, 201 if created else 200)


async def my_standing(request: Request) -> Response:
    """
    summary: My mutes in force and the warnings moderators gave me
    tags: [moderation]
    security: [{bearer: []}, {cookie: []}]
    responses:
      200: {description: "Mutes (in force) and warnings, newest first", content: {application/json: {schema: {type: object, properties: {mutes: {type: array, items: {$ref: '#/components/schemas/Sanction'}}, warnings: {type: array, items: {$ref: '#/components/schemas/Sanction'}}}}}}}
      401: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    return JSONResponse(await node_of(request).moderation.standing(user))


async def report_queue(request: Request) -> Response:
    """
    summary: The reports queue (moderators and admins)
    description: >
      `state=open` (the default): open reports, oldest first; `state=closed`: resolved and
      dismissed ones, newest first. Pass `next` back as `cursor` for the following page (null:
      the last). `open` counts the open reports.
    tags: [moderation]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: state, in: query, schema: {type: string, enum: [open, closed]}}
      - {name: cursor, in: query, schema: {type: integer, minimum: 0}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 25}}
    responses:
      200: {description: "A page of reports", content: {application/json: {schema: {type: object, properties: {reports: {type: array, items: {$ref: '#/components/schemas/Report'}}, next: {type: [integer, 'null']}, open: {type: integer}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    state = request.query_params.get("state", "open")
    if state not in ("open", "closed"):
        raise BadRequest("'state' must be open or closed")
    cursor = int_param(request, "cursor", default=None, low=0, high=INT64_MAX)
    limit = int_param(request, "limit", default=PAGE_DEFAULT, low=1, high=PAGE_MAX)
    reports, cursor, open_count = await node_of(request).moderation.queue(
        user, closed=state == "closed", cursor=cursor, limit=limit)
    return JSONResponse({"reports": [report_json(r) for r in reports], "next": cursor, "open": open_count})


async def act_on_report(request: Request) -> Response:
    """
    summary: Act on a report (moderators and admins)
    description: >
      `action`: dismiss; remove (deletes the reported message as moderator: a `delete` entry
      in its room); warn; mute (in the report's room, or `room` for a report of a member; needs
      `duration_s`); suspend (needs `duration_s`); ban (no end). Suspend and ban end every
      session of the member, closing their WebSockets on every node. The report is then
      closed (resolved, or dismissed). Recorded in the audit log (`moderation.<action>`).
      409 when the report is closed already; 403 for staff as the target, or a moderator
      acting on themselves.
    tags: [moderation]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: report, in: path, required: true, schema: {type: integer}}]
    requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/ReportActionBody'}}}}
    responses:
      200: {description: "The report, closed", content: {application/json: {schema: {type: object, properties: {report: {$ref: '#/components/schemas/Report'}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      409: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    report_id = id_param(request, "report")
    body = await read_body(request, ReportActionBody)
    check_ids(body.room, None)
    report = await node_of(request).moderation.act(user, report_id, body.action, duration_s=body.duration_s,
                                                    room_id=body.room, reason=body.reason)
    return JSONResponse({"report": report_json(report)})


async def act_on_member(request: Request) -> Response:
    """
    summary: Warn, mute, suspend or ban a member, or lift a sanction (moderators and admins)
    description: >
      Without a report. warn (the member's connections get a `moderation_notice` frame); mute
      (`room` and `duration_s`); suspend (`duration_s`); ban; unmute (`room`), unsuspend,
      unban. Each recorded in the audit log (`moderation.<action>`); a lift of nothing in force
      changes and records nothing (`lifted` empty).
    tags: [moderation]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: user_id, in: path, required: true, schema: {type: integer}}]
    requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/MemberActionBody'}}}}
    responses:
      200: {description: "The sanction made ({sanction}) or those lifted ({lifted})", content: {application/json: {schema: {type: object, properties: {sanction: {$ref: '#/components/schemas/Sanction'}, lifted: {type: array, items: {$ref: '#/components/schemas/Sanction'}}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    user_id = id_param(request, "user_id")
    body = await read_body(request, MemberActionBody)
    check_ids(body.room, None)
    node = node_of(request)
    now_ms = node.clock.now_ms()
    if body.action.startswith("un"):
        lifted = await node.moderation.lift(user, user_id, body.action, room_id=body.room)
        return JSONResponse({"lifted": [sanction_json(s, now_ms) for s in lifted]})
    sanction = await node.moderation.sanction(user, user_id, body.action, duration_s=body.duration_s,
                                              room_id=body.room, reason=body.reason)
    return JSONResponse({"sanction": sanction_json(sanction, now_ms)})


async def member_record(request: Request) -> Response:
    """
    summary: A member's moderation record (moderators and admins)
    tags: [moderation]
    security: [{bearer: []}, {cookie: []}]
    parameters: [{name: user_id, in: path, required: true, schema: {type: integer}}]
    responses:
      200: {description: "The member, their sanctions and the reports about them, newest first", content: {application/json: {schema: {type: object, properties: {member: {type: object}, sanctions: {type: array, items: {$ref: '#/components/schemas/Sanction'}}, reports: {type: array, items: {$ref: '#/components/schemas/Report'}}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    node = node_of(request)
    record = await node.moderation.record(user, id_param(request, "user_id"))
    return JSONResponse(record_json(record, node.clock.now_ms()))


SCHEMAS: dict[str, Any] = {
    "Report": {"type": "object", "properties": {
        "id": {"type": "integer"}, "reporter": {"type": "object"}, "member": {"type": "object"},
        "room": {"type": ["string", "null"]}, "message_id": {"type": ["string", "null"]},
        "reason": {"type": "string", "enum": ["spam", "abuse", "harassment", "illegal", "other"]},
        "note": {"type": "string"}, "status": {"type": "string", "enum": ["open", "resolved", "dismissed"]},
        "resolution": {"type": ["string", "null"]}, "created_at": {"type": "string"},
        "resolved_at": {"type": ["string", "null"]},
        "message": {"type": ["object", "null"], "description": "A report of a message: the copy kept when it was"
                    " reported (plain text; unchanged by later edits and deletions)", "properties": {
                        "body": {"type": "string"}, "author": {"type": "object"}, "sent_at": {"type": "string"},
                        "room": {"type": "string"}, "seq": {"type": "integer"}}}}},
    "Sanction": {"type": "object", "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string", "enum": ["warn", "mute", "suspend", "ban"]},
        "room": {"type": ["string", "null"]}, "until": {"type": ["string", "null"]},
        "reason": {"type": "string"}, "report": {"type": ["integer", "null"]},
        "created_at": {"type": "string"}, "lifted_at": {"type": ["string", "null"]},
        "in_force": {"type": "boolean"}}},
    "ReportBody": ReportBody.model_json_schema(),
    "ReportActionBody": ReportActionBody.model_json_schema(),
    "MemberActionBody": MemberActionBody.model_json_schema(),
}
