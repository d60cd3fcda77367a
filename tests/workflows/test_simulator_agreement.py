"""The simulator and the live workflow agree: the same small cohort runs through real
JourneyWorkflows on the dev server (its events sent as real signals at their times) and through
`simulator.simulate`, and the per-node counts, the edges taken, the end reasons and the sends
per action recorded in MongoDB are exactly the simulator's.

The journey has an experiment split, two sends (with a consent opt-out taking a `failed` edge),
waits for an event with timeouts, a branch on a tag, a profile update, a goal and an exit
trigger; waits last seconds, and every event lands seconds away from the timeout it races.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

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
    SplitNode,
    SplitVariant,
    UpdateProfileNode,
    WaitForEventNode,
)
from simulator.engine import simulate
from simulator.models import SimCustomer, SimEvent, SimulationOptions
from tests.workflows.harness import Bench
from workflows.journey import JourneyWorkflow

WAIT = timedelta(seconds=6)
"""Each wait for a click; events land 2.5 s into a wait, so the reminder may take up to about
3 s live (the simulator's actions take none) before the two could disagree."""
CLICKED, PAID, UNSUBSCRIBED = "link.clicked", "order.paid", "unsubscribed"


def send(node_id: str, text: str) -> ActionNode:
    return ActionNode(
        id=node_id,
        channel="sandbox",
        action="send_message",
        params={"text": text},
        respect_quiet_hours=False,
    )


JOURNEY = JourneyDefinition(
    nodes=[
        EntryNode(id="entry"),
        SplitNode(id="ab", variants=[SplitVariant(id="a"), SplitVariant(id="b")]),
        send("touch_a", "Hello from A"),
        send("touch_b", "Hello from B"),
        WaitForEventNode(id="wait_click", event_type=CLICKED, timeout=WAIT),
        BranchNode(
            id="is_vip",
            rules=[BranchRule(id="vip", conditions=[TagCondition(tag="vip")])],
        ),
        UpdateProfileNode(id="tag_clicked", add_tags=["clicked"]),
        send("reminder", "Still interested?"),
        WaitForEventNode(id="wait_click_again", event_type=CLICKED, timeout=WAIT),
        ExitNode(id="vip_clicked", reason="vip_clicked"),
        ExitNode(id="clicked", reason="clicked"),
        ExitNode(id="late_click", reason="late_click"),
        ExitNode(id="no_click", reason="no_click"),
        ExitNode(id="opted_out", reason="opted_out"),
        GoalNode(id="purchased", event_type=PAID),
    ],
    edges=[
        Edge(source="entry", target="ab"),
        Edge(source="ab", target="touch_a", label="a"),
        Edge(source="ab", target="touch_b", label="b"),
        Edge(source="touch_a", target="wait_click"),
        Edge(source="touch_b", target="wait_click"),
        Edge(source="touch_a", target="opted_out", label="failed"),
        Edge(source="touch_b", target="opted_out", label="failed"),
        Edge(source="wait_click", target="is_vip", label="matched"),
        Edge(source="wait_click", target="reminder", label="timed_out"),
        Edge(source="is_vip", target="vip_clicked", label="vip"),
        Edge(source="is_vip", target="tag_clicked", label="else"),
        Edge(source="tag_clicked", target="clicked"),
        Edge(source="reminder", target="wait_click_again"),
        Edge(source="wait_click_again", target="late_click", label="matched"),
        Edge(source="wait_click_again", target="no_click", label="timed_out"),
    ],
    settings=JourneySettings(
        exit_triggers=[ExitTrigger(event_type=UNSUBSCRIBED, reason="unsubscribed")]
    ),
)

# (profile, events as (type, the wait it is sent in, seconds after that wait began)), one
# customer each. Each event is sent once the live enrollment is at its wait, seconds from both
# ends of it; the simulator, whose actions take no time, gets it at the time it was sent.
PROFILES: list[tuple[str, list[tuple[str, str, float]]]] = [
    ("clicks", [(CLICKED, "wait_click", 2.5)]),
    ("vip_clicks", [(CLICKED, "wait_click", 2.5)]),
    ("silent", []),
    ("late", [(CLICKED, "wait_click_again", 2.5)]),
    ("buys", [(PAID, "wait_click", 2.5)]),
    ("buys_late", [(PAID, "wait_click_again", 2.5)]),
    ("unsubscribes", [(UNSUBSCRIBED, "wait_click", 2.5)]),
    ("opted_out", []),
    ("unsubscribes_late", [(UNSUBSCRIBED, "wait_click_again", 2.5)]),
]
COHORT = [PROFILES[index % len(PROFILES)] for index in range(27)]


async def _live(jb: Bench, journey_id: str, version: int) -> list[SimCustomer]:
    """Enroll the cohort for real and send each customer's events at their times (counted from
    the enrollment's start); the cohort as it ran: its starts, runs and events' send times."""
    sent: dict[str, list[SimEvent]] = {}

    async def deliver(enrollment: str, events: list[tuple[str, str, float]]) -> None:
        for index, (kind, node, after) in enumerate(events):
            waiting = await jb.until(enrollment, lambda e, node=node: e.current_node == node)
            due = waiting.updated_at + timedelta(seconds=after)
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
            at = datetime.now(UTC)
            event = EventRef(id=f"{enrollment}:{index}", type=kind, occurred_at=at)
            await jb.event(enrollment, event)
            sent.setdefault(enrollment, []).append(SimEvent(type=kind, at=at))

    async def run(
        index: int, profile: str, events: list[tuple[str, str, float]]
    ) -> tuple[str, str, datetime, str]:
        customer_id = await jb.customer(external_id=f"agree-{index}")
        now = datetime.now(UTC)
        if profile == "vip_clicks":
            await jb.store.customers.update_profile(
                jb.tenant_id, customer_id, now, add_tags=["vip"]
            )
        if profile == "opted_out":
            await jb.store.customers.set_consent(jb.tenant_id, customer_id, "sandbox", False, now)
        enrollment = await jb.enroll(journey_id, version, customer_id)
        handle = jb.client.get_workflow_handle_for(JourneyWorkflow.run, enrollment)
        first = await jb.until(enrollment, lambda e: e.seq > 0)
        view = await handle.query(JourneyWorkflow.state)
        assert view.state.run is not None
        delivering = asyncio.create_task(deliver(enrollment, events))
        settled = await jb.until(
            enrollment, lambda e: e.current_node == "wait_click" or not e.running
        )
        await delivering
        await jb.result(enrollment)
        # The simulator's actions take no time: its customer arrives when the live enrollment
        # was through its first send (nothing happens to it before), so both wait alike.
        arrived = settled.updated_at if settled.running else first.started_at
        return customer_id, enrollment, arrived, view.state.run

    started_runs = await asyncio.gather(
        *(run(index, profile, events) for index, (profile, events) in enumerate(COHORT))
    )
    return [
        SimCustomer(
            id=customer_id,
            arrives_at=started,
            run=run,
            tags=["vip"] if profile == "vip_clicks" else [],
            opted_out=["sandbox"] if profile == "opted_out" else [],
            events=sent.get(enrollment, []),
        )
        for (customer_id, enrollment, started, run), (profile, _) in zip(
            started_runs, COHORT, strict=True
        )
    ]


async def test_the_simulator_counts_what_real_workflows_do(jb: Bench) -> None:
    journey_id, version = await jb.publish(JOURNEY, name="agreement")
    cohort = await _live(jb, journey_id, version)

    entered: Counter[str] = Counter()
    edges: Counter[tuple[str | None, str, str | None]] = Counter()
    reasons: Counter[tuple[str, str]] = Counter()
    sends: Counter[tuple[str, str]] = Counter()
    for enrollment in jb.started:
        for step in await jb.transitions(enrollment):
            if step.to_node is not None:
                entered[step.to_node] += 1
            edges[(step.from_node, step.label, step.to_node)] += 1
        projection = await jb.projection(enrollment)
        reasons[(projection.status, projection.exit_reason or "")] += 1
        for delivery in await jb.deliveries(enrollment):
            sends[(delivery.node_id, delivery.status)] += 1

    start = min(customer.arrives_at for customer in cohort) - timedelta(minutes=1)
    result = simulate(
        JOURNEY,
        cohort,
        SimulationOptions(days=1, start=start, tenant_id=jb.tenant_id, journey_id=journey_id),
    )

    assert {n.node_id: n.entered for n in result.nodes if n.entered} == dict(entered)
    assert {(e.source, e.label, e.target): e.count for e in result.edges} == dict(edges)
    assert {(r.status, r.reason): r.count for r in result.reasons} == dict(reasons)
    simulated_sends = Counter[tuple[str, str]]()
    for action in result.actions:
        if action.sent:
            simulated_sends[(action.node_id, "succeeded")] += action.sent
        if action.skipped_consent:
            simulated_sends[(action.node_id, "skipped")] += action.skipped_consent
    assert simulated_sends == sends
    # The cohort exercises every path: both variants, every exit, the goal, the trigger.
    assert {"touch_a", "touch_b", "vip_clicked", "clicked", "late_click", "no_click"} <= set(
        entered
    )
    assert {"opted_out", "purchased"} <= set(entered)
    assert ("exited", "unsubscribed") in reasons
    assert result.conversions.count == reasons[("converted", "converted")]
    assert all(n.current == 0 for n in result.nodes)
