"""Login and registration limits, counted in the store so every node shares them.

Logins (docs/decisions.md, "Login limits"): each attempt is counted atomically *before* its
password is checked, on three keys, and a success takes its count back:
- (account, address): after `login_failures_max` failures in the window, that address may
  not try that account until the window ends (429 with Retry-After). Only whoever failed is
  refused: the owner elsewhere, and everyone else at that address, are not.
- account (from every address) and address (for every account): failures above their
  thresholds slow each further attempt by `login_delay_step_s` per failure, up to
  `login_delay_max_s`, before the password is checked, and never refuse it: a distributed
  guesser pays the delay on every guess, and a right password still logs in.
Registrations: at most `register_per_address_max` per address per window (429); webinar guests
(docs/protocol.md, "Guests (webinars)") likewise, `guest_per_address_max` per address per window.

Addresses are the peer's IP; IPv6 ones are taken per /64, the block one subscriber gets
(RFC 6177), so that a host cannot rotate through its own addresses.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chat.clock import Clock
from chat.errors import RateLimited
from chat.store.port import Store


@dataclass(frozen=True, slots=True)
class Limits:
    login_failures_max: int = 5
    login_address_failures_max: int = 20
    login_window_s: int = 900
    login_delay_step_s: float = 0.5
    login_delay_max_s: float = 5.0
    register_per_address_max: int = 20
    register_window_s: int = 3600
    guest_per_address_max: int = 10
    guest_window_s: int = 3600


def address_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def account_key(email: str) -> str:
    # Hashed: the counters table never holds an email address.
    return hashlib.sha256(email.encode()).hexdigest()[:32]


class LoginAttempt:
    """One counted attempt; the service reports how it ended."""

    def __init__(self, store: Store, pair: tuple[str, int], shared: list[tuple[str, int]]) -> None:
        self._store = store
        self._pair = pair
        self._shared = shared

    async def succeeded(self) -> None:
        await self._store.clear_attempts(self._pair[0])
        await self._store.forgive_attempts(self._shared)

    async def abandoned(self) -> None:
        """The password was never checked (the node was busy): it counts for nothing."""
        await self._store.forgive_attempts([self._pair, *self._shared])


class Throttle:
    def __init__(self, store: Store, clock: Clock, limits: Limits,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._store = store
        self._clock = clock
        self._limits = limits
        self._sleep = sleep

    async def login(self, email: str, address: str) -> LoginAttempt:
        """Count a login attempt before its password is checked. Raises RateLimited if this
        address has failed too often for this account; waits out the slow-down if the account
        or the address has failed often overall."""
        limits, now_ms = self._limits, self._clock.now_ms()
        window_ms = limits.login_window_s * 1000
        account, net = account_key(email), address_key(address)
        pair = f"login:pair:{account}:{net}"
        [(attempts, window_end_ms)] = await self._store.count_attempts([pair], now_ms, window_ms)
        if attempts > limits.login_failures_max:
            raise RateLimited(
                "too many failed logins for this account from your address; try again later",
                retry_after_s=(window_end_ms - now_ms) / 1000)
        keys = [f"login:addr:{net}", f"login:acct:{account}"]
        (by_address, address_end), (by_account, account_end) = await self._store.count_attempts(
            keys, now_ms, window_ms)
        # Counts include attempts in flight, so a concurrent burst is slowed too.
        excess = max(by_address - limits.login_address_failures_max,
                     by_account - limits.login_failures_max, 0)
        delay_s = min(limits.login_delay_max_s, excess * limits.login_delay_step_s)
        if delay_s > 0:
            await self._sleep(delay_s)
        return LoginAttempt(self._store, (pair, window_end_ms),
                            [(keys[0], address_end), (keys[1], account_end)])

    async def registration(self, address: str) -> None:
        """Count a registration (never forgiven: the caller holds its place in the hashing
        pool, so nothing refuses it as Busy after this). Raises RateLimited past the
        per-address limit."""
        limits, now_ms = self._limits, self._clock.now_ms()
        key = f"register:{address_key(address)}"
        [(attempts, window_end_ms)] = await self._store.count_attempts(
            [key], now_ms, limits.register_window_s * 1000)
        if attempts > limits.register_per_address_max:
            raise RateLimited("too many new accounts from your address; try again later",
                              retry_after_s=(window_end_ms - now_ms) / 1000)

    async def guest(self, address: str) -> None:
        """Count a guest joining a webinar. Raises RateLimited past the per-address limit."""
        limits, now_ms = self._limits, self._clock.now_ms()
        [(attempts, window_end_ms)] = await self._store.count_attempts(
            [f"guest:{address_key(address)}"], now_ms, limits.guest_window_s * 1000)
        if attempts > limits.guest_per_address_max:
            raise RateLimited("too many guests from your address; try again later",
                              retry_after_s=(window_end_ms - now_ms) / 1000)
