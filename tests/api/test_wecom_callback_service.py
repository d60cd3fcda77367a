"""The callback service beyond the wire protocol, over the real app, MongoDB and Temporal: what a
contact-added callback notes on its customer (also when an earlier delivery of the callback stored
its event but never routed it), and what it keeps in memory (a tenant's credentials, briefly; hook
states): a tenant that changes its keys is heard at once, a forged callback is still refused, and
a code made after a callback named its state is attributed from then on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette
from temporalio.testing import WorkflowEnvironment

from domain import wecom_events
from domain.channels import WeComCredentials, new_callback_id
from domain.customers import Customer
from domain.hooks import Hook
from domain.wecom_events import FOLLOW_USER_ATTRIBUTE
from ingestion.service import IngestService
from store.database import Store
from tests.api.support import TenantKeys
from tests.api.test_wecom_callbacks import (
    added,
    credentials_of,
    crypto_of,
    drained,
    post,
    sealed,
    url,
)

STATE = "douyin-spring"


@pytest.fixture
async def connected(store: Store, tenant: TenantKeys) -> WeComCredentials:
    credentials = credentials_of(tenant.tenant_id, new_callback_id())
    await store.wecom_credentials.put(credentials)
    return credentials


async def insert_hook(store: Store, tenant_id: str, state: str, name: str, config_id: str) -> Hook:
    """A contact-way hook of `zhangsan` under `state`, stored."""
    now = datetime.now(UTC)
    return await store.hooks.insert(
        Hook(
            id=f"hook_{uuid.uuid4().hex}",
            tenant_id=tenant_id,
            name=name,
            kind="contact_way",
            state=state,
            config_id=config_id,
            qr_code="https://example.invalid/qr.png",
            staff_users=["zhangsan"],
            created_at=now,
            updated_at=now,
        )
    )


@pytest.fixture
async def hook(store: Store, tenant: TenantKeys) -> Hook:
    return await insert_hook(store, tenant.tenant_id, STATE, "douyin spring", "cfg-1")


@dataclass(frozen=True)
class EarlierDelivery:
    """A contact-added callback through the hook whose event a first delivery stored before
    dying: never routed, the callback not recorded as handled."""

    app: Starlette
    api: httpx.AsyncClient
    credentials: WeComCredentials
    message: dict[str, str]
    customer_id: str

    async def retry(self) -> httpx.Response:
        """WeCom's retry of the callback, once its background work is done."""
        body = sealed(crypto_of(self.credentials), self.message)
        return await delivered(self.app, self.api, self.credentials, body)


@pytest.fixture
async def earlier(
    wecom_app: Starlette,
    wecom_api: httpx.AsyncClient,
    store: Store,
    temporal_env: WorkflowEnvironment,
    connected: WeComCredentials,
    hook: Hook,
) -> EarlierDelivery:
    message = added(f"wm-{uuid.uuid4().hex[:8]}", State=STATE)
    event = wecom_events.translate(message, connected.corp_id, hook_id=hook.id)
    assert event is not None
    ingest = IngestService(store, temporal_env.client)
    batch = await ingest.store(connected.tenant_id, [event.model_dump(mode="json")])
    [result] = batch.results
    assert result.status == "accepted" and result.customer_id is not None
    return EarlierDelivery(wecom_app, wecom_api, connected, message, result.customer_id)


def callback(credentials: WeComCredentials, **extra: str) -> bytes:
    return sealed(crypto_of(credentials), added(f"wm-{uuid.uuid4().hex[:8]}", **extra))


async def delivered(
    app: Starlette, api: httpx.AsyncClient, credentials: WeComCredentials, body: bytes
) -> httpx.Response:
    """Post the callback to the tenant's URL and wait for the work it leaves."""
    response = await post(api, url(credentials), body)
    await drained(app)
    return response


async def customer(store: Store, tenant_id: str, customer_id: str) -> Customer:
    return await store.customers.get(tenant_id, customer_id)


async def test_a_retried_callback_whose_event_was_never_routed_notes_the_contact(
    store: Store, connected: WeComCredentials, earlier: EarlierDelivery
) -> None:
    customer_id = earlier.customer_id

    response = await earlier.retry()

    assert response.text == "success"
    noted = await customer(store, connected.tenant_id, customer_id)
    assert noted.attributes.get(FOLLOW_USER_ATTRIBUTE) == "zhangsan"
    assert noted.first_touch_hook == STATE
    [event] = (await store.events.list_for_customer(connected.tenant_id, customer_id)).items
    found = await store.events.find(connected.tenant_id, event.id)
    assert found is not None and not found.pending  # and it was routed


async def test_a_retried_callback_whose_event_was_routed_notes_nothing_again(
    store: Store, connected: WeComCredentials, earlier: EarlierDelivery
) -> None:
    customer_id = earlier.customer_id
    [event] = (await store.events.list_for_customer(connected.tenant_id, customer_id)).items
    await store.events.mark_routed(connected.tenant_id, [event.id], datetime.now(UTC))

    response = await earlier.retry()

    assert response.text == "success"
    untouched = await customer(store, connected.tenant_id, customer_id)
    assert FOLLOW_USER_ATTRIBUTE not in untouched.attributes
    assert untouched.first_touch_hook is None


async def test_a_callback_under_a_new_key_is_accepted_right_after_the_key_changed(
    wecom_api: httpx.AsyncClient, store: Store, connected: WeComCredentials
) -> None:
    assert (await post(wecom_api, url(connected), callback(connected))).status_code == 200
    rotated = credentials_of(connected.tenant_id, connected.callback_id)
    await store.wecom_credentials.put(rotated)

    response = await post(wecom_api, url(rotated), callback(rotated))

    assert (response.status_code, response.text) == (200, "success")


async def test_a_callback_under_a_key_the_tenant_never_had_is_still_refused(
    wecom_api: httpx.AsyncClient, store: Store, connected: WeComCredentials
) -> None:
    assert (await post(wecom_api, url(connected), callback(connected))).status_code == 200
    forged = credentials_of(connected.tenant_id, connected.callback_id)

    response = await post(wecom_api, url(connected), callback(forged))

    assert response.status_code in (400, 403)  # same token, other key: it does not decrypt
    assert await store.wecom_callbacks.count(connected.tenant_id) == 1


async def test_a_code_made_after_its_state_was_first_seen_is_attributed_from_then_on(
    wecom_app: Starlette, wecom_api: httpx.AsyncClient, store: Store, connected: WeComCredentials
) -> None:
    before = await post(wecom_api, url(connected), callback(connected, State="late-code"))
    hook = await insert_hook(store, connected.tenant_id, "late-code", "late code", "cfg-late")

    body = callback(connected, State="late-code")
    after = await delivered(wecom_app, wecom_api, connected, body)

    assert (before.status_code, after.status_code) == (200, 200)
    found = store.db["events"].find({"tenant_id": connected.tenant_id}).sort("received_at", 1)
    hooks = [doc["properties"].get("hook_id") async for doc in found]
    assert hooks == [None, hook.id]
