"""What a webinar's schedule may hold: titles, description, times, zone, listing rooms and
people, checked before anything is stored (every refusal an InvalidInput naming the field)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chat.accounts.zones import ZONE_PROBLEM, is_time_zone
from chat.errors import InvalidInput

MAX_TITLE_CHARS = 200
MAX_DESCRIPTION_CHARS = 20_000
MAX_LISTED_ROOMS = 5
MAX_PEOPLE = 20  # hosts and panelists together
MIN_DURATION_MS = 60_000
MAX_DURATION_MS = 24 * 3600_000
EARLIEST_START_MS = 24 * 3600_000  # a start at most a day in the past (a session run late)
LATEST_START_MS = 2 * 366 * 24 * 3600_000  # and at most about two years ahead
MAX_INSTANT_CHARS = 40
MIN_SLOW_S = 1
MAX_SLOW_S = 3600


@dataclass(frozen=True, slots=True)
class WebinarDraft:
    """A webinar as a host typed it, before checking: times are ISO 8601 with an offset; every
    field None is "not given" (an edit leaves it as it is)."""

    title_en: str | None = None
    title_zh: str | None = None
    description: str | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    time_zone: str | None = None
    rooms: list[str] | None = None
    hosts: list[int] | None = None
    panelists: list[int] | None = None
    premoderated: bool | None = None
    guests_allowed: bool | None = None
    attachments: tuple[str, ...] | None = None  # file ids; an edit replaces the list


def invalid(details: dict[str, str]) -> InvalidInput:
    return InvalidInput("some fields are not valid", details=details)


def title(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > MAX_TITLE_CHARS:
        raise invalid({name: f"must be at most {MAX_TITLE_CHARS} characters"})
    return value


def description(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise invalid({"description": f"must be at most {MAX_DESCRIPTION_CHARS} characters"})
    return value


def instant_ms(value: str | None, name: str) -> int | None:
    """An ISO 8601 date and time with its UTC offset ("2027-03-01T09:30:00+01:00", or "Z"), as
    ms since the epoch."""
    if value is None:
        return None
    problem = "must be an ISO 8601 date and time with its offset, such as 2027-03-01T09:30:00+01:00"
    if len(value) > MAX_INSTANT_CHARS or "T" not in value.upper():
        raise invalid({name: problem})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise invalid({name: problem}) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise invalid({name: problem})
    return int(parsed.timestamp() * 1000)


def time_zone(value: str | None) -> str | None:
    if value is None:
        return None
    if not is_time_zone(value):
        raise invalid({"time_zone": ZONE_PROBLEM})
    return value


def times(starts_ms: int, ends_ms: int, now_ms: int, *, start_changed: bool) -> None:
    """The span: end after start, 1 minute to 24 hours; a new start neither more than a day
    past nor more than about two years ahead."""
    if start_changed and not now_ms - EARLIEST_START_MS <= starts_ms <= now_ms + LATEST_START_MS:
        raise invalid({"starts_at": "must be from a day ago to two years ahead"})
    if ends_ms <= starts_ms:
        raise invalid({"ends_at": "must be after starts_at"})
    if not MIN_DURATION_MS <= ends_ms - starts_ms <= MAX_DURATION_MS:
        raise invalid({"ends_at": "must be 1 minute to 24 hours after starts_at"})


def people(hosts: list[int], panelists: list[int]) -> list[tuple[int, str]]:
    """(user id, role) for each distinct person; nobody both host and panelist."""
    both = set(hosts) & set(panelists)
    if both:
        raise invalid({"panelists": "a member is either a host or a panelist"})
    chosen = [(user_id, "host") for user_id in dict.fromkeys(hosts)]
    chosen += [(user_id, "panelist") for user_id in dict.fromkeys(panelists)]
    if len(chosen) > MAX_PEOPLE:
        raise invalid({"hosts": f"at most {MAX_PEOPLE} hosts and panelists together"})
    return chosen


def slow_seconds(mode: str, slow_s: int | None) -> int:
    if mode not in ("open", "slow", "off"):
        raise invalid({"mode": "must be open, slow or off"})
    if mode != "slow":
        return 0
    if slow_s is None or not MIN_SLOW_S <= slow_s <= MAX_SLOW_S:
        raise invalid({"slow_s": f"slow mode needs {MIN_SLOW_S}-{MAX_SLOW_S} seconds"})
    return slow_s
