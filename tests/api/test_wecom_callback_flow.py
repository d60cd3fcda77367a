"""WeCom callbacks as WeCom sends them (the simulator's driver), through the real app, connector,
MongoDB, Temporal dev server and workers: routed in the background, group joins attributed from
`groupchat/get`, and deleted contacts leaving their journeys."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.services.wecom import callback_path
from connectors.registry import ConnectorRegistry
from connectors.wecom.client import WeComClient
from connectors.wecom.connector import WeComConnector
from connectors.wecom.envelope import CallbackCodec
from connectors.wecom.simulator import WeComDriver, WeComSimulator
from domain.channels import WeComCredentials, new_callback_id
from domain.customers import Customer
from domain.enrollments import Enrollment, enrollment_id
from domain.events import Event
from domain.hooks import Hook, HookSpec
from domain.journey import (
    Edge,
    EntryNode,
    EventTrigger,
    ExitNode,
    JourneyDefinition,
    WaitNode,
)
from runtime.worker import build_workers
from store.database import Store
from tests.api.support import TenantKeys, eventually

SECRET = "flow-app-secret"
TOKEN = "flow-callback-token"
STAFF = "zhangsan"


@dataclass
class Flow:
    app: Starlette
    store: Store
    sim: WeComSimulator
    driver: WeComDriver
    tenant_id: str

    async def drain(self) -> None:
        await self.app.state.services.drain()

    async def customer(self, external_userid: str) -> Customer:
        found = await self.store.customers.get_by_identity(
            self.tenant_id, "wecom_external_userid", external_userid
        )
        assert found is not None
        return found

    async def events(self, external_userid: str, event_type: str) -> list[Event]:
        customer = await self.customer(external_userid)
        page = await self.store.events.list_for_customer(
            self.tenant_id, customer.id, event_type=event_type
        )
        return page.items

    async def join_way(self) -> Hook:
        chat_id = self.sim.create_chat(STAFF)
        spec = HookSpec(name="spring group", kind="join_way", chat_ids=[chat_id])
        hook: Hook = await self.app.state.services.hooks.create(self.tenant_id, spec)
        return hook


@pytest.fixture
async def flow(
    store: Store,
    temporal_env: WorkflowEnvironment,
    registry: ConnectorRegistry,
    tenant: TenantKeys,
) -> AsyncIterator[Flow]:
    sim = WeComSimulator(corp_id=f"ww-{uuid.uuid4().hex[:8]}", secret=SECRET)
    aes_key = base64.b64encode(os.urandom(32)).decode("ascii")[:43]
    async with AsyncExitStack() as stack:
        base_url = await stack.enter_async_context(sim.serve())
        credentials = WeComCredentials.model_validate(
            {
                "tenant_id": tenant.tenant_id,
                "corp_id": sim.corp_id,
                "secret": SECRET,
                "callback_token": TOKEN,
                "encoding_aes_key": aes_key,
                "callback_id": new_callback_id(),
                "base_url": base_url,
            }
        )
        await store.wecom_credentials.put(credentials)
        http = await stack.enter_async_context(httpx.AsyncClient())
        connector = WeComConnector(
            WeComClient(http, store.wecom_credentials),
            store.wecom_allowances,
            store.wecom_transfers,
        )
        app = create_app(
            store,
            temporal_env.client,
            registry,
            wecom_codec=CallbackCodec(),
            provisioner=connector,
            wecom_groups=connector,
        )
        api = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")
        )
        for worker in build_workers(temporal_env.client, store, registry):
            await stack.enter_async_context(worker)
        driver = WeComDriver(
            sim,
            callback_url="http://api.test" + callback_path(credentials.callback_id),
            token=TOKEN,
            encoding_aes_key=aes_key,
            http=api,
            join_state_in_callback=False,
        )
        flow = Flow(app, store, sim, driver, tenant.tenant_id)
        yield flow
        await flow.drain()


async def _publish_added_journey(store: Store, tenant_id: str, **settings: Any) -> str:
    now = datetime.now(UTC)
    definition = JourneyDefinition.model_validate(
        {
            "nodes": [
                EntryNode(id="entry", trigger=EventTrigger(event_type="wecom.contact_added")),
                WaitNode(id="settle", duration=timedelta(days=1)),
                ExitNode(id="done", reason="done"),
            ],
            "edges": [
                Edge(source="entry", target="settle", label="next"),
                Edge(source="settle", target="done", label="next"),
            ],
            "settings": settings,
        }
    )
    journey = await store.journeys.create(tenant_id, "added", now, draft=definition)
    await store.journeys.publish(
        tenant_id, journey.id, definition, definition.listened_event_types(), now
    )
    return journey.id


async def _settled(flow: Flow, journey_id: str, external_userid: str) -> Enrollment:
    customer = await flow.customer(external_userid)
    wanted = enrollment_id(flow.tenant_id, journey_id, customer.id)

    async def waiting() -> Enrollment | None:
        found = await flow.store.enrollments.get(flow.tenant_id, wanted)
        return found if found is not None and found.current_node == "settle" else None

    return await eventually(waiting)


async def _ended(flow: Flow, enrollment: Enrollment) -> Enrollment:
    async def ended() -> Enrollment | None:
        found = await flow.store.enrollments.get(flow.tenant_id, enrollment.id)
        return found if found is not None and not found.running else None

    return await eventually(ended)


@pytest.mark.parametrize(
    ("deleted_by", "reason"),
    [("customer", "deleted_by_customer"), ("staff", "deleted_by_staff")],
)
async def test_a_deleted_contact_leaves_the_journey_it_was_on(
    flow: Flow, deleted_by: str, reason: str
) -> None:
    journey_id = await _publish_added_journey(flow.store, flow.tenant_id)
    added = await flow.driver.add_customer(staff=STAFF)
    assert added.status == 200
    await flow.drain()
    enrollment = await _settled(flow, journey_id, added.external_userid)

    if deleted_by == "customer":
        status = await flow.driver.customer_deletes_staff(added.external_userid, STAFF)
    else:
        status = await flow.driver.staff_deletes_customer(added.external_userid, STAFF)
    assert status == 200
    await flow.drain()

    ended = await _ended(flow, enrollment)
    assert (ended.status, ended.exit_reason) == ("exited", reason)


async def test_a_journey_that_keeps_deleted_contacts_lets_them_wait_on(flow: Flow) -> None:
    journey_id = await _publish_added_journey(
        flow.store, flow.tenant_id, exit_on_contact_deleted=False
    )
    added = await flow.driver.add_customer(staff=STAFF)
    await flow.drain()
    enrollment = await _settled(flow, journey_id, added.external_userid)

    assert await flow.driver.customer_deletes_staff(added.external_userid, STAFF) == 200
    await flow.drain()

    assert await flow.events(added.external_userid, "wecom.contact_deleted_by_customer")
    # The journey does not listen for deletions, so routing one signals nobody.
    [again] = await flow.app.state.services.ingest.ingest(
        flow.tenant_id,
        [
            {
                "id": f"del-{uuid.uuid4().hex[:8]}",
                "type": "wecom.contact_deleted_by_staff",
                "identity": {"wecom_external_userid": added.external_userid},
                "timestamp": datetime.now(UTC).isoformat(),
            }
        ],
    )
    assert (again.status, again.routes) == ("accepted", [])
    after = await flow.store.enrollments.get(flow.tenant_id, enrollment.id)
    assert after is not None and after.running and after.current_node == "settle"


async def test_a_group_join_without_state_is_attributed_from_the_member_list(
    flow: Flow,
) -> None:
    hook = await flow.join_way()
    added = await flow.driver.add_customer(staff=STAFF)

    chat_id = await flow.driver.join_group(added.external_userid, hook.config_id)
    assert flow.driver.last_status == 200
    await flow.drain()

    [joined] = await flow.events(added.external_userid, "wecom.group_joined")
    assert joined.properties["chat_id"] == chat_id
    assert joined.properties["state"] == hook.state
    assert joined.properties["hook_id"] == hook.id
    assert joined.properties["join_scene"] == 3


async def test_a_failed_member_lookup_still_stores_the_join_without_state(
    flow: Flow, caplog: pytest.LogCaptureFixture
) -> None:
    hook = await flow.join_way()
    added = await flow.driver.add_customer(staff=STAFF)
    flow.sim.fail_next("externalcontact/groupchat/get", 60011)

    chat_id = await flow.driver.join_group(added.external_userid, hook.config_id)
    assert flow.driver.last_status == 200
    await flow.drain()

    [joined] = await flow.events(added.external_userid, "wecom.group_joined")
    assert joined.properties["chat_id"] == chat_id
    assert joined.properties["state"] is None
    assert joined.properties["hook_id"] is None
    assert "member lookup failed" in caplog.text
