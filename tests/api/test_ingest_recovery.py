"""Stored events that never reached a journey (a crash between storing and routing) are routed
later: by `IngestService.recover` and by the client sending them again.

Real MongoDB and Temporal dev server. No workers: an enrollment's workflow stays running, so its
history shows which events reached it, in the order they arrived.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.enrollments import enrollment_id
from ingestion.service import IngestService
from ingestion.sweeps import Sweeps
from store.database import Store
from tests.api.support import (
    TenantKeys,
    event,
    post_events,
    published_journey,
    signalled_event_ids,
)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _signup(event_id: str, phone: str) -> dict[str, object]:
    return event(event_id, "signup.completed", {"phone": phone}, {"plan": "pro"})


async def _stored_without_routing(
    store: Store, env: WorkflowEnvironment, tenant: TenantKeys, events: list[dict[str, object]]
) -> tuple[IngestService, Clock]:
    """Store the events the way a process that then died would have: `store`, no `route`."""
    clock = Clock()
    service = IngestService(store, env.client, clock)
    batch = await service.store(tenant.tenant_id, list(events))
    assert [r.status for r in batch.results] == ["accepted"] * len(events)
    return service, clock


async def _customer_id(store: Store, tenant: TenantKeys, event_id: str) -> str:
    stored = await store.events.get(tenant.tenant_id, event_id)
    assert stored is not None
    return stored.customer_id


async def test_an_event_stored_but_never_routed_is_routed_by_recovery_and_enrolls(
    api: httpx.AsyncClient, store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys
) -> None:
    journey_id = await published_journey(api, tenant)
    service, clock = await _stored_without_routing(
        store, temporal_env, tenant, [_signup("s1", "13900000001")]
    )
    before = await store.events.find(tenant.tenant_id, "s1")
    assert before is not None and before.pending and before.routed_at is None

    assert await service.recover() == 0  # not a minute old yet: may still be routing
    clock.now += timedelta(minutes=2)
    assert await service.recover() == 1

    customer_id = await _customer_id(store, tenant, "s1")
    workflow_id = enrollment_id(tenant.tenant_id, journey_id, customer_id)
    described = await temporal_env.client.get_workflow_handle(workflow_id).describe()
    assert described.status == WorkflowExecutionStatus.RUNNING
    assert await signalled_event_ids(temporal_env, workflow_id) == ["s1"]
    after = await store.events.find(tenant.tenant_id, "s1")
    assert (
        after is not None
        and not after.pending
        and after.routed_at == clock.now.replace(microsecond=clock.now.microsecond // 1000 * 1000)
    )
    assert await service.recover() == 0


async def test_sending_a_never_routed_event_again_routes_it(
    api: httpx.AsyncClient, store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys
) -> None:
    journey_id = await published_journey(api, tenant)
    service, clock = await _stored_without_routing(
        store, temporal_env, tenant, [_signup("s1", "13900000002")]
    )

    again = await post_events(api, tenant, [_signup("s1", "13900000002")])

    [result] = again["results"]
    assert result["status"] == "duplicate"
    customer_id = await _customer_id(store, tenant, "s1")
    workflow_id = enrollment_id(tenant.tenant_id, journey_id, customer_id)
    assert result["enrollments"] == [
        {"enrollment_id": workflow_id, "journey_id": journey_id, "action": "enrolled"}
    ]
    assert await signalled_event_ids(temporal_env, workflow_id) == ["s1"]
    clock.now += timedelta(minutes=2)
    assert await service.recover() == 0

    once_more = await post_events(api, tenant, [_signup("s1", "13900000002")])
    assert once_more["results"][0]["status"] == "duplicate"
    assert once_more["results"][0]["enrollments"] == []


async def test_a_routed_event_is_not_routed_again_by_recovery(
    api: httpx.AsyncClient, store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys
) -> None:
    journey_id = await published_journey(api, tenant)
    clock = Clock()
    service = IngestService(store, temporal_env.client, clock)
    [result] = await service.ingest(tenant.tenant_id, [_signup("s1", "13900000003")])
    assert [route.action for route in result.routes] == ["enrolled"]
    stored = await store.events.find(tenant.tenant_id, "s1")
    assert stored is not None and not stored.pending and stored.routed_at is not None

    clock.now += timedelta(minutes=2)
    assert await service.recover() == 0

    assert result.customer_id is not None
    workflow_id = enrollment_id(tenant.tenant_id, journey_id, result.customer_id)
    assert await signalled_event_ids(temporal_env, workflow_id) == ["s1"]


async def test_recovery_routes_each_customers_events_in_stored_order(
    api: httpx.AsyncClient, store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys
) -> None:
    journey_id = await published_journey(api, tenant)
    clock = Clock()
    service = IngestService(store, temporal_env.client, clock)
    # Stored one by one, a millisecond apart, with event times in the reverse order.
    for event_id, phone, hour in [
        ("s1", "13900000004", "12"),
        ("d1", "13900000005", "11"),
        ("s2", "13900000004", "11"),
        ("s3", "13900000004", "10"),
    ]:
        raw = event(
            event_id,
            "signup.completed",
            {"phone": phone},
            {"plan": "pro"},
            timestamp=f"2026-03-01T{hour}:00:00+08:00",
        )
        batch = await service.store(tenant.tenant_id, [raw])
        assert batch.results[0].status == "accepted"
        clock.now += timedelta(milliseconds=1)

    clock.now += timedelta(minutes=2)
    assert await service.recover() == 4

    customer_id = await _customer_id(store, tenant, "s1")
    workflow_id = enrollment_id(tenant.tenant_id, journey_id, customer_id)
    assert await signalled_event_ids(temporal_env, workflow_id) == ["s1", "s2", "s3"]
    other = enrollment_id(tenant.tenant_id, journey_id, await _customer_id(store, tenant, "d1"))
    assert await signalled_event_ids(temporal_env, other) == ["d1"]


async def test_the_recovery_sweep_routes_at_start_and_stops(
    api: httpx.AsyncClient, store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys
) -> None:
    journey_id = await published_journey(api, tenant)
    service, clock = await _stored_without_routing(
        store, temporal_env, tenant, [_signup("s1", "13900000006")]
    )
    clock.now += timedelta(minutes=2)

    sweeps = Sweeps([("unrouted events", service.recover)])
    sweeps.start(interval=3600)
    customer_id = await _customer_id(store, tenant, "s1")
    workflow_id = enrollment_id(tenant.tenant_id, journey_id, customer_id)
    for _ in range(300):
        stored = await store.events.find(tenant.tenant_id, "s1")
        if stored is not None and not stored.pending:
            break
        await asyncio.sleep(0.1)
    await sweeps.stop()
    await service.drain()

    assert await signalled_event_ids(temporal_env, workflow_id) == ["s1"]
    stored = await store.events.find(tenant.tenant_id, "s1")
    assert stored is not None and not stored.pending
