"""What the email producers write and when (chat/mail/notices.py, reminders.py, digests.py):
the letters' words in both languages, a batch's kind, a digest's period in the member's zone,
and the settings' bounds. Pure: no store, no SMTP."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from chat.config import Settings
from chat.mail.digests import current_period
from chat.mail.notices import main_kind, notices_letter
from chat.mail.reminders import local_time
from chat.models import NoticeItem

BASE = "https://chat.example.test"


def item(n: int, kind: str = "direct", thread: str | None = None) -> NoticeItem:
    return NoticeItem(n, kind, f"room-{n}", "topic" if thread else "city", "Hefei", "合肥", thread, n,
                      f"m{n}", "Ann", f"text {n}")  # type: ignore[arg-type]


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def test_a_batch_lists_ten_and_counts_the_rest_in_both_languages():
    letter = notices_letter([item(n) for n in range(13)], BASE, 15)
    assert letter.subject_en == "13 unread messages for you on EcoLink"
    assert letter.subject_zh == "您在 EcoLink 上有 13 条未读消息"
    assert len(letter.paragraphs_en) == 1 + 10 + 1 and letter.paragraphs_en[-1] == "… and 3 more."
    assert letter.paragraphs_zh[-1] == "……还有 3 条。"
    assert letter.paragraphs_en[1] == f"Ann sent you a direct message:\n“text 0”\n{BASE}/#/room/room-0"
    assert "15 minutes" in letter.footer[0] and "15 分钟" in letter.footer[1]
    assert letter.action is not None and letter.action.url == f"{BASE}/#/notifications"


def test_one_notification_names_its_writer_and_a_reply_its_thread():
    letter = notices_letter([item(1, "reply", thread="Bus fleets")], BASE, 0.5)
    assert letter.subject_en == "Ann wrote to you on EcoLink"
    assert letter.paragraphs_en[1].startswith("Ann replied in “Bus fleets”:")
    assert letter.paragraphs_zh[1].startswith("Ann 在“Bus fleets”中回复了：")
    assert "0.5 minutes" in letter.footer[0]


def test_the_batch_kind_is_the_most_common_and_mentions_win_a_tie():
    assert main_kind([item(1, "direct"), item(2, "direct"), item(3, "mention")]) == "direct"
    assert main_kind([item(1, "direct"), item(2, "reply"), item(3, "mention")]) == "mention"
    assert main_kind([item(1, "direct"), item(2, "reply")]) == "reply"


def test_a_reminder_shows_the_start_in_the_members_zone_or_utc():
    start = ms("2026-12-07T06:30:00+00:00")
    assert local_time(start, "Asia/Shanghai") == ("Monday 7 December 2026, 14:30 (Asia/Shanghai)",
                                                  "2026年12月7日 14:30（Asia/Shanghai）")
    assert local_time(start, None)[0] == "Monday 7 December 2026, 06:30 (UTC)"
    assert local_time(start, "Not/AZone")[0] == "Monday 7 December 2026, 06:30 (UTC)"


def test_a_daily_digest_covers_the_day_before_this_mornings_hour_in_the_members_zone():
    # 06:30 UTC is 14:30 in Shanghai: today's 07:00 there has come.
    period = current_period("daily", "Asia/Shanghai", ms("2026-12-07T06:30:00+00:00"), 7)
    assert period.key == "daily-2026-12-07"
    assert (period.from_ms, period.to_ms) == (ms("2026-12-05T23:00:00+00:00"), ms("2026-12-06T23:00:00+00:00"))
    # In UTC it has not: yesterday's period is the current one.
    assert current_period("daily", None, ms("2026-12-07T06:30:00+00:00"), 7).key == "daily-2026-12-06"


def test_a_weekly_digest_covers_the_week_before_mondays_morning_across_a_clock_change():
    # Sunday 29 March 2026: Berlin moves to summer time. Monday 30 March, 07:00 CEST = 05:00 UTC.
    period = current_period("weekly", "Europe/Berlin", ms("2026-04-02T12:00:00+00:00"), 7)
    assert period.key == "weekly-2026-03-30"
    assert period.to_ms == ms("2026-03-30T05:00:00+00:00")
    assert period.from_ms == ms("2026-03-23T06:00:00+00:00")  # 07:00 CET the Monday before
    before = current_period("weekly", "Europe/Berlin", ms("2026-03-30T04:59:00+00:00"), 7)
    assert before.key == "weekly-2026-03-23"


@pytest.mark.parametrize("field, value", [
    ("mail_notify_delay_min", 0), ("mail_notify_delay_min", 10_081), ("mail_webinar_reminder_min", 0),
    ("mail_digest_hour", 24), ("mail_digest_hour", -1), ("mail_jobs_s", 0.01), ("mail_jobs_s", 3601),
])
def test_settings_out_of_bounds_are_refused(field, value):
    with pytest.raises(ValidationError):
        Settings(**{field: value})
