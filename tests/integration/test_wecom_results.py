"""Mass-message results polled from the WeCom simulator become one event per customer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from api.services.ingest import IngestService
from connectors.wecom.client import WeComClient
from connectors.wecom.simulator import WeComSimulator
from domain.channels import WeComCredentials, new_callback_id
from domain.deliveries import Delivery
from runtime.wecom_results import MassMessageResultPoller
from store.database import Store

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
STAFF = "zhangsan"


@pytest.fixture
async def store(mongo_db: AsyncDatabase[dict[str, Any]]) -> Store:
    store = Store(mongo_db)
    await store.ensure_indexes()
    return store


@pytest.fixture
async def simulator() -> AsyncIterator[WeComSimulator]:
    sim = WeComSimulator(corp_id="ww-results", secret="app-secret")
    async with sim.serve():
        yield sim


@pytest.fixture
async def client(store: Store, simulator: WeComSimulator) -> AsyncIterator[WeComClient]:
    async with httpx.AsyncClient() as http:
        yield WeComClient(http, store.wecom_credentials)


async def issued_task(
    store: Store, client: WeComClient, sim: WeComSimulator, tenant_id: str, created: datetime
) -> tuple[str, str]:
    """A customer, a mass-message task for them, and its succeeded delivery: (external, msgid)."""
    assert sim.base_url is not None
    await store.wecom_credentials.put(
        WeComCredentials(
            tenant_id=tenant_id,
            corp_id=sim.corp_id,
            secret=SecretStr("app-secret"),
            callback_token=SecretStr("token"),
            encoding_aes_key=SecretStr(AES_KEY),
            base_url=sim.base_url,
            callback_id=new_callback_id(),
        )
    )
    external = sim.add_customer(STAFF, "").external_userid
    answer = await client.call(
        tenant_id,
        "externalcontact/add_msg_template",
        {
            "chat_type": "single",
            "external_userid": [external],
            "sender": STAFF,
            "text": {"content": "member day"},
        },
    )
    msgid = answer["msgid"]
    await store.deliveries.begin(
        Delivery(
            tenant_id=tenant_id,
            idempotency_key=f"enr-{uuid.uuid4().hex[:6]}/touch/1",
            enrollment_id="enr",
            customer_id="cus",
            journey_id="jrn",
            node_id="touch",
            channel="wecom",
            action="mass_message",
            created_at=created,
            updated_at=created,
        )
    )
    page = await store.deliveries.list_for_customer(tenant_id, "cus")
    await store.deliveries.mark_succeeded(
        tenant_id,
        page.items[0].idempotency_key,
        created,
        external_id=msgid,
        detail={"msgid": msgid, "sender": STAFF},
    )
    return external, msgid


async def result_events(store: Store, tenant_id: str) -> list[dict[str, Any]]:
    found = store.db["events"].find({"tenant_id": tenant_id, "type": "wecom.mass_message.result"})
    return [doc async for doc in found]


async def test_a_confirmed_task_yields_one_sent_result_per_customer(
    store: Store,
    client: WeComClient,
    simulator: WeComSimulator,
    temporal_env: WorkflowEnvironment,
) -> None:
    tenant_id = f"t-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    external, msgid = await issued_task(store, client, simulator, tenant_id, now)
    poller = MassMessageResultPoller(
        store, client, IngestService(store, temporal_env.client), clock=lambda: now
    )

    assert await poller.poll_once() == 0  # not confirmed yet: no final status
    simulator.confirm(msgid, STAFF)
    first = await poller.poll_once()
    again = await poller.poll_once()

    assert (first, again) == (1, 0)
    [event] = await result_events(store, tenant_id)
    assert event["identity"] == {"wecom_external_userid": external}
    assert event["properties"]["msgid"] == msgid
    assert event["properties"]["status"] == "sent"
    assert event["properties"]["node_id"] == "touch"


async def test_a_task_nobody_confirms_ends_as_not_sent_once_it_ages_out(
    store: Store,
    client: WeComClient,
    simulator: WeComSimulator,
    temporal_env: WorkflowEnvironment,
) -> None:
    tenant_id = f"t-{uuid.uuid4().hex[:8]}"
    issued = datetime.now(UTC) - timedelta(days=3, minutes=5)
    await issued_task(store, client, simulator, tenant_id, issued)
    poller = MassMessageResultPoller(
        store, client, IngestService(store, temporal_env.client), max_age=timedelta(days=3)
    )

    assert await poller.poll_once() == 1

    [event] = await result_events(store, tenant_id)
    assert event["properties"]["status"] == "not_sent"
