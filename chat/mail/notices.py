"""Unread notifications by email: direct messages, mentions and replies (the in-app
notifications of chat/rooms/notifications.py) that stay unread for the delay reach the member
in ONE email listing all of them, never one per message.

A member is due when one of their notifications is older than the delay, still unread (not
marked read, its room not read past it) and not yet dealt with, and they were not mailed within
the delay. Their batch — every notification they have then, also the younger ones, but for
the last few seconds' (SETTLE_MS: one still being written could take a lower id) — is claimed in
the store (one node wins; a lapsed claim is taken over as it was), the ones still worth telling
are listed (not read meanwhile, not deleted, not muted, not from someone they blocked, of kinds
their preferences keep), mailed with the dedupe key "notify:<user>:<last id>" and the batch is
finished. A node dying between the enqueue and the finish leaves a claim another node takes
over: the same batch, the same key, so the outbox keeps one email (docs/decisions.md, "Email
notifications: batches claimed in the store")."""

from __future__ import annotations

from collections import Counter

import structlog

from chat.clock import Clock
from chat.logs import failure
from chat.mail.letters import Action, Lang, Letter, render
from chat.mail.service import Mail, MailService
from chat.models import NoticeItem
from chat.store.port import Store

log = structlog.get_logger("chat.mail.notices")

MAX_LATE_MS = 24 * 3_600_000  # notifications older than the delay and this are never mailed
LEASE_MS = 120_000
SETTLE_MS = 5_000
MEMBERS_PER_PAGE = 200
PAGES_PER_RUN = 10  # at most 2,000 members a run; the rest the next run
MAX_ITEMS = 200  # read from one batch
SHOWN = 10  # listed in the email; the rest counted
ORDER = ("mention", "reply", "direct")  # the email's kind (its unsubscribe) on a tie


def _where(item: NoticeItem, lang: Lang) -> str:
    if item.thread_title is not None:
        return f"“{item.thread_title}”"
    return item.room_title_en if lang == "en" else item.room_title_zh


def item_line(item: NoticeItem, lang: Lang, base: str) -> str:
    """One notification as a paragraph of the email: who, what, where, the start of the
    message, and the link to the room."""
    actor, where = item.actor_name, _where(item, lang)
    if lang == "en":
        head = {"direct": f"{actor} sent you a direct message",
                "mention": f"{actor} mentioned you in {where}",
                "reply": f"{actor} replied in {where}"}[item.kind]
    else:
        head = {"direct": f"{actor} 给您发了私信",
                "mention": f"{actor} 在{where}中提到了您",
                "reply": f"{actor} 在{where}中回复了"}[item.kind]
    quote = f"\n“{item.excerpt}”" if item.excerpt else ""
    return f"{head}:{quote}\n{base}/#/room/{item.room_id}" if lang == "en" else \
        f"{head}：{quote}\n{base}/#/room/{item.room_id}"


def notices_letter(items: list[NoticeItem], base: str, delay_min: float) -> Letter:
    """The email for a batch (at least one item): up to SHOWN listed, the rest counted."""
    count, shown, more = len(items), items[:SHOWN], len(items) - SHOWN
    minutes = f"{delay_min:g}"
    if count == 1:
        subject_en = f"{items[0].actor_name} wrote to you on EcoLink"
        subject_zh = f"{items[0].actor_name} 在 EcoLink 上给您留言"
    else:
        subject_en = f"{count} unread messages for you on EcoLink"
        subject_zh = f"您在 EcoLink 上有 {count} 条未读消息"
    en = ["While you were away:", *(item_line(i, "en", base) for i in shown)]
    zh = ["您不在时：", *(item_line(i, "zh", base) for i in shown)]
    if more > 0:
        en.append(f"… and {more} more.")
        zh.append(f"……还有 {more} 条。")
    footer = (f"You get this email because these stayed unread for {minutes} minutes."
              f" Choose which emails you get: {base}/#/account",
              f"这些消息在 {minutes} 分钟内未读，因此我们给您发了这封邮件。选择接收哪些邮件：{base}/#/account")
    return Letter(subject_en, subject_zh, tuple(en), tuple(zh),
                  Action(f"{base}/#/notifications", "Open your notifications", "查看通知"), footer)


def main_kind(items: list[NoticeItem]) -> str:
    """The kind most of the batch is (its one-click unsubscribe turns that kind off)."""
    counts: Counter[str] = Counter(item.kind for item in items)
    return max(ORDER, key=lambda kind: (counts[kind], -ORDER.index(kind)))


class NoticeMailer:
    """One step of the periodic job (chat/mail/producers.py): every member due, one email each."""

    def __init__(self, store: Store, mail: MailService, clock: Clock, *, delay_min: float) -> None:
        self._store = store
        self._mail = mail
        self._clock = clock
        self._delay_min = delay_min
        self._delay_ms = int(delay_min * 60_000)

    async def run(self) -> int:
        """Mail every member due now; returns how many emails were queued."""
        queued = 0
        for _ in range(PAGES_PER_RUN):
            now = self._clock.now_ms()
            cutoff = now - self._delay_ms
            due = await self._store.mail_notices_due(cutoff - MAX_LATE_MS, cutoff, now, cutoff, MEMBERS_PER_PAGE)
            for user_id in due:
                try:
                    queued += await self._member(user_id)
                except Exception as exc:  # one member's failure never stops the others
                    log.warning("mail.notices_failed", user=user_id, **failure(exc))
            if len(due) < MEMBERS_PER_PAGE:
                break
        return queued

    async def _member(self, user_id: int) -> int:
        now = self._clock.now_ms()
        cutoff = now - self._delay_ms
        newest = now - min(self._delay_ms, SETTLE_MS)
        batch = await self._store.claim_mail_notices(user_id, newest, now, LEASE_MS, cutoff)
        if batch is None:
            return 0
        after, through = batch
        prefs = await self._mail.preferences(user_id)
        items = [item for item in await self._store.mail_notice_items(user_id, after, through, MAX_ITEMS)
                 if prefs.wants(item.kind)]
        user = await self._store.mail_member(user_id, now)
        queued = False
        if items and user is not None:
            letter = notices_letter(items, self._mail.public_base, self._delay_min)
            mail = Mail(user.email, main_kind(items), render(letter, prefs.language), user_id=user_id,
                        dedupe_key=f"notify:{user_id}:{through}", unsubscribe=True)
            queued = await self._mail.enqueue(mail)
            log.info("mail.notices", user=user_id, notifications=len(items), queued=queued)
        await self._store.finish_mail_notices(user_id, through, now if items else None)
        return 1 if queued else 0
