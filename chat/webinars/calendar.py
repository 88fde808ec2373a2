"""A webinar as an iCalendar file (RFC 5545), built with the `icalendar` library: one VEVENT
whose UID stays the same for the webinar's life, times in UTC, SEQUENCE raised by each edit
and the cancellation (so calendar programs replace their copy), STATUS:CANCELLED once
cancelled."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

from icalendar import Calendar, Event

from chat.models import Webinar

PRODID = "-//EcoLink chat//Webinars//EN"
UID_DOMAIN = "webinars.ecolink"
BLOCKS = frozenset({"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "tr", "br", "hr"})


class _Text(HTMLParser):
    """The text of sanitised HTML, a line per block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr"):
            self.parts.append("\n")


def plain_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).splitlines()]
    return "\n".join(line for line in lines if line)


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def summary_in(webinar: Webinar, language: str) -> str:
    """The title in the language asked for ("zh" or anything else: English), else the other."""
    first, second = ((webinar.title_zh, webinar.title_en) if language == "zh"
                     else (webinar.title_en, webinar.title_zh))
    return first or second


def calendar_file(webinar: Webinar, *, language: str, page_url: str) -> bytes:
    """The .ics of one webinar; `page_url` is the absolute address of its page."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{webinar.webinar_id}@{UID_DOMAIN}")
    event.add("dtstamp", _utc(webinar.updated_at_ms))
    event.add("created", _utc(webinar.created_at_ms))
    event.add("last-modified", _utc(webinar.updated_at_ms))
    event.add("dtstart", _utc(webinar.starts_at_ms))
    event.add("dtend", _utc(webinar.ends_at_ms))
    event.add("summary", summary_in(webinar, language))
    text = plain_text(webinar.description_html)
    event.add("description", f"{text}\n\n{page_url}" if text else page_url)
    event.add("url", page_url)
    event.add("sequence", webinar.sequence)
    event.add("status", "CANCELLED" if webinar.state == "cancelled" else "CONFIRMED")
    calendar.add_component(event)
    ics: bytes = calendar.to_ical()
    return ics
