"""A MongoDB outage is answered 503 with a clear code, and health tells liveness from readiness.

MongoDB is either a free port with nothing listening, or a SecantusDB server this test starts and
then stops; Temporal is the session's dev server. The clients are made with the settings'
timeouts (`runtime.settings.mongo_client_options`), shortened so the suite waits little.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import Principal
from api.graphql.context import Context
from api.graphql.schema import schema
from connectors.registry import ConnectorRegistry
from connectors.sandbox import SandboxConnector
from runtime.embedded import mongodb_server
from runtime.processes import free_port
from runtime.settings import Settings, mongo_client_options
from store.database import Store
from tests.api.support import make_tenant

QUICK = Settings(mongodb_server_selection_timeout=0.5, mongodb_connect_timeout=0.5)
CUSTOMERS = "{ customers(first: 1) { nodes { id } } }"
# shaped like a key, so checking it needs MongoDB
SOME_KEY = {"Authorization": "Bearer oj_abcdefgh_" + "x" * 32}


def _client(uri: str) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(uri, **mongo_client_options(QUICK))


async def _close(client: AsyncMongoClient[dict[str, Any]]) -> None:
    """Close the client and collect what it leaves behind now.

    pymongo's server monitor, cancelled by `close` while it connects to the unreachable server,
    drops its socket unclosed (`pool_shared._async_create_connection` closes it only on
    `OSError`/`TimeoutError`); collected later, inside another test, the `ResourceWarning` would
    fail that one.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        await client.close()
        await asyncio.sleep(0.1)  # the cancelled monitor task finishes
        gc.collect()


@pytest.fixture
async def down() -> AsyncIterator[Store]:
    """A store whose MongoDB is a port nobody listens on (held bound, so no other process on
    this shared machine can start listening there meanwhile)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        client = _client(f"mongodb://127.0.0.1:{held.getsockname()[1]}")
        try:
            yield Store(client["omnijourney"])
        finally:
            await _close(client)


def _api(store: Store, temporal_env: WorkflowEnvironment) -> httpx.AsyncClient:
    app = create_app(store, temporal_env.client, ConnectorRegistry([SandboxConnector()]))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")


async def test_events_during_a_mongodb_outage_are_answered_503_service_unavailable(
    down: Store, temporal_env: WorkflowEnvironment
) -> None:
    async with _api(down, temporal_env) as api:
        response = await api.post(
            "/v1/events",
            json={"events": []},
            headers=SOME_KEY,
        )

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.json()["error"]["dependency"] == "mongodb"
    assert response.headers["retry-after"]


async def test_graphql_during_a_mongodb_outage_is_answered_503_in_graphql_shape(
    down: Store, temporal_env: WorkflowEnvironment
) -> None:
    async with _api(down, temporal_env) as api:
        response = await api.post(
            "/graphql",
            json={"query": CUSTOMERS},
            headers=SOME_KEY,
        )

    assert response.status_code == 503
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE", "dependency": "mongodb"}
    assert "Timeout" not in error["message"]  # the driver's text (hosts, topology) stays inside


async def test_a_resolver_meeting_the_outage_reports_service_unavailable_not_internal(
    down: Store, temporal_env: WorkflowEnvironment
) -> None:
    app = create_app(down, temporal_env.client, ConnectorRegistry([SandboxConnector()]))
    principal = Principal(tenant_id="acme", role="viewer", key_id="key_1")
    context = Context(principal=principal, services=app.state.services)

    result = await schema.execute(CUSTOMERS, context_value=context)

    assert result.errors
    assert result.errors[0].extensions == {
        "code": "SERVICE_UNAVAILABLE",
        "dependency": "mongodb",
    }


async def test_liveness_needs_no_dependency_and_readiness_names_mongodb_down(
    down: Store, temporal_env: WorkflowEnvironment
) -> None:
    async with _api(down, temporal_env) as api:
        live = await api.get("/livez")
        ready = await api.get("/readyz")
        legacy = await api.get("/healthz")

    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert ready.status_code == legacy.status_code == 503
    assert ready.json() == {
        "status": "degraded",
        "checks": {"mongodb": "unavailable", "temporal": "ok"},
    }


async def test_a_mongodb_stopped_while_the_api_runs_turns_answers_into_503(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    port = free_port()
    server = mongodb_server(tmp_path / "data", port, tmp_path / "secantusd.log").start()
    client = _client(f"mongodb://127.0.0.1:{port}")
    try:
        store = Store(client["omnijourney"])
        await store.ensure_indexes()
        tenant = await make_tenant(store, "brand-outage")
        async with _api(store, temporal_env) as api:
            before = await api.post(
                "/graphql", json={"query": CUSTOMERS}, headers=tenant.auth("viewer")
            )
            assert before.status_code == 200, before.text
            assert (await api.get("/readyz")).status_code == 200

            server.stop()
            during = await api.post(
                "/graphql", json={"query": CUSTOMERS}, headers=tenant.auth("viewer")
            )
            events = await api.post(
                "/v1/events", json={"events": []}, headers=tenant.auth("operator")
            )
            ready = await api.get("/readyz")
    finally:
        server.stop()
        await _close(client)

    assert during.status_code == 503
    assert during.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert events.status_code == 503
    assert events.json()["error"]["code"] == "service_unavailable"
    assert ready.status_code == 503
    assert (await _live(store, temporal_env)).status_code == 200


async def _live(store: Store, temporal_env: WorkflowEnvironment) -> httpx.Response:
    async with _api(store, temporal_env) as api:
        return await api.get("/livez")


def test_the_mongodb_client_gets_the_settings_timeouts_in_milliseconds() -> None:
    options = mongo_client_options(Settings())
    assert options == {
        "tz_aware": True,
        "serverSelectionTimeoutMS": 5000,
        "connectTimeoutMS": 5000,
        "socketTimeoutMS": 30000,
    }
