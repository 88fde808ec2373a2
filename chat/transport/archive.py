"""HTTP routes for the personal data archive (/api/v1/me/export), the admins' compliance export
(/api/v1/admin/export) and the audit log (/api/v1/admin/audit). Docstrings hold the OpenAPI
fragments; SCHEMAS joins the document's components. The archives are streamed zips
(chat/export/archive.py); docs/protocol.md, "Personal data archive" and "Compliance export",
lists what they hold."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.audit.service import PAGE_DEFAULT, PAGE_MAX, AuditLog
from chat.clock import iso_ms
from chat.export.compliance import check_admin, parse_selection
from chat.export.personal import parse_lang
from chat.models import AuditEntry
from chat.text import INT64_MAX
from chat.transport.export import transcript_response
from chat.transport.http import current_user, int_param, node_of
from chat.transport.security import staff_check


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.audit_id, "at": iso_ms(entry.at_ms), "action": entry.action,
            "actor": {"id": entry.actor_id, "label": entry.actor_label}, "detail": entry.detail}


def _no_body() -> Response:
    """HEAD (Starlette answers it with the GET route): what a GET would start with once its
    parameters passed, without making an archive or recording one in the audit log."""
    return Response(media_type="application/zip", headers={"Cache-Control": "no-store"})


async def my_export(request: Request) -> Response:
    """
    summary: Download everything the server holds about me (a zip)
    description: >
      The personal data archive: profile.json (account with email, role, profile, blocks, ties
      to rooms), messages.jsonl (every message the caller wrote, with its room, final text,
      edited/deleted marks and reactions), topics.jsonl (topics and news posts started),
      reactions.jsonl, notifications.jsonl,
      read_state.json, webinars.jsonl (questions, votes, poll answers), README.txt (in `lang`)
      and manifest.json (each file's SHA-256). Streamed as it is made; recorded in the audit
      log ("export.personal") before the first byte. A webinar's guest has no archive (403
      guest_scope): what a guest wrote is in the webinar's transcript.
    tags: [exports]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: lang, in: query, description: "README language; default: zh when the caller's profile lists Chinese (zh…) and not English, else en", schema: {type: string, enum: [en, zh]}}
    responses:
      200: {description: "The archive (application/zip), as an attachment", content: {application/zip: {schema: {type: string, format: binary}}}}
      401: {$ref: '#/components/responses/Error'}
      403: {description: "guest_scope: a webinar's guest", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {description: "invalid: lang is not en or zh", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    user = await current_user(request)
    lang = parse_lang(request.query_params.get("lang"))
    if request.method == "HEAD":
        return _no_body()
    archive = await node_of(request).archives.archive(user, lang, actor=user)
    return transcript_response(archive)


async def compliance_export(request: Request) -> Response:
    """
    summary: A compliance export of several or all rooms (admins only; a zip)
    description: >
      One transcript per room (direct conversations included, whoever is in them), each what
      the room's own export route gives for the same `format`, `from`, `to`, `tz` and `lang`,
      plus manifest.json (each file's SHA-256). Name the rooms (`rooms=a,b`, at most 200) or
      ask for every sector, city, direct and webinar room (`all=true`). Everything is checked
      first (an unknown room is 404 for the whole export; bad parameters 400/422); then the
      audit log records the export (who, which rooms, range, zone, format, language) before
      the first byte. docs/protocol.md, "Compliance export and the audit log".
    tags: [exports]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: rooms, in: query, description: "room ids, comma-separated", schema: {type: string, example: "green-buildings,d-1a2b3c"}}
      - {name: all, in: query, description: "true: every sector, city, direct and webinar room", schema: {type: boolean}}
      - {$ref: '#/components/parameters/ExportFormat'}
      - {$ref: '#/components/parameters/ExportFrom'}
      - {$ref: '#/components/parameters/ExportTo'}
      - {$ref: '#/components/parameters/ExportTz'}
      - {$ref: '#/components/parameters/ExportLang'}
    responses:
      200: {description: "The zip (application/zip), as an attachment", content: {application/zip: {schema: {type: string, format: binary}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {description: "forbidden: the caller is not an admin; two_factor_setup_required: an admin without two-factor sign-in while the operator requires it", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      404: {description: "not_found: a room named does not exist", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {$ref: '#/components/responses/Error'}
      429: {description: "export_busy: this node runs as many exports as it may, or the admin has one running", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    actor = await current_user(request)
    check_admin(actor)  # before the parameters: a non-admin learns nothing more
    await staff_check(request, actor)
    params = request.query_params
    selection = parse_selection(params.get("rooms"), params.get("all"))
    node = node_of(request)
    export_request = await node.exports.request(params, actor)
    if request.method == "HEAD":
        return _no_body()
    return transcript_response(await node.compliance.archive(selection, export_request))


async def audit_log(request: Request) -> Response:
    """
    summary: The audit log, newest first (admins only)
    description: >
      Each entry: who acted (`actor.id` null for an operator at the command line, `actor.label`
      their name), the action (`export.compliance`, `export.personal`, …), when, and its facts
      (`detail`: for a compliance export the rooms, range, time zone, format and language).
      Pass a page's `next` as `before` for the older entries (`next` is null on the last page).
    tags: [exports]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: before, in: query, description: "the `next` of the previous page: entries with a smaller id", schema: {type: integer, minimum: 1}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 200, default: 50}}
    responses:
      200: {description: "A page of the log", content: {application/json: {schema: {type: object, properties: {entries: {type: array, items: {$ref: '#/components/schemas/AuditEntry'}}, next: {type: [integer, 'null']}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {description: "forbidden: the caller is not an admin; two_factor_setup_required: an admin without two-factor sign-in while the operator requires it", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    """
    actor = await current_user(request)
    AuditLog.check_reader(actor)  # before the parameters: a non-admin learns nothing more
    await staff_check(request, actor)
    before = int_param(request, "before", default=None, low=1, high=INT64_MAX)
    limit = int_param(request, "limit", default=PAGE_DEFAULT, low=1, high=PAGE_MAX)
    entries, cursor = await node_of(request).audit.entries(actor, before, limit)
    return JSONResponse({"entries": [audit_json(entry) for entry in entries], "next": cursor})


SCHEMAS: dict[str, Any] = {
    "AuditEntry": {"type": "object", "properties": {
        "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
        "action": {"type": "string", "examples": ["export.compliance", "export.personal"]},
        "actor": {"type": "object", "properties": {
            "id": {"type": ["integer", "null"], "description": "null: an operator at the command line"},
            "label": {"type": "string"}}},
        "detail": {"type": "object", "description": "the act's facts, by action (docs/operations.md)"}}},
}
