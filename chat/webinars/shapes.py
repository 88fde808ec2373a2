"""A webinar as JSON: the summary the log's "webinar" entries carry, and the whole view one
member gets over HTTP (docs/protocol.md, "Webinars")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chat.clock import iso_ms
from chat.models import Webinar, WebinarRole

# The web client's page of a webinar (docs/protocol.md, "Webinars"): the calendar file links it.
WEBINAR_PAGE = "/#/webinar/{}"


def local_iso(ms: int, zone: str) -> str:
    """The instant in the host's zone, with its offset (seconds precision)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def webinar_summary(webinar: Webinar) -> dict[str, Any]:
    """What every member may know of a webinar, without its description: listings and the
    log's "webinar" entries carry this."""
    w = webinar
    return {
        "id": w.webinar_id,
        "title": {"en": w.title_en, "zh": w.title_zh},
        "starts_at": iso_ms(w.starts_at_ms),
        "ends_at": iso_ms(w.ends_at_ms),
        "time_zone": w.time_zone,
        "local": {"starts_at": local_iso(w.starts_at_ms, w.time_zone),
                  "ends_at": local_iso(w.ends_at_ms, w.time_zone)},
        "state": w.state,
        "started_at": None if w.started_at_ms is None else iso_ms(w.started_at_ms),
        "ended_at": None if w.ended_at_ms is None else iso_ms(w.ended_at_ms),
        "chat": {"mode": w.chat_mode, "slow_s": w.slow_mode_s},
        "premoderated": w.premoderated,
        "guests_allowed": w.guests_allowed,
        "rooms": list(w.listed_in),
        "hosts": [{"id": p.user_id, "name": p.name} for p in w.people if p.role == "host"],
        "panelists": [{"id": p.user_id, "name": p.name} for p in w.people if p.role == "panelist"],
        "registrations": w.registrations,
        "version": w.sequence,
    }


def webinar_json(webinar: Webinar, *, role: WebinarRole, registered: bool,
                 description: bool = True) -> dict[str, Any]:
    """The webinar for one member: the summary, their `role` and whether they `registered`,
    and (unless listing) the description, as typed and rendered."""
    wire = webinar_summary(webinar)
    wire["role"] = role
    wire["registered"] = registered
    wire["page"] = WEBINAR_PAGE.format(webinar.webinar_id)
    if description:
        wire["description"] = webinar.description
        wire["html"] = webinar.description_html
        if webinar.attachments:
            wire["attachments"] = list(webinar.attachments)
    return wire
