"""Identity resolution across the sources: a lead's phone, an order's phone and unionid, a WeCom
contact's unionid and external userid are one customer; an order naming two known customers
merges them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from store.database import Store
from tests.api.sources import (
    DOUYIN_SECRET,
    douyin_clue,
    douyin_headers,
    order,
    order_headers,
    push,
)
from tests.api.support import TenantKeys, event, post_events


@pytest.fixture
def app(store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry) -> Starlette:
    return create_app(store, temporal_env.client, registry)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield http
    await app.state.services.drain()


async def test_a_lead_an_order_and_a_wecom_contact_resolve_to_one_customer(
    app: Starlette, client: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    settings = app.state.services.source_settings
    leads = await settings.set_douyin(tenant.tenant_id, DOUYIN_SECRET)
    orders = await settings.set_orders(tenant.tenant_id)
    lead = douyin_clue(phone="+86 13800138000")
    assert (await push(client, leads.path, lead, douyin_headers(lead))).status_code == 200
    paid = order(buyer={"phone": "138 0013 8000", "unionid": "o-union-7"})
    response = await push(client, orders.view.path, paid, order_headers(paid, orders.secret))
    assert response.status_code == 200, response.text
    contact = event(
        "wecom-add-1",
        "wecom.contact_added",
        {"unionid": "o-union-7", "wecom_external_userid": "wm-ext-7"},
    )
    body = await post_events(client, tenant, [contact])
    assert body["results"][0]["status"] == "accepted"

    by_phone = await store.customers.get_by_identity(tenant.tenant_id, "phone", "13800138000")
    by_union = await store.customers.get_by_identity(tenant.tenant_id, "unionid", "o-union-7")
    by_ext = await store.customers.get_by_identity(
        tenant.tenant_id, "wecom_external_userid", "wm-ext-7"
    )
    assert by_phone is not None and by_union is not None and by_ext is not None
    assert by_phone.id == by_union.id == by_ext.id
    assert {(i.kind, i.value) for i in by_ext.identities} == {
        ("phone", "13800138000"),
        ("unionid", "o-union-7"),
        ("wecom_external_userid", "wm-ext-7"),
    }
    await app.state.services.drain()  # the lead's hook is noted before it is routed
    noted = await store.customers.get(tenant.tenant_id, by_ext.id)
    assert noted.first_touch_hook == "douyin:1781234567"  # the lead came first
    lead_event = await store.events.find(tenant.tenant_id, "douyin:7301")
    assert lead_event is not None and lead_event.event.customer_id == by_ext.id


async def test_an_order_naming_a_lead_and_a_wecom_contact_merges_them(
    app: Starlette, client: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    settings = app.state.services.source_settings
    leads = await settings.set_douyin(tenant.tenant_id, DOUYIN_SECRET)
    orders = await settings.set_orders(tenant.tenant_id)
    lead = douyin_clue(phone="13900000001")
    assert (await push(client, leads.path, lead, douyin_headers(lead))).status_code == 200
    contact = event("wecom-add-2", "wecom.contact_added", {"wecom_external_userid": "wm-ext-9"})
    await post_events(client, tenant, [contact])
    lead_customer = await store.customers.get_by_identity(tenant.tenant_id, "phone", "13900000001")
    wecom_customer = await store.customers.get_by_identity(
        tenant.tenant_id, "wecom_external_userid", "wm-ext-9"
    )
    assert lead_customer is not None and wecom_customer is not None
    assert lead_customer.id != wecom_customer.id

    paid = order(buyer={"phone": "13900000001", "external_userid": "wm-ext-9"})
    response = await push(client, orders.view.path, paid, order_headers(paid, orders.secret))
    assert response.status_code == 200, response.text

    survivor = await store.customers.get(tenant.tenant_id, wecom_customer.id)
    assert survivor.id == lead_customer.id  # the older record wins
    assert {(i.kind, i.value) for i in survivor.identities} == {
        ("phone", "13900000001"),
        ("wecom_external_userid", "wm-ext-9"),
    }
    absorbed = await store.customers.get(tenant.tenant_id, wecom_customer.id, follow_merges=False)
    assert absorbed.merged_into == lead_customer.id
    paid_event = await store.events.find(tenant.tenant_id, "order:E1:paid")
    assert paid_event is not None and paid_event.event.customer_id == lead_customer.id
