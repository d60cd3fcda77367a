"""The cross-tenant delivery query of the result poller: succeeded tasks with an external id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.deliveries import Delivery, delivery_key
from store.database import Store

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


async def _delivery(
    store: Store,
    tenant_id: str,
    node: str,
    at: datetime,
    *,
    action: str = "mass_message",
    outcome: str = "succeeded",
    external_id: str | None = "msg",
) -> str:
    enrollment = f"{tenant_id}:jrn_1:cus_1"
    key = delivery_key(enrollment, node, 1)
    await store.deliveries.begin(
        Delivery(
            tenant_id=tenant_id,
            idempotency_key=key,
            enrollment_id=enrollment,
            customer_id="cus_1",
            journey_id="jrn_1",
            node_id=node,
            channel="wecom",
            action=action,
            created_at=at,
            updated_at=at,
        )
    )
    if outcome == "succeeded":
        await store.deliveries.mark_succeeded(tenant_id, key, at, external_id=external_id)
    elif outcome == "failed":
        await store.deliveries.mark_failed(tenant_id, key, at, error="refused")
    return key


async def test_every_tenants_succeeded_tasks_since_a_time_are_listed_oldest_first(
    store: Store,
) -> None:
    newer = await _delivery(store, "acme", "touch_2", T0 + timedelta(hours=2))
    older = await _delivery(store, "globex", "touch_1", T0 + timedelta(hours=1))
    await _delivery(store, "acme", "too_old", T0 - timedelta(hours=1))
    await _delivery(store, "acme", "pending", T0 + timedelta(hours=1), outcome="pending")
    await _delivery(store, "acme", "failed", T0 + timedelta(hours=1), outcome="failed")
    await _delivery(store, "acme", "no_task", T0 + timedelta(hours=1), external_id=None)
    await _delivery(store, "acme", "tagged", T0 + timedelta(hours=1), action="tag")

    due = await store.deliveries.due_for_result_poll(
        "wecom", "mass_message", T0, T0 + timedelta(hours=3), limit=100
    )
    found = [(d.tenant_id, d.idempotency_key) for d in due]

    assert found == [("globex", older), ("acme", newer)]
