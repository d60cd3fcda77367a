"""Deliveries: one record per idempotency key, whatever the concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from domain.deliveries import Delivery, delivery_key
from domain.errors import NotFoundError
from store.database import Store

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
ENROLLMENT = "acme:jrn_1:cus_1"


def delivery(node: str = "welcome", visit: int = 1, at: datetime = T0) -> Delivery:
    return Delivery(
        tenant_id="acme",
        idempotency_key=delivery_key(ENROLLMENT, node, visit),
        enrollment_id=ENROLLMENT,
        customer_id="cus_1",
        journey_id="jrn_1",
        node_id=node,
        channel="wecom",
        action="welcome",
        created_at=at,
        updated_at=at,
    )


async def test_concurrent_begins_of_one_key_record_one_delivery(store: Store) -> None:
    results = await asyncio.gather(*(store.deliveries.begin(delivery()) for _ in range(10)))

    assert {r.idempotency_key for r in results} == {delivery().idempotency_key}
    page = await store.deliveries.list_for_enrollment("acme", ENROLLMENT)
    assert len(page.items) == 1
    assert page.items[0].status == "pending"


async def test_begin_returns_the_stored_record_once_it_succeeded(store: Store) -> None:
    await store.deliveries.begin(delivery())
    await store.deliveries.mark_succeeded(
        "acme", delivery().idempotency_key, T0, external_id="msg-1", detail={"chars": 42}
    )

    again = await store.deliveries.begin(delivery(at=T0 + timedelta(minutes=1)))

    assert again.status == "succeeded"
    assert again.external_id == "msg-1"
    assert again.detail == {"chars": 42}
    assert again.created_at == T0


async def test_failed_attempts_are_counted_and_success_is_final(store: Store) -> None:
    key = delivery().idempotency_key
    await store.deliveries.begin(delivery())

    failed = await store.deliveries.mark_failed("acme", key, T0, error="rate limited")
    succeeded = await store.deliveries.mark_succeeded("acme", key, T0, external_id="m")
    late_failure = await store.deliveries.mark_failed("acme", key, T0, error="late")

    assert (failed.status, failed.attempts, failed.error) == ("failed", 1, "rate limited")
    assert (succeeded.status, succeeded.attempts, succeeded.error) == ("succeeded", 2, None)
    assert late_failure == succeeded


async def test_marking_an_unknown_delivery_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        await store.deliveries.mark_succeeded("acme", "nope", T0)


async def test_customer_deliveries_are_listed_oldest_first_across_pages(store: Store) -> None:
    for visit in range(5):
        await store.deliveries.begin(delivery(visit=visit, at=T0 + timedelta(days=5 - visit)))

    first = await store.deliveries.list_for_customer("acme", "cus_1", limit=3)
    second = await store.deliveries.list_for_customer(
        "acme", "cus_1", limit=3, cursor=first.next_cursor
    )

    times = [d.created_at for d in first.items + second.items]
    assert times == sorted(times) and len(times) == 5
    assert second.next_cursor is None
