"""The sender every node runs (docs/operations.md, "Email (SMTP)"): it claims due mails from the
outbox with a lease, sends each over SMTP with aiosmtplib and marks it sent once the server
accepted it.

Failures: the server unreachable, a timeout, a dropped connection or a 4xx answer → tried again
later (the wait doubles from ECOLINK_MAIL_RETRY_BASE_S up to _MAX_S), until
ECOLINK_MAIL_MAX_ATTEMPTS tries, then failed; a 5xx answer (the address or the mail refused for
good) → failed at once. Logs name the mail's id and kind, never its address or words.

Sent once: a mail is marked sent right after the server accepts it, under the claim that sent
it. The one window left is a node that dies between the server's acceptance and the mark: its
lease lapses and another node sends the mail again, with the same Message-ID (which receiving
servers and clients use to drop duplicates). At-least-once there, exactly once everywhere else.

Woken by enqueue on its own node; otherwise it looks again when the next mail falls due, and at
least every ECOLINK_MAIL_POLL_S (mail enqueued on other nodes)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib
import idna
import structlog

from chat.clock import Clock
from chat.config import Settings
from chat.logs import failure
from chat.metrics import Metrics
from chat.models import OutboxMail
from chat.store.port import Store

log = structlog.get_logger("chat.mail")

PRUNE_EVERY_MS = 3_600_000


class Permanent(Exception):
    """The server refused the mail for good (5xx)."""


def envelope_sender(from_header: str) -> str:
    return parseaddr(from_header)[1] or from_header


def message_id_domain(from_header: str) -> str:
    address = envelope_sender(from_header)
    domain = address.rpartition("@")[2]
    return domain if domain and all(c.isalnum() or c in ".-" for c in domain) else "ecolink.invalid"


def smtp_address(address: str) -> str:
    """The address as SMTP carries it: the domain in its ASCII (IDNA) form, so a Unicode domain
    (accounts store `u@例子.中国`) reaches any server; a local part in another script still
    needs the server's SMTPUTF8 (a server without it refuses the mail: failed)."""
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except (idna.IDNAError, UnicodeError, ValueError):
        return address


def build_message(mail: OutboxMail, from_header: str) -> EmailMessage:
    """The MIME message of an outbox row: text and HTML alternatives, a Message-ID made from
    the row's id (the same at every attempt) and Date from when it was queued."""
    message = EmailMessage()
    message["From"] = from_header
    message["To"] = smtp_address(mail.recipient)
    message["Subject"] = mail.subject
    message["Date"] = formatdate(mail.created_ms / 1000, usegmt=True)
    message["Message-ID"] = f"<{mail.mail_id}@{message_id_domain(from_header)}>"
    message["Auto-Submitted"] = "auto-generated"
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


def classify(exc: BaseException) -> tuple[bool, str]:
    """(permanent, reason) of a failed send; the reason holds no address or server text. A
    refused login is the operator's to fix (settings), not the mail's fault: retried."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return False, f"smtp {exc.code} login"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        code = max(codes) if codes else 550
        return code >= 500, f"smtp {code} recipient"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 500 <= exc.code < 600, f"smtp {exc.code}"
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return True, "smtp unsupported"  # e.g. an address needing SMTPUTF8 the server lacks
    if isinstance(exc, (aiosmtplib.SMTPTimeoutError, TimeoutError)):
        return False, "timeout"
    if isinstance(exc, (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError)):
        return False, "unreachable"
    return False, type(exc).__name__


async def send_over_smtp(mail: OutboxMail, s: Settings) -> None:
    """One attempt over SMTP as the settings say, the whole exchange within smtp_timeout_s
    (TimeoutError past it); raises what aiosmtplib raises."""
    password = s.smtp_password.get_secret_value() if s.smtp_password is not None else None
    assert s.smtp_host is not None
    async with asyncio.timeout(s.smtp_timeout_s):
        await aiosmtplib.send(
            build_message(mail, s.smtp_from), sender=envelope_sender(s.smtp_from),
            recipients=[smtp_address(mail.recipient)], hostname=s.smtp_host, port=s.smtp_port,
            username=s.smtp_username, password=password, use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls", timeout=s.smtp_timeout_s)


class MailSender:
    def __init__(self, store: Store, clock: Clock, settings: Settings, metrics: Metrics | None = None) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.metrics = metrics or Metrics()
        self._wake = asyncio.Event()
        self._pruned_ms = 0

    def wake(self) -> None:
        self._wake.set()

    def backoff_ms(self, attempts: int) -> int:
        """The wait before try attempts+1: base · 2^(attempts−1), at most the maximum."""
        base = self.settings.mail_retry_base_s * 2 ** min(max(attempts - 1, 0), 30)
        return int(min(base, self.settings.mail_retry_max_s) * 1000)

    async def attempt(self, mail: OutboxMail) -> str:
        """Sends one claimed mail and records the outcome: "sent", "retry" or "failed"."""
        outcome = await self._attempt(mail)
        self.metrics.mail.labels(outcome).inc()
        return outcome

    async def _attempt(self, mail: OutboxMail) -> str:
        try:
            await send_over_smtp(mail, self.settings)
        except Exception as exc:
            permanent, reason = classify(exc)
            if permanent or mail.attempts >= self.settings.mail_max_attempts:
                await self.store.fail_mail(mail.mail_id, mail.attempts, reason)
                log.warning("mail.failed", mail=mail.mail_id, kind=mail.kind, attempts=mail.attempts, reason=reason)
                return "failed"
            due = self.clock.now_ms() + self.backoff_ms(mail.attempts)
            await self.store.retry_mail(mail.mail_id, mail.attempts, due, reason)
            log.info("mail.retry", mail=mail.mail_id, kind=mail.kind, attempts=mail.attempts, reason=reason)
            return "retry"
        if not await self.store.mark_mail_sent(mail.mail_id, mail.attempts, self.clock.now_ms()):
            log.warning("mail.sent_after_lease", mail=mail.mail_id, kind=mail.kind)
        else:
            log.info("mail.sent", mail=mail.mail_id, kind=mail.kind, attempts=mail.attempts)
        return "sent"

    async def send_claimed(self, claimed: list[OutboxMail]) -> int:
        """Sends a claim's mails one after the other, each lease renewed right before its send;
        one whose claim was lost meanwhile (its lease lapsed and another node took it) is left
        to that node. How many were tried."""
        lease_ms = int(self.settings.mail_lease_s * 1000)
        tried = 0
        for mail in claimed:
            if await self.store.renew_mail_lease(mail.mail_id, mail.attempts, self.clock.now_ms() + lease_ms):
                await self.attempt(mail)
                tried += 1
            else:
                log.info("mail.claim_lost", mail=mail.mail_id, kind=mail.kind)
        return tried

    async def drain(self) -> int:
        """Claims and sends due mails until none is left due; how many were tried."""
        tried = 0
        lease_ms = int(self.settings.mail_lease_s * 1000)
        while True:
            claimed = await self.store.claim_mail(self.clock.now_ms(), lease_ms, self.settings.mail_batch)
            tried += await self.send_claimed(claimed)
            if len(claimed) < self.settings.mail_batch:
                return tried

    async def prune(self) -> int:
        """Deletes the mails done before ECOLINK_MAIL_KEEP_DAYS, at most once an hour; how many."""
        now = self.clock.now_ms()
        if self._pruned_ms and now - self._pruned_ms < PRUNE_EVERY_MS:
            return 0
        self._pruned_ms = now
        pruned = await self.store.prune_mail(now - int(self.settings.mail_keep_days * 86_400_000))
        if pruned:
            log.info("mail.pruned", mails=pruned)
        return pruned

    async def _wait(self) -> None:
        timeout = self.settings.mail_poll_s
        with contextlib.suppress(Exception):
            due = await self.store.next_mail_due_ms()
            if due is not None:
                timeout = min(timeout, max((due - self.clock.now_ms()) / 1000, 0.01))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.drain()
                await self.prune()
            except Exception as exc:
                log.warning("mail.drain_failed", **failure(exc))
            await self._wait()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[MailSender]:
        """Runs the sender while the block runs (nothing when no SMTP host is set: logged once)."""
        if not self.settings.smtp_host:
            log.info("mail.smtp_unset", detail="ECOLINK_SMTP_HOST is not set: mail is queued, not sent")
            yield self
            return
        task = asyncio.create_task(self.run(), name="mail-sender")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
