"""`deadLetters`, `deadLetter`, `retryDeadLetter(s)`: ops list the events parked after too many
failed routing attempts, read why, and route them again once the cause is fixed.

The real app over real MongoDB and Temporal; an event is parked the way routing parks it
(`record_failure` out of attempts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from domain.customers import Customer
from domain.enrollments import enrollment_id
from domain.events import Event
from store.database import Store
from tests.api.support import TenantKeys, gql, published_journey

DEAD_LETTERS = """
query($filter: DeadLetterFilter, $first: Int, $after: String) {
  deadLetters(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { eventId attempts lastError parkedAt event { type customerId properties } }
  }
}
"""

DEAD_LETTER = """
query($id: ID!) { deadLetter(eventId: $id) { eventId attempts lastError event { properties } } }
"""

RETRY = """
mutation($id: ID!) {
  retryDeadLetter(eventId: $id) {
    __typename
    ... on DeadLetterRetried { eventId routed routingError enrollments { enrollmentId action } }
    ... on NotFound { kind id }
    ... on Forbidden { requiredPermission }
  }
}
"""

RETRY_MANY = """
mutation($ids: [ID!]!) {
  retryDeadLetters(eventIds: $ids) {
    __typename
    ... on DeadLettersRetried { results { eventId routed } notFound { kind id } }
    ... on InvalidInput { message }
  }
}
"""

T0 = datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture
def app(store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry) -> Starlette:
    return create_app(store, temporal_env.client, registry)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield http
    await app.state.services.drain()


async def _customer(store: Store, tenant: TenantKeys, phone: str) -> Customer:
    customer, _ = await store.customers.resolve(tenant.tenant_id, {"phone": phone}, T0)
    return customer


async def _park(
    store: Store,
    customer: Customer,
    event_id: str,
    *,
    minute: int,
    type: str = "signup.completed",
    prepare: str | None = None,
) -> None:
    """Store an event of the customer and fail its routing for good, as routing would."""
    at = T0 + timedelta(minutes=minute)
    phone = customer.identity("phone") or ""
    event = Event(
        id=event_id,
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        type=type,
        identity={"phone": phone},
        timestamp=at,
        properties={"plan": "pro", "n": minute},
        received_at=at,
    )
    await store.events.insert(event, prepare=prepare)
    error = f"preparation {prepare!r} is not known to this process"
    parked = await store.events.record_failure(
        customer.tenant_id, event_id, error, at, lambda attempts: None
    )
    assert parked is not None and parked.dead_at is not None


async def test_ops_list_and_inspect_dead_letters_with_attempts_and_last_error(
    client: httpx.AsyncClient, store: Store, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    first = await _customer(store, tenant, "13900000201")
    second = await _customer(store, tenant, "13900000202")
    await _park(store, first, "d1", minute=1, prepare="crm.lookup")
    await _park(store, second, "d2", minute=2, type="order.paid")
    await _park(store, first, "d3", minute=3)
    await store.events.insert(  # pending, not parked: not a dead letter
        Event(
            id="p1",
            tenant_id=tenant.tenant_id,
            customer_id=first.id,
            type="signup.completed",
            identity={"phone": "13900000201"},
            timestamp=T0,
            received_at=T0,
        )
    )

    page = (await gql(client, tenant, DEAD_LETTERS, {"first": 2}, role="viewer"))["deadLetters"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    assert [node["eventId"] for node in page["nodes"]] == ["d1", "d2"]
    [d1, _] = page["nodes"]
    assert d1["attempts"] == 1
    assert d1["lastError"] == "preparation 'crm.lookup' is not known to this process"
    assert d1["event"] == {
        "type": "signup.completed",
        "customerId": first.id,
        "properties": {
            "plan": "pro",
            "n": 1,
        },
    }
    rest = await gql(
        client, tenant, DEAD_LETTERS, {"first": 2, "after": page["pageInfo"]["endCursor"]}
    )
    assert [node["eventId"] for node in rest["deadLetters"]["nodes"]] == ["d3"]

    by_customer = await gql(client, tenant, DEAD_LETTERS, {"filter": {"customerId": first.id}})
    assert [node["eventId"] for node in by_customer["deadLetters"]["nodes"]] == ["d1", "d3"]
    by_type = await gql(client, tenant, DEAD_LETTERS, {"filter": {"eventType": "order.paid"}})
    assert [node["eventId"] for node in by_type["deadLetters"]["nodes"]] == ["d2"]

    one = (await gql(client, tenant, DEAD_LETTER, {"id": "d2"}))["deadLetter"]
    assert one["eventId"] == "d2" and one["event"]["properties"]["n"] == 2
    assert (await gql(client, tenant, DEAD_LETTER, {"id": "p1"}))["deadLetter"] is None
    theirs = await gql(client, other_tenant, DEAD_LETTERS, {})
    assert theirs["deadLetters"]["nodes"] == [] and theirs["deadLetters"]["totalCount"] == 0


async def test_retrying_a_dead_letter_once_its_cause_is_fixed_routes_it_now(
    app: Starlette, client: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    journey_id = await published_journey(client, tenant)
    customer = await _customer(store, tenant, "13900000203")
    await _park(store, customer, "d1", minute=1, prepare="crm.lookup")

    refused = await gql(client, tenant, RETRY, {"id": "d1"}, role="viewer")
    assert refused["retryDeadLetter"] == {
        "__typename": "Forbidden",
        "requiredPermission": "ingest_events",
    }
    again = await gql(client, tenant, RETRY, {"id": "d1"}, role="operator")
    assert again["retryDeadLetter"]["routed"] is False  # the cause is still there
    assert "crm.lookup" in again["retryDeadLetter"]["routingError"]
    pending = await store.events.find(tenant.tenant_id, "d1")
    assert pending is not None and pending.pending and pending.attempts == 1
    assert pending.dead_at is None  # counted and backed off like any event, not parked at once

    # The fix: a process that knows the preparation (and the event parked again meanwhile).
    prepared: list[str] = []

    async def crm_lookup(tenant_id: str, event: Event, customer: Customer) -> None:
        prepared.append(event.id)

    app.state.services.ingest.register_preparation("crm.lookup", crm_lookup)
    await store.events.record_failure(
        tenant.tenant_id, "d1", "earlier", T0 + timedelta(minutes=5), lambda attempts: None
    )
    retried = await gql(client, tenant, RETRY, {"id": "d1"}, role="operator")

    wanted = enrollment_id(tenant.tenant_id, journey_id, customer.id)
    assert retried["retryDeadLetter"] == {
        "__typename": "DeadLetterRetried",
        "eventId": "d1",
        "routed": True,
        "routingError": None,
        "enrollments": [{"enrollmentId": wanted, "action": "enrolled"}],
    }
    assert prepared == ["d1"]
    routed = await store.events.find(tenant.tenant_id, "d1")
    assert routed is not None and not routed.pending and routed.routed_at is not None
    assert (await gql(client, tenant, DEAD_LETTERS, {}))["deadLetters"]["totalCount"] == 0
    gone = await gql(client, tenant, RETRY, {"id": "d1"})
    assert gone["retryDeadLetter"] == {"__typename": "NotFound", "kind": "dead letter", "id": "d1"}


async def test_retrying_several_dead_letters_names_the_ids_that_are_none(
    client: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    customer = await _customer(store, tenant, "13900000204")
    await _park(store, customer, "d1", minute=1)
    await _park(store, customer, "d2", minute=2)

    answer = await gql(client, tenant, RETRY_MANY, {"ids": ["d2", "nope", "d1"]})

    result: dict[str, Any] = answer["retryDeadLetters"]
    assert result["__typename"] == "DeadLettersRetried"
    assert result["results"] == [
        {"eventId": "d2", "routed": True},
        {"eventId": "d1", "routed": True},
    ]
    assert result["notFound"] == [{"kind": "dead letter", "id": "nope"}]
    for event_id in ("d1", "d2"):
        stored = await store.events.find(tenant.tenant_id, event_id)
        assert stored is not None and not stored.pending and stored.dead_at is None
    empty = await gql(client, tenant, RETRY_MANY, {"ids": []})
    assert empty["retryDeadLetters"]["__typename"] == "InvalidInput"
