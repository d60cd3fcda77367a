"""Lead and order pushes over the real app and MongoDB: verified first, ingested once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from starlette.applications import Starlette
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.rest.sources import MAX_SOURCE_BYTES
from api.services.container import Services
from connectors.registry import ConnectorRegistry
from store.database import Store
from tests.api.sources import (
    DOUYIN_SECRET,
    XHS_TOKEN,
    counts,
    douyin_clue,
    douyin_headers,
    order,
    order_headers,
    push,
    xhs_headers,
    xhs_lead,
)
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


def services(app: Starlette) -> Services:
    found: Services = app.state.services
    return found


async def test_a_douyin_lead_becomes_lead_created_with_the_phone_and_its_ad_as_the_hook(
    app: Starlette, client: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    view = await services(app).source_settings.set_douyin(tenant.tenant_id, DOUYIN_SECRET)
    body = douyin_clue()
    response = await push(client, view.path, body, douyin_headers(body))
    assert response.status_code == 200, response.text
    assert response.json() == {"code": 0, "message": "success"}
    stored = await store.events.find(tenant.tenant_id, "douyin:7301")
    assert stored is not None
    event = stored.event
    assert event.type == "lead.created"
    assert event.identity == {"phone": "13800138000"}  # normalised as every phone is
    assert event.properties["name"] == "王小明"
    assert event.properties["city"] == "上海"
    assert event.properties["state"] == "douyin:1781234567"
    assert event.properties["attribution"] == {
        "platform": "douyin",
        "advertiser_id": "1700000001",
        "campaign_id": "1779000000",
        "ad_id": "1781234567",
        "creative_id": "1790000001",
    }
    assert event.timestamp.isoformat() == "2026-12-07T01:30:00+00:00"  # Beijing time
    await services(app).drain()
    customer = await store.customers.get(tenant.tenant_id, event.customer_id)
    assert customer.first_touch_hook == "douyin:1781234567"


async def test_a_douyin_lead_pushed_again_is_stored_once(
    app: Starlette,
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    view = await services(app).source_settings.set_douyin(tenant.tenant_id, DOUYIN_SECRET)
    body = douyin_clue()
    first = await push(client, view.path, body, douyin_headers(body))
    after_first = await counts(mongo_db)
    again = await push(client, view.path, body, douyin_headers(body))
    assert first.status_code == again.status_code == 200
    assert await counts(mongo_db) == after_first


async def test_douyins_url_check_is_answered_with_its_challenge(
    app: Starlette, client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    view = await services(app).source_settings.set_douyin(tenant.tenant_id, DOUYIN_SECRET)
    body = b'{"event":"verify_webhook","client_key":"abc","content":{"challenge":12345}}'
    response = await push(client, view.path, body, douyin_headers(body))
    assert response.status_code == 200
    assert response.json() == {"challenge": 12345}


async def test_a_tampered_douyin_push_is_refused_and_stores_nothing(
    app: Starlette,
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    view = await services(app).source_settings.set_douyin(tenant.tenant_id, DOUYIN_SECRET)
    before = await counts(mongo_db)
    signed = douyin_clue()
    tampered = signed.replace(b"13800138000", b"13800138001").replace(b"138-0013-8000", b"1")
    assert tampered != signed
    response = await push(client, view.path, tampered, douyin_headers(signed))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    wrong_key = await push(client, view.path, signed, douyin_headers(signed, "another-secret"))
    assert wrong_key.status_code == 403
    unsigned = await push(client, view.path, signed, {"Content-Type": "application/json"})
    assert unsigned.status_code == 403
    # a body that would not even parse is refused for its signature, not read
    garbage = await push(client, view.path, b"{not json", douyin_headers(signed))
    assert garbage.status_code == 403
    assert await counts(mongo_db) == before


async def test_a_push_to_an_unknown_url_is_not_found(client: httpx.AsyncClient) -> None:
    body = douyin_clue()
    response = await push(client, "/v1/sources/douyin/nobody", body, douyin_headers(body))
    assert response.status_code == 404


async def test_an_oversized_push_is_refused_unread(
    app: Starlette, client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    view = await services(app).source_settings.set_douyin(tenant.tenant_id, DOUYIN_SECRET)
    body = b" " * (MAX_SOURCE_BYTES + 1)
    response = await push(client, view.path, body, douyin_headers(body))
    assert response.status_code == 413


async def test_a_xiaohongshu_lead_becomes_lead_created_and_tampering_is_refused(
    app: Starlette,
    client: httpx.AsyncClient,
    store: Store,
    tenant: TenantKeys,
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    view = await services(app).source_settings.set_xiaohongshu(tenant.tenant_id, XHS_TOKEN)
    body = xhs_lead()
    before = await counts(mongo_db)
    tampered = await push(client, view.path, body.replace(b"L-1", b"L-2"), xhs_headers(body))
    assert tampered.status_code == 403
    assert await counts(mongo_db) == before
    response = await push(client, view.path, body, xhs_headers(body))
    assert response.status_code == 200, response.text
    assert response.json() == {"code": 0, "msg": "success"}
    stored = await store.events.find(tenant.tenant_id, "xiaohongshu:L-1")
    assert stored is not None
    assert stored.event.identity == {"phone": "13900139000"}
    assert stored.event.properties["name"] == "李雷"
    assert stored.event.properties["city"] == "杭州"
    assert stored.event.properties["state"] == "xiaohongshu:cr-3"
    assert stored.event.properties["attribution"]["campaign_id"] == "c-77"
    await services(app).drain()
    customer = await store.customers.get(tenant.tenant_id, stored.event.customer_id)
    assert customer.first_touch_hook == "xiaohongshu:cr-3"


async def test_the_order_webhook_stores_paid_and_refunded_orders(
    app: Starlette, client: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    made = await services(app).source_settings.set_orders(tenant.tenant_id)
    paid = order(
        buyer={"phone": "13800138000", "unionid": "o-union-1", "external_userid": "wm-ext-1"}
    )
    response = await push(client, made.view.path, paid, order_headers(paid, made.secret))
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "event_ids": ["order:E1:paid"]}
    refund = order("order.refunded", amount=2900, refund_id="R1")
    response = await push(client, made.view.path, refund, order_headers(refund, made.secret))
    assert response.status_code == 200, response.text
    paid_event = await store.events.find(tenant.tenant_id, "order:E1:paid")
    refund_event = await store.events.find(tenant.tenant_id, "order:E1:refund:R1")
    assert paid_event is not None and refund_event is not None
    assert paid_event.event.identity == {
        "phone": "13800138000",
        "unionid": "o-union-1",
        "wecom_external_userid": "wm-ext-1",
    }
    assert paid_event.event.properties["amount"] == 12900
    assert paid_event.event.properties["items"][0]["sku"] == "A1"
    assert refund_event.event.properties == {
        "order_id": "E1",
        "amount": 2900,
        "currency": "CNY",
        "items": [{"sku": "A1", "name": "拿铁", "quantity": 1, "price": 2900}],
        "refund_id": "R1",
        "full": False,
    }
    assert refund_event.event.customer_id == paid_event.event.customer_id


async def test_a_replayed_or_tampered_order_message_is_refused_and_stores_nothing(
    app: Starlette,
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    made = await services(app).source_settings.set_orders(tenant.tenant_id)
    body = order()
    before = await counts(mongo_db)
    stale = order_headers(body, made.secret, timestamp=int(time.time()) - 301)
    replayed = await push(client, made.view.path, body, stale)
    assert replayed.status_code == 403
    tampered = await push(
        client, made.view.path, body.replace(b"12900", b"1"), order_headers(body, made.secret)
    )
    assert tampered.status_code == 403
    assert await counts(mongo_db) == before
    fresh = await push(client, made.view.path, body, order_headers(body, made.secret))
    assert fresh.status_code == 200


async def test_a_malformed_order_message_is_refused_with_the_reason(
    app: Starlette,
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    made = await services(app).source_settings.set_orders(tenant.tenant_id)
    before = await counts(mongo_db)
    body = order(amount=-5)
    response = await push(client, made.view.path, body, order_headers(body, made.secret))
    assert response.status_code == 400
    assert "amount" in response.json()["error"]["message"]
    nobody = order(buyer={})
    response = await push(client, made.view.path, nobody, order_headers(nobody, made.secret))
    assert response.status_code == 400
    assert await counts(mongo_db) == before


async def test_a_rotated_order_secret_still_accepts_the_old_one_during_the_overlap(
    app: Starlette, client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    from datetime import timedelta

    settings = services(app).source_settings
    first = await settings.set_orders(tenant.tenant_id)
    rotated = await settings.rotate_orders_secret(tenant.tenant_id, timedelta(hours=1))
    assert rotated.secret != first.secret
    assert rotated.view.callback_id == first.view.callback_id
    for secret, order_id in ((first.secret, "E-old"), (rotated.secret, "E-new")):
        body = order(order_id=order_id)
        response = await push(client, rotated.view.path, body, order_headers(body, secret))
        assert response.status_code == 200, response.text
    await settings.rotate_orders_secret(tenant.tenant_id, timedelta(0))
    body = order(order_id="E-late")
    late = await push(client, rotated.view.path, body, order_headers(body, rotated.secret))
    assert late.status_code == 403
