"""A journey test bench: real store, real Temporal server, real workers, the shipped connectors.

The `wecom` channel is registered against a `WeComSimulator` served over real HTTP; the bench's
tenant is connected to it (`Bench.sim`, `Bench.wecom_customer`), and its `sms` channel to an
Alibaba Cloud account on an `SmsSimulator` (`Bench.sms`). The `oa` channel is registered with no
app connected (its sends fail, as they do for a tenant without an Official Account). The `webhook` channel allows
loopback receivers through its allow-list, as a deployment allows an on-premise one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from connectors import DestinationGuard, FixedSigningSecrets, WebhookConnector, default_registry
from connectors.base import Connector
from connectors.registry import ConnectorRegistry
from connectors.sms import SmsConnector
from connectors.sms.simulator import SmsSimulator
from connectors.wechat import OfficialAccountConnector, WeChatClient
from connectors.wecom import WeComClient, WeComConnector
from connectors.wecom.simulator import WeComSimulator
from domain.channels import WeComCredentials, new_callback_id
from domain.deliveries import Delivery
from domain.engine import EventRef
from domain.enrollments import Enrollment, Transition
from domain.events import Event
from domain.journey import JourneyDefinition
from domain.sms import SETTINGS_KIND as SMS_SETTINGS
from domain.sms import SmsSettings
from store.database import Store
from tests.fixtures.secrets import TEST_SECRET_BOX
from workflows import client as journeys
from workflows.journey import JourneyWorkflow
from workflows.models import JourneyResult

WEBHOOK_SECRET = SecretStr("test-webhook-secret")
WEBHOOK_ALLOWED = DestinationGuard(["127.0.0.1/32"])
WECOM_SECRET = "bench-app-secret"
WECOM_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WECOM_STAFF = "zhangsan"
SMS_KEY_ID, SMS_SECRET = "LTAI-bench", "bench-sms-secret"


@dataclass(frozen=True)
class Arrival:
    """A customer who added a staff member on WeCom, and the event to enroll them with."""

    customer_id: str
    external_userid: str
    event: EventRef


@dataclass
class Bench:
    store: Store
    client: Client
    registry: ConnectorRegistry
    sim: WeComSimulator
    sms: SmsSimulator
    tenant_id: str = "acme"
    started: list[str] = field(default_factory=list)

    async def publish(
        self, definition: JourneyDefinition, name: str = "journey"
    ) -> tuple[str, int]:
        now = datetime.now(UTC)
        journey = await self.store.journeys.create(self.tenant_id, name, now, draft=definition)
        version = await self.store.journeys.publish(
            self.tenant_id, journey.id, definition, definition.listened_event_types(), now
        )
        return journey.id, version

    async def customer(self, **identities: str) -> str:
        customer, _ = await self.store.customers.resolve(
            self.tenant_id,
            identities or {"external_id": f"c{len(self.started)}"},
            datetime.now(UTC),
        )
        return customer.id

    async def wecom_customer(self, state: str, event_id: str, staff: str = WECOM_STAFF) -> Arrival:
        """A customer adds `staff` through the code with `state`, as WeCom reports it: the
        simulator mints a welcome code, the `wecom.contact_added` event is stored and the
        customer records who added them."""
        now = datetime.now(UTC)
        contact = self.sim.add_customer(staff, state)
        code = self.sim.mint_welcome_code(contact.external_userid, staff)
        customer_id = await self.customer(wecom_external_userid=contact.external_userid)
        await self.store.customers.update_profile(
            self.tenant_id, customer_id, now, set_attributes={"wecom_follow_user": staff}
        )
        properties = {"state": state, "staff_userid": staff, "welcome_code": code}
        await self.store.events.insert(
            Event(
                id=event_id,
                tenant_id=self.tenant_id,
                type="wecom.contact_added",
                customer_id=customer_id,
                identity={"wecom_external_userid": contact.external_userid},
                timestamp=now,
                received_at=now,
                properties=properties,
            )
        )
        event = EventRef(
            id=event_id, type="wecom.contact_added", properties=properties, occurred_at=now
        )
        return Arrival(customer_id, contact.external_userid, event)

    async def enroll(
        self,
        journey_id: str,
        version: int,
        customer_id: str,
        *,
        entry_event: EventRef | None = None,
        **options: Any,
    ) -> str:
        outcome = await journeys.enroll(
            self.client,
            tenant_id=self.tenant_id,
            journey_id=journey_id,
            version=version,
            customer_id=customer_id,
            entry_event=entry_event,
            **options,
        )
        self.started.append(outcome.enrollment_id)
        return outcome.enrollment_id

    async def result(self, enrollment_id: str) -> JourneyResult:
        handle = self.client.get_workflow_handle_for(JourneyWorkflow.run, enrollment_id)
        return await handle.result()

    async def event(self, enrollment_id: str, event: EventRef) -> None:
        assert await journeys.signal_event(self.client, enrollment_id, event)

    async def projection(self, enrollment_id: str) -> Enrollment:
        found = await self.store.enrollments.get(self.tenant_id, enrollment_id)
        assert found is not None, f"no projection for {enrollment_id}"
        return found

    async def deliveries(self, enrollment_id: str) -> list[Delivery]:
        page = await self.store.deliveries.list_for_enrollment(
            self.tenant_id, enrollment_id, limit=100
        )
        return list(page.items)

    async def transitions(self, enrollment_id: str) -> list[Transition]:
        page = await self.store.enrollments.transitions_for_enrollment(
            self.tenant_id, enrollment_id, limit=100
        )
        return list(page.items)

    async def until(self, enrollment_id: str, predicate: Any, attempts: int = 200) -> Enrollment:
        """Poll the projection until `predicate(projection)` holds (bounded)."""
        for _ in range(attempts):
            found = await self.store.enrollments.get(self.tenant_id, enrollment_id)
            if found is not None and predicate(found):
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"{enrollment_id} never reached the expected state: {found!r}")


async def _record_histories(client: Client, workflow_ids: list[str]) -> None:
    """With RECORD_HISTORIES=<dir>, save each enrollment's history for the replay tests."""
    target = os.environ.get("RECORD_HISTORIES")
    if not target:
        return
    test = os.environ.get("PYTEST_CURRENT_TEST", "history").split("::")[-1].split(" ")[0]
    for index, workflow_id in enumerate(workflow_ids):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        path = Path(target) / f"{test}-{index}.json"
        path.write_text(history.to_json(), encoding="utf-8")


@contextlib.asynccontextmanager
async def running(workers: list[Worker]) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        yield
    finally:
        await asyncio.gather(*(worker.shutdown() for worker in workers))
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def bench(
    db: AsyncDatabase[Any],
    client: Client,
    extra_connectors: Sequence[Connector] = (),
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[Bench]:
    """Store with indexes, a registry (the shipped connectors and `extra_connectors`), and
    running workers; leftover enrollments terminated."""
    from runtime.worker import build_workers

    store = Store(db, TEST_SECRET_BOX)
    await store.ensure_indexes()
    sim = WeComSimulator(corp_id="ww-bench", secret=WECOM_SECRET)
    sms = SmsSimulator(SMS_KEY_ID, SMS_SECRET, per_phone_interval=0.0)
    webhook = WebhookConnector(FixedSigningSecrets(WEBHOOK_SECRET), WEBHOOK_ALLOWED)
    async with httpx.AsyncClient() as http, webhook, sim.serve() as base_url, sms.serve():
        registry = default_registry(webhook)
        wecom = WeComClient(http, store.wecom_credentials)
        registry.register(WeComConnector(wecom, store.wecom_allowances, store.wecom_transfers))

        async def sms_settings(tenant_id: str) -> SmsSettings | None:
            return await store.channel_settings.get(tenant_id, SMS_SETTINGS, SmsSettings)

        registry.register(SmsConnector(http, sms_settings, store.sms_messages))
        registry.register(OfficialAccountConnector(WeChatClient(http, store.wechat_apps)))
        for connector in extra_connectors:
            registry.register(connector)
        result = Bench(store=store, client=client, registry=registry, sim=sim, sms=sms)
        await store.channel_settings.put(
            result.tenant_id,
            SMS_SETTINGS,
            SmsSettings(
                provider="aliyun",
                access_key_id=SMS_KEY_ID,
                secret=SecretStr(SMS_SECRET),
                sign_name="Bench",
                base_url=sms.base_url("aliyun"),
                callback_id="bench-sms-callback-0001",
            ),
            datetime.now(UTC),
        )
        await store.wecom_credentials.put(
            WeComCredentials(
                tenant_id=result.tenant_id,
                corp_id=sim.corp_id,
                secret=SecretStr(WECOM_SECRET),
                callback_token=SecretStr("bench-callback-token"),
                encoding_aes_key=SecretStr(WECOM_AES_KEY),
                base_url=base_url,
                callback_id=new_callback_id(),
            )
        )
        async with running(build_workers(client, store, registry, clock=clock)):
            try:
                yield result
            finally:
                await _record_histories(client, result.started)
                for workflow_id in result.started:
                    handle = client.get_workflow_handle(workflow_id)
                    with contextlib.suppress(Exception):
                        description = await handle.describe()
                        if description.status == WorkflowExecutionStatus.RUNNING:
                            await handle.terminate("test finished")
