"""Webinar reminders by email: the members registered for a scheduled webinar and its people
(hosts, panelists) are told the lead time before it starts (ECOLINK_MAIL_WEBINAR_REMINDER_MIN),
once per (member, webinar, start time): a webinar moved to a later start is reminded of again.

Each (webinar, start time) is one job claimed in the store ("webinar_reminder:<id>:<start>"):
one node mails its whole audience, each email with the dedupe key "…:<user>", then marks it
done; a node dying half way leaves a claim another node takes over, and the keys keep the
emails already queued from going twice. Members who register after the reminders went get
none."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from chat.clock import Clock
from chat.logs import failure
from chat.mail.letters import Action, Letter, render
from chat.mail.service import Mail, MailService
from chat.models import User, Webinar
from chat.store.port import Store

log = structlog.get_logger("chat.mail.reminders")

LEASE_MS = 300_000


def zone(name: str | None) -> ZoneInfo:
    """The named IANA zone, UTC when unknown or unset."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(ms: int, zone_name: str | None) -> tuple[str, str]:
    """When `ms` is in the member's zone (UTC when unset), in English and Chinese."""
    tz = zone(zone_name)
    at = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(tz)
    label = zone_name if zone_name and str(tz) == zone_name else "UTC"
    return (f"{at:%A} {at.day} {at:%B %Y}, {at:%H:%M} ({label})",
            f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}（{label}）")


def reminder_letter(webinar: Webinar, zone_name: str | None, base: str, lead_min: float) -> Letter:
    title_en = webinar.title_en or webinar.title_zh
    title_zh = webinar.title_zh or webinar.title_en
    when_en, when_zh = local_time(webinar.starts_at_ms, zone_name)
    minutes = f"{lead_min:g}"
    return Letter(
        f"Starting soon: {title_en}", f"即将开始：{title_zh}",
        (f"The webinar “{title_en}” starts in {minutes} minutes: {when_en}.",
         "You registered for it or take part in it."),
        (f"网络研讨会“{title_zh}”将在 {minutes} 分钟后开始：{when_zh}。", "您已报名或参与此研讨会。"),
        Action(f"{base}/#/webinar/{webinar.webinar_id}", "Open the webinar", "进入研讨会"),
        (f"Choose which emails you get: {base}/#/account", f"选择接收哪些邮件：{base}/#/account"))


class ReminderMailer:
    """One step of the periodic job (chat/mail/producers.py): the reminders now due."""

    def __init__(self, store: Store, mail: MailService, clock: Clock, *, lead_min: float) -> None:
        self._store = store
        self._mail = mail
        self._clock = clock
        self._lead_min = lead_min
        self._lead_ms = int(lead_min * 60_000)

    async def run(self) -> int:
        """Remind the audience of every scheduled webinar starting within the lead time whose
        reminders no node sent yet; returns how many emails were queued."""
        now = self._clock.now_ms()
        queued = 0
        for webinar_id, starts_at_ms in await self._store.webinars_starting(now, now + self._lead_ms):
            key = f"webinar_reminder:{webinar_id}:{starts_at_ms}"
            if not await self._store.claim_mail_job(key, now, LEASE_MS):
                continue
            try:
                queued += await self._remind(webinar_id, starts_at_ms, key)
            except Exception as exc:  # the claim lapses and another try comes
                log.warning("mail.reminders_failed", webinar=webinar_id, **failure(exc))
                continue
            await self._store.finish_mail_job(key, self._clock.now_ms())
        return queued

    async def _remind(self, webinar_id: str, starts_at_ms: int, key: str) -> int:
        webinar = await self._store.get_webinar(webinar_id)
        if webinar is None or webinar.state != "scheduled" or webinar.starts_at_ms != starts_at_ms:
            return 0
        queued = 0
        for user, zone_name in await self._store.webinar_audience(webinar_id, self._clock.now_ms()):
            try:
                queued += await self._remind_one(webinar, user, zone_name, key)
            except Exception as exc:  # one member's failure never stops the others' reminders
                log.warning("mail.reminder_failed", webinar=webinar_id, user=user.user_id, **failure(exc))
        log.info("mail.reminders", webinar=webinar_id, queued=queued)
        return queued

    async def _remind_one(self, webinar: Webinar, user: User, zone_name: str | None, key: str) -> int:
        prefs = await self._mail.preferences(user.user_id)
        if not prefs.wants("webinar_reminder"):
            return 0
        letter = reminder_letter(webinar, zone_name, self._mail.public_base, self._lead_min)
        mail = Mail(user.email, "webinar_reminder", render(letter, prefs.language), user_id=user.user_id,
                    dedupe_key=f"{key}:{user.user_id}", unsubscribe=True)
        return 1 if await self._mail.enqueue(mail) else 0
