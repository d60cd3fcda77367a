"""From a journey designed through GraphQL to a customer walking it, driven by ingested events.

Real Temporal dev server, real workers (`runtime.worker.build_workers`) with the sandbox channel,
real MongoDB; short durations.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from store.database import Store
from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY
from tests.api.support import TenantKeys, event, eventually, gql, post_events, published_journey
from workflows.converter import DATA_CONVERTER

ENROLLMENT = """
query($id: ID!) {
  enrollment(id: $id) {
    id status currentNode path converted exitReason version
    wait { kind eventType }
    transitions { nodes { seq fromNode toNode label } }
    deliveries { nodes { nodeId channel action status } }
  }
}
"""


async def _enrollment(api: httpx.AsyncClient, tenant: TenantKeys, enrollment_id: str) -> Any:
    data = await gql(api, tenant, ENROLLMENT, {"id": enrollment_id}, role="viewer")
    return data["enrollment"]


async def test_an_ingested_event_enrolls_and_a_later_one_moves_the_enrollment_on(
    api: httpx.AsyncClient, tenant: TenantKeys, workers: None
) -> None:
    journey_id = await published_journey(api, tenant)
    identity = {"phone": "13900000001"}

    free = await post_events(
        api, tenant, [event("s0", "signup.completed", identity, {"plan": "free"})]
    )
    assert free["results"][0]["enrollments"] == []

    signup = await post_events(
        api, tenant, [event("s1", "signup.completed", identity, {"plan": "pro"})]
    )
    result = signup["results"][0]
    assert result["status"] == "accepted"
    [route] = result["enrollments"]
    assert (route["journey_id"], route["action"]) == (journey_id, "enrolled")
    enrollment_id = route["enrollment_id"]
    assert enrollment_id == f"{tenant.tenant_id}:{journey_id}:{result['customer_id']}"

    async def waiting_for_order() -> Any:
        found = await _enrollment(api, tenant, enrollment_id)
        return found if found and found["currentNode"] == "await_order" else None

    waiting = await eventually(waiting_for_order)
    assert waiting["status"] == "ACTIVE"
    assert waiting["wait"] == {"kind": "event", "eventType": "order.paid"}
    assert waiting["deliveries"]["nodes"] == [
        {"nodeId": "welcome", "channel": "sandbox", "action": "send_message", "status": "succeeded"}
    ]

    order = await post_events(api, tenant, [event("o1", "order.paid", identity, {"total": 99})])
    assert order["results"][0]["enrollments"] == [
        {"enrollment_id": enrollment_id, "journey_id": journey_id, "action": "signalled"}
    ]

    async def ended() -> Any:
        found = await _enrollment(api, tenant, enrollment_id)
        return found if found and found["status"] != "ACTIVE" else None

    done = await eventually(ended)
    assert (done["status"], done["exitReason"]) == ("EXITED", "bought")
    assert done["path"][-2:] == ["await_order", "bought"]

    listed = await gql(
        api,
        tenant,
        "query($j: ID!) { enrollments(filter: {journeyId: $j}) { nodes { id customerId } } }",
        {"j": journey_id},
        role="viewer",
    )
    assert [n["id"] for n in listed["enrollments"]["nodes"]] == [enrollment_id]
    customer = await gql(
        api,
        tenant,
        "query($id: ID!) { customer(id: $id) { enrollments { nodes { id status } } } }",
        {"id": result["customer_id"]},
        role="viewer",
    )
    assert customer["customer"]["enrollments"]["nodes"] == [
        {"id": enrollment_id, "status": "EXITED"}
    ]


async def test_enroll_customer_and_cancel_through_graphql(
    api: httpx.AsyncClient, tenant: TenantKeys, workers: None
) -> None:
    journey_id = await published_journey(api, tenant)
    lead = await post_events(api, tenant, [event("l1", "lead.captured", {"phone": "13900000002"})])
    customer_id = lead["results"][0]["customer_id"]
    enroll = """
    mutation($j: ID!, $c: ID!) {
      enrollCustomer(journeyId: $j, customerId: $c) {
        __typename ... on Enrolled { enrollmentId outcome }
      }
    }
    """
    data = await gql(api, tenant, enroll, {"j": journey_id, "c": customer_id}, role="operator")
    enrolled = data["enrollCustomer"]
    assert enrolled["outcome"] == "started"
    enrollment_id = enrolled["enrollmentId"]

    async def waiting() -> Any:
        found = await _enrollment(api, tenant, enrollment_id)
        return found if found and found["currentNode"] == "await_order" else None

    await eventually(waiting)
    cancel = """
    mutation($id: ID!) {
      cancelEnrollment(id: $id, reason: "test") { __typename ... on Enrollment { id } }
    }
    """
    denied = await gql(api, tenant, cancel, {"id": enrollment_id}, role="viewer")
    assert denied["cancelEnrollment"]["__typename"] == "Forbidden"
    accepted = await gql(api, tenant, cancel, {"id": enrollment_id}, role="operator")
    assert accepted["cancelEnrollment"] == {"__typename": "Enrollment", "id": enrollment_id}

    async def cancelled() -> Any:
        found = await _enrollment(api, tenant, enrollment_id)
        return found if found and found["status"] == "CANCELLED" else None

    await eventually(cancelled)
    again = await gql(api, tenant, cancel, {"id": enrollment_id}, role="operator")
    assert again["cancelEnrollment"]["__typename"] == "Conflict"


def _hook_journey() -> dict[str, Any]:
    return {
        "nodes": [
            {
                "kind": "entry",
                "id": "start",
                "trigger": {"type": "hook", "hook": "douyin-ad-spring"},
            },
            {"kind": "update_profile", "id": "tag", "add_tags": ["source:douyin"]},
            {"kind": "exit", "id": "done", "reason": "welcomed"},
        ],
        "edges": [
            {"source": "start", "target": "tag"},
            {"source": "tag", "target": "done"},
        ],
    }


async def test_a_hook_entry_enrolls_once_and_records_the_first_touch(
    api: httpx.AsyncClient, tenant: TenantKeys, workers: None
) -> None:
    created = await gql(
        api, tenant, CREATE_JOURNEY, {"input": {"name": "Hook", "definition": _hook_journey()}}
    )
    journey_id = created["createJourney"]["id"]
    assert (await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey_id}))["publishJourney"][
        "__typename"
    ] == "Journey"
    identity = {"wecom_external_userid": "wm-hook-1"}

    elsewhere = await post_events(
        api, tenant, [event("c0", "wecom.contact_added", identity, {"state": "offline-store"})]
    )
    assert elsewhere["results"][0]["enrollments"] == []

    hooked = await post_events(
        api, tenant, [event("c1", "wecom.contact_added", identity, {"state": "douyin-ad-spring"})]
    )
    [route] = hooked["results"][0]["enrollments"]
    assert route["action"] == "enrolled"

    async def ended() -> Any:
        found = await _enrollment(api, tenant, route["enrollment_id"])
        return found if found and found["status"] == "EXITED" else None

    assert (await eventually(ended))["exitReason"] == "welcomed"

    async def tagged() -> Any:
        # The projection is written before the step's profile update runs: wait for the tag.
        data = await gql(
            api,
            tenant,
            "query($id: ID!) { customer(id: $id) { firstTouchHook tags } }",
            {"id": hooked["results"][0]["customer_id"]},
        )
        return data["customer"] if data["customer"]["tags"] else None

    customer = await eventually(tagged)
    assert customer == {"firstTouchHook": "douyin-ad-spring", "tags": ["source:douyin"]}

    again = await post_events(
        api, tenant, [event("c2", "wecom.contact_added", identity, {"state": "douyin-ad-spring"})]
    )
    assert [r["action"] for r in again["results"][0]["enrollments"]] == ["already_enrolled"]


async def test_when_routing_fails_the_event_stays_stored_and_the_result_says_so(
    api: httpx.AsyncClient,
    store: Store,
    registry: ConnectorRegistry,
    tenant: TenantKeys,
    temporal_env: WorkflowEnvironment,
) -> None:
    await published_journey(api, tenant)
    # A real client whose namespace does not exist: every workflow start is refused.
    broken = await Client.connect(
        temporal_env.client.service_client.config.target_host,
        namespace=f"missing-{uuid.uuid4().hex[:8]}",
        data_converter=DATA_CONVERTER,
    )
    app = create_app(store, broken, registry)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        body = await post_events(
            client,
            tenant,
            [event("s9", "signup.completed", {"phone": "13900000009"}, {"plan": "pro"})],
        )
    [result] = body["results"]
    assert result["status"] == "accepted"
    assert result["routing_error"].startswith("stored, routing failed")
    assert await store.events.get(tenant.tenant_id, "s9") is not None
