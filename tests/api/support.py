"""Helpers for API tests: tenants with one key per role, GraphQL calls, event bodies, polling."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from domain.enrollments import Enrollment
from domain.tenants import ApiKeyRole, Tenant
from store.database import Store
from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY, welcome_journey

T = TypeVar("T")

ROLES: tuple[ApiKeyRole, ...] = ("admin", "designer", "operator", "viewer")


@dataclass(frozen=True)
class TenantKeys:
    """A tenant and a raw API key for each role."""

    tenant_id: str
    keys: dict[str, str]

    def auth(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


async def make_tenant(store: Store, name: str) -> TenantKeys:
    """A new tenant (unique id: the Temporal server is shared by the session) with keys."""
    now = datetime.now(UTC)
    tenant = Tenant(id=f"{name}-{uuid.uuid4().hex[:8]}", name=name, created_at=now)
    await store.tenants.create(tenant)
    keys: dict[str, str] = {}
    for role in ROLES:
        _, raw = await store.tenants.create_api_key(tenant.id, f"{role} key", role, now)
        keys[role] = raw
    return TenantKeys(tenant.id, keys)


async def gql(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    query: str,
    variables: dict[str, Any] | None = None,
    role: str = "admin",
) -> dict[str, Any]:
    """Run an operation; assert HTTP 200 and no errors; the `data`."""
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers=tenant.auth(role),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def event(
    event_id: str,
    event_type: str,
    identity: dict[str, str],
    properties: dict[str, Any] | None = None,
    timestamp: str = "2026-03-01T10:00:00+08:00",
) -> dict[str, Any]:
    """A client event as the REST body carries it."""
    return {
        "id": event_id,
        "type": event_type,
        "identity": identity,
        "timestamp": timestamp,
        "properties": properties or {},
    }


async def post_events(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    events: list[dict[str, Any]],
    role: str = "operator",
) -> dict[str, Any]:
    """POST a batch; assert 202; the body."""
    response = await client.post("/v1/events", json={"events": events}, headers=tenant.auth(role))
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, attempts: int = 300, interval: float = 0.1
) -> T:
    """Poll `probe` until it returns something truthy (bounded by attempts, not by a clock)."""
    for _ in range(attempts):
        found = await probe()
        if found:
            return found
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met after {attempts} attempts")


async def project_enrollment(
    store: Store, tenant_id: str, journey_id: str, customer_id: str, at: datetime
) -> str:
    """Record a bare active enrollment projection (version 1, seq 1, started `at`); its id."""
    enrollment_id = f"{tenant_id}:{journey_id}:{customer_id}"
    await store.enrollments.upsert_projection(
        Enrollment(
            id=enrollment_id,
            tenant_id=tenant_id,
            journey_id=journey_id,
            version=1,
            customer_id=customer_id,
            started_at=at,
            updated_at=at,
            seq=1,
        )
    )
    return enrollment_id


async def published_journey(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    definition: dict[str, Any] | None = None,
    name: str = "Welcome",
) -> str:
    """Create a journey (by default `welcome_journey()`) and publish it; its id."""
    created = await gql(
        api,
        tenant,
        CREATE_JOURNEY,
        {"input": {"name": name, "definition": definition or welcome_journey()}},
    )
    journey_id: str = created["createJourney"]["id"]
    published = await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey_id})
    assert published["publishJourney"]["__typename"] == "Journey"
    return journey_id


async def signalled_event_ids(env: WorkflowEnvironment, workflow_id: str) -> list[str]:
    """The ids of the events signalled to an enrollment (signal-with-start's too), in order."""
    history = await env.client.get_workflow_handle(workflow_id).fetch_history()
    ids: list[str] = []
    for item in history.events:
        if item.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            continue
        attributes = item.workflow_execution_signaled_event_attributes
        if attributes.signal_name == "event":
            ids.append(json.loads(attributes.input.payloads[0].data)["event"]["id"])
    return ids
