"""What a webinar's schedule may hold (chat/webinars/rules.py), its calendar file
(chat/webinars/calendar.py, parsed back with icalendar) and its log entry's frame."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from chat.errors import InvalidInput, SlowMode
from chat.models import Message, Webinar
from chat.protocol.frames import error_frame, message_frame
from chat.webinars import rules
from chat.webinars.calendar import calendar_file, plain_text, summary_in

NOW = 1_800_000_000_000
HOUR = 3600_000


def test_instants_need_their_offset():
    assert rules.instant_ms("2027-03-01T09:30:00+01:00", "starts_at") == int(
        datetime(2027, 3, 1, 8, 30, tzinfo=UTC).timestamp() * 1000)
    assert rules.instant_ms("2027-03-01T08:30:00Z", "x") == rules.instant_ms("2027-03-01T16:30:00+08:00", "x")
    assert rules.instant_ms(None, "x") is None
    for bad in ("2027-03-01T09:30:00", "2027-03-01", "tomorrow", "2027-02-30T09:00:00Z", "9" * 41, ""):
        with pytest.raises(InvalidInput) as caught:
            rules.instant_ms(bad, "starts_at")
        assert set(caught.value.details) == {"starts_at"}


@pytest.mark.parametrize(("starts", "ends", "field"), [
    (NOW + HOUR, NOW + HOUR, "ends_at"),
    (NOW + HOUR, NOW, "ends_at"),
    (NOW, NOW + 59_000, "ends_at"),
    (NOW, NOW + 25 * HOUR, "ends_at"),
    (NOW - 25 * HOUR, NOW - 24 * HOUR, "starts_at"),
    (NOW + 800 * 24 * HOUR, NOW + 800 * 24 * HOUR + HOUR, "starts_at"),
])
def test_spans_out_of_bounds_are_refused(starts: int, ends: int, field: str):
    with pytest.raises(InvalidInput) as caught:
        rules.times(starts, ends, NOW, start_changed=True)
    assert set(caught.value.details) == {field}


def test_a_start_that_stays_is_not_checked_against_now_again():
    rules.times(NOW - 30 * HOUR, NOW - 29 * HOUR, NOW, start_changed=False)
    rules.times(NOW, NOW + 60_000, NOW, start_changed=True)


def test_people_zones_and_slow_mode():
    assert rules.people([1, 2, 1], [3]) == [(1, "host"), (2, "host"), (3, "panelist")]
    with pytest.raises(InvalidInput):
        rules.people([1], [1])
    with pytest.raises(InvalidInput):
        rules.people(list(range(1, 22)), [])
    assert rules.time_zone("Asia/Shanghai") == "Asia/Shanghai"
    with pytest.raises(InvalidInput):
        rules.time_zone("Mars/Olympus")
    assert (rules.slow_seconds("slow", 1), rules.slow_seconds("off", 5), rules.slow_seconds("open", None)) == (1, 0, 0)
    for mode, seconds in (("slow", 0), ("slow", 3601), ("slow", None), ("fast", 1)):
        with pytest.raises(InvalidInput):
            rules.slow_seconds(mode, seconds)


def webinar(**fields: object) -> Webinar:
    base: dict[str, object] = dict(
        webinar_id="webinar-0123456789abcdef", title_en="Green roofs", title_zh="绿色屋顶",
        description="", description_html="<p>Line <strong>one</strong></p>\n<ul>\n<li>a &amp; b</li>\n</ul>",
        starts_at_ms=NOW, ends_at_ms=NOW + HOUR, time_zone="Asia/Shanghai", created_by=1,
        created_at_ms=NOW - HOUR, updated_at_ms=NOW - 60_000, sequence=3)
    base.update(fields)
    return Webinar(**base)  # type: ignore[arg-type]


def test_the_calendar_file_parses_back():
    ics = calendar_file(webinar(), language="zh", page_url="https://chat.example/#/webinar/webinar-0123456789abcdef")
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    assert str(event["uid"]) == "webinar-0123456789abcdef@webinars.ecolink"
    assert event.decoded("dtstart") == datetime.fromtimestamp(NOW / 1000, tz=UTC)
    assert event.decoded("dtend") == datetime.fromtimestamp((NOW + HOUR) / 1000, tz=UTC)
    assert (str(event["summary"]), int(event["sequence"]), str(event["status"])) == ("绿色屋顶", 3, "CONFIRMED")
    assert str(event["description"]) == "Line one\na & b\n\nhttps://chat.example/#/webinar/webinar-0123456789abcdef"
    cancelled = calendar_file(webinar(state="cancelled"), language="en", page_url="u")
    [event] = Calendar.from_ical(cancelled).walk("VEVENT")
    assert (str(event["summary"]), str(event["status"]), str(event["description"])) == (
        "Green roofs", "CANCELLED", "Line one\na & b\n\nu")


def test_a_title_falls_back_to_the_other_language():
    assert summary_in(webinar(title_zh=""), "zh") == "Green roofs"
    assert summary_in(webinar(title_en=""), "en") == "绿色屋顶"
    assert plain_text("") == "" and plain_text("<p>a<br>b</p>") == "a\nb"


def test_a_webinar_entry_frame_and_a_slow_mode_error():
    entry = Message("webinar-x", 4, "m1", 7, "Ann", "~c", "Green roofs", 1, kind="webinar",
                    data={"change": "ended", "webinar": {"id": "webinar-x"}, "auto": True})
    frame = message_frame(entry)
    assert (frame["type"], frame["change"], frame["webinar"], frame["auto"]) == ("webinar", "ended", {"id": "webinar-x"}, True)
    assert "body" not in frame
    error = error_frame(SlowMode("slow mode: one message every 30 s", retry_after_s=12.2), "c1")
    assert error == {"type": "error", "code": "slow_mode", "message": "slow mode: one message every 30 s",
                     "retry": True, "retry_after": 13, "cid": "c1"}
