"""Frequency-cap places are taken atomically: however many sends race for a period, no more than
the limit get one, a retried send keeps its place without counting twice, and a release gives
it back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from store.database import Store

ENDS = datetime(2026, 3, 2, 16, tzinfo=UTC)


async def test_racing_sends_never_exceed_the_limit(store: Store) -> None:
    async def one(index: int) -> bool:
        return await store.touch_counters.reserve(
            "acme", "c1", "daily", "day:2026-03-02", 2, f"key-{index}", ENDS
        )

    admitted = await asyncio.gather(*(one(i) for i in range(20)))

    assert sum(admitted) == 2
    assert await store.touch_counters.count("acme", "c1", "daily", "day:2026-03-02") == 2
    other = await store.touch_counters.reserve(
        "acme", "c2", "daily", "day:2026-03-02", 2, "k", ENDS
    )
    assert other is True  # another customer has their own places


async def test_a_retry_keeps_its_place_and_a_release_frees_it(store: Store) -> None:
    take = store.touch_counters.reserve
    assert await take("acme", "c1", "daily", "day:1", 1, "visit-1", ENDS)
    assert await take("acme", "c1", "daily", "day:1", 1, "visit-1", ENDS)  # the same send again
    assert not await take("acme", "c1", "daily", "day:1", 1, "visit-2", ENDS)
    assert await store.touch_counters.count("acme", "c1", "daily", "day:1") == 1

    await store.touch_counters.release("acme", "c1", "daily", "day:1", "visit-1")
    await store.touch_counters.release("acme", "c1", "daily", "day:1", "visit-1")  # no-op

    assert await store.touch_counters.count("acme", "c1", "daily", "day:1") == 0
    assert await take("acme", "c1", "daily", "day:1", 1, "visit-2", ENDS)
    assert await take("globex", "c1", "daily", "day:1", 1, "visit-3", ENDS)  # tenants apart
