"""RecoveryService: what a member does to keep their account (docs/protocol.md, "Account
recovery"): verify the address, reset a forgotten password by a mailed link, change the address
and the password, see their sessions and end them.

Links carry a random token; the store keeps its SHA-256 only (chat/store/recovery.py), and a
token works once, until it expires, and only until a newer one of its purpose is sent. Neither
tokens nor addresses are logged. Every session this ends, ends through
AccountService.end_session, so its WebSockets close on every node."""

from __future__ import annotations

import asyncio
import hashlib
import secrets

import structlog

from chat.accounts.emails import EmailProblem, canonical_email
from chat.accounts.password_rules import password_problem
from chat.accounts.recovery_letters import (email_change_letter, email_changed_letter,
                                            email_taken_letter, reset_letter, verify_letter)
from chat.accounts.service import AccountService, find_account
from chat.accounts.throttle import account_key, address_key
from chat.clock import Clock
from chat.config import Settings
from chat.errors import (AlreadyVerified, EmailUnverified, InvalidInput, InvalidToken, NotFound,
                         RateLimited)
from chat.logs import failure
from chat.mail.letters import Letter, render
from chat.mail.service import Mail, MailService
from chat.models import SessionInfo, TokenPurpose, User
from chat.store.port import Store

log = structlog.get_logger("chat.accounts")
MAX_TOKEN_CHARS = 128


def link_hash(token: str) -> str:
    """What the store keeps of a mailed token."""
    return hashlib.sha256(token.encode()).hexdigest()


def session_id(session_key: bytes) -> str:
    """A session's id in the session list (the hash of its token: it signs nothing in)."""
    return session_key.hex()


class RecoveryService:
    def __init__(self, store: Store, clock: Clock, accounts: AccountService, mail: MailService,
                 settings: Settings) -> None:
        self._store = store
        self._clock = clock
        self._accounts = accounts
        self._mail = mail
        self._settings = settings
        self._verified: set[int] = set()  # verified members seen by this node (never undone)
        self._pending: set[asyncio.Task[None]] = set()

    # -- verification ----------------------------------------------------------------------

    async def is_verified(self, user: User) -> bool:
        if user.user_id in self._verified:
            return True
        if await self._store.email_verified_at(user.user_id) is None:
            return False
        self._verified.add(user.user_id)
        return True

    async def check_can_post(self, user: User) -> None:
        """Raises EmailUnverified when the node requires a verified address (setting
        email_verification) and the member's is not; guests have none and are not asked."""
        if self._settings.email_verification != "required" or user.guest_of is not None:
            return
        if not await self.is_verified(user):
            raise EmailUnverified()

    async def registered(self, user: User) -> None:
        """Mail the verification link to a new member."""
        await self._send_verification(user)

    async def resend_verification(self, user: User) -> None:
        """Mail a new verification link (the older one stops working). Raises Conflict
        (already_verified) or RateLimited (verify_resend_max per recovery window)."""
        if await self.is_verified(user):
            raise AlreadyVerified()
        await self._count(f"verify:{user.user_id}", self._settings.verify_resend_max,
                          "too many verification emails; try again later")
        await self._send_verification(user)

    async def verify(self, token: str) -> None:
        """Take a verify link's token. Raises InvalidToken."""
        user_id = await self._store.verify_email(self._hash(token), self._clock.now_ms())
        if user_id is None:
            raise InvalidToken()
        self._verified.add(user_id)

    async def _send_verification(self, user: User) -> None:
        hours = self._settings.email_token_hours
        token = await self._token("verify", user.user_id, user.email, hours * 3_600_000)
        await self._send(user.user_id, user.email, "account_verify",
                         verify_letter(self._mail.public_base, token, hours))

    # -- password reset --------------------------------------------------------------------

    async def request_reset(self, email: str, address: str) -> None:
        """Start a reset for whoever owns `email`: the same answer, after the same work on the
        request's path, whether an account has that address or not. Raises RateLimited past
        reset_per_address_max requests from this address; past reset_per_account_max for one
        address, nothing is mailed (and nothing said)."""
        await self._count(f"reset:addr:{address_key(address)}", self._settings.reset_per_address_max,
                          "too many password reset requests from your address; try again later")
        task = asyncio.get_running_loop().create_task(self._mail_reset(email))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _mail_reset(self, email: str) -> None:
        try:
            try:
                key = canonical_email(email)
            except EmailProblem:
                return
            try:
                await self._count(f"reset:acct:{account_key(key)}",
                                  self._settings.reset_per_account_max, "")
            except RateLimited:
                return
            found = await find_account(self._store, email)
            if found is None:
                return
            user = found[0]
            minutes = self._settings.reset_token_min
            token = await self._token("reset", user.user_id, user.email, minutes * 60_000)
            await self._send(user.user_id, user.email, "account_reset",
                             reset_letter(self._mail.public_base, token, minutes))
        except Exception as exc:
            log.error("accounts.reset_mail_failed", **failure(exc))

    async def reset(self, token: str, password: str, address: str) -> None:
        """Set a new password with a reset link's token; every session of the member ends.
        Raises RateLimited (past reset_per_address_max tries from `address` per window),
        InvalidInput (password rules; the token stays usable) or InvalidToken. A dead token is
        refused before the password is hashed."""
        await self._count(f"reset:confirm:{address_key(address)}", self._settings.reset_per_address_max,
                          "too many password resets from your address; try again later")
        if problem := password_problem(password):
            raise InvalidInput("some fields are not valid", details={"password": problem})
        token_key = self._hash(token)
        if await self._store.live_token_user(token_key, "reset", self._clock.now_ms()) is None:
            raise InvalidToken()
        password_hash = await self._accounts.passwords.hash(password)
        user_id = await self._store.reset_password(token_key, password_hash, self._clock.now_ms())
        if user_id is None:
            raise InvalidToken()
        self._verified.add(user_id)
        await self._accounts.end_sessions_of(user_id)

    # -- change of address and password ----------------------------------------------------

    async def request_email_change(self, user: User, password: str, code: str | None,
                                   new_email: str, address: str) -> None:
        """Mail a confirmation link to `new_email` after confirm_identity (the password, and a
        code with two-factor on); the address changes when the link is confirmed. When an
        account already has `new_email`, that address is told so instead, and the answer is the
        same (it says nothing about who is registered). Raises InvalidInput, RateLimited (past
        verify_resend_max such mails per member per recovery window) and what confirm_identity
        raises."""
        try:
            email = canonical_email(new_email)
        except EmailProblem as exc:
            raise InvalidInput("some fields are not valid", details={"email": str(exc)}) from None
        if email == user.email:
            raise InvalidInput("some fields are not valid", details={"email": "is your address already"})
        await self._accounts.confirm_identity(user, password, code, address)
        await self._count(f"email_change:{user.user_id}", self._settings.verify_resend_max,
                          "too many address changes asked; try again later")
        if await find_account(self._store, new_email) is not None:
            await self._send(None, email, "account_email_taken", email_taken_letter(self._mail.public_base))
            return
        hours = self._settings.email_token_hours
        token = await self._token("email_change", user.user_id, email, hours * 3_600_000)
        await self._send(user.user_id, email, "account_email_change",
                         email_change_letter(self._mail.public_base, token, hours))

    async def change_email(self, token: str) -> None:
        """Apply a change of address with its link's token, and tell the old address. Raises
        InvalidToken, AccountSuspended (a ban or suspension in force: the link stays unused),
        or EmailTaken if the address was taken meanwhile."""
        token_key = self._hash(token)
        user_id = await self._store.live_token_user(token_key, "email_change", self._clock.now_ms())
        if user_id is None:
            raise InvalidToken()
        member = await self._store.user_by_id(user_id)
        if member is not None:
            await self._accounts.check_standing(member)
        changed = await self._store.change_email(token_key, self._clock.now_ms())
        if changed is None:
            raise InvalidToken()
        user_id, old_email = changed
        self._verified.add(user_id)
        await self._send(user_id, old_email, "account_email_changed",
                         email_changed_letter(self._mail.public_base))

    async def change_password(self, user: User, session_key: bytes, current: str, code: str | None,
                              new: str, address: str) -> None:
        """Set a new password after confirm_identity (the current password, and a code with
        two-factor on); the member's other sessions end. Raises InvalidInput and what
        confirm_identity raises."""
        if problem := password_problem(new):
            raise InvalidInput("some fields are not valid", details={"new_password": problem})
        await self._accounts.confirm_identity(user, current, code, address)
        await self._store.set_password_hash(user.user_id, await self._accounts.passwords.hash(new))
        await self._accounts.end_sessions_of(user.user_id, keep=session_key)

    # -- sessions --------------------------------------------------------------------------

    async def sessions(self, user: User) -> list[SessionInfo]:
        return await self._store.user_sessions(user.user_id, self._clock.now_ms())

    async def end_session(self, user: User, sid: str) -> None:
        """End one of the member's sessions by its id. Raises NotFound (not theirs, or gone)."""
        for info in await self.sessions(user):
            if secrets.compare_digest(session_id(info.token_hash), sid):
                await self._accounts.end_session(info.token_hash)
                return
        raise NotFound("no such session")

    async def end_other_sessions(self, user: User, session_key: bytes) -> int:
        """End every session of the member but this one; how many ended."""
        return await self._accounts.end_sessions_of(user.user_id, keep=session_key)

    # -- parts -----------------------------------------------------------------------------

    def _hash(self, token: str) -> str:
        if not 1 <= len(token) <= MAX_TOKEN_CHARS:
            raise InvalidToken()
        return link_hash(token)

    async def _token(self, purpose: TokenPurpose, user_id: int, email: str, ttl_ms: int) -> str:
        token = secrets.token_urlsafe(32)
        now_ms = self._clock.now_ms()
        await self._store.create_account_token(link_hash(token), purpose, user_id, email,
                                               now_ms, now_ms + ttl_ms)
        return token

    async def _send(self, user_id: int | None, to: str, kind: str, letter: Letter) -> None:
        lang = await self._mail.mail_language(user_id) if user_id is not None else None
        await self._mail.enqueue(Mail(to=to, kind=kind, rendered=render(letter, lang), user_id=user_id))

    async def _count(self, key: str, limit: int, message: str) -> None:
        now_ms, window_ms = self._clock.now_ms(), self._settings.recovery_window_s * 1000
        [(attempts, window_end_ms)] = await self._store.count_attempts([key], now_ms, window_ms)
        if attempts > limit:
            raise RateLimited(message, retry_after_s=(window_end_ms - now_ms) / 1000)

    async def drain(self) -> None:
        """Wait for the reset mails still being prepared (the node stops; tests)."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

