"""HTTP routes for profiles, the member directory and roles (/api/v1/me/profile,
/api/v1/members). Docstrings hold the OpenAPI fragments; SCHEMAS joins the document's
components. Bodies are validated by the service (chat/accounts/profiles.py), in one place."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.accounts import profiles as rules
from chat.clock import iso_ms
from chat.models import AFFILIATIONS, ROLES, Profile
from chat.transport.http import Body, current_user, id_param, node_of, read_body
from chat.transport.security import staff_check


class JsonObject(Body):
    """Any JSON object: its fields arrive in `model_extra` for the service to check."""

    model_config = ConfigDict(extra="allow")


def profile_json(profile: Profile) -> dict[str, Any]:
    """A member's public profile (never the email); a webinar's guest's says `guest: true`
    (docs/protocol.md, "Guests (webinars)")."""
    fields: dict[str, Any] = {
        "id": profile.user_id,
        "display_name": profile.display_name,
        "role": profile.role,
        "affiliation": profile.affiliation,
        "organisation": profile.organisation,
        "country": profile.country,
        "city": profile.city,
        "sectors": list(profile.sectors),
        "languages": list(profile.languages),
        "time_zone": profile.time_zone,
        "bio": profile.bio,
        "alt_name": profile.alt_name,
        "joined_at": iso_ms(profile.created_at_ms),
    }
    if profile.guest_of is not None:
        fields["guest"] = True
    return fields


def user_id_param(request: Request) -> int:
    return id_param(request, "user_id")


async def my_profile(request: Request) -> Response:
    """
    summary: The logged-in member's profile, with their email
    tags: [members]
    security: [{bearer: []}, {cookie: []}]
    responses:
      200: {description: "The profile", content: {application/json: {schema: {type: object, properties: {profile: {$ref: '#/components/schemas/OwnProfile'}}}}}}
      401: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    profile = await node_of(request).profiles.profile(user.user_id)
    return JSONResponse({"profile": {**profile_json(profile), "email": user.email}})


async def update_my_profile(request: Request) -> Response:
    """
    summary: Change some fields of the logged-in member's profile
    description: >
      Only the fields given change; `sectors` and `languages` replace the whole list. Unknown
      fields, `role` and `email` are refused (422), as is any invalid field, and then nothing
      changes.
    tags: [members]
    security: [{bearer: []}, {cookie: []}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/ProfileChanges'}
    responses:
      200: {description: "The updated profile", content: {application/json: {schema: {type: object, properties: {profile: {$ref: '#/components/schemas/OwnProfile'}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      413: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    body = await read_body(request, JsonObject)
    profile = await node_of(request).profiles.update(user, body.model_extra or {})
    return JSONResponse({"profile": {**profile_json(profile), "email": user.email}})


async def list_members(request: Request) -> Response:
    """
    summary: The member directory, filtered and paged
    description: >
      Filters combine with AND. Members are ordered by display name (case-insensitive, by
      code point) then id; pass a page's `next` as `after` for the following page (`next` is
      null on the last page). Empty parameters count as absent.
    tags: [members]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: sector, in: query, description: "a sector room id", schema: {$ref: '#/components/schemas/Sector'}}
      - {name: city, in: query, description: "the member's city, case-insensitive", schema: {type: string, maxLength: 64}}
      - {name: affiliation, in: query, schema: {$ref: '#/components/schemas/Affiliation'}}
      - {name: language, in: query, description: "a language tag; zh also finds zh-Hant and zh-CN", schema: {type: string, example: zh}}
      - {name: q, in: query, description: "part of the display name, alt name or organisation, case-insensitive; Han names also match their pinyin without tones (Li, Li Hua, lihua find 李华)", schema: {type: string, maxLength: 64}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 50}}
      - {name: after, in: query, description: "the `next` cursor of the previous page", schema: {type: string}}
    responses:
      200: {description: "A page of members", content: {application/json: {schema: {type: object, properties: {members: {type: array, items: {$ref: '#/components/schemas/Profile'}}, next: {type: [string, 'null']}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
    """
    await current_user(request)
    query = rules.parse_directory_query(request.query_params.multi_items())
    members, cursor = await node_of(request).profiles.directory(query)
    return JSONResponse({"members": [profile_json(p) for p in members], "next": cursor})


async def member(request: Request) -> Response:
    """
    summary: A member's public profile
    tags: [members]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: user_id, in: path, required: true, schema: {type: integer, minimum: 1}}
    responses:
      200: {description: "The profile", content: {application/json: {schema: {type: object, properties: {member: {$ref: '#/components/schemas/Profile'}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """
    user_id = user_id_param(request)
    await current_user(request)
    profile = await node_of(request).profiles.profile(user_id)
    return JSONResponse({"member": profile_json(profile)})


async def set_member_role(request: Request) -> Response:
    """
    summary: Grant a member a role (admins only)
    description: The last admin cannot be demoted (409).
    tags: [members]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: user_id, in: path, required: true, schema: {type: integer, minimum: 1}}
    requestBody:
      required: true
      content:
        application/json:
          schema: {type: object, required: [role], properties: {role: {$ref: '#/components/schemas/Role'}}}
    responses:
      200: {description: "The member with the new role", content: {application/json: {schema: {type: object, properties: {member: {$ref: '#/components/schemas/Profile'}}}}}}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {description: "forbidden: the caller is not an admin; two_factor_setup_required: an admin without two-factor sign-in while the operator requires it", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      404: {$ref: '#/components/responses/Error'}
      409: {description: "conflict: this would leave no admin", content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      422: {$ref: '#/components/responses/Error'}
    """
    user_id = user_id_param(request)
    actor = await current_user(request)
    profiles = node_of(request).profiles
    profiles.check_admin(actor)  # before the body: a non-admin learns nothing more
    await staff_check(request, actor)
    body = await read_body(request, JsonObject)
    profile = await profiles.grant_role(actor, user_id, (body.model_extra or {}).get("role"))
    return JSONResponse({"member": profile_json(profile)})


_TEXT = {"type": "string"}
PROFILE_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "id": {"type": "integer"},
    "display_name": _TEXT,
    "role": {"$ref": "#/components/schemas/Role"},
    "affiliation": {"$ref": "#/components/schemas/Affiliation"},
    "organisation": _TEXT,
    "country": {"type": "string", "description": "ISO 3166-1 alpha-2, or empty"},
    "city": _TEXT,
    "sectors": {"type": "array", "items": {"$ref": "#/components/schemas/Sector"}},
    "languages": {"type": "array", "items": _TEXT},
    "time_zone": {"type": ["string", "null"],
                  "description": "an IANA time zone; null when the member's local time is unknown"},
    "alt_name": {"type": "string", "description": "the name in the other script (李华 / Li Hua), or empty"},
    "bio": _TEXT,
    "joined_at": {"type": "string", "format": "date-time"},
    "guest": {"type": "boolean", "description": "present (true) only for a webinar's guest"},
}}
SCHEMAS: dict[str, Any] = {
    "Role": {"type": "string", "enum": list(ROLES)},
    "Affiliation": {"type": "string", "enum": list(AFFILIATIONS)},
    "Sector": {"type": "string", "enum": list(rules.SECTORS)},
    "Profile": PROFILE_SCHEMA,
    "OwnProfile": {"allOf": [{"$ref": "#/components/schemas/Profile"},
                             {"type": "object", "properties": {"email": _TEXT}}]},
    "ProfileChanges": {"type": "object", "additionalProperties": False, "properties": {
        "display_name": {"type": "string", "minLength": 1, "maxLength": 64},
        "affiliation": {"$ref": "#/components/schemas/Affiliation"},
        "organisation": {"type": "string", "maxLength": rules.MAX_ORGANISATION_CHARS},
        "country": {"type": "string", "description": "ISO 3166-1 alpha-2 (any case), or empty"},
        "city": {"type": "string", "maxLength": rules.MAX_CITY_CHARS},
        "sectors": {"type": "array", "items": {"$ref": "#/components/schemas/Sector"}},
        "languages": {"type": "array", "maxItems": rules.MAX_LANGUAGES, "items": {
            "type": "string", "description": "language[-Script][-REGION]: en, zh-Hant, de-CH"}},
        "time_zone": {"type": "string", "description": "an IANA time zone: Asia/Shanghai; empty: unknown"},
        "alt_name": {"type": "string", "maxLength": 64,
                     "description": "the name in the other script, found by the directory search; empty removes it"},
        "bio": {"type": "string", "maxLength": rules.MAX_BIO_CHARS},
    }},
}
