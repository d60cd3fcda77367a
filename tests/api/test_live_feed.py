"""The live feed's poll against a real MongoDB-wire server: rows sharing one recorded time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from api.services.live import LiveService
from domain.events import Event
from store.database import Store

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
# bounds the wait so a feed that stops making progress fails the test instead of hanging it
FEED_TIMEOUT = 20


async def test_a_full_batch_recorded_at_one_instant_does_not_stall_the_feed(store: Store) -> None:
    customer, _ = await store.customers.resolve("acme", {"external_id": "c1"}, T0)
    received = [T0] * 5 + [T0 + timedelta(seconds=1)]
    for n, at in enumerate(received):
        await store.events.insert(
            Event(
                id=f"e{n}",
                tenant_id="acme",
                customer_id=customer.id,
                type="order_paid",
                identity={"external_id": "c1"},
                timestamp=at,
                received_at=at,
            )
        )
    live = LiveService(store, lambda: T0, interval=0.01, batch=2)

    async def first_six() -> list[str]:
        ids: list[str] = []
        async for entry in live.customer_timeline("acme", customer.id, since=T0):
            assert entry.event is not None
            ids.append(entry.event.id)
            if len(ids) == len(received):
                return ids
        return ids

    ids = await asyncio.wait_for(first_six(), FEED_TIMEOUT)

    assert sorted(ids) == [f"e{n}" for n in range(6)]
    assert ids[-1] == "e5"
