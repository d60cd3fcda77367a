"""Per-key request rate limits: a token bucket for each API key, kept in this process.

Each key gets `burst` tokens, refilled at `rate` per second; a request takes one. Without a
token the answer is HTTP 429 with `Retry-After` (whole seconds until a token is back). Applied,
after authentication, to `/graphql` over HTTP and to `POST /v1/events`, one bucket per key
across both; not to WeCom callbacks (WeCom signs them and retries what fails) nor `/healthz`.
Requests without a valid key are answered 401 before any bucket is touched.

Trade-off: the buckets live in the API process, so with N API replicas behind a load balancer a
key may make up to N x `rate` requests a second. A shared store (a MongoDB counter per key and
second) would hold the limit exactly but cost a write on every request, which is the very load
this limit is here to cap; scale `rate` down by the replica count if the exact figure matters.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_TRACKED_KEYS = 10_000
"""Past this many buckets, full ones (idle keys) are forgotten: a full bucket is the default."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """Token buckets by key id. `rate`: tokens per second; `burst`: the bucket's size."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")

    def acquire(self, key_id: str) -> float | None:
        """Take a token for `key_id`: None when granted, else the seconds until one is back."""
        now = self.clock()
        bucket = self._buckets.get(key_id)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_KEYS:
                self._forget_full(now)
            bucket = self._buckets[key_id] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        for key_id, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.at) * self.rate >= self.burst:
                del self._buckets[key_id]


def retry_after_header(wait: float) -> str:
    """`Retry-After` for a wait of `wait` seconds: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))


@dataclass(frozen=True, slots=True)
class AbuseLimits:
    """What one API key and one websocket may ask of this API process.

    `requests_per_second` and `burst` size each key's token bucket (None: no rate limit);
    `max_subscriptions_per_connection` caps a websocket's running operations (over it, a
    `subscribe` is answered with an `error` message and the connection stays open);
    `key_recheck_interval` is how often an open websocket's key is checked again.
    """

    requests_per_second: float | None = None
    burst: int = 40
    max_subscriptions_per_connection: int = 20
    key_recheck_interval: float = 1.0

    def limiter(self) -> RateLimiter | None:
        """The token buckets these limits ask for, or None without a rate limit."""
        if self.requests_per_second is None:
            return None
        return RateLimiter(self.requests_per_second, self.burst)
