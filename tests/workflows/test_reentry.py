"""Re-entry after exit on the real Temporal dev server: the new run's progress is what shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.engine import EventRef
from domain.journey import (
    ActionNode,
    Edge,
    EntryNode,
    ExitNode,
    JourneyDefinition,
    WaitForEventNode,
)
from tests.workflows.harness import Bench

BUY_OR_LAPSE = JourneyDefinition(
    nodes=[
        EntryNode(id="entry"),
        WaitForEventNode(id="buy", event_type="order.paid", timeout=timedelta(milliseconds=500)),
        ExitNode(id="bought", reason="bought"),
        ExitNode(id="lapsed", reason="lapsed"),
    ],
    edges=[
        Edge(source="entry", label="next", target="buy"),
        Edge(source="buy", label="matched", target="bought"),
        Edge(source="buy", label="timed_out", target="lapsed"),
    ],
)


async def test_a_customer_who_exited_enters_again_and_the_new_run_is_what_the_projection_shows(
    jb: Bench,
) -> None:
    journey_id, version = await jb.publish(BUY_OR_LAPSE)
    customer_id = await jb.customer(phone="13800000042")
    enrollment_id = await jb.enroll(journey_id, version, customer_id, reentry="after_exit")
    assert (await jb.result(enrollment_id)).reason == "lapsed"
    first = await jb.until(enrollment_id, lambda e: e.exit_reason == "lapsed")
    first_steps = await jb.transitions(enrollment_id)
    assert [t.to_node for t in first_steps] == ["entry", "buy", "lapsed", None]

    again = await jb.enroll(journey_id, version, customer_id, reentry="after_exit")
    assert again == enrollment_id
    waiting = await jb.until(
        enrollment_id, lambda e: e.started_at > first.started_at and e.current_node == "buy"
    )
    assert waiting.status == "active" and waiting.wait is not None
    paid = EventRef(id="o-1", type="order.paid", occurred_at=datetime.now(UTC))
    await jb.event(enrollment_id, paid)
    assert (await jb.result(enrollment_id)).reason == "bought"

    second = await jb.until(enrollment_id, lambda e: e.exit_reason == "bought")
    assert second.started_at > first.started_at
    assert second.status == "exited" and second.path == ["entry", "buy", "bought"]
    second_steps = await jb.transitions(enrollment_id)
    assert [t.to_node for t in second_steps] == ["entry", "buy", "bought", None]
    assert [t.seq for t in second_steps] == [t.seq for t in first_steps]
    assert {t.run_started_at for t in second_steps} == {second.started_at}
    earlier = await jb.store.enrollments.transitions_for_enrollment(
        jb.tenant_id, enrollment_id, run_started_at=first.started_at
    )
    assert earlier.items == first_steps
    runs = await jb.store.enrollments.runs(jb.tenant_id, enrollment_id)
    assert runs.items == [first]


WELCOME_ONCE_PER_RUN = JourneyDefinition(
    nodes=[
        EntryNode(id="entry"),
        ActionNode(id="welcome", channel="sandbox", action="send_message", params={"text": "hi"}),
        ExitNode(id="done", reason="welcomed"),
    ],
    edges=[
        Edge(source="entry", label="next", target="welcome"),
        Edge(source="welcome", label="next", target="done"),
    ],
)


async def test_a_customer_who_enters_again_receives_the_new_runs_actions(jb: Bench) -> None:
    journey_id, version = await jb.publish(WELCOME_ONCE_PER_RUN)
    customer_id = await jb.customer(phone="13800000043")
    enrollment_id = await jb.enroll(journey_id, version, customer_id, reentry="after_exit")
    assert (await jb.result(enrollment_id)).reason == "welcomed"
    first = await jb.until(enrollment_id, lambda e: e.exit_reason == "welcomed")

    await jb.enroll(journey_id, version, customer_id, reentry="after_exit")
    await jb.until(
        enrollment_id, lambda e: e.started_at > first.started_at and e.exit_reason == "welcomed"
    )

    deliveries = await jb.deliveries(enrollment_id)
    assert len(deliveries) == 2
    assert len({d.idempotency_key for d in deliveries}) == 2
    assert all(d.status == "succeeded" for d in deliveries)
