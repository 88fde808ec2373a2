"""AccountService: register, log in (throttled), authenticate a token, log out."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chat.accounts.emails import EmailProblem, canonical_email, legacy_email
from chat.accounts.names import is_reserved_name
from chat.accounts.password_rules import common_passwords, password_problem
from chat.accounts.passwords import Passwords
from chat.accounts.search_keys import search_key
from chat.accounts.throttle import Limits, Throttle
from chat.accounts.two_factor import Setup, TwoFactor
from chat.accounts.zones import ZONE_PROBLEM, is_time_zone
from chat.clock import Clock
from chat.config import Settings
from chat.errors import (Busy, ChatError, Conflict, EmailTaken, GuestScope, InvalidInput, SecondFactorRequired,
                         Unauthorized)
from chat.models import STAFF_ROLES, ProfileChanges, Role, User
from chat.store.port import Store
from chat.text import is_clean

MAX_NAME_CHARS = 64
MAX_USER_AGENT_CHARS = 200
# A session's last-seen time is written at most this often (per node).
SEEN_EVERY_MS = 5 * 60_000
# A guest's password hash: no argon2 hash, so nothing verifies against it.
UNUSABLE_PASSWORD_HASH = "!guest"
# A deleted account's (chat/store/deletion.py): likewise.
DELETED_PASSWORD_HASH = "!deleted"


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    token: str  # shown to the client once; only its hash is stored


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def display_name_problem(name: str, role: Role) -> str | None:
    """Why a (trimmed) display name is refused; the rule registration and profiles share."""
    if not 1 <= len(name) <= MAX_NAME_CHARS or not is_clean(name) or not name.isprintable():
        return f"must be 1-{MAX_NAME_CHARS} printable characters"
    if role not in STAFF_ROLES and is_reserved_name(name):
        return "is reserved for the platform's staff; choose another name"
    return None


async def find_account(store: Store, email: str) -> tuple[User, str] | None:
    """The account and password hash of an address, as canonical_email spells it, or as it was
    stored before that rule existed (chat/accounts/emails.py)."""
    try:
        found = await store.user_credentials(canonical_email(email))
    except EmailProblem:
        found = None
    if found is None and len(email) <= 1024:
        found = await store.user_credentials(legacy_email(email))
    return found


class AccountService:
    def __init__(
        self,
        store: Store,
        passwords: Passwords,
        clock: Clock,
        *,
        session_ttl_s: int,
        limits: Limits,
        on_session_ended: Callable[[int, bytes], None] | None = None,
        staff_two_factor: bool = False,
    ) -> None:
        """`on_session_ended(user_id, token_hash)` runs after a session was deleted from the
        store (the node closes that session's WebSockets: Hub.end_session).
        `staff_two_factor`: staff need two-factor sign-in for staff actions (`two_factor`)."""
        self._store = store
        self._passwords = passwords
        self._clock = clock
        self.two_factor = TwoFactor(store, clock, staff_required=staff_two_factor,
                                    wrong_codes_max=limits.login_failures_max,
                                    window_s=limits.login_window_s)
        self._session_ttl_ms = session_ttl_s * 1000
        self._throttle = Throttle(store, clock, limits)
        self._on_session_ended = on_session_ended
        self._login_checks: list[Callable[[User], Awaitable[None]]] = []
        self._seen: dict[bytes, int] = {}  # session → when this node last wrote its last-seen
        common_passwords()  # read the list at start, not during a request

    @classmethod
    def from_settings(cls, store: Store, clock: Clock, settings: Settings,
                      on_session_ended: Callable[[int, bytes], None] | None = None) -> AccountService:
        passwords = Passwords(settings.argon2_profile, workers=settings.password_hash_workers,
                              max_waiting=settings.password_hash_queue)
        limits = Limits(
            login_failures_max=settings.login_failures_max,
            login_address_failures_max=settings.login_address_failures_max,
            login_window_s=settings.login_window_s,
            login_delay_step_s=settings.login_delay_step_s,
            login_delay_max_s=settings.login_delay_max_s,
            register_per_address_max=settings.register_per_address_max,
            register_window_s=settings.register_window_s,
            guest_per_address_max=settings.guest_per_address_max,
            guest_window_s=settings.guest_window_s,
        )
        return cls(store, passwords, clock, session_ttl_s=settings.session_ttl_days * 86400,
                   limits=limits, on_session_ended=on_session_ended,
                   staff_two_factor=settings.admin_two_factor == "required")

    async def register(
        self, email: str, password: str, display_name: str, role: Role = "member",
        *, address: str | None = None, time_zone: str | None = None,
        admit: Callable[[], Awaitable[None]] | None = None, user_agent: str | None = None,
    ) -> Session:
        """Create an account and a first session. `time_zone` is the member's IANA zone (the
        browser's), None when unknown. `admit` is awaited once the fields are valid, before
        anything is counted; what it raises refuses the registration (the registration
        challenge: chat/accounts/challenge.py). Raises InvalidInput, EmailTaken, RateLimited
        (too many registrations from `address`) or Busy."""
        display_name = display_name.strip()
        problems = {}
        typed = email
        try:
            email = canonical_email(email)
        except EmailProblem as exc:
            problems["email"] = str(exc)
        if problem := password_problem(password):
            problems["password"] = problem
        if problem := display_name_problem(display_name, role):
            problems["display_name"] = problem
        if time_zone is not None and not is_time_zone(time_zone):
            problems["time_zone"] = ZONE_PROBLEM
        if problems:
            raise InvalidInput("some fields are not valid", details=problems)
        # The hash's place first: a full pool refuses before the proof is spent or counted.
        # Held only across those two (one round trip each) and the hash: the lookup below
        # waits outside it (a taken email costs a hash, after a proof; docs/reliability.md 15).
        with self._passwords.slot():
            if admit is not None:
                await admit()
            if address is not None:
                await self._throttle.registration(address)
            password_hash = await self._passwords.hash(password, reserved=True)
        # Also as typed: an account stored before the email rules may be spelt so.
        if await find_account(self._store, typed) is not None:
            raise EmailTaken("an account with this email exists")
        user = await self._store.create_user(
            email, display_name, password_hash, role, self._clock.now_ms()
        )
        # A second write, not part of create_user: if it fails, the zone stays unknown (shown
        # as nothing) and the next node start writes the search key.
        await self._store.update_profile(user.user_id, ProfileChanges(
            time_zone=time_zone, search_key=search_key(display_name)))
        return await self._new_session(user, address=address, user_agent=user_agent)

    async def join_as_guest(self, webinar_id: str, display_name: str, *, address: str,
                            expires_ms: int) -> Session:
        """A guest of one webinar (docs/protocol.md, "Guests (webinars)") and their session, which
        ends at `expires_ms` (or the members' session lifetime, whichever comes first). The caller
        checked the webinar takes guests. Raises InvalidInput (the members' name rules, staff
        names refused) or RateLimited (too many guests from `address`)."""
        display_name = display_name.strip()
        if problem := display_name_problem(display_name, "member"):
            raise InvalidInput("some fields are not valid", details={"display_name": problem})
        await self._throttle.guest(address)
        # No address and no password: the placeholder can never be typed as an email (it has
        # no "@", and logins never look at guests), the hash is no hash (verifies nothing).
        placeholder = f"guest:{secrets.token_hex(16)}"
        now_ms = self._clock.now_ms()
        user = await self._store.create_guest(webinar_id, placeholder, display_name,
                                              UNUSABLE_PASSWORD_HASH, now_ms)
        token = secrets.token_urlsafe(32)
        await self._store.create_session(token_hash(token), user.user_id,
                                         min(expires_ms, now_ms + self._session_ttl_ms))
        return Session(user, token)

    async def login(self, email: str, password: str, address: str, code: str | None = None, *,
                    user_agent: str | None = None) -> Session:
        """A new session for valid credentials, and for an account with two-factor sign-in a
        valid `code` (TOTP or recovery code: chat/accounts/two_factor.py). Raises Unauthorized
        (the same for an unknown email and a wrong password; a wrong code counts as a failed
        attempt too), SecondFactorRequired (right password, no code: not counted), RateLimited
        after too many failures from this address for this account, or Busy
        (chat/accounts/throttle.py)."""
        try:
            account = canonical_email(email)
        except EmailProblem:
            account = legacy_email(email)[:1024]
        self._passwords.refuse_if_full()  # before the attempt is counted
        attempt = await self._throttle.login(account, address)
        found = await find_account(self._store, email)
        try:
            ok = await self._passwords.verify(found[1] if found else None, password)
        except Busy:
            await attempt.abandoned()
            raise
        if not ok or found is None:
            raise Unauthorized("wrong email or password")
        if await self.two_factor.enabled(found[0].user_id):
            if code is None:
                await attempt.abandoned()  # forgives this attempt only, never earlier failures
                raise SecondFactorRequired("enter the code from your authenticator app or a recovery code")
            if not await self.two_factor.verify(found[0].user_id, code):
                raise Unauthorized("wrong code")
        await attempt.succeeded()
        session = await self._new_session(found[0], address=address, user_agent=user_agent)
        # Checked after the session exists: a ban recorded meanwhile either is seen here or
        # finds this session when it ends the member's sessions.
        try:
            await self.check_standing(session.user)
        except ChatError:
            await self._end_session(token_hash(session.token))
            raise
        return session

    def check_logins(self, check: Callable[[User], Awaitable[None]]) -> None:
        """Every login with the right password also passes `check`, which raises the ChatError
        that refuses it (a suspension or ban: chat/moderation/)."""
        self._login_checks.append(check)

    async def check_standing(self, user: User) -> None:
        """Run the login checks (check_logins) for `user`: raises what refuses a login (a
        suspension or ban in force). Also asked before an account change made signed out."""
        for check in self._login_checks:
            await check(user)

    async def end_sessions_of(self, user_id: int, keep: bytes | None = None) -> int:
        """End every session of a member but `keep` (a token hash), each through
        _end_session, so its sockets close on every node; how many. The one way a member's
        sessions end together (password reset and change, moderation, ending the others)."""
        infos = await self._store.user_sessions(user_id, self._clock.now_ms())
        keys = [info.token_hash for info in infos if info.token_hash != keep]
        for key in keys:
            await self._end_session(key)
        return len(keys)

    async def confirm_identity(self, user: User, password: str, code: str | None,
                               address: str) -> None:
        """For an act that needs more than a session (setting two-factor up or turning it off,
        changing the address or the password, deleting the account): the password, and a code when two-factor is on, counted by the login
        throttle like a login. Raises Unauthorized, SecondFactorRequired (no code given: not
        counted), RateLimited or Busy."""
        if user.guest_of is not None:
            raise GuestScope("a webinar's guest has no password")
        attempt = await self._throttle.login(user.email, address)
        found = await self._store.user_credentials(user.email)
        try:
            ok = await self._passwords.verify(found[1] if found else None, password)
        except Busy:
            await attempt.abandoned()
            raise
        if not ok or found is None or found[0].user_id != user.user_id:
            raise Unauthorized("wrong password")
        if await self.two_factor.enabled(user.user_id):
            if code is None:
                await attempt.abandoned()
                raise SecondFactorRequired("enter the code from your authenticator app or a recovery code")
            if not await self.two_factor.verify(user.user_id, code):
                raise Unauthorized("wrong code")
        await attempt.succeeded()

    async def setup_two_factor(self, user: User, password: str, address: str) -> Setup:
        """Begin setting up two-factor sign-in: the password asked first (confirm_identity),
        so a stolen session cannot lock its owner out. Raises Conflict when it is on, and what
        confirm_identity raises."""
        if await self.two_factor.enabled(user.user_id):
            raise Conflict("two-factor sign-in is already on")
        await self.confirm_identity(user, password, None, address)
        return await self.two_factor.setup(user)

    async def disable_two_factor(self, user: User, password: str, code: str | None,
                                 address: str) -> None:
        """Turn two-factor sign-in off: the password and a code asked (confirm_identity)."""
        await self.confirm_identity(user, password, code, address)
        await self.two_factor.disable(user)

    async def remove(self, user: User) -> bool:
        """Delete the account (chat/store/deletion.py): its row blanked, its personal rows gone,
        every session ended (sockets closed on every node). False when it was already gone.
        The caller confirmed the member's identity (chat/accounts/deletion.py)."""
        if user.guest_of is not None:
            raise GuestScope("a webinar's guest has no account to delete")
        ended = await self._store.delete_account(
            user.user_id, f"deleted:{secrets.token_hex(16)}", DELETED_PASSWORD_HASH,
            self._clock.now_ms())
        if ended is None:
            return False
        if self._on_session_ended is not None:
            for session_key in ended:
                self._on_session_ended(user.user_id, session_key)
        return True

    def close(self) -> None:
        """Stop the hashing pool (the node's lifespan ends)."""
        self._passwords.close()

    async def authenticate(self, token: str | None) -> User:
        """The user of a live session token. Raises Unauthorized."""
        if not token or len(token) > 256:
            raise Unauthorized("log in first")
        key, now_ms = token_hash(token), self._clock.now_ms()
        user = await self._store.session_user(key, now_ms)
        if user is None:
            raise Unauthorized("the session is not valid; log in again")
        if now_ms - self._seen.get(key, 0) >= SEEN_EVERY_MS:
            if len(self._seen) > 100_000:
                self._seen.clear()
            self._seen[key] = now_ms
            await self._store.touch_session(key, now_ms)
        return user

    async def logout(self, token: str) -> None:
        """End the token's session: HTTP refuses it from now on, and its WebSockets close
        (on every node) with close code SESSION_ENDED."""
        await self._end_session(token_hash(token))

    async def end_session(self, session_key: bytes) -> None:
        """End a session by its key (token_hash): its sockets close on every node."""
        await self._end_session(session_key)

    @property
    def passwords(self) -> Passwords:
        return self._passwords

    async def _end_session(self, session_key: bytes) -> None:
        """The one way a session ends, so whatever ends one also closes its sockets."""
        user_id = await self._store.delete_session(session_key)
        if user_id is not None and self._on_session_ended is not None:
            self._on_session_ended(user_id, session_key)

    async def _new_session(self, user: User, *, address: str | None = None,
                           user_agent: str | None = None) -> Session:
        """A session, with what the member's session list shows of it: when, which browser
        (its User-Agent, trimmed) and the address."""
        token = secrets.token_urlsafe(32)
        now_ms = self._clock.now_ms()
        agent = "".join(c for c in user_agent or "" if c.isprintable())[:MAX_USER_AGENT_CHARS] or None
        await self._store.create_session(
            token_hash(token), user.user_id, now_ms + self._session_ttl_ms,
            created_ms=now_ms, user_agent=agent, address=address)
        return Session(user, token)

    async def create_admin(self, email: str, password: str, display_name: str) -> User:
        """Register an admin account (CLI); an existing account of that email is promoted."""
        existing = await find_account(self._store, email)
        if existing is not None:
            await self._store.set_role(existing[0].user_id, "admin")
            await self._store.set_email_verified(existing[0].user_id, self._clock.now_ms())
            return existing[0]
        session = await self.register(email, password, display_name, role="admin")
        await self._store.set_email_verified(session.user.user_id, self._clock.now_ms())
        await self._end_session(token_hash(session.token))
        return session.user
