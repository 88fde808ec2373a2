"""Two-factor sign-in with TOTP (RFC 6238 through pyotp: 30-second steps, 6 digits, the step
before and after accepted too, a step never accepted twice) and single-use recovery codes
(docs/protocol.md, "Two-factor sign-in"; docs/decisions.md, "Two-factor sign-in").

Setting up keeps a pending secret; a code from it enables two-factor and yields ten recovery
codes, shown once (the store keeps their hashes). While the operator requires it
(ECOLINK_ADMIN_TWO_FACTOR=required), staff without two-factor are refused every staff action:
`TwoFactor.check_staff` is the one check admin and moderation routes call."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
import segno

from chat.clock import Clock
from chat.errors import Conflict, InvalidInput, RateLimited, TwoFactorSetupRequired
from chat.models import STAFF_ROLES, User
from chat.store.port import Store

STEP_S = 30
DIGITS = 6
WINDOW_STEPS = 1  # the step before and the one after the current one are accepted too
RECOVERY_CODES = 10
# No 0/o, 1/l/i: a code is read off paper. Ten of 31 symbols: ~49.5 bits each.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CHARS = 10
MAX_CODE_CHARS = 32
ISSUER = "EcoLink"


@dataclass(frozen=True, slots=True)
class Setup:
    """A pending secret as the member's authenticator app takes it: the base32 secret to type,
    the otpauth:// URI, and that URI as a QR code (an SVG document)."""

    secret: str
    uri: str
    qr_svg: str


def normalise_code(code: str) -> str:
    """A code as typed, without spaces and dashes, lower case ("123 456", "ABCDE-FGHJK")."""
    return "".join(code.split()).replace("-", "").lower()


def recovery_hash(user_id: int, code: str) -> str:
    """What the store keeps of a recovery code: the codes are random (~49 bits), so a plain
    SHA-256 (salted by the user id) is as good as a slow hash here."""
    return hashlib.sha256(f"{user_id}:{normalise_code(code)}".encode()).hexdigest()


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CHARS))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def matching_step(secret: str, code: str, now_s: float) -> int | None:
    """The time step (within the window around `now_s`) whose TOTP code is `code`, else None."""
    code = normalise_code(code)
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    current = int(now_s // STEP_S)
    for step in range(current - WINDOW_STEPS, current + WINDOW_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


class TwoFactor:
    def __init__(self, store: Store, clock: Clock, *, staff_required: bool,
                 wrong_codes_max: int = 5, window_s: int = 900) -> None:
        """`wrong_codes_max` wrong codes per `window_s` (from any address) stop regenerating
        recovery codes for the rest of the window."""
        self._store = store
        self._clock = clock
        self._staff_required = staff_required
        self._wrong_codes_max = wrong_codes_max
        self._window_ms = window_s * 1000

    def required_for(self, user: User) -> bool:
        """Whether the operator requires two-factor of this user (staff, when required)."""
        return self._staff_required and user.guest_of is None and user.role in STAFF_ROLES

    async def enabled(self, user_id: int) -> bool:
        state = await self._store.two_factor_state(user_id)
        return state is not None and state.enabled

    async def status(self, user: User) -> dict[str, object]:
        """What `me` and the setup section show: {enabled, required, recovery_codes_left}."""
        state = await self._store.two_factor_state(user.user_id)
        enabled = state is not None and state.enabled
        return {"enabled": enabled, "required": self.required_for(user),
                "recovery_codes_left": state.recovery_codes_left if state and enabled else 0}

    async def check_staff(self, user: User) -> None:
        """The check every staff action makes first (admin routes, moderation): raises
        TwoFactorSetupRequired (403 two_factor_setup_required) for staff without two-factor
        while the operator requires it; nothing otherwise (the role checks stay the caller's)."""
        if self.required_for(user) and not await self.enabled(user.user_id):
            raise TwoFactorSetupRequired(
                "staff actions need two-factor sign-in: set it up in your account first")

    async def setup(self, user: User) -> Setup:
        """A new pending secret (replacing an unconfirmed one). Raises Conflict when two-factor
        is already on (disable it first)."""
        secret = pyotp.random_base32()
        if not await self._store.begin_two_factor(user.user_id, secret, self._clock.now_ms()):
            raise Conflict("two-factor sign-in is already on")
        # The account's name in the app: the email for members (only they see this page).
        uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).provisioning_uri(
            name=user.email, issuer_name=ISSUER)
        svg = segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")
        return Setup(secret, uri, svg)

    async def enable(self, user: User, code: str) -> list[str]:
        """Turn on the pending secret with a current code from it; the ten recovery codes
        (shown once). Raises InvalidInput for a wrong code, Conflict when nothing is pending."""
        state = await self._store.two_factor_state(user.user_id)
        if state is None or state.enabled:
            raise Conflict("set up two-factor sign-in first" if state is None
                           else "two-factor sign-in is already on")
        step = matching_step(state.secret, code, self._clock.now_ms() / 1000)
        if step is None:
            raise InvalidInput("the code is not right", details={"code": "is not the current code"})
        codes = new_recovery_codes()
        hashes = [recovery_hash(user.user_id, c) for c in codes]
        if not await self._store.enable_two_factor(user.user_id, step, hashes, self._clock.now_ms()):
            raise InvalidInput("the code is not right", details={"code": "was already used"})
        return codes

    async def verify(self, user_id: int, code: str) -> bool:
        """Whether `code` is a current TOTP code not used before, or an unused recovery code
        (which is spent). Each is accepted once, across nodes."""
        if len(code) > MAX_CODE_CHARS:
            return False
        state = await self._store.two_factor_state(user_id)
        if state is None or not state.enabled:
            return False
        step = matching_step(state.secret, code, self._clock.now_ms() / 1000)
        if step is not None:
            return await self._store.use_totp_step(user_id, step)
        if len(normalise_code(code)) != RECOVERY_CHARS:
            return False
        return await self._store.use_recovery_code(user_id, recovery_hash(user_id, code),
                                                   self._clock.now_ms())

    async def regenerate(self, user: User, code: str) -> list[str]:
        """New recovery codes (the old ones stop working) for a current code. Raises
        InvalidInput for a wrong code, Conflict when two-factor is off, RateLimited after
        wrong_codes_max wrong codes for this account in the window (from any address)."""
        if not await self.enabled(user.user_id):
            raise Conflict("two-factor sign-in is off")
        key, now_ms = f"2fa:regenerate:{user.user_id}", self._clock.now_ms()
        [(attempts, window_end_ms)] = await self._store.count_attempts([key], now_ms, self._window_ms)
        if attempts > self._wrong_codes_max:
            raise RateLimited("too many wrong codes; try again later",
                              retry_after_s=(window_end_ms - now_ms) / 1000)
        if not await self.verify(user.user_id, code):
            raise InvalidInput("the code is not right", details={"code": "is not right"})
        await self._store.clear_attempts(key)
        codes = new_recovery_codes()
        await self._store.replace_recovery_codes(
            user.user_id, [recovery_hash(user.user_id, c) for c in codes])
        return codes

    async def disable(self, user: User) -> None:
        """Remove the secret and the codes (the caller confirmed the member's identity)."""
        await self._store.disable_two_factor(user.user_id)
