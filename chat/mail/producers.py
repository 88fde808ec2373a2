"""The email producers' periodic job, on every node: every ECOLINK_MAIL_JOBS_S the unread
notifications due (chat/mail/notices.py), the webinar reminders due (reminders.py) and the
digests due (digests.py), each piece of work claimed in the store so one node does it. Old done
claims are forgotten once they can no longer come up (after a week)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import structlog

from chat.clock import Clock, repeating
from chat.config import Settings
from chat.logs import failure
from chat.mail.digests import DigestMailer
from chat.mail.notices import NoticeMailer
from chat.mail.reminders import ReminderMailer
from chat.mail.service import MailService
from chat.store.port import Store

log = structlog.get_logger("chat.mail.producers")

KEEP_DONE_MS = 8 * 86_400_000  # longer than any period or reminder lead (7 days at most)
PRUNE_EVERY_MS = 3_600_000


class MailProducers:
    def __init__(self, store: Store, mail: MailService, clock: Clock, settings: Settings) -> None:
        self._store = store
        self._clock = clock
        self._every_s = settings.mail_jobs_s
        self.notices = NoticeMailer(store, mail, clock, delay_min=settings.mail_notify_delay_min)
        self.reminders = ReminderMailer(store, mail, clock, lead_min=settings.mail_webinar_reminder_min)
        self.digests = DigestMailer(store, mail, clock, hour=settings.mail_digest_hour)
        self._pruned_ms = 0

    async def run_once(self) -> int:
        """Each producer once (one failing does not stop the others); the emails queued."""
        queued = 0
        for name, producer in (("notices", self.notices), ("reminders", self.reminders),
                               ("digests", self.digests)):
            try:
                queued += await producer.run()
            except Exception as exc:
                log.warning("mail.producer_failed", producer=name, **failure(exc))
        now = self._clock.now_ms()
        if now - self._pruned_ms >= PRUNE_EVERY_MS:
            self._pruned_ms = now
            await self._store.prune_mail_jobs(now - KEEP_DONE_MS)
        return queued

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[MailProducers]:
        async with repeating(self._every_s, self.run_once, "mail-producers", "mail.producers_failed"):
            yield self
