"""Helpers for API tests: tenants with one key per role, GraphQL calls, event bodies, polling."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from domain.tenants import ApiKeyRole, Tenant
from store.database import Store

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
    keys = {}
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
