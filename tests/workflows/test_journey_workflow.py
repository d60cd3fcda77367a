"""JourneyWorkflow on the real Temporal dev server, with short durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.conditions import TagCondition
from domain.engine import EventRef
from domain.journey import (
    ActionNode,
    BranchNode,
    BranchRule,
    Edge,
    EntryNode,
    ExitNode,
    ExitTrigger,
    GoalNode,
    JourneyDefinition,
    JourneySettings,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
)
from tests.workflows.harness import Bench
from workflows import client as journeys


def definition(
    nodes: list[Any], edges: list[tuple[str, str, str]], **settings: Any
) -> JourneyDefinition:
    return JourneyDefinition(
        nodes=nodes,
        edges=[Edge(source=s, label=label, target=t) for s, label, t in edges],
        settings=JourneySettings(**settings),
    )


def event(type_: str, event_id: str, **properties: Any) -> EventRef:
    return EventRef(id=event_id, type=type_, properties=properties, occurred_at=datetime.now(UTC))


WELCOME = definition(
    [
        EntryNode(id="entry"),
        ActionNode(
            id="welcome",
            channel="sandbox",
            action="send_message",
            params={"text": "hi {{ customer.attributes.name | default: 'there' }}"},
        ),
        WaitNode(id="pause", duration=timedelta(milliseconds=300)),
        UpdateProfileNode(id="tag", add_tags=["stage:lead"], set_attributes={"welcomed": True}),
        ExitNode(id="done", reason="welcomed"),
    ],
    [
        ("entry", "next", "welcome"),
        ("welcome", "next", "pause"),
        ("pause", "next", "tag"),
        ("tag", "next", "done"),
    ],
)


async def test_a_linear_journey_delivers_waits_tags_and_exits(jb: Bench) -> None:
    journey_id, version = await jb.publish(WELCOME)
    customer_id = await jb.customer(phone="13800000001")
    enrollment_id = await jb.enroll(journey_id, version, customer_id)

    result = await jb.result(enrollment_id)

    assert (result.status, result.reason) == ("exited", "welcomed")
    deliveries = await jb.deliveries(enrollment_id)
    assert [(d.node_id, d.status, d.attempts) for d in deliveries] == [("welcome", "succeeded", 1)]
    customer = await jb.store.customers.get(jb.tenant_id, customer_id)
    assert "stage:lead" in customer.tags and customer.attributes["welcomed"] is True
    transitions = await jb.transitions(enrollment_id)
    assert [t.to_node for t in transitions] == ["entry", "welcome", "pause", "tag", "done", None]
    assert [t.seq for t in transitions] == [1, 2, 3, 4, 5, 6]
    projection = await jb.projection(enrollment_id)
    assert projection.status == "exited" and projection.exit_reason == "welcomed"
    assert projection.ended_at is not None and projection.wait is None


ONBOARDING = definition(
    [
        EntryNode(id="entry"),
        WaitForEventNode(id="join", event_type="wecom.group_joined", timeout=timedelta(seconds=30)),
        BranchNode(id="vip", rules=[BranchRule(id="yes", conditions=[TagCondition(tag="vip")])]),
        ExitNode(id="joined_vip", reason="joined_vip"),
        ExitNode(id="joined", reason="joined"),
        ExitNode(id="late", reason="not_onboarded"),
        GoalNode(id="paid", event_type="order.paid"),
    ],
    [
        ("entry", "next", "join"),
        ("join", "matched", "vip"),
        ("join", "timed_out", "late"),
        ("vip", "yes", "joined_vip"),
        ("vip", "else", "joined"),
    ],
    exit_triggers=[ExitTrigger(event_type="wecom.contact_deleted_by_customer", reason="deleted")],
)


async def test_waiting_enrollment_shows_what_it_waits_for_then_takes_the_matched_branch(
    jb: Bench,
) -> None:
    journey_id, version = await jb.publish(ONBOARDING)
    customer_id = await jb.customer(wecom_external_userid="wm_1")
    await jb.store.customers.update_profile(
        jb.tenant_id, customer_id, datetime.now(UTC), add_tags=["vip"]
    )
    enrollment_id = await jb.enroll(journey_id, version, customer_id)
    waiting = await jb.until(enrollment_id, lambda e: e.wait is not None)
    assert waiting.current_node == "join"
    assert waiting.wait is not None and waiting.wait.event_type == "wecom.group_joined"

    await jb.event(enrollment_id, event("wecom.group_joined", "ev-1"))
    result = await jb.result(enrollment_id)

    assert result.reason == "joined_vip"


async def test_the_same_event_signalled_twice_is_handled_once(jb: Bench) -> None:
    repeat = definition(
        [
            EntryNode(id="entry"),
            WaitForEventNode(id="first", event_type="click", timeout=timedelta(seconds=30)),
            WaitForEventNode(id="second", event_type="click", timeout=timedelta(seconds=2)),
            ExitNode(id="twice", reason="clicked_twice"),
            ExitNode(id="once", reason="clicked_once"),
            ExitNode(id="never", reason="no_click"),
        ],
        [
            ("entry", "next", "first"),
            ("first", "matched", "second"),
            ("first", "timed_out", "never"),
            ("second", "matched", "twice"),
            ("second", "timed_out", "once"),
        ],
    )
    journey_id, version = await jb.publish(repeat)
    enrollment_id = await jb.enroll(journey_id, version, await jb.customer())
    await jb.until(enrollment_id, lambda e: e.current_node == "first")
    await jb.event(enrollment_id, event("click", "same-id"))
    await jb.event(enrollment_id, event("click", "same-id"))

    assert (await jb.result(enrollment_id)).reason == "clicked_once"


async def test_wait_for_event_times_out_into_its_timeout_branch(jb: Bench) -> None:
    quick = ONBOARDING.model_copy(
        update={
            "nodes": [
                n.model_copy(update={"timeout": timedelta(milliseconds=500)})
                if n.id == "join"
                else n
                for n in ONBOARDING.nodes
            ]
        }
    )
    journey_id, version = await jb.publish(quick)
    enrollment_id = await jb.enroll(journey_id, version, await jb.customer())

    assert (await jb.result(enrollment_id)).reason == "not_onboarded"


async def test_a_goal_event_converts_the_enrollment_wherever_it_waits(jb: Bench) -> None:
    journey_id, version = await jb.publish(ONBOARDING)
    enrollment_id = await jb.enroll(journey_id, version, await jb.customer())
    await jb.until(enrollment_id, lambda e: e.current_node == "join")

    await jb.event(enrollment_id, event("order.paid", "order-1", total=99))
    result = await jb.result(enrollment_id)

    assert (result.status, result.converted) == ("converted", True)
    projection = await jb.projection(enrollment_id)
    assert projection.goal_id == "paid" and projection.converted_at is not None


async def test_an_exit_trigger_ends_the_enrollment_with_its_reason(jb: Bench) -> None:
    journey_id, version = await jb.publish(ONBOARDING)
    enrollment_id = await jb.enroll(journey_id, version, await jb.customer())
    await jb.until(enrollment_id, lambda e: e.current_node == "join")

    await jb.event(enrollment_id, event("wecom.contact_deleted_by_customer", "del-1"))

    assert (await jb.result(enrollment_id)).reason == "deleted"


async def test_pause_holds_the_enrollment_and_resume_lets_it_finish(jb: Bench) -> None:
    journey_id, version = await jb.publish(WELCOME)
    enrollment_id = await jb.enroll(journey_id, version, await jb.customer())
    await journeys.pause(jb.client, enrollment_id, "investigating")
    paused = await jb.until(enrollment_id, lambda e: e.status == "paused")
    assert paused.ended_at is None
    view = await journeys.live_state(jb.client, enrollment_id)
    assert view.paused

    await journeys.resume(jb.client, enrollment_id)
    result = await jb.result(enrollment_id)

    assert result.reason == "welcomed"


async def test_cancel_ends_a_waiting_enrollment_as_cancelled(jb: Bench) -> None:
    journey_id, version = await jb.publish(ONBOARDING)
    enrollment_id = await jb.enroll(journey_id, version, await jb.customer())
    await jb.until(enrollment_id, lambda e: e.current_node == "join")

    await journeys.cancel(jb.client, enrollment_id, "operator request")

    result = await jb.result(enrollment_id)
    assert (result.status, result.reason) == ("cancelled", "operator request")
    assert (await jb.projection(enrollment_id)).status == "cancelled"


async def test_signal_with_start_enrolls_with_the_entry_event_and_never_twice(jb: Bench) -> None:
    journey_id, version = await jb.publish(ONBOARDING)
    customer_id = await jb.customer()
    entry = event("wecom.contact_added", "add-1", state="douyin")
    enrollment_id = await jb.enroll(journey_id, version, customer_id, entry_event=entry)
    await jb.until(enrollment_id, lambda e: e.current_node == "join")
    await jb.event(enrollment_id, event("order.paid", "order-2"))
    await jb.result(enrollment_id)

    again = await journeys.enroll(
        jb.client,
        tenant_id=jb.tenant_id,
        journey_id=journey_id,
        version=version,
        customer_id=customer_id,
        entry_event=event("wecom.contact_added", "add-2"),
    )
    assert again.status == "already_enrolled"


async def test_a_permanent_channel_failure_is_recorded_and_the_failed_edge_taken(jb: Bench) -> None:
    failing = definition(
        [
            EntryNode(id="entry"),
            ActionNode(
                id="send",
                channel="sandbox",
                action="send_message",
                params={"text": "x", "simulate": "permanent"},
            ),
            ExitNode(id="ok", reason="sent"),
            ExitNode(id="ko", reason="send_failed"),
        ],
        [("entry", "next", "send"), ("send", "next", "ok"), ("send", "failed", "ko")],
    )
    journey_id, version = await jb.publish(failing)
    enrollment_id = await jb.enroll(journey_id, version, await jb.customer())

    assert (await jb.result(enrollment_id)).reason == "send_failed"
    [delivery] = await jb.deliveries(enrollment_id)
    assert delivery.status == "failed" and delivery.attempts == 1 and delivery.error


async def test_continue_as_new_carries_the_state_through_a_long_loop(jb: Bench) -> None:
    loop = definition(
        [
            EntryNode(id="entry"),
            WaitForEventNode(id="buy", event_type="order.paid", timeout=timedelta(seconds=30)),
            UpdateProfileNode(id="count", add_tags=["buyer"]),
            ExitNode(id="lapsed", reason="lapsed"),
            GoalNode(id="goal", event_type="never.happens"),
        ],
        [
            ("entry", "next", "buy"),
            ("buy", "matched", "count"),
            ("buy", "timed_out", "lapsed"),
            ("count", "next", "buy"),
        ],
    )
    journey_id, version = await jb.publish(loop)
    enrollment_id = await jb.enroll(
        journey_id, version, await jb.customer(), continue_as_new_after=3
    )
    for n in range(6):
        await jb.until(
            enrollment_id, lambda e, n=n: e.current_node == "buy" and e.path.count("buy") > n
        )
        await jb.event(enrollment_id, event("order.paid", f"o{n}"))
    await jb.until(enrollment_id, lambda e: e.path.count("buy") == 7)
    await journeys.cancel(jb.client, enrollment_id, "done")

    result = await jb.result(enrollment_id)
    assert result.status == "cancelled"
    transitions = await jb.transitions(enrollment_id)
    assert [t.seq for t in transitions] == list(range(1, len(transitions) + 1))
    assert sum(1 for t in transitions if t.to_node == "count") == 6
