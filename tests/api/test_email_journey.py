"""The e-mail channel end to end through the public API: a journey published with an `email`
action, an ingested event, real workers, a real SMTP server (aiosmtpd on 127.0.0.1) — and the
message's List-Unsubscribe link opting the customer out when POSTed.

A 451 from the server is retried (the journey goes on once it accepts); a 550 is permanent and
the journey takes the action's `failed` edge.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.email import EmailConnector
from connectors.netguard import DestinationGuard
from connectors.registry import ConnectorRegistry
from connectors.sandbox import SandboxConnector
from runtime.email_sink import EmailSink
from runtime.worker import build_workers
from store.database import Store
from tests.api.support import TenantKeys, event, eventually, gql, post_events, published_journey

BASE_URL = "http://api.test"
LOOPBACK = DestinationGuard(["127.0.0.1/32"])
ENROLLMENT = """
query($id: ID!) {
  enrollment(id: $id) {
    status exitReason path
    deliveries { nodes { nodeId channel action status attempts externalId error detail } }
  }
}
"""
CONFIGURE = """
mutation($input: ConfigureEmailInput!) { configureEmail(input: $input) { __typename } }
"""


def _journey() -> dict[str, Any]:
    return {
        "nodes": [
            {
                "kind": "entry",
                "id": "start",
                "trigger": {"type": "event", "event_type": "signup.completed"},
            },
            {
                "kind": "action",
                "id": "welcome_mail",
                "channel": "email",
                "action": "send",
                "params": {
                    "subject": "Welcome, {{ event.properties.first_name }}",
                    "text": "Hello {{ event.properties.first_name }}, thanks for signing up.",
                    "html": "<p>Hello {{ event.properties.first_name }}</p>",
                },
                "respect_quiet_hours": False,
            },
            {"kind": "exit", "id": "mailed", "reason": "mailed"},
            {"kind": "exit", "id": "undeliverable", "reason": "undeliverable"},
        ],
        "edges": [
            {"source": "start", "target": "welcome_mail"},
            {"source": "welcome_mail", "target": "mailed"},
            {"source": "welcome_mail", "target": "undeliverable", "label": "failed"},
        ],
        "settings": {"timezone": "Asia/Shanghai"},
    }


@pytest.fixture
async def sink() -> AsyncIterator[tuple[EmailSink, int]]:
    server = EmailSink()
    async with server.serve() as (_, port):
        yield server, port


@pytest.fixture
def email_registry(store: Store) -> ConnectorRegistry:
    return ConnectorRegistry(
        [SandboxConnector(), EmailConnector(store.email, BASE_URL, LOOPBACK, timeout=5.0)]
    )


@pytest.fixture
async def email_api(
    store: Store, temporal_env: WorkflowEnvironment, email_registry: ConnectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(store, temporal_env.client, email_registry, email_hosts=LOOPBACK)
    async with AsyncExitStack() as stack:
        for worker in build_workers(temporal_env.client, store, email_registry):
            await stack.enter_async_context(worker)
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
        await stack.enter_async_context(client)
        yield client
        await app.state.services.drain()


async def _start(
    api: httpx.AsyncClient, tenant: TenantKeys, port: int, address: str
) -> tuple[str, str]:
    """Configure SMTP, publish the journey, sign a customer up; (enrollment id, customer id)."""
    settings = {
        "host": "127.0.0.1",
        "port": port,
        "security": "NONE",
        "fromAddress": "hi@brand.example",
    }
    configured = await gql(api, tenant, CONFIGURE, {"input": settings})
    assert configured["configureEmail"]["__typename"] == "EmailSettings", configured
    await published_journey(api, tenant, _journey(), name="Welcome mail")
    body = await post_events(
        api,
        tenant,
        [
            event(
                f"signup-{address}",
                "signup.completed",
                {"email": address},
                {"first_name": address.split("@")[0].title()},
            ),
        ],
    )
    [route] = body["results"][0]["enrollments"]
    return route["enrollment_id"], body["results"][0]["customer_id"]


async def _ended(api: httpx.AsyncClient, tenant: TenantKeys, enrollment_id: str) -> Any:
    async def ended() -> Any:
        data = await gql(api, tenant, ENROLLMENT, {"id": enrollment_id}, role="viewer")
        found = data["enrollment"]
        return found if found and found["status"] != "ACTIVE" else None

    return await eventually(ended)


async def test_a_journey_mails_the_customer_and_the_list_unsubscribe_link_opts_them_out(
    email_api: httpx.AsyncClient, store: Store, tenant: TenantKeys, sink: tuple[EmailSink, int]
) -> None:
    server, port = sink
    enrollment_id, customer_id = await _start(email_api, tenant, port, "lin@shop.example")
    done = await _ended(email_api, tenant, enrollment_id)
    assert (done["status"], done["exitReason"]) == ("EXITED", "mailed")

    [received] = server.received
    message = received.message
    assert received.rcpt_tos == ["lin@shop.example"]
    assert message["Subject"] == "Welcome, Lin"  # rendered from the triggering event
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [delivery] = done["deliveries"]["nodes"]
    assert (delivery["channel"], delivery["action"], delivery["status"]) == (
        "email",
        "send",
        "succeeded",
    )
    assert delivery["externalId"] == message["Message-ID"]
    assert delivery["detail"]["queue_id"] == received.queue_id

    link = message["List-Unsubscribe"].strip("<>")
    assert link.startswith(f"{BASE_URL}/v1/unsubscribe/")
    assert (await email_api.get(link)).status_code == 200
    assert (await store.customers.get(tenant.tenant_id, customer_id)).consent == {}
    response = await email_api.post(link, content=b"List-Unsubscribe=One-Click")
    assert response.status_code == 200, response.text
    customer = await store.customers.get(tenant.tenant_id, customer_id)
    refusal = customer.opted_out("email")
    assert refusal is not None and refusal.source == "email_unsubscribe"
    assert set(customer.consent) == {"email"}

    async def unsubscribed() -> list[Any]:
        page = await store.events.list_for_customer(
            tenant.tenant_id, customer_id, event_type="email.unsubscribed"
        )
        return page.items

    assert len(await eventually(unsubscribed)) == 1

    # The next e-mail journey skips the customer's e-mail: nothing reaches the server.
    second = _journey()
    second["nodes"][0]["trigger"]["event_type"] = "order.paid"
    await published_journey(email_api, tenant, second, name="Order mail")
    body = await post_events(
        email_api,
        tenant,
        [event("order-lin", "order.paid", {"email": "lin@shop.example"}, {"first_name": "Lin"})],
    )
    [route] = body["results"][0]["enrollments"]
    after = await _ended(email_api, tenant, route["enrollment_id"])
    assert after["exitReason"] == "undeliverable"
    [skipped] = after["deliveries"]["nodes"]
    assert skipped["status"] == "skipped"
    assert len(server.received) == 1


async def test_a_451_is_retried_until_the_server_accepts(
    email_api: httpx.AsyncClient, tenant: TenantKeys, sink: tuple[EmailSink, int]
) -> None:
    server, port = sink
    server.answers["rcpt"].append("451 4.7.1 Greylisted, try again later")
    enrollment_id, _ = await _start(email_api, tenant, port, "mei@shop.example")
    done = await _ended(email_api, tenant, enrollment_id)
    assert (done["status"], done["exitReason"]) == ("EXITED", "mailed")
    [delivery] = done["deliveries"]["nodes"]
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 2)
    assert len(server.received) == 1


async def test_a_550_is_permanent_and_the_journey_takes_the_failed_edge(
    email_api: httpx.AsyncClient, tenant: TenantKeys, sink: tuple[EmailSink, int]
) -> None:
    server, port = sink
    server.answers["rcpt"].append("550 5.1.1 Mailbox unavailable")
    enrollment_id, _ = await _start(email_api, tenant, port, "gone@shop.example")
    done = await _ended(email_api, tenant, enrollment_id)
    assert (done["status"], done["exitReason"]) == ("EXITED", "undeliverable")
    assert done["path"][-2:] == ["welcome_mail", "undeliverable"]
    [delivery] = done["deliveries"]["nodes"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 1)
    assert "550" in delivery["error"]
    assert server.received == []
