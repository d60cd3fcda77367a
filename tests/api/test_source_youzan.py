"""Youzan's message push over the real app and MongoDB: paid and refunded trades."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from starlette.applications import Starlette
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from store.database import Store
from tests.api.sources import YOUZAN_CLIENT, YOUZAN_SECRET, counts, push, youzan_push
from tests.api.support import TenantKeys


@pytest.fixture
def app(store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry) -> Starlette:
    return create_app(store, temporal_env.client, registry)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield http
    await app.state.services.drain()


async def test_youzan_pushes_become_paid_and_refunded_orders(
    app: Starlette,
    client: httpx.AsyncClient,
    store: Store,
    tenant: TenantKeys,
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    view = await app.state.services.source_settings.set_youzan(
        tenant.tenant_id, YOUZAN_CLIENT, YOUZAN_SECRET
    )
    trade = {
        "full_order_info": {
            "order_info": {"tid": "E2026", "pay_time": "2026-12-07 12:00:00"},
            "pay_info": {"payment": "88.50"},
            "buyer_info": {"buyer_phone": "13700137000", "union_id": "o-yz-union"},
            "orders": [{"title": "咖啡豆", "num": 2, "price": "44.25", "outer_sku_id": "B2"}],
        }
    }
    paid = youzan_push("TRADE_ORDER_STATE", "WAIT_SELLER_SEND_GOODS", trade)
    response = await push(client, view.path, paid, {"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json() == {"code": 0, "msg": "success"}
    stored = await store.events.find(tenant.tenant_id, "youzan:E2026:paid")
    assert stored is not None
    assert stored.event.type == "order.paid"
    assert stored.event.properties["amount"] == 8850
    assert stored.event.identity == {"phone": "13700137000", "unionid": "o-yz-union"}
    assert stored.event.properties["items"] == [
        {"sku": "B2", "name": "咖啡豆", "quantity": 2, "price": 4425}
    ]
    refund = youzan_push(
        "TRADE_ORDER_REFUND",
        "REFUND_SUCCESS",
        {"tid": "E2026", "refund_id": "RF1", "refunded_fee": "10.00"},
    )
    response = await push(client, view.path, refund, {"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    refunded = await store.events.find(tenant.tenant_id, "youzan:E2026:refund:RF1")
    assert refunded is not None
    assert refunded.event.properties["amount"] == 1000
    assert refunded.event.customer_id == stored.event.customer_id  # the paid order's buyer
    before = await counts(mongo_db)
    forged = paid.replace(b"88.50", b"0.01")
    assert (await push(client, view.path, forged, {})).status_code == 403
    check = youzan_push("TRADE_ORDER_STATE", "WAIT_SELLER_SEND_GOODS", {}, test=True)
    answered = await push(client, view.path, check, {})
    assert answered.status_code == 200
    assert answered.json() == {"code": 0, "msg": "success"}
    assert await counts(mongo_db) == before


async def test_a_signed_message_replayed_under_another_shop_is_one_order(
    app: Starlette,
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    view = await app.state.services.source_settings.set_youzan(
        tenant.tenant_id, YOUZAN_CLIENT, YOUZAN_SECRET
    )
    trade = {
        "full_order_info": {
            "order_info": {"tid": "E7777", "pay_time": "2026-12-07 12:00:00"},
            "pay_info": {"payment": "10.00"},
            "buyer_info": {"buyer_phone": "13700137007"},
        }
    }
    headers = {"Content-Type": "application/json"}
    for shop in (55, 56, 9999):  # `kdt_id` and `id` sit outside the signed `msg`
        body = youzan_push("TRADE_ORDER_STATE", "WAIT_SELLER_SEND_GOODS", trade, kdt_id=shop)
        assert (await push(client, view.path, body, headers)).status_code == 200

    events, _ = await counts(mongo_db)
    assert events == 1
