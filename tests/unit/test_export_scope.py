"""Export parameters (chat/export/scope.py): format, range, zone and language, their defaults,
and a clear refusal naming every bad field."""

from __future__ import annotations

from datetime import datetime, UTC

import pytest

from chat.errors import InvalidInput
from chat.export.scope import parse_request, parse_time, transcript_filename

NOW = 1_790_000_000_000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_defaults_come_from_the_requesters_profile():
    plain = parse_request({}, None, NOW)
    assert (plain.format, plain.from_ms, plain.to_ms, plain.time_zone, plain.lang) == ("markdown", None, None, "UTC", "en")
    mine = parse_request({}, None, NOW, profile_zone="Asia/Shanghai", profile_languages=("zh-Hans", "en"))
    assert (mine.time_zone, mine.lang) == ("Asia/Shanghai", "zh")
    chosen = parse_request({"tz": "Europe/Berlin", "lang": "en", "format": "csv"}, None, NOW,
                           profile_zone="Asia/Shanghai", profile_languages=("zh",))
    assert (chosen.time_zone, chosen.lang, chosen.format) == ("Europe/Berlin", "en", "csv")
    assert parse_request({}, None, NOW, profile_zone="Not/AZone").time_zone == "UTC"


def test_a_bare_date_is_local_midnight_and_to_includes_its_day():
    request = parse_request({"from": "2026-11-01", "to": "2026-11-30", "tz": "Asia/Shanghai"}, None, NOW)
    assert request.from_ms == ms("2026-11-01T00:00:00+08:00")
    assert request.to_ms == ms("2026-12-01T00:00:00+08:00")  # exclusive: all of Nov 30
    assert parse_time("2026-11-01T14:30", "Europe/Berlin", end=False) == ms("2026-11-01T14:30:00+01:00")
    assert parse_time("2026-11-01T06:30Z", "Asia/Shanghai", end=True) == ms("2026-11-01T06:30:00+00:00")
    assert parse_time("2026-11-01 06:30:15.5+02:00", "UTC", end=False) == ms("2026-11-01T04:30:15.5+00:00")
    # Daylight saving: Berlin's midnight on the day clocks go back is still local midnight.
    assert parse_time("2026-10-25", "Europe/Berlin", end=False) == ms("2026-10-25T00:00:00+02:00")
    assert parse_time("2026-10-25", "Europe/Berlin", end=True) == ms("2026-10-26T00:00:00+01:00")
    same_day = parse_request({"from": "2026-11-01", "to": "2026-11-01"}, None, NOW)
    assert same_day.to_ms - same_day.from_ms == 86_400_000


@pytest.mark.parametrize(("params", "fields"), [
    ({"format": "docx"}, {"format"}),
    ({"format": "PDF"}, {"format"}),
    ({"from": "2026-11-01T25:00"}, {"from"}),
    ({"from": "1.11.2026"}, {"from"}),
    ({"to": "2026-02-30"}, {"to"}),
    ({"to": "x" * 500}, {"to"}),
    ({"to": "２０２６-11-01"}, {"to"}),
    ({"from": "0999-01-01"}, {"from"}),
    ({"from": "2026-11-02", "to": "2026-11-01T12:00"}, {"to"}),
    ({"tz": "Asia/Nowhere"}, {"tz"}),
    ({"tz": "localtime"}, {"tz"}),
    ({"lang": "de"}, {"lang"}),
    ({"format": "rtf", "lang": "de", "tz": "x"}, {"format", "lang", "tz"}),
])
def test_bad_parameters_are_refused_naming_every_field(params, fields):
    with pytest.raises(InvalidInput) as refused:
        parse_request(params, None, NOW)
    assert set(refused.value.details) == fields
    for value in params.values():
        assert value not in str(refused.value.details.values())


def test_file_names_are_ascii_and_name_the_room_and_range():
    request = parse_request({"from": "2026-11-01", "to": "2026-11-30", "tz": "Asia/Shanghai"}, None, NOW)
    assert transcript_filename("sector", "green-buildings", request, "md") == \
        "ecolink-sector-green-buildings-2026-11-01_2026-11-30.md"
    assert transcript_filename("direct", "d-00ab", request, "pdf") == "ecolink-direct-d-00ab-2026-11-01_2026-11-30.pdf"
    open_ended = parse_request({}, None, NOW)
    made = datetime.fromtimestamp(NOW / 1000, UTC).date().isoformat()
    assert transcript_filename("webinar", "webinar-1", open_ended, "csv") == f"ecolink-webinar-1-start_{made}.csv"
