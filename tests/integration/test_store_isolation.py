"""Tenant isolation: another tenant never reads or changes a tenant's documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.deliveries import Delivery
from domain.enrollments import Enrollment, Transition, enrollment_id
from domain.errors import NotFoundError
from domain.events import Event
from domain.journey import EntryNode, EventTrigger, JourneyDefinition
from domain.tenants import Tenant
from store.customers import CustomerSearch
from store.database import Store

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
DEFINITION = JourneyDefinition(
    nodes=[EntryNode(id="entry", trigger=EventTrigger(event_type="order.paid"))]
)


async def test_another_tenant_sees_none_of_a_tenants_documents(store: Store) -> None:
    await store.tenants.create(Tenant(id="acme", name="ACME", created_at=T0))
    key, _ = await store.tenants.create_api_key("acme", "ci", "admin", T0)
    customer, _ = await store.customers.resolve("acme", {"phone": "13800138000"}, T0)
    await store.customers.update_profile("acme", customer.id, T0, add_tags=["vip"])
    journey = await store.journeys.create("acme", "j", T0, draft=DEFINITION)
    version = await store.journeys.publish("acme", journey.id, DEFINITION, [], T0)
    eid = enrollment_id("acme", journey.id, customer.id)
    common = {"tenant_id": "acme", "customer_id": customer.id, "journey_id": journey.id}
    await store.events.insert(
        Event(
            id="e1",
            type="order.paid",
            identity={"phone": "13800138000"},
            timestamp=T0,
            received_at=T0,
            tenant_id="acme",
            customer_id=customer.id,
        )
    )
    await store.enrollments.upsert_projection(
        Enrollment(id=eid, version=version, started_at=T0, updated_at=T0, seq=1, **common)
    )
    await store.enrollments.record_transitions(
        [
            Transition(
                enrollment_id=eid,
                version=version,
                seq=0,
                to_node="entry",
                label="next",
                at=T0,
                **common,
            )
        ]
    )
    await store.deliveries.begin(
        Delivery(
            idempotency_key="k1",
            enrollment_id=eid,
            node_id="n",
            channel="sms",
            action="send",
            created_at=T0,
            updated_at=T0,
            **common,
        )
    )

    other = "other"
    assert await store.tenants.find(other) is None
    assert await store.tenants.list_api_keys(other) == []
    with pytest.raises(NotFoundError):
        await store.tenants.revoke_api_key(other, key.id, T0)
    with pytest.raises(NotFoundError):
        await store.customers.get(other, customer.id)
    with pytest.raises(NotFoundError):
        await store.customers.update_profile(other, customer.id, T0, add_tags=["x"])
    assert not await store.customers.set_first_touch_hook(other, customer.id, "h", T0)
    assert await store.customers.get_by_identity(other, "phone", "13800138000") is None
    assert (await store.customers.search(other, CustomerSearch(include_merged=True))).items == []
    assert (await store.customers.search(other, CustomerSearch(tags_all=["vip"]))).items == []
    with pytest.raises(NotFoundError):
        await store.journeys.get(other, journey.id)
    with pytest.raises(NotFoundError):
        await store.journeys.get_version(other, journey.id, version)
    with pytest.raises(NotFoundError):
        await store.journeys.update_draft(other, journey.id, 1, T0, name="x")
    with pytest.raises(NotFoundError):
        await store.journeys.publish(other, journey.id, DEFINITION, [], T0)
    with pytest.raises(NotFoundError):
        await store.journeys.archive(other, journey.id, T0)
    assert (await store.journeys.list(other)).items == []
    assert await store.journeys.list_versions(other, journey.id) == []
    assert await store.journeys.find_published_entry_matches(other, "order.paid") == []
    assert await store.events.get(other, "e1") is None
    assert (await store.events.list_for_customer(other, customer.id)).items == []
    assert await store.events.last_for_customer(other, customer.id) is None
    assert await store.enrollments.get(other, eid) is None
    assert (await store.enrollments.list(other)).items == []
    assert await store.enrollments.running_for_customer(other, customer.id) == []
    assert (await store.enrollments.transitions_for_enrollment(other, eid)).items == []
    assert await store.deliveries.get(other, "k1") is None
    with pytest.raises(NotFoundError):
        await store.deliveries.mark_succeeded(other, "k1", T0)
    assert (await store.deliveries.list_for_enrollment(other, eid)).items == []
    assert (await store.deliveries.list_for_customer(other, customer.id)).items == []
    assert (await store.timeline.for_customer(other, customer.id)).items == []

    # The same identity in another tenant is another customer, and the first is untouched.
    theirs, created = await store.customers.resolve(other, {"phone": "13800138000"}, T0)
    assert created and theirs.id != customer.id
    mine = await store.customers.get("acme", customer.id)
    assert mine.tags == ["vip"] and mine.first_touch_hook is None
    assert (await store.journeys.get("acme", journey.id)).name == "j"
    assert (await store.deliveries.get("acme", "k1")) is not None
    assert len((await store.timeline.for_customer("acme", customer.id)).items) == 3
