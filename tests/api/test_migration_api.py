"""Live migration through GraphQL: the dry run names every problem and counts each group's
moves, sends and skips; the move runs as a MIGRATE operation and the enrollments continue on
the new version at their mapped node."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from store.database import Store
from tests.api.journeys import PUBLISH_JOURNEY, UPDATE_JOURNEY, welcome_journey
from tests.api.support import TenantKeys, eventually, gql, published_journey

ENROLL = """
mutation($j: ID!, $c: ID!) {
  enrollCustomer(journeyId: $j, customerId: $c) { __typename ... on Enrolled { enrollmentId } }
}
"""
PLAN = """
query($j: ID!, $m: [NodeMappingInput!]!) {
  migrationPlan(journeyId: $j, fromVersion: 1, toVersion: 2, mapping: $m) {
    __typename
    ... on MigrationPlan {
      valid problems { path message }
      groups { fromNode toNode action enrollments sends skips }
    }
  }
}
"""
MIGRATE = """
mutation($j: ID!, $m: [NodeMappingInput!]!) {
  migrateEnrollments(journeyId: $j, fromVersion: 1, toVersion: 2, mapping: $m) {
    __typename
    ... on BulkOperation { id kind }
    ... on InvalidInput { errors { path } }
  }
}
"""
OPERATION = "query($id: ID!) { operation(id: $id) { status total done } }"


def v2(definition: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(definition)
    changed["nodes"][2]["id"] = "await_order_v2"
    changed["edges"] = [
        {**edge, "source": "await_order_v2"} if edge["source"] == "await_order" else edge
        for edge in changed["edges"]
    ]
    changed["edges"] = [
        {**edge, "target": "await_order_v2"} if edge["target"] == "await_order" else edge
        for edge in changed["edges"]
    ]
    return changed


async def test_a_journey_is_migrated_after_a_dry_run(
    api: httpx.AsyncClient,
    store: Store,
    tenant: TenantKeys,
    temporal_env: WorkflowEnvironment,
    workers: None,
    started: list[str],
) -> None:
    journey_id = await published_journey(api, tenant, welcome_journey(timeout="PT10M"))
    for phone in ("13500000001", "13500000002"):
        customer, _ = await store.customers.resolve(
            tenant.tenant_id, {"phone": phone}, datetime.now(UTC)
        )
        data = await gql(api, tenant, ENROLL, {"j": journey_id, "c": customer.id}, role="operator")
        started.append(data["enrollCustomer"]["enrollmentId"])

    async def waiting() -> bool | None:
        counts = await store.enrollments.count_by_current_node(tenant.tenant_id, journey_id, 1)
        return True if counts.get("await_order") == 2 else None

    await eventually(waiting)
    journey = await store.journeys.get(tenant.tenant_id, journey_id)
    updated = await gql(
        api,
        tenant,
        UPDATE_JOURNEY,
        {"id": journey_id, "rev": journey.revision, "definition": v2(welcome_journey("PT10M"))},
    )
    assert updated["updateJourney"]["problems"] == []
    await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey_id})

    unmapped = (await gql(api, tenant, PLAN, {"j": journey_id, "m": []}))["migrationPlan"]
    wrong = (
        await gql(
            api, tenant, PLAN, {"j": journey_id, "m": [{"fromNode": "await_order", "toNode": "x"}]}
        )
    )["migrationPlan"]
    mapping = [{"fromNode": "await_order", "toNode": "await_order_v2"}]
    good = (await gql(api, tenant, PLAN, {"j": journey_id, "m": mapping}))["migrationPlan"]
    refused = (await gql(api, tenant, MIGRATE, {"j": journey_id, "m": []}, role="operator"))[
        "migrateEnrollments"
    ]

    assert not unmapped["valid"] and unmapped["problems"][0]["path"] == "mapping.await_order"
    assert "2 enrollment(s)" in unmapped["problems"][0]["message"]
    assert [p["path"] for p in wrong["problems"]] == ["mapping.await_order"]
    assert good == {
        "__typename": "MigrationPlan",
        "valid": True,
        "problems": [],
        "groups": [
            {
                "fromNode": "await_order",
                "toNode": "await_order_v2",
                "action": "MOVE",
                "enrollments": 2,
                "sends": 0,
                "skips": 0,
            }
        ],
    }
    assert refused["__typename"] == "InvalidInput"

    moved = (await gql(api, tenant, MIGRATE, {"j": journey_id, "m": mapping}, role="operator"))[
        "migrateEnrollments"
    ]
    assert moved["kind"] == "MIGRATE"

    async def finished() -> Any:
        found = (await gql(api, tenant, OPERATION, {"id": moved["id"]}))["operation"]
        return found if found["status"] == "SUCCEEDED" else None

    assert (await eventually(finished))["done"] == 2

    async def on_v2() -> bool | None:
        counts = await store.enrollments.count_by_current_node(tenant.tenant_id, journey_id, 2)
        return True if counts.get("await_order_v2") == 2 else None

    assert await eventually(on_v2)
