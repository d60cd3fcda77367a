"""Frequency-cap counters (`touch_counters`): sends per customer, cap and period.

One document per (tenant, customer, cap, period) holds the count and the idempotency keys that
took a place in it. `reserve` takes a place atomically: the update matches only while the count
is below the limit and the key has no place yet, and upserts the first one; when it matches
nothing the upsert collides with the unique index, which is how "full" is told apart without a
race. A key keeps its place (a retried activity is not counted twice) until `release` gives it
back (a send that did not happen). Counters expire a day after their period ends (TTL index).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from store.mongo import TOUCH_COUNTERS, collection

KEEP_AFTER_PERIOD = timedelta(days=1)


class TouchCounters:
    """Places in the caps' periods, taken and given back by idempotency key."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._counters = collection(db, TOUCH_COUNTERS)

    async def reserve(
        self,
        tenant_id: str,
        customer_id: str,
        cap_id: str,
        period: str,
        limit: int,
        key: str,
        period_ends: datetime,
    ) -> bool:
        """Take a place for `key` in the period; False when the period is full."""
        where = {
            "tenant_id": tenant_id,
            "customer_id": customer_id,
            "cap": cap_id,
            "period": period,
        }
        try:
            await self._counters.update_one(
                {**where, "count": {"$lt": limit}, "keys": {"$ne": key}},
                {
                    "$inc": {"count": 1},
                    "$push": {"keys": key},
                    "$setOnInsert": {"expires_at": period_ends + KEEP_AFTER_PERIOD},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            # Full, this key's place taken already (a retry), or another send created the
            # period's counter first: try once more against the counter that now exists.
            again = await self._counters.update_one(
                {**where, "count": {"$lt": limit}, "keys": {"$ne": key}},
                {"$inc": {"count": 1}, "$push": {"keys": key}},
            )
            if again.modified_count == 1:
                return True
            held = await self._counters.find_one({**where, "keys": key}, {"_id": 1})
            return held is not None
        return True

    async def release(
        self, tenant_id: str, customer_id: str, cap_id: str, period: str, key: str
    ) -> None:
        """Give back `key`'s place (no-op when it has none)."""
        await self._counters.update_one(
            {
                "tenant_id": tenant_id,
                "customer_id": customer_id,
                "cap": cap_id,
                "period": period,
                "keys": key,
            },
            {"$inc": {"count": -1}, "$pull": {"keys": key}},
        )

    async def count(self, tenant_id: str, customer_id: str, cap_id: str, period: str) -> int:
        """Places taken in the period."""
        doc = await self._counters.find_one(
            {"tenant_id": tenant_id, "customer_id": customer_id, "cap": cap_id, "period": period}
        )
        return 0 if doc is None else int(doc["count"])
