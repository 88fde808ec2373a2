"""Abuse limits on what members post (docs/operations.md, "Limits for new accounts" and
"Spam"): new accounts' smaller send budget, their links to other sites, the direct
conversations they open per day; the same text sent to too many rooms. Moderators and admins
are exempt from all of it.

The new accounts' budget is per node, in memory, like the member budget it adds to
(chat/protocol/ratelimit.py); the direct-conversation cap and the spam check are counted in the
store, so they hold across nodes (docs/decisions.md, "Spam check in the store"): a send reads
the author's recent rooms for its text before the commit; the note of it is written after,
batched, off the send's path.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
import unicodedata
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

import structlog

from chat.clock import Clock
from chat.config import Settings
from chat.errors import LinksNotAllowedYet, RateLimited, Spam
from chat.logs import failure
from chat.models import STAFF_ROLES, User
from chat.protocol.ratelimit import MemberBudgets
from chat.rooms.post_checks import BUDGET, LINKS, SPAM, Noted, Post, PostChecks
from chat.store.port import Store

# A link: a scheme's "//" (or www.) followed by its host; or a Markdown link to "//host".
LINK = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]{0,30}://|\bwww\.|\]\(\s*//)"
                  r"(\[[0-9a-f:.]+\]|[^\s/?#<>\"'`()\[\]\\]+)")
DAY_MS = 86_400_000
Note = tuple[int, str, str, int]  # (user_id, digest, room_id, sent_ms)
log = structlog.get_logger("chat.abuse")
SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Limits:
    new_account_hours: float = 24
    new_account_rate_per_s: float = 0.2
    new_account_burst: float = 5
    new_account_directs_per_day: int = 5
    spam_max_rooms: int = 3
    spam_window_s: int = 600
    spam_min_chars: int = 12

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})


def own_hosts(settings: Settings) -> frozenset[str]:
    """The host names that are this node's own: its public URL's, its bind address, and the
    allowed origins'."""
    urls = [settings.public_url or f"http://{settings.host}:{settings.port}", *settings.allowed_origins]
    return frozenset(host for url in urls if (host := urlsplit(url).hostname))


def link_hosts(text: str) -> set[str]:
    """The host names of the links in `text` (lower case, without port or user)."""
    hosts = set()
    for match in LINK.finditer(text):
        host = match[1].rsplit("@", 1)[-1].rstrip(".,;:!?*_~")
        if match[0].lower().startswith("www."):
            host = "www." + host
        host = host.strip("[]") if host.startswith("[") else host.rsplit(":", 1)[0]
        if host:
            hosts.add(host.lower())
    return hosts


def text_digest(body: str) -> str | None:
    """What the spam check compares: the text with case, width and spacing normalised, hashed;
    None for an empty one."""
    normal = SPACES.sub(" ", unicodedata.normalize("NFKC", body).casefold()).strip()
    return hashlib.sha256(normal.encode()).hexdigest()[:32] if normal else None


def normal_length(body: str) -> int:
    return len(SPACES.sub(" ", body).strip())


class AbuseGuard:
    def __init__(self, store: Store, clock: Clock, limits: Limits, hosts: frozenset[str]) -> None:
        self._store = store
        self._clock = clock
        self.limits = limits
        self._hosts = hosts
        self._budgets = MemberBudgets(limits.new_account_rate_per_s, limits.new_account_burst)
        self._next_prune_ms = 0
        self._notes: list[Note] = []
        self._flushing: asyncio.Task[None] | None = None

    def is_new(self, user: User) -> bool:
        """Whether the new-account limits apply to `user` now."""
        hours = self.limits.new_account_hours
        return (bool(hours) and user.role not in STAFF_ROLES
                and self._clock.now_ms() - user.created_at_ms < hours * 3_600_000)

    def install(self, checks: PostChecks) -> None:
        """Add the limits to the post checks: links first, the spam check with the reads, the
        send budget last (a post refused by anything spends none of it)."""
        checks.add(LINKS, self.check_links)
        checks.add(SPAM, self.check_spam_of)
        checks.add(BUDGET, self.take_budget)

    async def check_links(self, post: Post) -> None:
        """A new account's post (message, edit, topic, news, question): no link to another site
        (LinksNotAllowedYet)."""
        if self.is_new(post.user) and {host for text in post.texts for host in link_hosts(text)} - self._hosts:
            raise LinksNotAllowedYet("new accounts may not post links to other sites yet")

    async def take_budget(self, post: Post) -> None:
        """A new account's post spends its budget on this node (RateLimited when spent); a new
        conversation (no text) spends none."""
        if post.texts and self.is_new(post.user):
            wait_s = self._budgets.take(post.user.user_id, time.monotonic(), 1)
            if wait_s is not None:
                raise RateLimited("new accounts send more slowly; resend it later", retry_after_s=wait_s)

    async def check_spam_of(self, post: Post) -> Noted | None:
        """The spam check of a new post in a room (a message, a topic, a webinar question) on its
        body (its last text: a topic's title differs more easily than its body); what it
        returns records the text once the post is committed."""
        if not post.new or post.room_id is None or not post.texts:
            return None
        note = await self.check_spam(post.user, post.room_id, post.texts[-1])
        return None if note is None else partial(self.noted, note)

    async def check_spam(self, user: User, room_id: str, body: str) -> Note | None:
        """Refuse (Spam) the text when its author sent it to spam_max_rooms other rooms within
        the window (one read); else return what to `noted` once the message is committed.
        Short texts and staff pass unchecked (None)."""
        limits = self.limits
        if not limits.spam_max_rooms or user.role in STAFF_ROLES or normal_length(body) < limits.spam_min_chars:
            return None
        digest = text_digest(body)
        if digest is None:
            return None
        now_ms = self._clock.now_ms()
        since_ms = now_ms - limits.spam_window_s * 1000
        if await self._store.texts_elsewhere(user.user_id, digest, room_id, since_ms) >= limits.spam_max_rooms:
            raise Spam("the same text went to too many rooms; it was not sent")
        return user.user_id, digest, room_id, now_ms

    def noted(self, note: Note | None) -> None:
        """Record a committed message's text for the spam check, after its ack: the notes of
        a moment go to the store together, in one transaction, off the send's path."""
        if note is None:
            return
        self._notes.append(note)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._notes:
            await asyncio.sleep(0)  # the sends committed in this batch join in
            notes, self._notes = self._notes, []
            now_ms = self._clock.now_ms()
            try:
                if now_ms >= self._next_prune_ms:
                    self._next_prune_ms = now_ms + self.limits.spam_window_s * 250
                    await self._store.prune_texts(now_ms - self.limits.spam_window_s * 1000)
                await self._store.note_texts(notes)
            except Exception as exc:
                log.warning("abuse.notes_failed", notes=len(notes), **failure(exc))

    async def settled(self) -> None:
        """Wait until every text noted so far is in the store (tests, shutdown)."""
        while self._flushing is not None and not self._flushing.done():
            await self._flushing

    async def count_direct(self, user: User) -> tuple[str, int] | None:
        """Count a direct conversation a new account opens (RateLimited past the day's cap);
        returns what to forgive if it is not opened after all."""
        if not self.is_new(user):
            return None
        now_ms = self._clock.now_ms()
        key = f"direct:{user.user_id}"
        [(opened, window_end_ms)] = await self._store.count_attempts([key], now_ms, DAY_MS)
        if opened > self.limits.new_account_directs_per_day:
            raise RateLimited("new accounts open few direct conversations a day; try again later",
                              retry_after_s=(window_end_ms - now_ms) / 1000)
        return key, window_end_ms

    async def forgive_direct(self, counted: tuple[str, int] | None) -> None:
        if counted is not None:
            await self._store.forgive_attempts([counted])
