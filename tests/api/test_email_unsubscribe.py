"""One-click unsubscribe (RFC 8058) through the API: a signed link opts the customer out of
e-mail and records `email.unsubscribed`; GET only shows a confirmation; forged, altered or other
tenants' tokens change nothing."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from domain.email import UnsubscribeClaim, sign_unsubscribe_token
from store.database import Store
from tests.api.support import TenantKeys, event, eventually, post_events


@pytest.fixture
def email_app(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> Starlette:
    return create_app(store, temporal_env.client, registry)


@pytest.fixture
async def api(email_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `email_app`; the routing unsubscribes leave is drained at the end."""
    transport = httpx.ASGITransport(app=email_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client
    await email_app.state.services.drain()


async def _customer(api: httpx.AsyncClient, tenant: TenantKeys, address: str) -> str:
    body = await post_events(
        api, tenant, [event(f"s-{address}", "signup.completed", {"email": address})]
    )
    customer_id: str = body["results"][0]["customer_id"]
    return customer_id


async def _token(store: Store, tenant_id: str, customer_id: str) -> str:
    key = await store.email.unsubscribe_key(tenant_id, datetime.now(UTC))
    return sign_unsubscribe_token(key, UnsubscribeClaim(tenant_id, customer_id, 1_780_000_000))


async def _unsubscribed_events(store: Store, tenant_id: str, customer_id: str) -> list[str]:
    page = await store.events.list_for_customer(
        tenant_id, customer_id, event_type="email.unsubscribed"
    )
    return [e.id for e in page.items]


async def test_a_one_click_post_opts_the_customer_out_and_records_the_event(
    email_app: Starlette, api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    customer_id = await _customer(api, tenant, "lin@shop.example")
    token = await _token(store, tenant.tenant_id, customer_id)

    response = await api.post(
        f"/v1/unsubscribe/{token}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    customer = await store.customers.get(tenant.tenant_id, customer_id)
    refusal = customer.opted_out("email")
    assert refusal is not None and refusal.source == "email_unsubscribe"
    assert set(customer.consent) == {"email"}

    async def recorded() -> list[str]:
        return await _unsubscribed_events(store, tenant.tenant_id, customer_id)

    [first] = await eventually(recorded)
    again = await api.post(f"/v1/unsubscribe/{token}", content=b"List-Unsubscribe=One-Click")
    assert again.status_code == 200
    await email_app.state.services.drain()
    assert await recorded() == [first]  # one event per link, however often it is posted
    event_doc = await store.events.get(tenant.tenant_id, first)
    assert event_doc is not None
    assert (event_doc.type, event_doc.identity) == (
        "email.unsubscribed",
        {"email": "lin@shop.example"},
    )


async def test_a_get_shows_a_confirmation_form_and_changes_nothing(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    customer_id = await _customer(api, tenant, "mei@shop.example")
    token = await _token(store, tenant.tenant_id, customer_id)

    page = await api.get(f"/v1/unsubscribe/{token}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<form method="post"' in page.text
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    customer = await store.customers.get(tenant.tenant_id, customer_id)
    assert customer.consent == {}
    assert await _unsubscribed_events(store, tenant.tenant_id, customer_id) == []


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_forged_altered_and_other_tenants_tokens_are_rejected_and_change_nothing(
    email_app: Starlette,
    api: httpx.AsyncClient,
    store: Store,
    tenant: TenantKeys,
    other_tenant: TenantKeys,
    method: str,
) -> None:
    customer_id = await _customer(api, tenant, f"{method.lower()}@shop.example")
    token = await _token(store, tenant.tenant_id, customer_id)
    head, claim, mac = token.split(".")
    await store.email.unsubscribe_key(other_tenant.tenant_id, datetime.now(UTC))
    rejected = [
        # signed with a key of our own making
        sign_unsubscribe_token(
            SecretStr("guessed-key"), UnsubscribeClaim(tenant.tenant_id, customer_id, 1)
        ),
        # the tenant segment swapped to another tenant (whose key exists)
        f"{_b64(other_tenant.tenant_id.encode())}.{claim}.{mac}",
        # the claim altered to another customer, signature kept
        f"{head}.{_b64(b'{}')}.{mac}",
        # a tenant that has no key at all
        f"{_b64(b'nobody')}.{claim}.{mac}",
        # the signature altered
        f"{head}.{claim}.{'B' if mac[0] == 'A' else 'A'}{mac[1:]}",
        "garbage",
    ]
    for bad in rejected:
        response = await api.request(method, f"/v1/unsubscribe/{bad}")
        assert response.status_code == 404, (bad, response.text)
        assert "not valid" in response.text
    customer = await store.customers.get(tenant.tenant_id, customer_id)
    assert customer.consent == {}
    await email_app.state.services.drain()
    assert await _unsubscribed_events(store, tenant.tenant_id, customer_id) == []


async def test_a_token_of_one_tenant_is_not_verified_with_another_tenants_key(
    store: Store, tenant: TenantKeys, other_tenant: TenantKeys, api: httpx.AsyncClient
) -> None:
    customer_id = await _customer(api, tenant, "kai@shop.example")
    # A token naming the tenant, signed with the other tenant's real key.
    other_key = await store.email.unsubscribe_key(other_tenant.tenant_id, datetime.now(UTC))
    await store.email.unsubscribe_key(tenant.tenant_id, datetime.now(UTC))
    cross = sign_unsubscribe_token(other_key, UnsubscribeClaim(tenant.tenant_id, customer_id, 1))
    response = await api.post(f"/v1/unsubscribe/{cross}")
    assert response.status_code == 404
    assert (await store.customers.get(tenant.tenant_id, customer_id)).consent == {}
