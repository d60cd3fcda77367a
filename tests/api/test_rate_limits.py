"""Per-key request rate limits on `/graphql` and `/v1/events`: 429 with `Retry-After` once a
key's burst is spent, other keys unaffected, WeCom callbacks and `/healthz` never limited."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.rate_limit import AbuseLimits
from connectors.registry import ConnectorRegistry
from runtime.serve import abuse_limits
from runtime.settings import Settings
from store.database import Store
from tests.api.support import TenantKeys

PING = {"query": "{ journeys { totalCount } }"}
# So slow a refill that no token comes back during the test, however slow the machine.
TRICKLE = AbuseLimits(requests_per_second=0.001, burst=2)


@pytest.fixture
async def limited(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(store, temporal_env.client, registry, abuse=TRICKLE)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


async def test_a_key_past_its_burst_gets_429_with_retry_after(
    limited: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    for _ in range(TRICKLE.burst):
        ok = await limited.post("/graphql", json=PING, headers=tenant.auth("viewer"))
        assert ok.status_code == 200, ok.text
    refused = await limited.post("/graphql", json=PING, headers=tenant.auth("viewer"))

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == int(refused.headers["retry-after"])
    # another key of the same tenant has a bucket of its own
    other = await limited.post("/graphql", json=PING, headers=tenant.auth("admin"))
    assert other.status_code == 200


async def test_events_share_the_keys_bucket_and_callbacks_and_health_are_not_limited(
    limited: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    for _ in range(TRICKLE.burst):
        await limited.post("/graphql", json=PING, headers=tenant.auth("operator"))
    events = await limited.post("/v1/events", json={"events": []}, headers=tenant.auth("operator"))
    assert events.status_code == 429
    assert events.json()["error"]["code"] == "rate_limited"
    assert int(events.headers["retry-after"]) >= 1

    for _ in range(TRICKLE.burst + 2):
        assert (await limited.get("/healthz")).status_code != 429
        callback = await limited.post("/v1/callbacks/wecom/cb_unknown", content=b"<xml/>")
        assert callback.status_code != 429


async def test_requests_without_a_valid_key_are_401_not_429(limited: httpx.AsyncClient) -> None:
    for _ in range(TRICKLE.burst + 2):
        response = await limited.post(
            "/graphql", json=PING, headers={"Authorization": "Bearer oj_nope"}
        )
        assert response.status_code == 401


def test_the_settings_turn_into_the_apps_limits() -> None:
    limits = abuse_limits(
        Settings(api_rate_limit=5, api_rate_limit_burst=7, max_subscriptions_per_connection=3)
    )
    assert limits == AbuseLimits(requests_per_second=5, burst=7, max_subscriptions_per_connection=3)
    assert abuse_limits(Settings(api_rate_limit=0)).requests_per_second is None
    assert abuse_limits(Settings()).requests_per_second == 20
