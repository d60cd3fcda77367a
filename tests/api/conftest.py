"""API fixtures: the real app over real MongoDB and Temporal, reached through HTTP (ASGI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from connectors.sandbox import SandboxConnector
from connectors.wecom import WeComClient, WeComConnector
from store.database import Store
from tests.api.support import TenantKeys, make_tenant


@pytest.fixture
async def store(mongo_db: AsyncDatabase[dict[str, Any]]) -> Store:
    store = Store(mongo_db)
    await store.ensure_indexes()
    return store


@pytest.fixture
async def registry(store: Store) -> AsyncIterator[ConnectorRegistry]:
    """Sandbox and WeCom (WeCom answers only for tenants whose credentials are stored)."""
    async with httpx.AsyncClient() as http:
        client = WeComClient(http, store.wecom_credentials)
        wecom = WeComConnector(client, store.wecom_allowances, store.wecom_transfers)
        yield ConnectorRegistry([SandboxConnector(), wecom])


@pytest.fixture
async def api(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(store, temporal_env.client, registry)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


@pytest.fixture
async def tenant(store: Store) -> TenantKeys:
    return await make_tenant(store, "brand-a")


@pytest.fixture
async def other_tenant(store: Store) -> TenantKeys:
    return await make_tenant(store, "brand-b")
