"""Rate limits: a token bucket, one budget per member, and the handshake guard. Time comes in
as a parameter (`now`, monotonic seconds) so tests need no sleeping.

Everything here is per node, in memory (docs/decisions.md, "Abuse limits"): a member spread
over N nodes by the load balancer gets at most N times the budget.
"""

from __future__ import annotations

# What an action costs in tokens of the member's budget (a plain frame costs 1). The costs
# keep an action's price near its work: a replay reads and sends many entries, a thread is
# announced in every room it is listed in, a mention notifies someone else.
REPLAYED_PER_TOKEN = 20  # a `join` with `since` costs 1 more per 20 entries replayed
MENTION_COST = 4  # per member mentioned, on top of the send
HTTP_WRITE_COST = 1  # any authenticated POST/PUT/PATCH/DELETE
THREAD_COST_PER_ROOM = 10  # a topic or news post, per room it is listed in
DIRECT_COST = 10  # opening a direct conversation, adding a member to one
SEARCH_COST = 2  # a search, over HTTP or a `search` frame (which pays 1 of it as a frame)
# Buckets kept before full (idle) ones are forgotten; a full bucket equals a new one.
SWEEP_AT = 10_000


class TokenBucket:
    __slots__ = ("rate_per_s", "burst", "tokens", "stamp")

    def __init__(self, rate_per_s: float, burst: float, now: float) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.tokens = burst
        self.stamp = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate_per_s)
        self.stamp = now

    def take(self, now: float, cost: float = 1.0) -> bool:
        """Spend `cost` tokens if there are enough; False means "over the limit"."""
        self._refill(now)
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def charge(self, now: float, cost: float) -> None:
        """Spend `cost` tokens whether or not there are enough, for work already done whose
        price was known only afterwards (a replay): the debt, at most one burst, delays what
        comes next."""
        self._refill(now)
        self.tokens = max(-self.burst, self.tokens - cost)

    def full(self, now: float) -> bool:
        return self.tokens + (now - self.stamp) * self.rate_per_s >= self.burst

    def retry_after_s(self, cost: float = 1.0) -> float:
        return max(0.0, (cost - self.tokens) / self.rate_per_s)


class MemberBudgets:
    """One token bucket per member on this node, shared by all of the member's WebSockets and
    HTTP writes. A member's bucket is created on first use and forgotten once full again."""

    def __init__(self, rate_per_s: float, burst: float) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._buckets: dict[int, TokenBucket] = {}

    def bucket(self, user_id: int, now: float) -> TokenBucket:
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= SWEEP_AT:
                self._sweep(now)
            bucket = self._buckets[user_id] = TokenBucket(self.rate_per_s, self.burst, now)
        return bucket

    def take(self, user_id: int, now: float, cost: float) -> float | None:
        """Spend `cost` (capped at the burst, so that every action can pass eventually);
        None if it passed, else the seconds until it would."""
        bucket = self.bucket(user_id, now)
        cost = min(cost, self.burst)
        if bucket.take(now, cost):
            return None
        return bucket.retry_after_s(cost)

    def _sweep(self, now: float) -> None:
        # A bucket still held by a connection is the same object when looked up again only if
        # it stays here; a full one is indistinguishable from a fresh one, so dropping it is exact.
        for user_id in [u for u, b in self._buckets.items() if b.full(now)]:
            del self._buckets[user_id]


class HandshakeGuard:
    """WebSocket handshakes: sockets open per member, and failed handshakes per client address
    in a fixed window (an address over the limit is refused before its credentials are looked
    up)."""

    def __init__(self, max_sockets_per_member: int, max_failures: int, window_s: float) -> None:
        self.max_sockets_per_member = max_sockets_per_member
        self.max_failures = max_failures
        self.window_s = window_s
        self._sockets: dict[int, int] = {}
        self._failures: dict[str, tuple[float, int]] = {}  # address -> (window start, count)

    def refused_for(self, address: str, now: float) -> float | None:
        """None if the address may try; else the seconds until its window ends."""
        start, count = self._failures.get(address, (now, 0))
        if now - start >= self.window_s:
            del self._failures[address]
            return None
        return start + self.window_s - now if count >= self.max_failures else None

    def failed(self, address: str, now: float) -> None:
        if len(self._failures) >= SWEEP_AT:
            self._failures = {a: w for a, w in self._failures.items() if now - w[0] < self.window_s}
        start, count = self._failures.get(address, (now, 0))
        if now - start >= self.window_s:
            start, count = now, 0
        self._failures[address] = (start, count + 1)

    def open(self, user_id: int) -> bool:
        """Count a new socket of the member; False (and nothing counted) if over the cap."""
        count = self._sockets.get(user_id, 0)
        if count >= self.max_sockets_per_member:
            return False
        self._sockets[user_id] = count + 1
        return True

    def closed(self, user_id: int) -> None:
        count = self._sockets.get(user_id, 0) - 1
        if count > 0:
            self._sockets[user_id] = count
        else:
            self._sockets.pop(user_id, None)

    def sockets(self, user_id: int) -> int:
        return self._sockets.get(user_id, 0)
