"""A key of one tenant sees nothing of another's journeys, customers or enrollments."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from domain.enrollments import Enrollment
from store.database import Store
from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY, UPDATE_JOURNEY, welcome_journey
from tests.api.support import TenantKeys, event, gql, post_events


async def test_another_tenant_sees_none_of_a_tenants_records(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    created = await gql(
        api, tenant, CREATE_JOURNEY, {"input": {"name": "A", "definition": welcome_journey()}}
    )
    journey_id = created["createJourney"]["id"]
    ingested = await post_events(
        api, tenant, [event("a1", "lead.captured", {"phone": "13700000000"})]
    )
    customer_id = ingested["results"][0]["customer_id"]
    now = datetime.now(UTC)
    enrollment_id = f"{tenant.tenant_id}:{journey_id}:{customer_id}"
    await store.enrollments.upsert_projection(
        Enrollment(
            id=enrollment_id,
            tenant_id=tenant.tenant_id,
            journey_id=journey_id,
            version=1,
            customer_id=customer_id,
            started_at=now,
            updated_at=now,
            seq=1,
        )
    )
    reads = """
    query($j: ID!, $c: ID!, $e: ID!) {
      journey(id: $j) { id }
      customer(id: $c) { id }
      customerByIdentity(kind: "phone", value: "13700000000") { id }
      enrollment(id: $e) { id }
      journeys { nodes { id } }
      customers { nodes { id } }
      enrollments { nodes { id } }
    }
    """
    variables = {"j": journey_id, "c": customer_id, "e": enrollment_id}
    mine = await gql(api, tenant, reads, variables)
    assert mine["journey"] == {"id": journey_id}
    assert mine["enrollment"] == {"id": enrollment_id}
    theirs = await gql(api, other_tenant, reads, variables)
    assert theirs == {
        "journey": None,
        "customer": None,
        "customerByIdentity": None,
        "enrollment": None,
        "journeys": {"nodes": []},
        "customers": {"nodes": []},
        "enrollments": {"nodes": []},
    }

    writes = [
        (PUBLISH_JOURNEY, {"id": journey_id}, "publishJourney"),
        (
            UPDATE_JOURNEY,
            {"id": journey_id, "rev": 1, "definition": welcome_journey()},
            "updateJourney",
        ),
    ]
    for query, args, field in writes:
        data = await gql(api, other_tenant, query, args)
        assert data[field]["__typename"] == "NotFound", field
    cancel = "mutation($e: ID!) { cancelEnrollment(id: $e) { __typename } }"
    data = await gql(api, other_tenant, cancel, {"e": enrollment_id})
    assert data["cancelEnrollment"]["__typename"] == "NotFound"
    enroll = "mutation($j: ID!, $c: ID!) { enrollCustomer(journeyId: $j, customerId: $c) { __typename } }"
    data = await gql(api, other_tenant, enroll, {"j": journey_id, "c": customer_id})
    assert data["enrollCustomer"]["__typename"] == "NotFound"


async def test_the_same_event_id_in_two_tenants_is_two_events(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    identity = {"phone": "13700000001"}
    mine = await post_events(api, tenant, [event("shared", "order.paid", identity)])
    theirs = await post_events(api, other_tenant, [event("shared", "order.paid", identity)])
    assert mine["results"][0]["status"] == theirs["results"][0]["status"] == "accepted"
    assert mine["results"][0]["customer_id"] != theirs["results"][0]["customer_id"]
