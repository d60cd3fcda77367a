"""Open websockets against the live server (uvicorn on 127.0.0.1, a real websocket client): a
revoked or expired key loses its subscriptions within seconds, and one connection runs at most
`max_subscriptions_per_connection` operations at once."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.rate_limit import AbuseLimits
from connectors.registry import ConnectorRegistry
from store.database import Store
from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY, welcome_journey
from tests.api.live_server import serving
from tests.api.support import TenantKeys, gql
from tests.api.test_subscriptions import LiveServer, Session, session

TRANSITIONS = """
subscription($j: ID!) { enrollmentTransitions(journeyId: $j) { seq toNode } }
"""
REVOKE_KEY = "mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }"


@contextlib.asynccontextmanager
async def _live(
    store: Store,
    temporal_env: WorkflowEnvironment,
    registry: ConnectorRegistry,
    abuse: AbuseLimits | None = None,
) -> AsyncIterator[LiveServer]:
    app = create_app(store, temporal_env.client, registry, abuse=abuse)
    async with (
        serving(app) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
    ):
        yield LiveServer(http, f"ws://127.0.0.1:{port}/graphql")


async def _journey(live: LiveServer, tenant: TenantKeys) -> str:
    created = await gql(
        live.http, tenant, CREATE_JOURNEY, {"input": {"name": "L", "definition": welcome_journey()}}
    )
    journey_id: str = created["createJourney"]["id"]
    await gql(live.http, tenant, PUBLISH_JOURNEY, {"id": journey_id})
    return journey_id


@contextlib.asynccontextmanager
async def _connected(live: LiveServer, raw_key: str) -> AsyncIterator[Session]:
    async with session(live, {"authorization": f"Bearer {raw_key}"}) as ws:
        assert (await ws.receive())["type"] == "connection_ack"
        yield ws


async def _is_open(ws: Session, journey_id: str, op_id: str) -> None:
    """Prove the connection serves: a subscription started now is not refused (the server
    handles messages in order, so a refusal would come before the pong)."""
    await ws.subscribe(op_id, TRANSITIONS, {"j": journey_id})
    await ws.send({"type": "ping"})
    while (message := await ws.receive())["type"] != "pong":
        assert message.get("id") == op_id and message["type"] != "error", message
    await ws.send({"id": op_id, "type": "complete"})


async def test_revoking_a_key_closes_its_open_subscriptions(
    store: Store,
    temporal_env: WorkflowEnvironment,
    registry: ConnectorRegistry,
    tenant: TenantKeys,
) -> None:
    async with _live(store, temporal_env, registry) as live:  # the default re-check interval
        journey_id = await _journey(live, tenant)
        viewer = await store.tenants.authenticate(tenant.keys["viewer"])
        assert viewer is not None
        async with (
            _connected(live, tenant.keys["viewer"]) as revoked,
            _connected(live, tenant.keys["operator"]) as kept,
        ):
            await revoked.subscribe("t", TRANSITIONS, {"j": journey_id})
            await kept.subscribe("t", TRANSITIONS, {"j": journey_id})
            answer = await gql(live.http, tenant, REVOKE_KEY, {"id": viewer.id})
            assert answer["revokeApiKey"]["__typename"] == "ApiKey"

            assert await revoked.closed_code() == 4401
            await _is_open(kept, journey_id, "probe")


async def test_a_key_expiring_while_connected_closes_its_subscriptions(
    store: Store,
    temporal_env: WorkflowEnvironment,
    registry: ConnectorRegistry,
    tenant: TenantKeys,
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    issued = datetime.now(UTC)
    key, raw = await store.tenants.create_api_key(
        tenant.tenant_id, "short", "viewer", issued, expires_at=issued + timedelta(days=1)
    )
    abuse = AbuseLimits(key_recheck_interval=0.2)
    async with _live(store, temporal_env, registry, abuse) as live:
        journey_id = await _journey(live, tenant)
        async with _connected(live, raw) as ws:
            await ws.subscribe("t", TRANSITIONS, {"j": journey_id})
            # The expiry passes (moved into the past rather than waited for).
            await mongo_db["api_keys"].update_one(
                {"_id": key.id}, {"$set": {"expires_at": issued - timedelta(seconds=1)}}
            )
            assert await ws.closed_code() == 4401


async def test_a_connection_runs_at_most_the_configured_number_of_subscriptions(
    store: Store,
    temporal_env: WorkflowEnvironment,
    registry: ConnectorRegistry,
    tenant: TenantKeys,
) -> None:
    abuse = AbuseLimits(max_subscriptions_per_connection=2)
    async with _live(store, temporal_env, registry, abuse) as live:
        journey_id = await _journey(live, tenant)
        async with _connected(live, tenant.keys["viewer"]) as ws:
            await ws.subscribe("a", TRANSITIONS, {"j": journey_id})
            await ws.subscribe("b", TRANSITIONS, {"j": journey_id})
            await ws.subscribe("c", TRANSITIONS, {"j": journey_id})
            refused = await ws.message_for("c")
            assert refused["type"] == "error"
            assert refused["payload"][0]["message"] == "Subscription limit reached"

            # Completing one frees its place; the connection stayed open all along.
            await ws.send({"id": "a", "type": "complete"})
            await _is_open(ws, journey_id, "d")


async def test_operations_over_a_websocket_draw_on_the_keys_rate_limit(
    store: Store,
    temporal_env: WorkflowEnvironment,
    registry: ConnectorRegistry,
    tenant: TenantKeys,
) -> None:
    # So slow a refill that no token comes back during the test, however slow the machine.
    abuse = AbuseLimits(requests_per_second=0.001, burst=2)
    query = "{ journeys { totalCount } }"
    async with (
        _live(store, temporal_env, registry, abuse) as live,
        _connected(live, tenant.keys["viewer"]) as ws,
    ):
        for op_id in ("a", "b"):
            await ws.subscribe(op_id, query, {})
            assert (await ws.message_for(op_id))["type"] == "next"
        await ws.subscribe("c", query, {})
        refused = await ws.message_for("c")
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
        # The same bucket as HTTP: the key's next request there is refused too.
        answer = await live.http.post(
            "/graphql", json={"query": query}, headers=tenant.auth("viewer")
        )
        assert answer.status_code == 429
