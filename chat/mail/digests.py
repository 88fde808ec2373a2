"""Digests by email: for members who chose one (daily or weekly, their rooms: the preferences of
chat/mail/service.py), what happened in those rooms — new messages counted, the topics and news
posts started listed, the most answered first, with links — sent in the member's morning
(ECOLINK_MAIL_DIGEST_HOUR in the time zone of their profile, UTC when they set none).

A daily digest covers the 24 hours before this morning's hour; a weekly one the 7 days before
Monday's. Each (member, period) is one job claimed in the store ("digest:<user>:<period>"), so
one node sends it, once (its email's dedupe key is the same); nothing new in the rooms: no
email, the period is done all the same. A period missed while every node was down is sent late,
never twice; only the latest period is ever sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from chat.clock import Clock
from chat.logs import failure
from chat.mail.letters import Action, Letter, render
from chat.mail.reminders import zone
from chat.mail.service import Mail, MailService
from chat.models import DigestRoom, User
from chat.store.port import Store

log = structlog.get_logger("chat.mail.digests")

LEASE_MS = 300_000
PAGE = 500  # members read at a time
TOP = 5  # threads listed per room


@dataclass(frozen=True, slots=True)
class Period:
    key: str  # "daily-2026-12-07", "weekly-2026-12-07" (the Monday)
    from_ms: int
    to_ms: int


def current_period(frequency: str, zone_name: str | None, now_ms: int, hour: int) -> Period:
    """The latest period whose morning (`hour` o'clock in the zone; for weekly, on a Monday) is
    at or before now: the one the member's digest for now covers."""
    tz = zone(zone_name)
    local = datetime.fromtimestamp(now_ms / 1000, tz=UTC).astimezone(tz)
    morning = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if morning > local:
        morning -= timedelta(days=1)
    days = 1
    if frequency == "weekly":
        morning -= timedelta(days=morning.weekday())
        days = 7
    start = morning.replace(tzinfo=None) - timedelta(days=days)
    begin = start.replace(tzinfo=tz)
    return Period(f"{frequency}-{morning.date().isoformat()}", int(begin.timestamp() * 1000),
                  int(morning.timestamp() * 1000))


def digest_letter(rooms: list[DigestRoom], frequency: str, base: str) -> Letter:
    """The digest's email (rooms with something new only)."""
    daily = frequency == "daily"
    en: list[str] = ["What happened in your rooms " + ("since yesterday morning:" if daily else "last week:")]
    zh: list[str] = ["您关注的房间" + ("自昨天早上以来的动态：" if daily else "上周的动态：")]
    for room in rooms:
        topics = sum(1 for t in room.threads if t.kind == "topic")
        news = len(room.threads) - topics
        link = f"{base}/#/room/{room.room_id}"
        top_en = "".join(f"\n• {'News' if t.kind == 'news' else 'Topic'}: {t.title} ({t.replies} replies)"
                         f" {base}/#/room/{t.topic_id}" for t in room.threads[:TOP])
        top_zh = "".join(f"\n• {'新闻' if t.kind == 'news' else '话题'}：{t.title}（{t.replies} 条回复）"
                         f" {base}/#/room/{t.topic_id}" for t in room.threads[:TOP])
        en.append(f"{room.title_en}: {room.messages} new messages, {topics} new topics, {news} news posts."
                  f"{top_en}\n{link}")
        zh.append(f"{room.title_zh}：{room.messages} 条新消息，{topics} 个新话题，{news} 条新闻。{top_zh}\n{link}")
    return Letter(
        "Your daily EcoLink digest" if daily else "Your weekly EcoLink digest",
        "EcoLink 每日摘要" if daily else "EcoLink 每周摘要",
        tuple(en), tuple(zh), Action(f"{base}/#/", "Open EcoLink", "打开 EcoLink"),
        (f"Choose the rooms and how often: {base}/#/account", f"选择房间和频率：{base}/#/account"))


class DigestMailer:
    """One step of the periodic job (chat/mail/producers.py): the digests now due."""

    def __init__(self, store: Store, mail: MailService, clock: Clock, *, hour: int) -> None:
        self._store = store
        self._mail = mail
        self._clock = clock
        self._hour = hour

    async def run(self) -> int:
        """Every member whose current period's digest is not done yet; returns how many emails
        were queued."""
        queued, after = 0, 0
        while page := await self._store.digest_members(after, PAGE, self._clock.now_ms()):
            after = page[-1][0].user_id
            now = self._clock.now_ms()
            periods = {user.user_id: current_period(freq, zone_name, now, self._hour)
                       for user, zone_name, freq in page}
            keys = {user_id: f"digest:{user_id}:{period.key}" for user_id, period in periods.items()}
            done = await self._store.mail_jobs_done(list(keys.values()))
            for user, _, freq in page:
                key = keys[user.user_id]
                if key in done or not await self._store.claim_mail_job(key, now, LEASE_MS):
                    continue
                try:
                    queued += await self._digest(user, freq, periods[user.user_id], key)
                except Exception as exc:  # the claim lapses and another try comes
                    log.warning("mail.digest_failed", user=user.user_id, **failure(exc))
                    continue
                await self._store.finish_mail_job(key, self._clock.now_ms())
        return queued

    async def _digest(self, user: User, frequency: str, period: Period, key: str) -> int:
        prefs = await self._mail.preferences(user.user_id)
        if prefs.digest != frequency:
            return 0
        rooms = await self._store.digest_contents(user.user_id, list(prefs.digest_rooms),
                                                  period.from_ms, period.to_ms)
        rooms = [room for room in rooms if room.messages or room.threads]
        if not rooms:
            return 0
        letter = digest_letter(rooms, frequency, self._mail.public_base)
        mail = Mail(user.email, "digest", render(letter, prefs.language), user_id=user.user_id,
                    dedupe_key=key, unsubscribe=True)
        return 1 if await self._mail.enqueue(mail) else 0
