"""On the real Temporal server: an enrollment that ends before its WeCom mass-message task is
confirmed cancels the task on WeCom (`cancel_groupmsg_send`), so the staff member is not asked to
send it; one whose task was confirmed, or that converted, leaves its tasks alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.engine import EventRef
from domain.journey import (
    ActionNode,
    Edge,
    EntryNode,
    ExitNode,
    GoalNode,
    JourneyDefinition,
    WaitNode,
)
from tests.workflows.harness import WECOM_STAFF, Bench
from workflows import client as journeys_client


def touch_then_wait() -> JourneyDefinition:
    return JourneyDefinition(
        nodes=[
            EntryNode(id="entry"),
            ActionNode(
                id="touch",
                channel="wecom",
                action="mass_message",
                params={"text": "Restock today with free delivery"},
                respect_quiet_hours=False,
            ),
            WaitNode(id="wait", duration=timedelta(days=7)),
            ExitNode(id="done"),
            GoalNode(id="bought", event_type="order.paid"),
        ],
        edges=[
            Edge(source="entry", target="touch"),
            Edge(source="touch", target="wait"),
            Edge(source="wait", target="done"),
        ],
    )


async def _touched(jb: Bench, name: str) -> tuple[str, str]:
    journey_id, version = await jb.publish(touch_then_wait(), name=name)
    arrival = await jb.wecom_customer("spring", f"add-{name}")
    enrollment = await jb.enroll(journey_id, version, arrival.customer_id)
    await jb.until(enrollment, lambda e: e.current_node == "wait")
    [delivery] = await jb.deliveries(enrollment)
    assert delivery.external_id is not None
    return enrollment, delivery.external_id


async def test_an_exit_cancels_the_unconfirmed_task_and_a_confirmed_one_stays(jb: Bench) -> None:
    pending, pending_task = await _touched(jb, "pending")
    confirmed, confirmed_task = await _touched(jb, "confirmed")
    jb.sim.confirm(confirmed_task, WECOM_STAFF)

    for enrollment in (pending, confirmed):
        await journeys_client.cancel(jb.client, enrollment, "campaign stopped")
        assert (await jb.result(enrollment)).status == "cancelled"

    assert jb.sim.msg_tasks[pending_task].get("cancelled") is True
    [delivery] = await jb.deliveries(pending)
    assert delivery.detail.get("cancelled_at")
    # WeCom answers a cancel of a sent task too; the record says it was asked (best effort).
    assert jb.sim.msg_tasks[confirmed_task]["tasks"][WECOM_STAFF]["status"] == 2


async def test_a_converted_enrollment_leaves_its_tasks(jb: Bench) -> None:
    enrollment, task = await _touched(jb, "converted")

    await jb.event(
        enrollment,
        EventRef(id="order-x", type="order.paid", properties={}, occurred_at=datetime.now(UTC)),
    )
    result = await jb.result(enrollment)

    assert (result.status, result.converted) == ("converted", True)
    assert not jb.sim.msg_tasks[task].get("cancelled")
