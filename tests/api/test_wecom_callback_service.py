"""The callback service beyond the wire protocol, over the real app, MongoDB and Temporal: what a
contact-added callback notes on its customer (also when an earlier delivery of the callback stored
its event but never routed it), and what it keeps in memory (a tenant's credentials, briefly; hook
states): a tenant that changes its keys is heard at once, a forged callback is still refused, and
a code made after a callback named its state is attributed from then on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.services.ingest import IngestService
from api.services.wecom_callbacks import FOLLOW_USER_ATTRIBUTE
from connectors.registry import ConnectorRegistry
from connectors.wecom.envelope import CallbackCodec
from domain import wecom_events
from domain.channels import WeComCredentials, new_callback_id
from domain.customers import Customer
from domain.hooks import Hook
from store.database import Store
from tests.api.support import TenantKeys
from tests.api.test_wecom_callbacks import CORP, TOKEN, added, aes_key, crypto_of, post, sealed

STATE = "douyin-spring"


@pytest.fixture
def wecom_app(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> Starlette:
    return create_app(store, temporal_env.client, registry, wecom_codec=CallbackCodec())


@pytest.fixture
async def wecom_api(wecom_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=wecom_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client
    await wecom_app.state.services.drain()


def credentials_of(tenant_id: str, callback_id: str) -> WeComCredentials:
    return WeComCredentials.model_validate(
        {
            "tenant_id": tenant_id,
            "corp_id": CORP,
            "secret": "app-secret",
            "callback_token": TOKEN,
            "encoding_aes_key": aes_key(),
            "callback_id": callback_id,
        }
    )


@pytest.fixture
async def connected(store: Store, tenant: TenantKeys) -> WeComCredentials:
    credentials = credentials_of(tenant.tenant_id, new_callback_id())
    await store.wecom_credentials.put(credentials)
    return credentials


@pytest.fixture
async def hook(store: Store, tenant: TenantKeys) -> Hook:
    now = datetime.now(UTC)
    return await store.hooks.insert(
        Hook(
            id=f"hook_{uuid.uuid4().hex}",
            tenant_id=tenant.tenant_id,
            name="douyin spring",
            kind="contact_way",
            state=STATE,
            config_id="cfg-1",
            qr_code="https://example.invalid/qr.png",
            staff_users=["zhangsan"],
            created_at=now,
            updated_at=now,
        )
    )


async def stored_earlier(
    store: Store,
    temporal_env: WorkflowEnvironment,
    credentials: WeComCredentials,
    hook: Hook,
    message: dict[str, str],
) -> str:
    """Store the callback's event as a first delivery would have before dying: never routed,
    the callback not recorded as handled. Its customer's id."""
    event = wecom_events.translate(message, credentials.corp_id, hook_id=hook.id)
    assert event is not None
    ingest = IngestService(store, temporal_env.client)
    batch = await ingest.store(credentials.tenant_id, [event.model_dump(mode="json")])
    [result] = batch.results
    assert result.status == "accepted" and result.customer_id is not None
    return result.customer_id


async def customer(store: Store, tenant_id: str, customer_id: str) -> Customer:
    return await store.customers.get(tenant_id, customer_id)


async def test_a_retried_callback_whose_event_was_never_routed_notes_the_contact(
    wecom_app: Starlette,
    wecom_api: httpx.AsyncClient,
    store: Store,
    temporal_env: WorkflowEnvironment,
    connected: WeComCredentials,
    hook: Hook,
) -> None:
    message = added(f"wm-{uuid.uuid4().hex[:8]}", State=STATE)
    customer_id = await stored_earlier(store, temporal_env, connected, hook, message)

    response = await post(
        wecom_api,
        f"/v1/callbacks/wecom/{connected.callback_id}",
        sealed(crypto_of(connected), message),
    )
    await wecom_app.state.services.drain()

    assert response.text == "success"
    noted = await customer(store, connected.tenant_id, customer_id)
    assert noted.attributes.get(FOLLOW_USER_ATTRIBUTE) == "zhangsan"
    assert noted.first_touch_hook == STATE
    [event] = (await store.events.list_for_customer(connected.tenant_id, customer_id)).items
    found = await store.events.find(connected.tenant_id, event.id)
    assert found is not None and not found.pending  # and it was routed


async def test_a_retried_callback_whose_event_was_routed_notes_nothing_again(
    wecom_app: Starlette,
    wecom_api: httpx.AsyncClient,
    store: Store,
    temporal_env: WorkflowEnvironment,
    connected: WeComCredentials,
    hook: Hook,
) -> None:
    message = added(f"wm-{uuid.uuid4().hex[:8]}", State=STATE)
    customer_id = await stored_earlier(store, temporal_env, connected, hook, message)
    [event] = (await store.events.list_for_customer(connected.tenant_id, customer_id)).items
    await store.events.mark_routed(connected.tenant_id, [event.id], datetime.now(UTC))

    response = await post(
        wecom_api,
        f"/v1/callbacks/wecom/{connected.callback_id}",
        sealed(crypto_of(connected), message),
    )
    await wecom_app.state.services.drain()

    assert response.text == "success"
    untouched = await customer(store, connected.tenant_id, customer_id)
    assert FOLLOW_USER_ATTRIBUTE not in untouched.attributes
    assert untouched.first_touch_hook is None


def path(credentials: WeComCredentials) -> str:
    return f"/v1/callbacks/wecom/{credentials.callback_id}"


def callback(credentials: WeComCredentials, **extra: str) -> bytes:
    return sealed(crypto_of(credentials), added(f"wm-{uuid.uuid4().hex[:8]}", **extra))


async def test_a_callback_under_a_new_key_is_accepted_right_after_the_key_changed(
    wecom_api: httpx.AsyncClient, store: Store, connected: WeComCredentials
) -> None:
    assert (await post(wecom_api, path(connected), callback(connected))).status_code == 200
    rotated = credentials_of(connected.tenant_id, connected.callback_id)
    await store.wecom_credentials.put(rotated)

    response = await post(wecom_api, path(rotated), callback(rotated))

    assert (response.status_code, response.text) == (200, "success")


async def test_a_callback_under_a_key_the_tenant_never_had_is_still_refused(
    wecom_api: httpx.AsyncClient, store: Store, connected: WeComCredentials
) -> None:
    assert (await post(wecom_api, path(connected), callback(connected))).status_code == 200
    forged = credentials_of(connected.tenant_id, connected.callback_id)

    response = await post(wecom_api, path(connected), callback(forged))

    assert response.status_code in (400, 403)  # same token, other key: it does not decrypt
    assert await store.wecom_callbacks.count(connected.tenant_id) == 1


async def test_a_code_made_after_its_state_was_first_seen_is_attributed_from_then_on(
    wecom_app: Starlette, wecom_api: httpx.AsyncClient, store: Store, connected: WeComCredentials
) -> None:
    before = await post(wecom_api, path(connected), callback(connected, State="late-code"))
    now = datetime.now(UTC)
    hook = await store.hooks.insert(
        Hook(
            id=f"hook_{uuid.uuid4().hex}",
            tenant_id=connected.tenant_id,
            name="late code",
            kind="contact_way",
            state="late-code",
            config_id="cfg-late",
            qr_code="https://example.invalid/qr.png",
            staff_users=["zhangsan"],
            created_at=now,
            updated_at=now,
        )
    )

    after = await post(wecom_api, path(connected), callback(connected, State="late-code"))
    await wecom_app.state.services.drain()

    assert (before.status_code, after.status_code) == (200, 200)
    found = store.db["events"].find({"tenant_id": connected.tenant_id}).sort("received_at", 1)
    hooks = [doc["properties"].get("hook_id") async for doc in found]
    assert hooks == [None, hook.id]
