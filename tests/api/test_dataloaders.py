"""A page of customers with identities, tags, enrollments and their deliveries costs a fixed
number of MongoDB queries, whatever the page size (counted with a PyMongo command listener)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from bench.common import PAGE_JOURNEYS, ReadCounter, seed_customer_page
from connectors.registry import ConnectorRegistry
from store.customers import CustomerSearch
from store.database import Store
from tests.api.support import TenantKeys, gql, make_tenant
from tests.fixtures.secrets import TEST_SECRET_BOX

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

PAGE = """
query($first: Int!) {
  customers(first: $first) {
    nodes {
      id
      identities { kind value }
      tags
      enrollments(first: 2) {
        nodes { id status currentNode deliveries(first: 2) { nodes { nodeId status } } }
      }
    }
  }
}
"""


@pytest.fixture
def counter() -> ReadCounter:
    # queries, not the getMore batches that a larger page's cursors continue with
    return ReadCounter(commands=("find", "aggregate", "count", "distinct"))


@pytest.fixture
async def counted_store(mongo_uri: str, counter: ReadCounter) -> AsyncIterator[Store]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_uri, tz_aware=True, event_listeners=[counter]
    )
    name = f"t_{uuid.uuid4().hex}"
    try:
        store = Store(client[name], TEST_SECRET_BOX)
        await store.ensure_indexes()
        yield store
    finally:
        await client.drop_database(name)
        await client.close()


@pytest.fixture
async def counted_api(
    counted_store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(counted_store, temporal_env.client, registry)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


async def _page(
    api: httpx.AsyncClient, tenant: TenantKeys, counter: ReadCounter, first: int
) -> tuple[list[dict[str, Any]], Counter[str]]:
    with counter.measure() as reads:
        data = await gql(api, tenant, PAGE, {"first": first}, role="viewer")
    nodes: list[dict[str, Any]] = data["customers"]["nodes"]
    return nodes, reads


async def test_a_page_of_100_customers_costs_the_queries_of_a_page_of_10(
    counted_api: httpx.AsyncClient, counted_store: Store, counter: ReadCounter
) -> None:
    tenant = await make_tenant(counted_store, "loaders")
    await seed_customer_page(counted_store, tenant.tenant_id, 100, T0)

    small, small_reads = await _page(counted_api, tenant, counter, 10)
    large, large_reads = await _page(counted_api, tenant, counter, 100)

    assert len(small) == 10 and len(large) == 100
    for customer in large:
        assert len(customer["identities"]) == 2
        assert "source:douyin" in customer["tags"]
        enrollments = customer["enrollments"]["nodes"]
        assert [e["id"].split(":")[1] for e in enrollments] == list(PAGE_JOURNEYS)
        for enrollment in enrollments:
            assert enrollment["deliveries"]["nodes"] == [{"nodeId": "welcome", "status": "pending"}]
    assert small_reads == large_reads
    data_reads = {k: v for k, v in large_reads.items() if "api_keys" not in k}
    assert data_reads == {
        "find customers": 1,
        "aggregate enrollments": 1,
        "aggregate deliveries": 1,
    }


async def test_each_query_of_a_page_of_100_customers_answers_in_one_batch(
    counted_api: httpx.AsyncClient, counted_store: Store, counter: ReadCounter
) -> None:
    # 200 enrollments' deliveries are 200 rows: more than a server's default first batch (101)
    tenant = await make_tenant(counted_store, "loaders")
    await seed_customer_page(counted_store, tenant.tenant_id, 100, T0)
    counter.commands = (*counter.commands, "getMore")

    large, reads = await _page(counted_api, tenant, counter, 100)

    assert len(large) == 100
    assert not [name for name in reads if name.startswith("getMore")], reads


async def test_loaders_live_for_one_request_only(
    counted_api: httpx.AsyncClient, counted_store: Store, counter: ReadCounter
) -> None:
    tenant = await make_tenant(counted_store, "loaders")
    await seed_customer_page(counted_store, tenant.tenant_id, 1, T0)
    [before], _ = await _page(counted_api, tenant, counter, 1)
    first_enrollment = before["enrollments"]["nodes"][0]
    assert first_enrollment["status"] == "ACTIVE"

    enrollment = await counted_store.enrollments.get(tenant.tenant_id, first_enrollment["id"])
    assert enrollment is not None
    await counted_store.enrollments.upsert_projection(
        enrollment.model_copy(update={"status": "exited", "seq": 2, "current_node": "done"})
    )

    [after], _ = await _page(counted_api, tenant, counter, 1)
    assert after["enrollments"]["nodes"][0]["status"] == "EXITED"
    assert after["enrollments"]["nodes"][0]["currentNode"] == "done"


READ_AHEAD = """
query($first: Int!, $statuses: [EnrollmentStatus!]) {
  customers(first: 3) {
    nodes {
      id
      all: enrollments(first: $first) { nodes { id deliveries(first: 1) { nodes { nodeId } } } }
      exited: enrollments(status: [EXITED], first: 1) { nodes { id } }
      running: enrollments(status: $statuses, first: 2) { nodes { id } }
      ...more
    }
  }
}
fragment more on Customer { viaFragment: enrollments(first: 2) { nodes { journeyId } } }
"""


async def test_lists_read_ahead_answer_what_each_field_asks(
    counted_api: httpx.AsyncClient, counted_store: Store, counter: ReadCounter
) -> None:
    # Each `enrollments` selection has its own arguments (literal, variable, enum list, through a
    # fragment): the page read ahead for one must never answer another.
    tenant = await make_tenant(counted_store, "loaders")
    await seed_customer_page(counted_store, tenant.tenant_id, 3, T0)
    first = (await counted_store.customers.search(tenant.tenant_id, CustomerSearch())).items[0]
    second = await counted_store.enrollments.get(
        tenant.tenant_id, f"{tenant.tenant_id}:{PAGE_JOURNEYS[1]}:{first.id}"
    )
    assert second is not None
    await counted_store.enrollments.upsert_projection(
        second.model_copy(update={"status": "exited", "seq": 2})
    )

    with counter.measure():
        data = await gql(
            counted_api,
            tenant,
            READ_AHEAD,
            {"first": 1, "statuses": ["ACTIVE"]},
            role="viewer",
        )

    by_id = {c["id"]: c for c in data["customers"]["nodes"]}
    assert len(by_id) == 3
    for customer_id, customer in by_id.items():
        journeys = [f"{tenant.tenant_id}:{j}:{customer_id}" for j in PAGE_JOURNEYS]
        exited = [journeys[1]] if customer_id == first.id else []
        running = [journeys[0]] if customer_id == first.id else journeys
        assert [e["id"] for e in customer["all"]["nodes"]] == journeys[:1]
        assert customer["all"]["nodes"][0]["deliveries"]["nodes"] == [{"nodeId": "welcome"}]
        assert [e["id"] for e in customer["exited"]["nodes"]] == exited
        assert [e["id"] for e in customer["running"]["nodes"]] == running
        assert [e["journeyId"] for e in customer["viaFragment"]["nodes"]] == list(PAGE_JOURNEYS)
