"""ProfileService: members' own profiles, the member directory, and roles granted by admins.

Validation is plain code, like chat/protocol/frames.py: each problem names its field (or query
parameter) and never echoes the value. `validate_changes` and `parse_directory_query` do no
I/O and are tested with values.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from chat.accounts.search_keys import search_key
from chat.accounts.service import display_name_problem, find_account
from chat.accounts.zones import ZONE_PROBLEM, is_time_zone, time_zones
from chat.errors import BadRequest, Forbidden, InvalidInput, NotFound
from chat.models import AFFILIATIONS, ROLES, MemberQuery, Profile, ProfileChanges, Role, User, is_role
from chat.store.catalog import SEED_ROOMS
from chat.store.port import Store
from chat.text import is_clean

SECTORS: tuple[str, ...] = tuple(room.room_id for room in SEED_ROOMS if room.kind == "sector")
# ISO 3166-1 alpha-2, the 249 assigned codes (as listed by tzdata's iso3166.tab), plus XK,
# the user-assigned code the European Commission uses for Kosovo.
_COUNTRY_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW XK
"""
COUNTRIES = frozenset(_COUNTRY_CODES.split())
# A BCP 47 language tag's common shape (RFC 5646 §2.1): language (2-3 letters), then an optional
# script (4 letters) and region (2 letters or 3 digits): en, zh, zh-Hant, zh-CN, de-CH, es-419.
LANGUAGE_RE = re.compile(r"([a-z]{2,3})(?:-([a-z]{4}))?(?:-([a-z]{2}|[0-9]{3}))?", re.ASCII | re.IGNORECASE)
MAX_ORGANISATION_CHARS = 128
MAX_CITY_CHARS = 64
MAX_BIO_CHARS = 1000
MAX_LANGUAGES = 10
MAX_LIST_ITEMS = 32  # before de-duplication; bounds the work a silly list can cause
MAX_QUERY_CHARS = 64
DIRECTORY_DEFAULT_LIMIT = 50
DIRECTORY_MAX_LIMIT = 100
MAX_CURSOR_CHARS = 512
DIRECTORY_PARAMS = ("sector", "city", "affiliation", "language", "q", "limit", "after")

NOT_EDITABLE = {"role": "admins change roles with PUT /api/v1/members/{user_id}/role",
                "email": "cannot be changed", "id": "cannot be changed"}
EDITABLE = ("display_name", "affiliation", "organisation", "country", "city", "sectors",
            "languages", "time_zone", "bio", "alt_name")


def canonical_language(tag: str) -> str | None:
    """The tag in RFC 5646 §2.1.1 case (zh-hant-cn → zh-Hant-CN), or None if malformed."""
    match = LANGUAGE_RE.fullmatch(tag)
    if match is None:
        return None
    language, script, region = match.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def _text(value: object, *, max_chars: int, multiline: bool = False) -> str | None:
    """Trimmed clean text within the limit, or None."""
    if not isinstance(value, str):
        return None
    value = value.replace("\r\n", "\n").strip() if multiline else value.strip()
    if len(value) > max_chars or not is_clean(value, multiline=multiline):
        return None
    return value


def _string_list(value: object) -> list[str] | None:
    if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
        return None
    if not all(isinstance(item, str) for item in value):
        return None
    return value


def validate_changes(doc: Mapping[str, object], role: Role = "member") -> ProfileChanges:
    """A profile update from a JSON object, by a member of this role (staff may take the
    staff's reserved names); InvalidInput lists every bad field."""
    problems: dict[str, str] = {}
    fields: dict[str, Any] = {}
    for key in doc:
        if key not in EDITABLE:
            problems[key[:64]] = NOT_EDITABLE.get(key, "not a profile field")
    if "display_name" in doc:
        # The rule registration applies (chat/accounts/service.py).
        name = doc["display_name"].strip() if isinstance(doc["display_name"], str) else ""
        if problem := display_name_problem(name, role):
            problems["display_name"] = problem
        fields["display_name"] = name
    if "alt_name" in doc:
        # The display name's rule, but it may be empty (no name in the other script).
        alt_name = doc["alt_name"].strip() if isinstance(doc["alt_name"], str) else None
        alt_problem = ("must be text" if alt_name is None
                       else display_name_problem(alt_name, role) if alt_name else None)
        if alt_problem:
            problems["alt_name"] = alt_problem + ", or empty to remove it"
        fields["alt_name"] = alt_name
    if "affiliation" in doc:
        if doc["affiliation"] not in AFFILIATIONS:
            problems["affiliation"] = f"must be one of {', '.join(AFFILIATIONS)}"
        fields["affiliation"] = doc["affiliation"]
    for key, max_chars in (("organisation", MAX_ORGANISATION_CHARS), ("city", MAX_CITY_CHARS)):
        if key in doc:
            fields[key] = _text(doc[key], max_chars=max_chars)
            if fields[key] is None:
                problems[key] = f"must be one line of text of at most {max_chars} characters"
    if "country" in doc:
        country = doc["country"]
        # isascii first: "ß".upper() is "SS", a country code.
        fields["country"] = (country.strip().upper()
                             if isinstance(country, str) and country.isascii() else None)
        if fields["country"] not in COUNTRIES and fields["country"] != "":
            problems["country"] = "must be an ISO 3166-1 alpha-2 code such as CN or DE, or empty"
    if "sectors" in doc:
        sectors = _string_list(doc["sectors"])
        if sectors is None or not set(sectors) <= set(SECTORS):
            problems["sectors"] = f"must be a list of sector ids: {', '.join(SECTORS)}"
        else:
            fields["sectors"] = tuple(sorted(set(sectors)))
    if "languages" in doc:
        tags = _string_list(doc["languages"])
        canonical = [canonical_language(tag) for tag in tags or ()]
        if tags is None or None in canonical:
            problems["languages"] = "must be a list of language tags such as en, zh, zh-Hant or de-CH"
        elif len(set(canonical)) > MAX_LANGUAGES:
            problems["languages"] = f"at most {MAX_LANGUAGES} languages"
        else:
            fields["languages"] = tuple(sorted({tag for tag in canonical if tag is not None}))
    if "time_zone" in doc:
        zone = doc["time_zone"]
        if zone != "" and not is_time_zone(zone):  # "": unknown (no local time is shown)
            problems["time_zone"] = ZONE_PROBLEM + ", or empty"
        fields["time_zone"] = zone
    if "bio" in doc:
        fields["bio"] = _text(doc["bio"], max_chars=MAX_BIO_CHARS, multiline=True)
        if fields["bio"] is None:
            problems["bio"] = (f"must be text of at most {MAX_BIO_CHARS} characters, without"
                               " control characters other than newlines and tabs")
    if problems:
        raise InvalidInput("some profile fields are not valid", details=problems)
    return ProfileChanges(**fields)


# -- the directory's query string ---------------------------------------------------------


def encode_cursor(after: tuple[str, int]) -> str:
    """An opaque page cursor: the last member's (sort key, user id)."""
    raw = json.dumps(list(after), ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int] | None:
    if len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
        return None
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        return None
    if (isinstance(doc, list) and len(doc) == 2 and isinstance(doc[0], str)
            and type(doc[1]) is int and 0 < doc[1] < 2**63):
        return doc[0], doc[1]
    return None


def parse_directory_query(items: Iterable[tuple[str, str]]) -> MemberQuery:
    """Directory filters from query-string pairs; BadRequest names the first bad parameter.
    Empty values count as absent; other parameters are ignored, as everywhere in the API."""
    values: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in items:
        if name not in DIRECTORY_PARAMS:
            continue
        if name in seen:
            raise BadRequest(f"give '{name}' at most once")
        seen.add(name)
        if value.strip():
            values[name] = value.strip()
    fields: dict[str, Any] = {}
    if "sector" in values:
        if values["sector"] not in SECTORS:
            raise BadRequest(f"'sector' must be one of {', '.join(SECTORS)}")
        fields["sector"] = values["sector"]
    if "affiliation" in values:
        if values["affiliation"] not in AFFILIATIONS:
            raise BadRequest(f"'affiliation' must be one of {', '.join(AFFILIATIONS)}")
        fields["affiliation"] = values["affiliation"]
    if "language" in values:
        fields["language"] = canonical_language(values["language"])
        if fields["language"] is None:
            raise BadRequest("'language' must be a language tag such as en, zh or zh-Hant")
    for name, key, max_chars in (("city", "city", MAX_CITY_CHARS), ("q", "text", MAX_QUERY_CHARS)):
        if name in values:
            if len(values[name]) > max_chars or not is_clean(values[name]):
                raise BadRequest(f"'{name}' must be at most {max_chars} characters of text")
            fields[key] = values[name]
    if "limit" in values:
        raw = values["limit"]
        # isascii: str.isdigit() also takes '²' and '١٢' (see int_param in transport/http.py).
        limit = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else 0
        if not 1 <= limit <= DIRECTORY_MAX_LIMIT:
            raise BadRequest(f"'limit' must be a whole number from 1 to {DIRECTORY_MAX_LIMIT}")
        fields["limit"] = limit
    else:
        fields["limit"] = DIRECTORY_DEFAULT_LIMIT
    if "after" in values:
        fields["after"] = decode_cursor(values["after"])
        if fields["after"] is None:
            raise BadRequest("'after' must be the 'next' cursor of an earlier page")
    return MemberQuery(**fields)


class ProfileService:
    def __init__(self, store: Store) -> None:
        self._store = store
        time_zones()  # read the zone list at start, not during a request

    async def profile(self, user_id: int) -> Profile:
        """A member's public profile. Raises NotFound."""
        profile = await self._store.get_profile(user_id)
        if profile is None:
            raise NotFound("no such member")
        return profile

    async def update(self, user: User, doc: Mapping[str, object]) -> Profile:
        """Apply a partial update to the user's own profile. Raises InvalidInput."""
        changes = validate_changes(doc, user.role)
        if changes.display_name is not None or changes.alt_name is not None:
            current = await self.profile(user.user_id)
            changes = dataclasses.replace(changes, search_key=search_key(
                changes.display_name if changes.display_name is not None else current.display_name,
                changes.alt_name if changes.alt_name is not None else current.alt_name))
        profile = await self._store.update_profile(user.user_id, changes)
        if profile is None:  # the account was deleted after its session was checked
            raise NotFound("no such member")
        return profile

    async def directory(self, query: MemberQuery) -> tuple[list[Profile], str | None]:
        """A page of members and the cursor of the next page (None on the last)."""
        page = await self._store.list_members(query)
        return page.members, encode_cursor(page.next_after) if page.next_after else None

    async def fill_search_keys(self, batch: int = 500) -> int:
        """Write the search key of every member who has none (those registered before
        migration 0009); returns how many. Several nodes starting at once write the same keys."""
        filled = 0
        while rows := await self._store.members_without_search_key(batch):
            for user_id, display_name, alt_name in rows:
                await self._store.update_profile(
                    user_id, ProfileChanges(search_key=search_key(display_name, alt_name)))
            filled += len(rows)
        return filled

    @staticmethod
    def check_admin(actor: User) -> None:
        """Raises Forbidden unless the actor is an admin."""
        if actor.role != "admin":
            raise Forbidden("only admins can change roles")

    async def grant_role(self, actor: User, user_id: int, role: object) -> Profile:
        """An admin sets a member's role. Raises Forbidden, InvalidInput, NotFound, or
        Conflict when it would leave no admin."""
        self.check_admin(actor)
        return await self._set_role(user_id, role)

    async def set_role_by_email(self, email: str, role: object) -> Profile:
        """The operator (CLI) sets the role of the account with this email."""
        found = await find_account(self._store, email)
        if found is None:
            raise NotFound("no account with this email")
        return await self._set_role(found[0].user_id, role)

    async def _set_role(self, user_id: int, role: object) -> Profile:
        if not is_role(role):
            raise InvalidInput("the role is not valid", details={"role": f"must be one of {', '.join(ROLES)}"})
        profile = await self._store.change_role(user_id, role)
        if profile is None:
            raise NotFound("no such member")
        return profile

