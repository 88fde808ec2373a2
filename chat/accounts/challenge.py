"""The registration challenge, a proof-of-work (docs/decisions.md, "Registration
proof-of-work"): the server hands out a challenge signed with a key every node shares
(store.server_secret), naming its difficulty in bits and its expiry, and keeps nothing; the
client finds a nonce such that SHA-256("<challenge>:<nonce>") starts with that many zero bits
(about 2**bits hashes, in a Web Worker while the member types) and sends both with the
registration, which spends the challenge in the store so it serves once, on any node.

The challenge is `<bits>.<expires_at_ms>.<random hex>.<signature hex>`; the nonce is 1-20
decimal digits.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import secrets
from dataclasses import dataclass

from chat.clock import Clock
from chat.errors import ProofInvalid, ProofRequired
from chat.store.port import Store

SECRET_NAME = "registration-challenge"
CHALLENGE = re.compile(r"^(\d{1,2})\.(\d{1,16})\.([0-9a-f]{24})\.([0-9a-f]{64})$")
NONCE = re.compile(r"^\d{1,20}$")


@dataclass(frozen=True, slots=True)
class Challenge:
    challenge: str
    bits: int
    expires_at_ms: int


def zero_bits(digest: bytes) -> int:
    """How many zero bits `digest` starts with."""
    count = 0
    for byte in digest:
        if byte:
            return count + 8 - byte.bit_length()
        count += 8
    return count


def work(challenge: str, nonce: str) -> bytes:
    return hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()


def solve(challenge: str, bits: int) -> str:
    """A nonce that solves `challenge` (what the web client's worker does, web/src/pow.js):
    for tests, bots and benchmarks."""
    for n in itertools.count():
        if zero_bits(work(challenge, str(n))) >= bits:
            return str(n)
    raise AssertionError("unreachable")


class Challenges:
    """Issues and checks registration challenges; `bits` 0 turns them off."""

    def __init__(self, store: Store, clock: Clock, *, bits: int, ttl_s: int) -> None:
        self._store = store
        self._clock = clock
        self.bits = bits
        self._ttl_ms = ttl_s * 1000
        self._key: bytes | None = None

    async def _sign(self, payload: str) -> str:
        if self._key is None:
            self._key = await self._store.server_secret(SECRET_NAME, self._clock.now_ms())
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    async def issue(self) -> Challenge | None:
        """A new challenge, or None when registration asks for none."""
        if not self.bits:
            return None
        expires_ms = self._clock.now_ms() + self._ttl_ms
        payload = f"{self.bits}.{expires_ms}.{secrets.token_hex(12)}"
        return Challenge(f"{payload}.{await self._sign(payload)}", self.bits, expires_ms)

    async def spend(self, challenge: str | None, nonce: str | None) -> None:
        """Accept a solved challenge once: raises ProofRequired when there is none (or it
        expired, or was used), ProofInvalid when it is forged or the nonce does not solve it.
        Nothing is written unless it is accepted."""
        if not self.bits:
            return
        if challenge is None or nonce is None:
            raise ProofRequired("registration needs a solved challenge: GET /api/v1/registration/challenge")
        match = CHALLENGE.match(challenge)
        if match is None or NONCE.match(nonce) is None:
            raise ProofInvalid("the challenge or its nonce is malformed")
        bits, expires_ms = int(match[1]), int(match[2])
        payload = challenge.rsplit(".", 1)[0]
        if not hmac.compare_digest(await self._sign(payload), match[4]):
            raise ProofInvalid("this challenge was not issued here")
        if bits < self.bits:
            raise ProofRequired("this challenge is easier than registration asks now; fetch another")
        if zero_bits(work(challenge, nonce)) < bits:
            raise ProofInvalid("the nonce does not solve the challenge")
        now_ms = self._clock.now_ms()
        if expires_ms <= now_ms:
            raise ProofRequired("this challenge expired; fetch another")
        if not await self._store.use_challenge(hashlib.sha256(challenge.encode()).hexdigest(),
                                               expires_ms, now_ms):
            raise ProofRequired("this challenge was used already; fetch another")
