"""What an export was asked for: its format, time range, time zone and language, checked before
anything is read (docs/protocol.md, "Exports"), and the finished transcript the service hands out.

The range is half-open in UTC milliseconds, [from_ms, to_ms): `from` and `to` are ISO 8601
dates or date-times; a date or a date-time without an offset is local time in the export's zone;
a bare date means that day's local midnight for `from` and the next day's local midnight for
`to` (so `to` of a bare date includes that day). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chat.accounts.zones import ZONE_PROBLEM, is_time_zone
from chat.errors import InvalidInput
from chat.export.records import FORMATS, ExportFormat, Lang
from chat.models import User

LANGS: tuple[Lang, ...] = ("en", "zh")
DEFAULT_FORMAT: ExportFormat = "markdown"
MAX_PARAM_CHARS = 64
# A date (2026-11-01) or a date-time (2026-11-01T14:30, seconds and fractions optional, a space
# allowed for the T) with an optional offset (Z, +08:00).
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")
# Years an export may name: the store's times are ms since 1970, and far years overflow.
MIN_YEAR, MAX_YEAR = 1970, 9999


@dataclass(frozen=True, slots=True)
class ExportRequest:
    format: ExportFormat
    from_ms: int | None  # the range's start (inclusive); None: from the beginning
    to_ms: int | None  # the range's end (exclusive); None: up to when the export is made
    time_zone: str  # IANA, validated; default: the requester's profile zone, else "UTC"
    lang: Lang  # default: "zh" when the requester's profile languages hold zh… and no en…, else "en"
    requester: User | None  # None: an operator at the command line
    made_at_ms: int


@dataclass(frozen=True, slots=True)
class Transcript:
    filename: str  # ASCII-safe, e.g. "ecolink-sector-green-buildings-2026-11-01_2026-11-30.md"
    media_type: str
    chunks: AsyncIterator[bytes]  # the header comes at once (PDF: the file, once built)
    # Extra response headers: a PDF's X-Content-SHA256 (the file's own hash).
    headers: dict[str, str] = field(default_factory=dict)


def default_lang(profile_languages: tuple[str, ...]) -> Lang:
    """The labels' language when none is asked for: zh for a member whose profile lists Chinese
    and not English, else en (profiles keep languages sorted, so their order says nothing)."""
    tags = [tag.lower() for tag in profile_languages]
    chinese_only = any(t.startswith("zh") for t in tags) and not any(t.startswith("en") for t in tags)
    return "zh" if chinese_only else "en"


def parse_request(
    params: Mapping[str, str], requester: User | None, made_at_ms: int, *,
    profile_zone: str | None = None, profile_languages: tuple[str, ...] = (),
) -> ExportRequest:
    """The request from query parameters (format, from, to, tz, lang), each checked; every
    problem is reported at once as InvalidInput (422) naming the fields, never echoing values.
    Defaults: markdown; the whole history; the requester's zone (else UTC); zh for a requester
    whose profile languages hold Chinese and not English (else en; profiles keep languages sorted, so their order says nothing)."""
    problems: dict[str, str] = {}
    fmt = params.get("format") or DEFAULT_FORMAT
    if fmt not in FORMATS:
        problems["format"] = "must be one of " + ", ".join(FORMATS)
    zone = params.get("tz") or (profile_zone if profile_zone and is_time_zone(profile_zone) else "UTC")
    if not is_time_zone(zone):
        problems["tz"] = ZONE_PROBLEM
        zone = "UTC"
    lang = params.get("lang") or default_lang(profile_languages)
    if lang not in LANGS:
        problems["lang"] = "must be en or zh"
    bounds: dict[str, int | None] = {}
    for name in ("from", "to"):
        raw = params.get(name) or None
        try:
            bounds[name] = None if raw is None else parse_time(raw, zone, end=name == "to")
        except ValueError as exc:
            problems[name] = str(exc)
            bounds[name] = None
    from_ms, to_ms = bounds["from"], bounds["to"]
    if from_ms is not None and to_ms is not None and from_ms > to_ms:
        problems["to"] = "must not be before 'from'"
    if problems:
        raise InvalidInput("some export parameters are not valid", details=problems)
    return ExportRequest(
        format=fmt,  # type: ignore[arg-type]  # checked against FORMATS above
        from_ms=from_ms, to_ms=to_ms, time_zone=zone,
        lang=lang,  # type: ignore[arg-type]  # checked against LANGS above
        requester=requester, made_at_ms=made_at_ms)


def parse_time(raw: str, zone: str, *, end: bool) -> int:
    """ms since the epoch of an ISO 8601 date or date-time (see the module docstring); a bare
    date as `end` is the next day's local midnight. ValueError says what is wrong."""
    problem = "must be an ISO 8601 date (2026-11-01) or date-time (2026-11-01T14:30, 2026-11-01T06:30Z)"
    if len(raw) > MAX_PARAM_CHARS or not raw.isascii():
        raise ValueError(problem)
    tz = ZoneInfo(zone)
    try:
        if _DATE.fullmatch(raw):
            day = date.fromisoformat(raw)
            if end:
                day += timedelta(days=1)
            moment = datetime.combine(day, time(0), tz)
        elif _DATE_TIME.fullmatch(raw):
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=tz)
        else:
            raise ValueError(problem)
    except (ValueError, OverflowError):
        raise ValueError(problem) from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return int(moment.timestamp() * 1000)


def ascii_slug(text: str, limit: int = 48) -> str:
    """A file-name part: lower-case ASCII letters, digits and '-' (others dropped)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].strip("-")


def local_day(ms: int, zone: str) -> str:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(zone)).date().isoformat()


def transcript_filename(scope: str, room_id: str, request: ExportRequest, extension: str) -> str:
    """e.g. ecolink-sector-green-buildings-2026-11-01_2026-11-30.md: the scope, the room id
    (already a slug), and the range's local days (`to` as its last day; the day made when
    open-ended)."""
    start = "start" if request.from_ms is None else local_day(request.from_ms, request.time_zone)
    last_ms = request.made_at_ms if request.to_ms is None else max(request.to_ms - 1, request.from_ms or 0)
    slug = ascii_slug(room_id, 64)
    name = f"ecolink-{slug}" if slug.startswith(f"{scope}-") else f"ecolink-{scope}-{slug}"
    return f"{name}-{start}_{local_day(last_ms, request.time_zone)}.{extension}"
