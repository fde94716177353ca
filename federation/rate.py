"""Rate limits, sans-IO: token buckets keyed by peer, fed the time by the caller.

A bucket holds up to ``burst`` tokens and gains ``per_second`` tokens each second; taking one
either succeeds or says how long until one is there, which the refusal passes on as a retry
hint. A peer that behaves never notices: a burst covers its normal pace.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_KEYS = 10_000  # buckets remembered; full ones (the same as new) are dropped past it


@dataclass
class TokenBucket:
    burst: float
    per_second: float
    tokens: float = -1.0  # full until first used
    at: float = 0.0

    def take(self, now: float) -> float:
        """0.0 if a token was taken; otherwise the seconds until one is there."""
        if self.tokens < 0:
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.per_second)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.per_second

    def full(self, now: float) -> bool:
        return self.tokens < 0 or self.tokens + (now - self.at) * self.per_second >= self.burst


@dataclass
class RateLimit:
    """One bucket per key (a peer's node id), all with the same burst and pace."""

    burst: float
    per_second: float
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def take(self, key: str, now: float) -> float:
        """0.0 if ``key`` may go ahead now; otherwise the seconds it must wait."""
        if key not in self.buckets and len(self.buckets) >= MAX_KEYS:
            self.buckets = {k: b for k, b in self.buckets.items() if not b.full(now)}
        bucket = self.buckets.setdefault(key, TokenBucket(self.burst, self.per_second))
        return bucket.take(now)
