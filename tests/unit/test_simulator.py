"""The simulator's counts on small hand-built journeys, where the expected numbers follow by hand:
quiet hours, frequency caps, consent, WeCom's allowance, waits for events with timeouts,
conversions, splits, profile updates, reactions; and its determinism."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.conditions import TagCondition
from domain.engine import run_key
from domain.enrollments import enrollment_id
from domain.experiments import assign_variant
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
    Node,
    QuietHours,
    SplitNode,
    SplitVariant,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
)
from domain.messaging import FrequencyCap, MessagingPolicy
from domain.templates import canonical_journey
from simulator.engine import WECOM_ALLOWANCE, simulate
from simulator.models import (
    ActionReaction,
    Delay,
    EventModel,
    FactMix,
    SimCustomer,
    SimEvent,
    SimulationOptions,
    SimulationResult,
    SyntheticCohort,
    TagShare,
)
from simulator.presets import canonical_cohort, canonical_options

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday; 08:00 in Shanghai


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def send(node_id: str, channel: str = "sandbox", **options: Any) -> ActionNode:
    action = "mass_message" if channel == "wecom" else "send_message"
    return ActionNode(id=node_id, channel=channel, action=action, params={"text": "hi"}, **options)


def chain(
    *nodes: Node,
    also: Sequence[Node] = (),
    edges: Sequence[tuple[str, str, str]] = (),
    **settings: Any,
) -> JourneyDefinition:
    """`nodes` joined by `next` edges in order, plus the nodes `also` and the (source, label,
    target) `edges`."""
    ids = [node.id for node in nodes]
    linked = [Edge(source=a, target=b) for a, b in itertools.pairwise(ids)]
    extra = [Edge(source=source, target=target, label=label) for source, label, target in edges]
    return JourneyDefinition(
        nodes=[*nodes, *also], edges=linked + extra, settings=JourneySettings(**settings)
    )


def customer(index: int, arrives: datetime, **fields: Any) -> SimCustomer:
    return SimCustomer(id=f"c{index}", arrives_at=arrives, **fields)


def options(**fields: Any) -> SimulationOptions:
    return SimulationOptions(start=START, days=fields.pop("days", 5), **fields)


def funnel(result: SimulationResult) -> dict[str, int]:
    return {node.node_id: node.entered for node in result.nodes if node.entered}


def reasons(result: SimulationResult) -> dict[str, int]:
    return {f"{r.status}:{r.reason}": r.count for r in result.reasons}


def volumes(result: SimulationResult, channel: str = "sandbox") -> dict[str, int]:
    [found] = [c for c in result.channels if c.channel == channel]
    return {k: v for k, v in found.totals.model_dump().items() if k not in {"day", "date"} and v}


def day_sent(result: SimulationResult, channel: str = "sandbox") -> list[int]:
    [found] = [c for c in result.channels if c.channel == channel]
    return [day.sent for day in found.days]


ONE_TOUCH = chain(EntryNode(id="in"), send("touch"), ExitNode(id="done", reason="done"))


def test_the_tenants_quiet_hours_hold_a_send_until_they_end() -> None:
    # Quiet 21:00-09:00 Shanghai (13:00-01:00 UTC). Arrivals at 04:00 UTC go at once; those at
    # 14:00 UTC (22:00 local) wait until 01:00 UTC the next day.
    policy = MessagingPolicy(quiet_hours=QuietHours(start=21, end=9))
    cohort = [customer(i, at(4)) for i in range(3)] + [customer(i, at(14)) for i in range(3, 8)]
    result = simulate(ONE_TOUCH, cohort, options(policy=policy))

    assert volumes(result) == {"attempted": 13, "sent": 8, "held_quiet_hours": 5}
    assert day_sent(result) == [3, 5, 0, 0, 0]
    assert reasons(result) == {"exited:done": 8}
    [touch] = [n for n in result.nodes if n.node_id == "touch"]
    assert [p.value for p in touch.occupancy] == [5, 0, 0, 0, 0]  # held over the first night


def test_the_journeys_own_quiet_hours_hold_an_action_on_a_timer() -> None:
    journey = chain(
        EntryNode(id="in"),
        send("touch"),
        ExitNode(id="done"),
        quiet_hours=QuietHours(start=21, end=9),
        timezone="Asia/Shanghai",
    )
    result = simulate(journey, [customer(0, at(14)), customer(1, at(4))], options())
    assert volumes(result) == {"attempted": 2, "sent": 2, "held_quiet_hours": 1}
    assert day_sent(result) == [1, 1, 0, 0, 0]


def test_a_full_cap_skips_to_the_failed_edge_or_holds_until_its_period_ends() -> None:
    policy = MessagingPolicy(caps=[FrequencyCap(id="daily", limit=1, period="day")])
    skip = chain(
        EntryNode(id="in"),
        send("first"),
        send("second"),
        ExitNode(id="sent", reason="sent"),
        also=[ExitNode(id="capped", reason="capped")],
        edges=[("second", "failed", "capped")],
    )
    cohort = [customer(i, at(2)) for i in range(4)]

    skipped = simulate(skip, cohort, options(policy=policy))
    assert volumes(skipped) == {"attempted": 8, "sent": 4, "skipped_cap": 4}
    assert reasons(skipped) == {"exited:capped": 4}
    [hit] = skipped.cap_hits
    assert (hit.cap_id, hit.held, hit.skipped, hit.customers) == ("daily", 0, 4, 4)

    wait = chain(EntryNode(id="in"), send("first"), send("second", when_capped="wait"))
    waited = simulate(wait, cohort, options(policy=policy))
    # Held until Shanghai midnight (16:00 UTC), then sent: on day 0 still, in UTC.
    assert volumes(waited) == {"attempted": 12, "sent": 8, "held_cap": 4}
    assert day_sent(waited) == [8, 0, 0, 0, 0]
    assert reasons(waited) == {"exited:completed": 4}
    [hit] = waited.cap_hits
    assert (hit.held, hit.skipped) == (4, 0)


def test_an_opted_out_customer_is_skipped_down_the_failed_edge() -> None:
    journey = chain(
        EntryNode(id="in"),
        send("touch"),
        ExitNode(id="done", reason="done"),
        also=[ExitNode(id="refused", reason="refused")],
        edges=[("touch", "failed", "refused")],
    )
    cohort = [customer(i, at(1), opted_out=["sandbox"] if i < 3 else []) for i in range(10)]
    result = simulate(journey, cohort, options())
    assert volumes(result) == {"attempted": 10, "sent": 7, "skipped_consent": 3}
    assert reasons(result) == {"exited:done": 7, "exited:refused": 3}


def test_wecoms_allowance_refuses_mass_messages_past_it() -> None:
    journey = chain(
        EntryNode(id="in"),
        send("m1", "wecom"),
        WaitNode(id="w1", duration=timedelta(hours=1)),
        send("m2", "wecom"),
        WaitNode(id="w2", duration=timedelta(hours=1)),
        send("m3", "wecom"),
        ExitNode(id="done"),
    )
    cohort = [customer(i, at(1)) for i in range(5)]
    result = simulate(journey, cohort, options(wecom_allowance_override=2))
    assert volumes(result, "wecom") == {"attempted": 15, "sent": 10, "skipped_allowance": 5}
    [hit] = result.cap_hits
    assert (hit.cap_id, hit.skipped, hit.customers) == (WECOM_ALLOWANCE, 5, 5)


def test_an_action_success_rate_of_zero_fails_every_send() -> None:
    cohort = [customer(i, at(1)) for i in range(6)]
    result = simulate(ONE_TOUCH, cohort, options(action_success_rate=0.0))
    assert volumes(result) == {"attempted": 6, "failed": 6}
    assert reasons(result) == {"exited:done": 6}  # no failed edge: the journey moves on


CLICK_OR_GIVE_UP: tuple[list[Node], list[tuple[str, str, str]]] = (
    [
        WaitForEventNode(id="wait", event_type="clicked", timeout=timedelta(hours=24)),
        ExitNode(id="clicked", reason="clicked"),
        ExitNode(id="gave_up", reason="gave_up"),
    ],
    [("wait", "matched", "clicked"), ("wait", "timed_out", "gave_up")],
)
WAIT_FOR_CLICK = chain(
    EntryNode(id="in"),
    CLICK_OR_GIVE_UP[0][0],
    also=CLICK_OR_GIVE_UP[0][1:],
    edges=CLICK_OR_GIVE_UP[1],
)


def test_a_wait_for_an_event_matches_before_its_timeout_and_times_out_after() -> None:
    def clicker(index: int, after: float | None) -> SimCustomer:
        events = [] if after is None else [SimEvent(type="clicked", at=at(1 + after))]
        return customer(index, at(1), events=events)

    cohort = [clicker(0, 2), clicker(1, 23.9), clicker(2, 24.1), clicker(3, None), clicker(4, 0)]
    result = simulate(WAIT_FOR_CLICK, cohort, options())
    assert reasons(result) == {"exited:clicked": 3, "exited:gave_up": 2}
    assert funnel(result) == {"in": 5, "wait": 5, "clicked": 3, "gave_up": 2}
    assert result.events_delivered == 3  # the late click comes after the enrollment ended
    [wait] = [n for n in result.nodes if n.node_id == "wait"]
    assert [p.value for p in wait.occupancy][:2] == [3, 0]  # 0, 1 and 2 still waiting at 24:00


def test_what_is_still_waiting_when_the_window_ends_counts_as_current() -> None:
    cohort = [customer(0, at(1)), customer(1, at(47.5))]
    result = simulate(WAIT_FOR_CLICK, cohort, options(days=2))
    [wait] = [n for n in result.nodes if n.node_id == "wait"]
    assert (wait.entered, wait.exited, wait.current) == (2, 1, 1)
    assert {e.status: e.count for e in result.ended} == {"active": 1, "exited": 1}


def test_conversions_and_time_to_convert() -> None:
    journey = chain(
        EntryNode(id="in"),
        WaitNode(id="wait", duration=timedelta(days=3)),
        ExitNode(id="out"),
        also=[GoalNode(id="bought", event_type="order.paid")],
    )
    cohort = [
        customer(i, at(1), events=[SimEvent(type="order.paid", at=at(1 + i))]) for i in range(1, 11)
    ] + [customer(i, at(1)) for i in range(11, 21)]
    result = simulate(journey, cohort, options())
    conversions = result.conversions
    assert (conversions.count, conversions.rate) == (10, 0.5)
    assert (conversions.p50_hours, conversions.p90_hours, conversions.mean_hours) == (5, 9, 5.5)
    assert reasons(result) == {"converted:converted": 10, "exited:completed": 10}
    assert [g.count for g in conversions.by_goal] == [10]


def test_splits_go_as_the_engine_assigns_them() -> None:
    split = SplitNode(id="ab", variants=[SplitVariant(id="a", weight=3), SplitVariant(id="b")])
    journey = JourneyDefinition(
        nodes=[EntryNode(id="in"), split, ExitNode(id="exit_a"), ExitNode(id="exit_b")],
        edges=[
            Edge(source="in", target="ab"),
            Edge(source="ab", target="exit_a", label="a"),
            Edge(source="ab", target="exit_b", label="b"),
        ],
    )
    cohort = [customer(i, at(i / 10)) for i in range(200)]
    expected_a = sum(
        assign_variant(split, enrollment_id("t", "j", c.id), run_key(c.arrives_at)) == "a"
        for c in cohort
    )
    result = simulate(journey, cohort, options(tenant_id="t", journey_id="j"))
    assert funnel(result)["exit_a"] == expected_a
    assert funnel(result)["exit_b"] == 200 - expected_a
    assert 120 < expected_a < 180  # about 3 in 4
    won = simulate(journey, cohort, options(tenant_id="t", journey_id="j"), winners={"ab": "b"})
    assert funnel(won)["exit_b"] == 200


def test_a_profile_update_is_seen_by_a_later_branch() -> None:
    journey = JourneyDefinition(
        nodes=[
            EntryNode(id="in"),
            BranchNode(
                id="first", rules=[BranchRule(id="vip", conditions=[TagCondition(tag="vip")])]
            ),
            UpdateProfileNode(id="promote", add_tags=["vip"]),
            BranchNode(
                id="again", rules=[BranchRule(id="vip", conditions=[TagCondition(tag="vip")])]
            ),
            ExitNode(id="was_vip", reason="was_vip"),
            ExitNode(id="promoted", reason="promoted"),
            ExitNode(id="never", reason="never"),
        ],
        edges=[
            Edge(source="in", target="first"),
            Edge(source="first", target="was_vip", label="vip"),
            Edge(source="first", target="promote", label="else"),
            Edge(source="promote", target="again"),
            Edge(source="again", target="promoted", label="vip"),
            Edge(source="again", target="never", label="else"),
        ],
    )
    cohort = [customer(i, at(1), tags=["vip"] if i < 2 else []) for i in range(5)]
    assert reasons(simulate(journey, cohort, options())) == {
        "exited:promoted": 3,
        "exited:was_vip": 2,
    }


def test_events_wait_while_an_action_is_held_as_in_the_workflow() -> None:
    # The exit event comes during the quiet-hours hold: the send still goes when they end,
    # then the event ends the enrollment (the workflow's held-action loop blocks its inbox).
    policy = MessagingPolicy(quiet_hours=QuietHours(start=21, end=9))
    journey = chain(
        EntryNode(id="in"),
        send("touch"),
        WaitNode(id="wait", duration=timedelta(days=1)),
        ExitNode(id="done"),
        exit_triggers=[ExitTrigger(event_type="unsubscribed", reason="unsubscribed")],
    )
    cohort = [customer(0, at(14), events=[SimEvent(type="unsubscribed", at=at(15))])]
    result = simulate(journey, cohort, options(policy=policy))
    assert volumes(result) == {"attempted": 2, "sent": 1, "held_quiet_hours": 1}
    assert reasons(result) == {"exited:unsubscribed": 1}
    assert funnel(result)["wait"] == 1


def test_reactions_answer_sends_with_events() -> None:
    nodes, edges = CLICK_OR_GIVE_UP
    journey = chain(EntryNode(id="in"), send("touch"), nodes[0], also=nodes[1:], edges=edges)
    reaction = ActionReaction(
        channel="sandbox", event_type="clicked", delay=Delay(kind="fixed", hours=2)
    )
    cohort = [customer(i, at(1)) for i in range(4)]
    result = simulate(journey, cohort, options(reactions=[reaction]))
    assert reasons(result) == {"exited:clicked": 4}


def test_a_synthetic_cohort_follows_its_model() -> None:
    cohort = SyntheticCohort(
        size=1000,
        seed=3,
        start=START,
        arrival_days=10,
        arrival="front_loaded",
        events=[EventModel(type="clicked", probability=0.25, delay=Delay(kind="fixed", hours=1))],
        facts=FactMix(tags=[TagShare(tag="vip", probability=0.1)]),
    )
    members = list(cohort.customers())
    assert [c.id for c in members] == [c.id for c in cohort.customers()]
    assert all(a.arrives_at <= b.arrives_at for a, b in itertools.pairwise(members))
    assert 200 < sum(bool(c.events) for c in members) < 300
    assert 60 < sum("vip" in c.tags for c in members) < 140
    assert sum(c.arrives_at < START + timedelta(days=5) for c in members) > 650  # 3/4 expected
    assert [c.id for c in cohort.customers(100, 110)] == [c.id for c in members[100:110]]


def test_the_same_seed_gives_the_same_result_whatever_the_workers() -> None:
    definition = canonical_journey()
    one = simulate(definition, canonical_cohort(60, seed=11), canonical_options(days=30))
    listed = list(canonical_cohort(60, seed=11).customers())
    again = simulate(definition, listed, canonical_options(days=30))
    two = simulate(definition, canonical_cohort(60, seed=11), canonical_options(days=30, workers=2))
    other = simulate(definition, canonical_cohort(60, seed=12), canonical_options(days=30))
    assert one == again == two
    assert one != other
    assert one.steps > 60 * 5


@pytest.mark.parametrize("days", [1, 3])
def test_every_series_has_a_point_per_day(days: int) -> None:
    result = simulate(ONE_TOUCH, [customer(0, at(1))], options(days=days))
    assert result.dates == [(START + timedelta(days=d)).date() for d in range(days)]
    assert all(len(node.occupancy) == days for node in result.nodes)
    assert all(len(channel.days) == days for channel in result.channels)
