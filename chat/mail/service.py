"""The outbox every part of the server sends email through (`node.mail`).

`enqueue(Mail(...))` writes the rendered mail to the store's outbox and returns once it is
durable; the sender (chat/mail/sender.py) on some node sends it later, retrying through SMTP
outages, so a caller never waits for SMTP and a node restart loses nothing. A mail with
`unsubscribe=True` gets the List-Unsubscribe headers of RFC 2369/8058 and an unsubscribe line
in both bodies, for its (user_id, kind). Members' preferences and the language of their mail
are read here too, so producers ask one service (`wants`, `mail_language`)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from chat.clock import Clock
from chat.errors import BadRequest, InvalidInput
from chat.mail import unsubscribe
from chat.mail.letters import Lang, Rendered, with_footer
from chat.models import MAIL_DIGEST_ROOMS_MAX, MailPreferences, OutboxMail
from chat.store.port import Store

log = structlog.get_logger("chat.mail")

UNSUBSCRIBE_LINE = "Stop these emails / 不再接收此类邮件"
MAX_RECIPIENT = 320


@dataclass(frozen=True, slots=True)
class Mail:
    """An email to enqueue. `kind` names what it is (direct, mention, reply, webinar_reminder,
    digest, verify, reset, …); `user_id` the member it is for, if any; a `dedupe_key` makes a
    second enqueue of the same mail a no-op (e.g. "digest:12:2026-12-07"). `unsubscribe` adds
    the one-click unsubscribe for (user_id, kind): kind must then be one a member can turn off."""

    to: str
    kind: str
    rendered: Rendered
    user_id: int | None = None
    dedupe_key: str | None = None
    unsubscribe: bool = False


class MailService:
    def __init__(self, store: Store, clock: Clock, public_base: str) -> None:
        self.store = store
        self.clock = clock
        self.public_base = public_base
        self._key: bytes | None = None
        self._wake: Callable[[], None] = lambda: None

    def on_enqueued(self, wake: Callable[[], None]) -> None:
        """Called after each enqueue (the sender on this node wakes)."""
        self._wake = wake

    async def _unsubscribe_key(self) -> bytes:
        if self._key is None:
            self._key = await self.store.server_secret(unsubscribe.SECRET_NAME, self.clock.now_ms())
        return self._key

    async def unsubscribe_url(self, user_id: int, kind: str) -> str:
        """The signed one-click link that turns `kind` off for the member (any node checks it)."""
        return unsubscribe.link(self.public_base, await self._unsubscribe_key(), user_id, kind)

    async def check_unsubscribe(self, user_id: int, kind: str, token: str) -> bool:
        return unsubscribe.check(await self._unsubscribe_key(), user_id, kind, token)

    async def enqueue(self, mail: Mail) -> bool:
        """Queues the mail; True once it is in the outbox (durable), False when a mail with the
        same dedupe_key already was (nothing written)."""
        if not mail.to or len(mail.to) > MAX_RECIPIENT or "@" not in mail.to or "\n" in mail.to or "\r" in mail.to:
            raise ValueError("not an email address")
        rendered = mail.rendered
        headers: dict[str, str] = {}
        if mail.unsubscribe:
            if mail.user_id is None:
                raise ValueError("an unsubscribe link needs the member's user_id")
            url = await self.unsubscribe_url(mail.user_id, mail.kind)
            headers["List-Unsubscribe"] = f"<{url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            rendered = with_footer(rendered, UNSUBSCRIBE_LINE, url)
        now = self.clock.now_ms()
        row = OutboxMail(mail_id=secrets.token_hex(16), recipient=mail.to, kind=mail.kind,
                         user_id=mail.user_id, dedupe_key=mail.dedupe_key, subject=rendered.subject,
                         text=rendered.text, html=rendered.html, headers=headers, status="queued",
                         attempts=0, due_ms=now, lease_until_ms=0, created_ms=now)
        queued = await self.store.enqueue_mail(row)
        if queued:
            log.info("mail.queued", mail=row.mail_id, kind=mail.kind)
            self._wake()
        return queued

    # -- preferences ----------------------------------------------------------------------------

    async def preferences(self, user_id: int) -> MailPreferences:
        return await self.store.mail_preferences(user_id)

    async def wants(self, user_id: int, kind: str) -> bool:
        """Whether the member takes mail of this kind (their preferences; kinds without a
        switch, like password resets, always)."""
        return (await self.store.mail_preferences(user_id)).wants(kind)

    async def mail_language(self, user_id: int) -> Lang | None:
        """The language of the member's mail: the one their client last set (the web client
        sends it when the member picks a language), else None: both, English first."""
        return (await self.store.mail_preferences(user_id)).language

    async def set_preferences(self, user_id: int, prefs: MailPreferences,
                              readable_room: Callable[[str], object] | None = None) -> MailPreferences:
        """Stores the member's preferences and returns them as stored. Digest rooms: at most
        MAIL_DIGEST_ROOMS_MAX, no repeats (422 otherwise)."""
        if len(prefs.digest_rooms) > MAIL_DIGEST_ROOMS_MAX:
            raise InvalidInput(f"at most {MAIL_DIGEST_ROOMS_MAX} digest rooms")
        if len(set(prefs.digest_rooms)) != len(prefs.digest_rooms):
            raise InvalidInput("a digest room is listed twice")
        await self.store.set_mail_preferences(user_id, prefs, self.clock.now_ms())
        return await self.store.mail_preferences(user_id)

    async def unsubscribe(self, user_id: int, kind: str, token: str) -> bool:
        """A one-click unsubscribe: the kind turned off when the token is this (user, kind)'s
        (400 bad_request otherwise, nothing changed). True when it was on."""
        if kind not in unsubscribe.UNSUBSCRIBE_KINDS or not await self.check_unsubscribe(user_id, kind, token):
            raise BadRequest("this unsubscribe link is not valid")
        changed = await self.store.turn_mail_off(user_id, kind, self.clock.now_ms())
        log.info("mail.unsubscribed", user=user_id, kind=kind, changed=changed)
        return changed
