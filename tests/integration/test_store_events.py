"""Stored events: idempotent ingest and per-customer reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from domain.events import Event
from store.database import Store

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
async def store(mongo_db: AsyncDatabase[dict[str, Any]]) -> Store:
    store = Store(mongo_db)
    await store.ensure_indexes()
    return store


def event(
    event_id: str, at: datetime, *, customer: str = "cus_1", type: str = "order.paid"
) -> Event:
    return Event(
        id=event_id,
        tenant_id="acme",
        customer_id=customer,
        type=type,
        identity={"unionid": "u-1"},
        timestamp=at,
        properties={"order": {"total": 129.0, "items": ["latte"]}},
        received_at=at + timedelta(seconds=1),
    )


async def test_an_event_is_stored_once_per_id(store: Store) -> None:
    assert await store.events.insert(event("e-1", T0))
    assert not await store.events.insert(event("e-1", T0 + timedelta(hours=1)))

    stored = await store.events.get("acme", "e-1")
    assert stored == event("e-1", T0)
    page = await store.events.list_for_customer("acme", "cus_1")
    assert [e.id for e in page.items] == ["e-1"]


async def test_the_same_event_id_in_another_tenant_is_another_event(store: Store) -> None:
    assert await store.events.insert(event("e-1", T0))
    assert await store.events.insert(event("e-1", T0).model_copy(update={"tenant_id": "other"}))


async def test_customer_events_are_listed_in_time_order_across_pages(store: Store) -> None:
    times = [T0 + timedelta(minutes=m) for m in (5, 1, 3, 3, 0, 4, 2)]
    for n, at in enumerate(times):
        await store.events.insert(event(f"e-{n}", at))
    await store.events.insert(event("other-customer", T0, customer="cus_2"))

    seen: list[Event] = []
    cursor = None
    while True:
        page = await store.events.list_for_customer("acme", "cus_1", limit=2, cursor=cursor)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break

    assert [e.timestamp for e in seen] == sorted(times)
    assert len({e.id for e in seen}) == len(times)


async def test_last_event_for_a_customer_is_the_latest_of_that_type(store: Store) -> None:
    await store.events.insert(event("paid-1", T0))
    await store.events.insert(event("paid-2", T0 + timedelta(days=2)))
    await store.events.insert(event("joined", T0 + timedelta(days=3), type="wecom.group_joined"))

    last = await store.events.last_for_customer("acme", "cus_1")
    last_paid = await store.events.last_for_customer("acme", "cus_1", "order.paid")

    assert last is not None and last.id == "joined"
    assert last_paid is not None and last_paid.id == "paid-2"
    assert await store.events.last_for_customer("acme", "cus_9") is None
