"""API fixtures: the real app over real MongoDB and Temporal, reached through HTTP (ASGI)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from starlette.applications import Starlette
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from connectors.sandbox import SandboxConnector
from connectors.sms import SmsConnector
from connectors.wechat import OfficialAccountConnector, WeChatClient
from connectors.wecom import WeComClient, WeComConnector
from connectors.wecom.envelope import CallbackCodec
from domain.sms import SETTINGS_KIND as SMS_SETTINGS
from domain.sms import SmsSettings
from runtime.worker import build_workers
from store.database import Store
from tests.api.support import TenantKeys, make_tenant
from tests.fixtures.secrets import TEST_SECRET_BOX


@pytest.fixture
async def store(mongo_db: AsyncDatabase[dict[str, Any]]) -> Store:
    store = Store(mongo_db, TEST_SECRET_BOX)
    await store.ensure_indexes()
    return store


@pytest.fixture
async def registry(store: Store) -> AsyncIterator[ConnectorRegistry]:
    """Sandbox, WeCom, SMS and the Official Account (the real channels answer only for tenants
    whose settings are stored)."""
    async with httpx.AsyncClient() as http:
        client = WeComClient(http, store.wecom_credentials)
        wecom = WeComConnector(client, store.wecom_allowances, store.wecom_transfers)

        async def sms_settings(tenant_id: str) -> SmsSettings | None:
            return await store.channel_settings.get(tenant_id, SMS_SETTINGS, SmsSettings)

        sms = SmsConnector(http, sms_settings, store.sms_messages)
        oa = OfficialAccountConnector(WeChatClient(http, store.wechat_apps))
        yield ConnectorRegistry([SandboxConnector(), wecom, sms, oa])


@pytest.fixture
async def api(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(store, temporal_env.client, registry)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


@pytest.fixture
def wecom_app(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> Starlette:
    """The app with WeCom callbacks enabled (its codec set)."""
    return create_app(store, temporal_env.client, registry, wecom_codec=CallbackCodec())


@pytest.fixture
async def wecom_api(wecom_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `wecom_app`; the background work callbacks leave is drained at the end."""
    transport = httpx.ASGITransport(app=wecom_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client
    await wecom_app.state.services.drain()


@pytest.fixture
async def workers(
    temporal_env: WorkflowEnvironment, store: Store, registry: ConnectorRegistry
) -> AsyncIterator[None]:
    """The journey workers (`runtime.worker.build_workers`) running for the test."""
    async with AsyncExitStack() as stack:
        for worker in build_workers(temporal_env.client, store, registry):
            await stack.enter_async_context(worker)
        yield


@pytest.fixture
async def started(temporal_env: WorkflowEnvironment) -> AsyncIterator[list[str]]:
    """Enrollment ids a test started; any still running afterwards are terminated."""
    ids: list[str] = []
    yield ids
    for workflow_id in ids:
        handle = temporal_env.client.get_workflow_handle(workflow_id)
        with contextlib.suppress(Exception):
            if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                await handle.terminate("test finished")


@pytest.fixture
async def tenant(store: Store) -> TenantKeys:
    return await make_tenant(store, "brand-a")


@pytest.fixture
async def other_tenant(store: Store) -> TenantKeys:
    return await make_tenant(store, "brand-b")
