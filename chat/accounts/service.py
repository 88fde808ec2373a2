"""AccountService: register, log in (throttled), authenticate a token, log out."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from chat.accounts.passwords import Passwords
from chat.clock import Clock
from chat.errors import InvalidInput, RateLimited, Unauthorized
from chat.models import Role, User
from chat.store.port import Store

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
MAX_NAME_CHARS = 64
# Failures from one address may cover several accounts (an office behind one NAT), so the
# per-address limit is a multiple of the per-account one.
ADDRESS_LIMIT_FACTOR = 4


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    token: str  # shown to the client once; only its hash is stored


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


class AccountService:
    def __init__(
        self,
        store: Store,
        passwords: Passwords,
        clock: Clock,
        *,
        session_ttl_s: int,
        login_failures_max: int,
        login_window_s: int,
        on_session_ended: Callable[[int, bytes], None] | None = None,
    ) -> None:
        """`on_session_ended(user_id, token_hash)` runs after a session was deleted from the
        store (the node closes that session's WebSockets: Hub.end_session)."""
        self._store = store
        self._passwords = passwords
        self._clock = clock
        self._session_ttl_ms = session_ttl_s * 1000
        self._failures_max = login_failures_max
        self._window_ms = login_window_s * 1000
        self._on_session_ended = on_session_ended

    async def register(self, email: str, password: str, display_name: str, role: Role = "member") -> Session:
        """Create an account and a first session. Raises InvalidInput or EmailTaken."""
        email = normalise_email(email)
        display_name = display_name.strip()
        problems = {}
        if not EMAIL_RE.match(email):
            problems["email"] = "not an email address"
        if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
            problems["password"] = f"must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters"
        if not 1 <= len(display_name) <= MAX_NAME_CHARS or not display_name.isprintable():
            problems["display_name"] = f"must be 1-{MAX_NAME_CHARS} printable characters"
        if problems:
            raise InvalidInput("some fields are not valid", details=problems)
        password_hash = await self._passwords.hash(password)
        user = await self._store.create_user(
            email, display_name, password_hash, role, self._clock.now_ms()
        )
        return await self._new_session(user)

    async def login(self, email: str, password: str, address: str) -> Session:
        """A new session for valid credentials. Raises Unauthorized (the same for an unknown
        email and a wrong password) or RateLimited after too many recent failures."""
        email = normalise_email(email)
        keys = (f"email:{hashlib.sha256(email.encode()).hexdigest()}", f"addr:{address}")
        limits = (self._failures_max, self._failures_max * ADDRESS_LIMIT_FACTOR)
        now_ms = self._clock.now_ms()
        since_ms = now_ms - self._window_ms
        for key, limit in zip(keys, limits, strict=True):
            if await self._store.count_login_failures(key, since_ms) >= limit:
                raise RateLimited(
                    "too many failed logins; try again later", retry_after_s=self._window_ms / 1000
                )
        found = await self._store.user_credentials(email)
        ok = await self._passwords.verify(found[1] if found else None, password)
        if not ok or found is None:
            for key in keys:
                await self._store.record_login_failure(key, now_ms)
            raise Unauthorized("wrong email or password")
        await self._store.clear_login_failures(keys[0])
        return await self._new_session(found[0])

    async def authenticate(self, token: str | None) -> User:
        """The user of a live session token. Raises Unauthorized."""
        if not token or len(token) > 256:
            raise Unauthorized("log in first")
        user = await self._store.session_user(token_hash(token), self._clock.now_ms())
        if user is None:
            raise Unauthorized("the session is not valid; log in again")
        return user

    async def logout(self, token: str) -> None:
        """End the token's session: HTTP refuses it from now on, and its WebSockets close
        (on every node) with close code SESSION_ENDED."""
        await self._end_session(token_hash(token))

    async def _end_session(self, session_key: bytes) -> None:
        """The one way a session ends, so whatever ends one also closes its sockets."""
        user_id = await self._store.delete_session(session_key)
        if user_id is not None and self._on_session_ended is not None:
            self._on_session_ended(user_id, session_key)

    async def _new_session(self, user: User) -> Session:
        token = secrets.token_urlsafe(32)
        await self._store.create_session(
            token_hash(token), user.user_id, self._clock.now_ms() + self._session_ttl_ms
        )
        return Session(user, token)

    async def create_admin(self, email: str, password: str, display_name: str) -> User:
        """Register an admin account (CLI); an existing account of that email is promoted."""
        existing = await self._store.user_credentials(normalise_email(email))
        if existing is not None:
            await self._store.set_role(existing[0].user_id, "admin")
            return existing[0]
        session = await self.register(email, password, display_name, role="admin")
        await self._end_session(token_hash(session.token))
        return session.user
