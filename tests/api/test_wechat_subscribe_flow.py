"""A mini-program journey over the real app, workers, MongoDB and a simulated mini-program: the
popup push grants the authorisation before the event is routed, so the journey it enters can
spend it at once, and only once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from connectors.sandbox import SandboxConnector
from connectors.wechat import MiniProgramConnector, WeChatClient, WeChatCodec
from connectors.wechat.simulator import WeChatDriver, WeChatSimulator
from domain.channels import new_callback_id
from domain.wechat import WeChatAppSettings
from store.database import Store
from tests.api.support import TenantKeys, eventually, published_journey

APPID = "wxmp0000000000009"
SECRET = "mp-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
JOURNEY: dict[str, Any] = {
    "nodes": [
        {
            "kind": "entry",
            "id": "start",
            "trigger": {
                "type": "event",
                "event_type": "miniprogram.subscribe_authorized",
                "where": [{"path": "template_id", "op": "eq", "value": "order-shipped"}],
            },
        },
        {
            "kind": "action",
            "id": "notify",
            "channel": "miniprogram",
            "action": "subscribe_message",
            "params": {
                "template_id": "order-shipped",
                "data": {"thing1": "Parcel on its way", "time2": "2026-12-07 10:00"},
                "page": "pages/orders/index",
            },
            "respect_quiet_hours": False,
        },
        {"kind": "exit", "id": "done", "reason": "notified"},
    ],
    "edges": [
        {"source": "start", "target": "notify"},
        {"source": "notify", "target": "done"},
    ],
    "settings": {"timezone": "Asia/Shanghai"},
}


@pytest.fixture
async def sim() -> AsyncIterator[WeChatSimulator]:
    simulator = WeChatSimulator("miniprogram", APPID, SECRET)
    simulator.add_template("order-shipped", ["thing1", "time2"])
    async with simulator.serve():
        yield simulator


@pytest.fixture
async def registry(store: Store) -> AsyncIterator[ConnectorRegistry]:
    """The workers' channels: sandbox and the mini-program over the real client."""
    async with httpx.AsyncClient() as http:
        client = WeChatClient(http, store.wechat_apps)
        miniprogram = MiniProgramConnector(client, store.miniprogram_authorizations)
        yield ConnectorRegistry([SandboxConnector(), miniprogram])


@pytest.fixture
def app(store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry) -> Starlette:
    return create_app(store, temporal_env.client, registry, wechat_codec=WeChatCodec())


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client
    await app.state.services.drain()


async def test_an_accepted_popup_enters_a_journey_whose_send_spends_that_authorisation(
    api: httpx.AsyncClient,
    app: Starlette,
    store: Store,
    tenant: TenantKeys,
    sim: WeChatSimulator,
    workers: None,
    started: list[str],
) -> None:
    assert sim.base_url is not None
    callback_id = new_callback_id()
    await store.wechat_apps.put(
        tenant.tenant_id,
        "miniprogram",
        WeChatAppSettings(
            appid=APPID,
            appsecret=SecretStr(SECRET),
            callback_token=SecretStr("push-token"),
            encoding_aes_key=SecretStr(AES_KEY),
            base_url=sim.base_url,
            callback_id=callback_id,
        ),
        datetime.now(UTC),
    )
    await published_journey(api, tenant, JOURNEY, name="Shipped")
    driver = WeChatDriver(
        sim,
        callback_url=f"/v1/callbacks/miniprogram/{callback_id}",
        token="push-token",
        encoding_aes_key=AES_KEY,
        http=api,
    )
    openid = sim.add_user()
    assert (await driver.popup(openid, accept=["order-shipped"])).status_code == 200

    async def sent() -> list[Any]:
        return list(sim.sent)

    [message] = await eventually(sent)
    assert message.body["touser"] == openid and message.body["page"] == "pages/orders/index"
    assert message.body["data"]["thing1"] == {"value": "Parcel on its way"}
    ledger = store.miniprogram_authorizations
    assert await ledger.remaining(tenant.tenant_id, openid, "order-shipped") == 0
    assert sim.authorizations[(openid, "order-shipped")] == 0

    async def succeeded() -> bool:
        doc = await store.db["deliveries"].find_one({"tenant_id": tenant.tenant_id})
        return doc is not None and doc["status"] == "succeeded"

    assert await eventually(succeeded)
    doc = await store.db["deliveries"].find_one({"tenant_id": tenant.tenant_id})
    assert doc is not None and doc["external_id"] == str(message.msgid)
    started.extend(
        [d["_id"] async for d in store.db["enrollments"].find({"tenant_id": tenant.tenant_id})]
    )
