"""A customer merge and journeys: no person walks one journey twice, and `never` holds across it.

Real Temporal dev server and workers, real MongoDB. Two customers (A older, by phone; B younger,
by unionid) are merged when an event names both identities.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from store.database import Store
from tests.api.support import TenantKeys, event, eventually, gql, post_events, published_journey

PHONE = {"phone": "13900000011"}
UNIONID = {"unionid": "u-merge"}
BOTH = {**PHONE, **UNIONID}

ENROLLMENT = """
query($id: ID!) { enrollment(id: $id) { status currentNode exitReason } }
"""


async def _enrollment(api: httpx.AsyncClient, tenant: TenantKeys, enrollment_id: str) -> Any:
    data = await gql(api, tenant, ENROLLMENT, {"id": enrollment_id}, role="viewer")
    return data["enrollment"]


async def _at(
    api: httpx.AsyncClient, tenant: TenantKeys, enrollment_id: str, *, node: str, status: str
) -> Any:
    async def probe() -> Any:
        found = await _enrollment(api, tenant, enrollment_id)
        if found and found["currentNode"] == node and found["status"] == status:
            return found
        return None

    return await eventually(probe)


async def _signup(
    api: httpx.AsyncClient, tenant: TenantKeys, event_id: str, identity: dict[str, str]
) -> dict[str, Any]:
    body = await post_events(
        api, tenant, [event(event_id, "signup.completed", identity, {"plan": "pro"})]
    )
    result: dict[str, Any] = body["results"][0]
    return result


async def test_merging_two_customers_walking_one_journey_ends_the_absorbed_ones_walk(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, workers: None, started: list[str]
) -> None:
    await published_journey(api, tenant)
    a = await _signup(api, tenant, "s-a", PHONE)
    b = await _signup(api, tenant, "s-b", UNIONID)
    a_id, b_id = a["enrollments"][0]["enrollment_id"], b["enrollments"][0]["enrollment_id"]
    started += [a_id, b_id]
    await _at(api, tenant, a_id, node="await_order", status="ACTIVE")
    await _at(api, tenant, b_id, node="await_order", status="ACTIVE")

    linked = await post_events(api, tenant, [event("link", "profile.linked", BOTH)])

    assert linked["results"][0]["customer_id"] == a["customer_id"]
    ended = await _at(api, tenant, b_id, node="await_order", status="CANCELLED")
    assert ended["exitReason"] == "merged"
    # the survivor's walk goes on, and the next order (by the absorbed identity) ends it alone
    order = await post_events(api, tenant, [event("o-1", "order.paid", UNIONID)])
    assert [r["enrollment_id"] for r in order["results"][0]["enrollments"]] == [a_id]
    await _at(api, tenant, a_id, node="bought", status="EXITED")
    deliveries = await store.deliveries.list_for_enrollment(tenant.tenant_id, b_id)
    assert len(deliveries.items) == 1  # its welcome, sent before the merge; nothing after


async def test_the_survivor_does_not_start_a_second_walk_beside_the_absorbed_customers(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, workers: None, started: list[str]
) -> None:
    journey_id = await published_journey(api, tenant)
    a = (await post_events(api, tenant, [event("v-a", "page.viewed", PHONE)]))["results"][0]
    b = await _signup(api, tenant, "s-b", UNIONID)
    b_id = b["enrollments"][0]["enrollment_id"]
    started.append(b_id)
    await _at(api, tenant, b_id, node="await_order", status="ACTIVE")
    await post_events(api, tenant, [event("link", "profile.linked", BOTH)])

    again = await _signup(api, tenant, "s-a", PHONE)

    assert again["customer_id"] == a["customer_id"]
    assert again["enrollments"] == [
        {"enrollment_id": b_id, "journey_id": journey_id, "action": "signalled"}
    ]
    own = f"{tenant.tenant_id}:{journey_id}:{a['customer_id']}"
    started.append(own)
    assert await store.enrollments.get(tenant.tenant_id, own) is None
    # B's walk serves A now: A's order ends it
    await post_events(api, tenant, [event("o-1", "order.paid", PHONE)])
    await _at(api, tenant, b_id, node="bought", status="EXITED")


async def test_a_never_journey_the_absorbed_customer_walked_is_not_entered_by_the_survivor(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, workers: None, started: list[str]
) -> None:
    journey_id = await published_journey(api, tenant)  # re-entry `never` (the default)
    a = (await post_events(api, tenant, [event("v-a", "page.viewed", PHONE)]))["results"][0]
    b = await _signup(api, tenant, "s-b", UNIONID)
    b_id = b["enrollments"][0]["enrollment_id"]
    started.append(b_id)
    await _at(api, tenant, b_id, node="await_order", status="ACTIVE")
    await post_events(api, tenant, [event("o-b", "order.paid", UNIONID)])
    await _at(api, tenant, b_id, node="bought", status="EXITED")
    await post_events(api, tenant, [event("link", "profile.linked", BOTH)])

    again = await _signup(api, tenant, "s-a", PHONE)

    assert again["enrollments"] == [
        {"enrollment_id": b_id, "journey_id": journey_id, "action": "already_enrolled"}
    ]
    own = f"{tenant.tenant_id}:{journey_id}:{a['customer_id']}"
    started.append(own)
    assert await store.enrollments.get(tenant.tenant_id, own) is None
    reenroll = await gql(
        api,
        tenant,
        """mutation($j: ID!, $c: ID!) { reenrollCustomer(journeyId: $j, customerId: $c) {
             __typename } }""",
        {"j": journey_id, "c": a["customer_id"]},
        role="operator",
    )
    assert reenroll["reenrollCustomer"]["__typename"] == "ReentryNotAllowed"


async def test_a_merge_no_event_was_routed_after_is_settled_by_the_sweep(
    api: httpx.AsyncClient,
    store: Store,
    tenant: TenantKeys,
    workers: None,
    started: list[str],
    temporal_env: WorkflowEnvironment,
    registry: ConnectorRegistry,
) -> None:
    await published_journey(api, tenant)
    a = await _signup(api, tenant, "s-a", PHONE)
    b = await _signup(api, tenant, "s-b", UNIONID)
    a_id, b_id = a["enrollments"][0]["enrollment_id"], b["enrollments"][0]["enrollment_id"]
    started += [a_id, b_id]
    await _at(api, tenant, b_id, node="await_order", status="ACTIVE")
    await _at(api, tenant, a_id, node="await_order", status="ACTIVE")
    # merged by a process that died before routing the event that merged them
    await store.customers.resolve(tenant.tenant_id, BOTH, datetime.now(UTC))

    another_process = create_app(store, temporal_env.client, registry).state.services
    await another_process.sweeps.run_once()

    ended = await _at(api, tenant, b_id, node="await_order", status="CANCELLED")
    assert ended["exitReason"] == "merged"
    assert (await _enrollment(api, tenant, a_id))["status"] == "ACTIVE"
    assert await store.customers.unsettled_merges(tenant.tenant_id, a["customer_id"]) == []
