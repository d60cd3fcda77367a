"""A WeCom contact is linked by what WeCom knows of them (`externalcontact/get`): the phone a
staff member recorded joins a Douyin lead to their WeCom contact, and a unionid joins an Official
Account follower to theirs; the add event then reaches the journey the earlier customer is on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.enrollments import Enrollment, enrollment_id
from domain.journey import (
    Edge,
    EntryNode,
    EventTrigger,
    ExitNode,
    JourneyDefinition,
    WaitForEventNode,
)
from tests.api.support import eventually
from tests.api.test_wecom_callback_flow import STAFF, Flow, flow

__all__ = ["flow"]

PHONE = "13800138000"


async def _publish_wait_for_add(flow: Flow) -> str:
    now = datetime.now(UTC)
    definition = JourneyDefinition(
        nodes=[
            EntryNode(id="entry", trigger=EventTrigger(event_type="lead.created")),
            WaitForEventNode(
                id="await_add", event_type="wecom.contact_added", timeout=timedelta(days=3)
            ),
            ExitNode(id="added", reason="added"),
            ExitNode(id="never", reason="never_added"),
        ],
        edges=[
            Edge(source="entry", target="await_add"),
            Edge(source="await_add", target="added", label="matched"),
            Edge(source="await_add", target="never", label="timed_out"),
        ],
    )
    journey = await flow.store.journeys.create(flow.tenant_id, "lead", now, draft=definition)
    await flow.store.journeys.publish(
        flow.tenant_id, journey.id, definition, definition.listened_event_types(), now
    )
    return journey.id


async def _lead(flow: Flow, journey_id: str, identity: dict[str, str]) -> Enrollment:
    now = datetime.now(UTC).isoformat()
    [result] = await flow.app.state.services.ingest.ingest(
        flow.tenant_id,
        [
            {
                "id": f"lead-{identity}",
                "type": "lead.created",
                "identity": identity,
                "timestamp": now,
            }
        ],
    )
    assert result.customer_id is not None
    wanted = enrollment_id(flow.tenant_id, journey_id, result.customer_id)

    async def waiting() -> Enrollment | None:
        found = await flow.store.enrollments.get(flow.tenant_id, wanted)
        return found if found is not None and found.current_node == "await_add" else None

    return await eventually(waiting)


async def _ended(flow: Flow, enrollment: Enrollment) -> Enrollment:
    async def ended() -> Enrollment | None:
        found = await flow.store.enrollments.get(flow.tenant_id, enrollment.id)
        return found if found is not None and not found.running else None

    return await eventually(ended)


async def test_a_recorded_phone_joins_a_lead_to_their_wecom_contact(flow: Flow) -> None:
    journey_id = await _publish_wait_for_add(flow)
    enrollment = await _lead(flow, journey_id, {"phone": PHONE})

    added = await flow.driver.add_customer(staff=STAFF, mobile=PHONE, has_unionid=False)
    assert added.status == 200
    await flow.drain()

    ended = await _ended(flow, enrollment)
    assert (ended.status, ended.exit_reason) == ("exited", "added")
    customer = await flow.customer(added.external_userid)
    assert customer.id == enrollment.customer_id
    assert customer.identity("phone") == PHONE


async def test_a_unionid_joins_a_follower_to_their_wecom_contact(flow: Flow) -> None:
    journey_id = await _publish_wait_for_add(flow)
    enrollment = await _lead(flow, journey_id, {"unionid": "o6_union_follower"})

    added = await flow.driver.add_customer(staff=STAFF, unionid="o6_union_follower")
    await flow.drain()

    ended = await _ended(flow, enrollment)
    assert ended.exit_reason == "added"
    assert (await flow.customer(added.external_userid)).id == enrollment.customer_id


async def test_a_contact_wecom_knows_nothing_more_of_stays_apart(flow: Flow) -> None:
    journey_id = await _publish_wait_for_add(flow)
    enrollment = await _lead(flow, journey_id, {"phone": "13900139000"})

    added = await flow.driver.add_customer(staff=STAFF, has_unionid=False)
    await flow.drain()

    contact = await flow.customer(added.external_userid)
    assert contact.id != enrollment.customer_id
    still = await flow.store.enrollments.get(flow.tenant_id, enrollment.id)
    assert still is not None and still.current_node == "await_add"


async def test_a_phone_of_another_wecom_contact_is_not_linked(flow: Flow) -> None:
    journey_id = await _publish_wait_for_add(flow)
    first = await flow.driver.add_customer(staff=STAFF, mobile="13700137000", has_unionid=False)
    await flow.drain()
    owner = await flow.customer(first.external_userid)
    assert owner.identity("phone") == "13700137000"

    # A second contact on whom staff typed the same number (a typo, a colleague's phone).
    second = await flow.driver.add_customer(staff=STAFF, mobile="13700137000", has_unionid=False)
    await flow.drain()

    other = await flow.customer(second.external_userid)
    assert other.id != owner.id and other.identity("phone") is None
    assert journey_id
