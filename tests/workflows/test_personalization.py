"""Personalised sends on the real Temporal dev server: a template that cannot be rendered for a
customer, and a customer who opted out of the channel, each end the action for good (no retry
loop) and take its `failed` edge, with the reason on the delivery."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.sandbox import SandboxConnector
from domain.journey import ActionNode, Edge, EntryNode, ExitNode, JourneyDefinition
from tests.workflows.harness import Bench


def send_then_exit(text: str, channel: str = "sandbox") -> JourneyDefinition:
    return JourneyDefinition(
        nodes=[
            EntryNode(id="entry"),
            ActionNode(id="send", channel=channel, action="send_message", params={"text": text}),
            ExitNode(id="ok", reason="sent"),
            ExitNode(id="ko", reason="send_failed"),
        ],
        edges=[
            Edge(source="entry", label="next", target="send"),
            Edge(source="send", label="next", target="ok"),
            Edge(source="send", label="failed", target="ko"),
        ],
    )


async def test_a_template_that_fails_for_the_customer_fails_the_send_once(jb: Bench) -> None:
    journey_id, version = await jb.publish(send_then_exit("hi {{ customer.attributes.nickname }}"))
    enrollment_id = await jb.enroll(journey_id, version, await jb.customer())

    assert (await jb.result(enrollment_id)).reason == "send_failed"
    [delivery] = await jb.deliveries(enrollment_id)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.error is not None
    assert "node 'send'" in delivery.error
    assert "customer.attributes.nickname is undefined" in delivery.error


async def test_an_opted_out_customer_is_skipped_without_calling_the_channel(jb: Bench) -> None:
    sandbox = jb.registry.get("sandbox")
    assert isinstance(sandbox, SandboxConnector)
    journey_id, version = await jb.publish(send_then_exit("hi {{ customer.id }}"))
    refused, agreed = await jb.customer(), await jb.customer(external_id="agreed")
    now = datetime.now(UTC)
    await jb.store.customers.set_consent(
        jb.tenant_id, refused, "sandbox", False, now, source="sms_reply"
    )
    await jb.store.customers.set_consent(jb.tenant_id, agreed, "sandbox", True, now)
    sent_before = len(sandbox.sent)

    skipped = await jb.enroll(journey_id, version, refused)
    assert (await jb.result(skipped)).reason == "send_failed"
    assert len(sandbox.sent) == sent_before
    [delivery] = await jb.deliveries(skipped)
    assert (delivery.status, delivery.attempts) == ("skipped", 0)
    assert delivery.error is not None
    assert delivery.error.startswith("consent_opted_out: the customer opted out of sandbox")
    assert "source sms_reply" in delivery.error

    delivered = await jb.enroll(journey_id, version, agreed)
    assert (await jb.result(delivered)).reason == "sent"
    assert [o.detail["text"] for o in sandbox.sent[sent_before:]] == [f"hi {agreed}"]
