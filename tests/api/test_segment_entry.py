"""Segment entry through GraphQL: every customer matching a customer filter is enrolled on the
journey's live version as a tracked, paced operation that respects the re-entry policy.

Real Temporal dev server, real workers, real MongoDB.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from domain.enrollments import enrollment_id
from store.database import Store
from tests.api.journeys import CREATE_JOURNEY, welcome_journey
from tests.api.support import TenantKeys, event, eventually, gql, post_events, published_journey

ENROLL_SEGMENT = """
mutation($j: ID!, $filter: CustomerFilter, $rate: Float) {
  enrollSegment(journeyId: $j, filter: $filter, perSecond: $rate) {
    __typename
    ... on BulkOperation { id kind status total done skipped failed perSecond }
    ... on Conflict { message }
    ... on InvalidInput { errors { path message } }
    ... on NotFound { missing: kind }
    ... on Forbidden { requiredPermission }
  }
}
"""
OPERATION = """
query($id: ID!) {
  operation(id: $id) { status total done skipped failed percent startedAt finishedAt }
}
"""
VIP = {"tags": {"all": ["vip"]}}


async def _customers(api: httpx.AsyncClient, tenant: TenantKeys, store: Store) -> list[str]:
    """Six customers, the first four tagged `vip`."""
    ids = []
    for index in range(6):
        phone = f"1370000{index:04d}"
        body = await post_events(
            api, tenant, [event(f"seen-{phone}", "page.viewed", {"phone": phone})]
        )
        customer_id: str = body["results"][0]["customer_id"]
        if index < 4:
            await store.customers.update_profile(
                tenant.tenant_id, customer_id, datetime.now(UTC), add_tags=["vip"]
            )
        ids.append(customer_id)
    return ids


async def _finished(api: httpx.AsyncClient, tenant: TenantKeys, operation_id: str) -> Any:
    async def probe() -> Any:
        found = (await gql(api, tenant, OPERATION, {"id": operation_id}, role="viewer"))[
            "operation"
        ]
        return found if found["status"] in ("SUCCEEDED", "FAILED") else None

    return await eventually(probe)


async def test_a_segment_is_enrolled_once_paced_and_tracked(
    api: httpx.AsyncClient,
    store: Store,
    tenant: TenantKeys,
    temporal_env: WorkflowEnvironment,
    workers: None,
    started: list[str],
) -> None:
    customers = await _customers(api, tenant, store)
    journey_id = await published_journey(api, tenant, welcome_journey(timeout="PT10M"))
    started += [enrollment_id(tenant.tenant_id, journey_id, c) for c in customers]

    data = await gql(
        api, tenant, ENROLL_SEGMENT, {"j": journey_id, "filter": VIP, "rate": 2.0}, role="operator"
    )
    operation = data["enrollSegment"]
    assert (operation["__typename"], operation["kind"], operation["perSecond"]) == (
        "BulkOperation",
        "ENROLL",
        2.0,
    )
    finished = await _finished(api, tenant, operation["id"])

    assert (finished["status"], finished["total"], finished["done"], finished["skipped"]) == (
        "SUCCEEDED",
        4,
        4,
        0,
    )
    for index, customer_id in enumerate(customers):
        found = await store.enrollments.get(
            tenant.tenant_id, enrollment_id(tenant.tenant_id, journey_id, customer_id)
        )
        assert (found is not None) == (index < 4), index

    again = await gql(
        api, tenant, ENROLL_SEGMENT, {"j": journey_id, "filter": VIP}, role="operator"
    )
    repeated = await _finished(api, tenant, again["enrollSegment"]["id"])
    assert (repeated["done"], repeated["skipped"]) == (0, 4)  # re-entry `never`


async def test_segment_entry_refuses_what_it_cannot_do(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    draft = (
        await gql(
            api, tenant, CREATE_JOURNEY, {"input": {"name": "D", "definition": welcome_journey()}}
        )
    )["createJourney"]["id"]

    unpublished = await gql(api, tenant, ENROLL_SEGMENT, {"j": draft}, role="operator")
    too_fast = await gql(api, tenant, ENROLL_SEGMENT, {"j": draft, "rate": 0.0}, role="operator")
    viewer = await gql(api, tenant, ENROLL_SEGMENT, {"j": draft}, role="viewer")
    elsewhere = await gql(api, other_tenant, ENROLL_SEGMENT, {"j": draft}, role="operator")

    assert unpublished["enrollSegment"]["__typename"] == "Conflict"
    assert too_fast["enrollSegment"]["errors"][0]["path"] == "perSecond"
    assert viewer["enrollSegment"] == {
        "__typename": "Forbidden",
        "requiredPermission": "manage_enrollments",
    }
    assert elsewhere["enrollSegment"] == {"__typename": "NotFound", "missing": "journey"}
