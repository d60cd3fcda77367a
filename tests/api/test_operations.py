"""Operations through GraphQL: bulk pause/resume/cancel of a journey's enrollments as tracked
operations, their takeover after a process died, test events and re-enrollment.

Real Temporal dev server, real workers (sandbox channel), real MongoDB; short durations.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from store.database import Store
from store.operations import BulkOperation
from tests.api.journeys import welcome_journey
from tests.api.support import TenantKeys, event, eventually, gql, post_events, published_journey
from workflows import client as journeys_client
from workflows.journey import JourneyWorkflow

ENROLLMENTS = 5

ENROLL = """
mutation($j: ID!, $c: ID!) {
  enrollCustomer(journeyId: $j, customerId: $c) { __typename ... on Enrolled { enrollmentId } }
}
"""
OPERATION_FIELDS = """
  id kind journeyId version reason status total done skipped failed percent
  errors { enrollmentId message } error createdBy createdAt startedAt finishedAt
"""
START = {
    name: f"""
mutation($j: ID!{extra_vars}) {{
  {name}(journeyId: $j{extra_args}) {{
    __typename
    ... on BulkOperation {{ {OPERATION_FIELDS} }}
    ... on NotFound {{ missingKind: kind missingId: id }}
    ... on Forbidden {{ requiredPermission }}
  }}
}}
"""
    for name, extra_vars, extra_args in [
        ("pauseJourneyEnrollments", "", ""),
        ("resumeJourneyEnrollments", "", ""),
        ("cancelJourneyEnrollments", ", $reason: String!", ", reason: $reason"),
    ]
}
OPERATION = f"query($id: ID!) {{ operation(id: $id) {{ {OPERATION_FIELDS} }} }}"
STATUSES = """
query($j: ID!) { enrollments(filter: {journeyId: $j}, first: 50) { nodes { id status currentNode } } }
"""


async def _customer(api: httpx.AsyncClient, tenant: TenantKeys, phone: str) -> str:
    body = await post_events(
        api, tenant, [event(f"lead-{phone}", "lead.captured", {"phone": phone})]
    )
    customer_id: str = body["results"][0]["customer_id"]
    return customer_id


async def _statuses(api: httpx.AsyncClient, tenant: TenantKeys, journey_id: str) -> list[Any]:
    data = await gql(api, tenant, STATUSES, {"j": journey_id}, role="viewer")
    nodes: list[Any] = data["enrollments"]["nodes"]
    return nodes


async def _all(
    api: httpx.AsyncClient, tenant: TenantKeys, journey_id: str, status: str, node: str
) -> list[Any]:
    async def probe() -> list[Any] | None:
        nodes = await _statuses(api, tenant, journey_id)
        matching = [n for n in nodes if n["status"] == status and n["currentNode"] == node]
        return nodes if len(matching) == ENROLLMENTS == len(nodes) else None

    return await eventually(probe)


async def _finished(api: httpx.AsyncClient, tenant: TenantKeys, operation_id: str) -> Any:
    async def probe() -> Any:
        data = await gql(api, tenant, OPERATION, {"id": operation_id}, role="viewer")
        found = data["operation"]
        return found if found["status"] in ("SUCCEEDED", "FAILED") else None

    return await eventually(probe)


async def _start(
    api: httpx.AsyncClient, tenant: TenantKeys, name: str, journey_id: str, **extra: Any
) -> Any:
    data = await gql(api, tenant, START[name], {"j": journey_id, **extra}, role="operator")
    return data[name]


async def _paused(client: Client, enrollment_ids: list[str]) -> list[bool]:
    return [(await journeys_client.live_state(client, i)).paused for i in enrollment_ids]


async def test_a_journey_is_paused_resumed_and_cancelled_in_bulk_as_tracked_operations(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    temporal_env: WorkflowEnvironment,
    workers: None,
    started: list[str],
) -> None:
    journey_id = await published_journey(api, tenant, welcome_journey(timeout="PT10M"))
    for index in range(ENROLLMENTS):
        customer_id = await _customer(api, tenant, f"1390000010{index}")
        data = await gql(api, tenant, ENROLL, {"j": journey_id, "c": customer_id}, role="operator")
        started.append(data["enrollCustomer"]["enrollmentId"])
    await _all(api, tenant, journey_id, "ACTIVE", "await_order")

    denied = await gql(
        api, tenant, START["pauseJourneyEnrollments"], {"j": journey_id}, role="viewer"
    )
    assert denied["pauseJourneyEnrollments"] == {
        "__typename": "Forbidden",
        "requiredPermission": "manage_enrollments",
    }

    pause = await _start(api, tenant, "pauseJourneyEnrollments", journey_id)
    assert (pause["__typename"], pause["kind"], pause["journeyId"]) == (
        "BulkOperation",
        "PAUSE",
        journey_id,
    )
    assert pause["createdBy"] and pause["status"] in ("PENDING", "RUNNING", "SUCCEEDED")
    paused = await _finished(api, tenant, pause["id"])
    assert {k: paused[k] for k in ("status", "total", "done", "skipped", "failed", "percent")} == {
        "status": "SUCCEEDED",
        "total": ENROLLMENTS,
        "done": ENROLLMENTS,
        "skipped": 0,
        "failed": 0,
        "percent": 100.0,
    }
    assert paused["errors"] == [] and paused["finishedAt"] is not None
    assert paused["startedAt"] is not None
    created, started_at, finished_at = (
        datetime.fromisoformat(paused[k]) for k in ("createdAt", "startedAt", "finishedAt")
    )
    assert created <= started_at <= finished_at
    assert await _paused(temporal_env.client, started) == [True] * ENROLLMENTS
    await _all(api, tenant, journey_id, "PAUSED", "await_order")

    resume = await _start(api, tenant, "resumeJourneyEnrollments", journey_id)
    resumed = await _finished(api, tenant, resume["id"])
    assert (resumed["status"], resumed["done"], resumed["total"]) == (
        "SUCCEEDED",
        ENROLLMENTS,
        ENROLLMENTS,
    )
    assert await _paused(temporal_env.client, started) == [False] * ENROLLMENTS
    await _all(api, tenant, journey_id, "ACTIVE", "await_order")

    cancel = await _start(
        api, tenant, "cancelJourneyEnrollments", journey_id, reason="journey retired"
    )
    assert cancel["reason"] == "journey retired"
    cancelled = await _finished(api, tenant, cancel["id"])
    assert (cancelled["status"], cancelled["done"]) == ("SUCCEEDED", ENROLLMENTS)
    for enrollment_id in started:
        handle = temporal_env.client.get_workflow_handle_for(JourneyWorkflow.run, enrollment_id)
        result = await handle.result()
        assert result.status == "cancelled"

    again = await _start(api, tenant, "pauseJourneyEnrollments", journey_id)
    nothing_left = await _finished(api, tenant, again["id"])
    assert (nothing_left["status"], nothing_left["total"], nothing_left["percent"]) == (
        "SUCCEEDED",
        0,
        100.0,
    )
    listed = await gql(
        api,
        tenant,
        "query($j: ID!) { operations(journeyId: $j) { nodes { id kind status } } }",
        {"j": journey_id},
        role="viewer",
    )
    assert [(n["id"], n["kind"]) for n in listed["operations"]["nodes"]] == [
        (pause["id"], "PAUSE"),
        (resume["id"], "RESUME"),
        (cancel["id"], "CANCEL"),
        (again["id"], "PAUSE"),
    ]


async def test_operations_are_not_found_across_tenants(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    journey_id = await published_journey(api, tenant, welcome_journey())
    theirs = await gql(
        api, other_tenant, START["pauseJourneyEnrollments"], {"j": journey_id}, role="operator"
    )
    assert theirs["pauseJourneyEnrollments"] == {
        "__typename": "NotFound",
        "missingKind": "journey",
        "missingId": journey_id,
    }
    mine = await _start(api, tenant, "pauseJourneyEnrollments", journey_id)
    await _finished(api, tenant, mine["id"])
    seen = await gql(api, other_tenant, OPERATION, {"id": mine["id"]}, role="admin")
    assert seen["operation"] is None


async def test_an_operation_abandoned_by_a_dead_process_is_taken_over_when_read(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    journey_id = await published_journey(api, tenant, welcome_journey())
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    # what a process leaves behind when it dies mid-run: `running`, its lease run out
    abandoned = BulkOperation(
        id="op_abandoned",
        tenant_id=tenant.tenant_id,
        kind="pause",
        journey_id=journey_id,
        status="running",
        total=3,
        done=3,
        created_by="key_gone",
        created_at=long_ago,
        started_at=long_ago,
        lease_until=long_ago + timedelta(minutes=1),
        attempts=1,
    )
    await store.operations.create(abandoned)

    finished = await _finished(api, tenant, abandoned.id)
    assert (finished["status"], finished["done"], finished["total"]) == ("SUCCEEDED", 3, 3)
    stored = await store.operations.get(tenant.tenant_id, abandoned.id)
    assert stored is not None and stored.attempts == 2
    # The takeover keeps when the work first started.
    assert stored.started_at is not None
    assert abs(stored.started_at - long_ago) < timedelta(milliseconds=1)


async def test_a_test_event_goes_through_ingestion_marked_as_a_test(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    customer_id = await _customer(api, tenant, "13900000201")
    send = """
    mutation($c: ID!, $t: String!, $p: JSON) {
      sendTestEvent(customerId: $c, type: $t, properties: $p) {
        __typename
        ... on EventIngestResult { eventId status customerId }
        ... on InvalidInput { errors { path message } }
        ... on NotFound { kind }
        ... on Forbidden { requiredPermission }
      }
    }
    """
    variables = {"c": customer_id, "t": "order.paid", "p": {"total": 42}}
    denied = await gql(api, tenant, send, variables, role="viewer")
    assert denied["sendTestEvent"]["__typename"] == "Forbidden"

    sent = (await gql(api, tenant, send, variables, role="operator"))["sendTestEvent"]
    assert (sent["__typename"], sent["status"], sent["customerId"]) == (
        "EventIngestResult",
        "accepted",
        customer_id,
    )
    stored = await store.events.get(tenant.tenant_id, sent["eventId"])
    assert stored is not None
    assert (stored.type, stored.properties) == ("order.paid", {"total": 42, "test": True})

    bad = await gql(api, tenant, send, {**variables, "t": "Not A Type"}, role="operator")
    assert bad["sendTestEvent"]["__typename"] == "InvalidInput"
    assert bad["sendTestEvent"]["errors"][0]["path"] == "type"
    unknown = await gql(api, tenant, send, {**variables, "c": "cus_missing"}, role="operator")
    assert unknown["sendTestEvent"] == {"__typename": "NotFound", "kind": "customer"}


REENROLL = """
mutation($j: ID!, $c: ID!) {
  reenrollCustomer(journeyId: $j, customerId: $c) {
    __typename
    ... on Enrolled { enrollmentId outcome }
    ... on ReentryNotAllowed { policy enrollmentId message }
  }
}
"""


def _journey_with_reentry(mode: str) -> dict[str, Any]:
    definition = welcome_journey(timeout="PT10M")
    definition["nodes"][0]["reentry"] = {"mode": mode} | (
        {"entry_key": "order_id"} if mode == "concurrent" else {}
    )
    return definition


async def test_reenrolling_follows_the_journeys_reentry_policy(
    api: httpx.AsyncClient, tenant: TenantKeys, started: list[str]
) -> None:
    customer_id = await _customer(api, tenant, "13900000301")
    once = await published_journey(api, tenant, _journey_with_reentry("never"))
    first = await gql(api, tenant, REENROLL, {"j": once, "c": customer_id}, role="operator")
    assert first["reenrollCustomer"]["__typename"] == "Enrolled"
    enrollment_id = first["reenrollCustomer"]["enrollmentId"]
    started.append(enrollment_id)
    refused = await gql(api, tenant, REENROLL, {"j": once, "c": customer_id}, role="operator")
    assert refused["reenrollCustomer"]["__typename"] == "ReentryNotAllowed"
    assert refused["reenrollCustomer"]["policy"] == "never"
    assert refused["reenrollCustomer"]["enrollmentId"] == enrollment_id

    denied = await gql(api, tenant, REENROLL, {"j": once, "c": customer_id}, role="viewer")
    assert denied["reenrollCustomer"]["__typename"] == "Forbidden"

    running = await published_journey(api, tenant, _journey_with_reentry("after_exit"))
    entered = await gql(api, tenant, REENROLL, {"j": running, "c": customer_id}, role="operator")
    started.append(entered["reenrollCustomer"]["enrollmentId"])
    while_running = await gql(
        api, tenant, REENROLL, {"j": running, "c": customer_id}, role="operator"
    )
    assert while_running["reenrollCustomer"]["__typename"] == "ReentryNotAllowed"
    assert while_running["reenrollCustomer"]["policy"] == "after_exit"

    parallel = await published_journey(api, tenant, _journey_with_reentry("concurrent"))
    ids = []
    for _ in range(2):
        data = await gql(api, tenant, REENROLL, {"j": parallel, "c": customer_id}, role="operator")
        assert data["reenrollCustomer"]["__typename"] == "Enrolled"
        ids.append(data["reenrollCustomer"]["enrollmentId"])
    started.extend(ids)
    assert len(set(ids)) == 2
