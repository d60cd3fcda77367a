"""`runtime.simulated_sms`, as `omnijourney run` uses it: the demo tenant's `sms` channel goes
to the in-process simulator, and each message's delivery report comes back by itself."""

from __future__ import annotations

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.base import ActionRequest, CustomerContact
from connectors.registry import ConnectorRegistry
from connectors.sms import SmsConnector
from domain.sms import SETTINGS_KIND, SmsProvider, SmsSettings
from runtime.simulated_sms import simulated_sms
from store.database import Store
from tests.api.support import TenantKeys, event, eventually, post_events

PHONE = "13600136000"


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
async def test_a_message_to_the_simulated_account_is_reported_delivered(
    store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys, provider: SmsProvider
) -> None:
    async def settings(tenant_id: str) -> SmsSettings | None:
        return await store.channel_settings.get(tenant_id, SETTINGS_KIND, SmsSettings)

    async with httpx.AsyncClient() as http:
        connector = SmsConnector(http, settings, store.sms_messages)
        app = create_app(store, temporal_env.client, ConnectorRegistry([connector]))
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://api.test") as api,
            simulated_sms(
                store, api, "http://api.test", tenant.tenant_id, provider, report_delay=0.05
            ) as account,
        ):
            await post_events(api, tenant, [event("seen", "page.viewed", {"phone": PHONE})])
            customer = await store.customers.get_by_identity(tenant.tenant_id, "phone", PHONE)
            assert customer is not None
            outcome = await connector.execute(
                ActionRequest(
                    tenant_id=tenant.tenant_id,
                    enrollment_id="e1",
                    node_id="n1",
                    action="send",
                    params={"template": "SMS_1"},
                    idempotency_key="k1",
                    customer=CustomerContact(customer_id=customer.id, identities={"phone": PHONE}),
                )
            )
            assert [sms.message_id for sms in account.sim.sent] == [outcome.external_id]

            async def delivered() -> list[object]:
                await app.state.services.drain()
                page = await store.events.list_for_customer(
                    tenant.tenant_id, customer.id, event_type="sms.delivered"
                )
                return list(page.items)

            [report] = await eventually(delivered)
            assert report.properties["message_id"] == outcome.external_id  # type: ignore[attr-defined]
        await app.state.services.drain()
