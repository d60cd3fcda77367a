"""The per-key token bucket, on a clock the test moves."""

from __future__ import annotations

import pytest

from api.rate_limit import MAX_TRACKED_KEYS, AbuseLimits, RateLimiter, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_burst_then_waits_for_tokens_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)

    assert [limiter.acquire("k") for _ in range(3)] == [None, None, None]
    assert limiter.acquire("k") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.acquire("k") is None
    assert limiter.acquire("k") == pytest.approx(0.5)
    clock.now += 60
    assert [limiter.acquire("k") for _ in range(4)][:3] == [None, None, None]  # capped at burst


def test_keys_have_buckets_of_their_own() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=Clock())

    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is not None
    assert limiter.acquire("b") is None


def test_idle_keys_are_forgotten_once_many_are_tracked() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock)
    for index in range(MAX_TRACKED_KEYS):
        limiter.acquire(f"k{index}")
    clock.now += 5  # every bucket full again
    assert limiter.acquire("new") is None
    assert len(limiter._buckets) == 1


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"


def test_limits_refuse_a_rate_that_would_never_refill() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        RateLimiter(rate=0, burst=1)
    assert AbuseLimits().limiter() is None
    assert AbuseLimits(requests_per_second=5).limiter() is not None
