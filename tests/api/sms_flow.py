"""The rig of the SMS flow tests: the simulator over real HTTP, the real app, MongoDB, Temporal
dev server and workers, with the `sms` connector registered; an SMS journey definition."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from connectors.sandbox import SandboxConnector
from connectors.sms import SmsConnector
from connectors.sms.simulator import SimulatedSms, SmsDriver, SmsSimulator
from domain.customers import Customer
from domain.enrollments import Enrollment, enrollment_id
from domain.events import Event
from domain.sms import SETTINGS_KIND, SmsProvider, SmsSettings
from runtime.worker import build_workers
from store.database import Store
from tests.api.support import TenantKeys, event, eventually, gql, post_events, published_journey

KEY_ID, SECRET, APP_ID = "LTAI-flow-key", "flow-secret", "1400777777"
TEMPLATES = {"aliyun": "SMS_2001", "tencent": "2001"}
CONFIGURE = """
mutation($input: ConfigureSmsInput!) {
  configureSms(input: $input) {
    __typename
    ... on SmsSettings { provider accessKeyId signName sdkAppId baseUrl secretSet callbackPath }
    ... on InvalidInput { message errors { path message } }
  }
}
"""


def sms_journey(template: str) -> dict[str, Any]:
    """Sign-ups get an SMS, then wait for its delivery report: `delivered` or `unconfirmed`."""
    return {
        "nodes": [
            {
                "kind": "entry",
                "id": "start",
                "trigger": {"type": "event", "event_type": "signup.completed"},
            },
            {
                "kind": "action",
                "id": "sms_welcome",
                "channel": "sms",
                "action": "send",
                "params": {
                    "template": template,
                    "template_params": {"name": '{{ customer.attributes.name | default: "朋友" }}'},
                },
                "respect_quiet_hours": False,
            },
            {
                "kind": "wait_for_event",
                "id": "await_report",
                "event_type": "sms.delivered",
                "timeout": "PT120S",
            },
            {"kind": "exit", "id": "delivered", "reason": "delivered"},
            {"kind": "exit", "id": "unconfirmed", "reason": "unconfirmed"},
        ],
        "edges": [
            {"source": "start", "target": "sms_welcome"},
            {"source": "sms_welcome", "target": "await_report"},
            {"source": "await_report", "target": "delivered", "label": "matched"},
            {"source": "await_report", "target": "unconfirmed", "label": "timed_out"},
        ],
        "settings": {"timezone": "Asia/Shanghai"},
    }


@dataclass
class Flow:
    app: Starlette
    api: httpx.AsyncClient
    store: Store
    sim: SmsSimulator
    tenant: TenantKeys
    journey_id: str = ""

    async def drain(self) -> None:
        await self.app.state.services.drain()

    async def configure(self, provider: SmsProvider) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "provider": provider.upper(),
            "accessKeyId": KEY_ID,
            "secret": SECRET,
            "signName": "Acme",
            "baseUrl": self.sim.base_url(provider),
        }
        if provider == "tencent":
            settings["sdkAppId"] = APP_ID
        data = await gql(self.api, self.tenant, CONFIGURE, {"input": settings})
        result: dict[str, Any] = data["configureSms"]
        assert result["__typename"] == "SmsSettings", result
        return result

    async def send_one(self, provider: SmsProvider, phone: str) -> tuple[SimulatedSms, SmsDriver]:
        """Configure, publish the journey, sign a customer up; the SMS the simulator got."""
        settings = await self.configure(provider)
        self.journey_id = await published_journey(
            self.api, self.tenant, sms_journey(TEMPLATES[provider])
        )
        signup = event(
            f"signup-{phone}",
            "signup.completed",
            {"phone": phone},
            {"plan": "pro"},
        )
        await post_events(self.api, self.tenant, [signup])

        async def received() -> SimulatedSms | None:
            return next((sms for sms in self.sim.sent if sms.phone == phone), None)

        sms = await eventually(received)

        async def recorded() -> object | None:
            # The provider's report comes after our record of the send (a report racing ahead
            # of it is refused, and the provider retries it).
            return await self.store.sms_messages.get(
                self.tenant.tenant_id, provider, sms.message_id
            )

        await eventually(recorded)
        return sms, SmsDriver(self.api, "http://api.test" + settings["callbackPath"])

    async def customer(self, phone: str) -> Customer:
        found = await self.store.customers.get_by_identity(self.tenant.tenant_id, "phone", phone)
        assert found is not None
        return found

    async def events(self, phone: str, event_type: str) -> list[Event]:
        customer = await self.customer(phone)
        page = await self.store.events.list_for_customer(
            self.tenant.tenant_id, customer.id, event_type=event_type
        )
        return page.items

    async def ended(self, phone: str) -> Enrollment:
        customer = await self.customer(phone)

        wanted = enrollment_id(self.tenant.tenant_id, self.journey_id, customer.id)

        async def probe() -> Enrollment | None:
            found = await self.store.enrollments.get(self.tenant.tenant_id, wanted)
            return found if found is not None and not found.running else None

        return await eventually(probe)


@pytest.fixture
async def flow(
    store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys
) -> AsyncIterator[Flow]:
    sim = SmsSimulator(KEY_ID, SECRET, sdk_app_id=APP_ID, templates=set(TEMPLATES.values()))
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(sim.serve())
        http = await stack.enter_async_context(httpx.AsyncClient())

        async def settings(tenant_id: str) -> SmsSettings | None:
            return await store.channel_settings.get(tenant_id, SETTINGS_KIND, SmsSettings)

        registry = ConnectorRegistry(
            [SandboxConnector(), SmsConnector(http, settings, store.sms_messages)]
        )
        app = create_app(
            store,
            temporal_env.client,
            registry,
            sms_base_urls=[sim.base_url("aliyun"), sim.base_url("tencent")],
        )
        api = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")
        )
        for worker in build_workers(temporal_env.client, store, registry):
            await stack.enter_async_context(worker)
        flow = Flow(app, api, store, sim, tenant)
        yield flow
        await flow.drain()
