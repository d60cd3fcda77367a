"""The pure journey engine, driven directly: one stimulus at a time, commands checked exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.conditions import CustomerFacts, PropertyCondition, TagCondition
from domain.engine import (
    MAX_STEPS,
    ActionFinished,
    Cancel,
    Command,
    Complete,
    Engine,
    EngineState,
    EventReceived,
    EventRef,
    FactsLoaded,
    LoadFacts,
    MarkConverted,
    RecordTransition,
    RunAction,
    Start,
    TimerFired,
    UpdateProfile,
    WaitForEvent,
    WaitUntil,
    new_state,
    run_key,
)
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
    LocalTime,
    QuietHours,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
)

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai


def journey(nodes: list[Any], edges: list[tuple[str, str, str]], **settings: Any) -> Engine:
    return Engine(
        JourneyDefinition(
            nodes=nodes,
            edges=[Edge(source=s, target=t, label=label) for s, label, t in edges],
            settings=JourneySettings(**settings),
        )
    )


def event(type_: str, event_id: str = "e1", at: datetime = T0, **properties: Any) -> EventRef:
    return EventRef(id=event_id, type=type_, properties=properties, occurred_at=at)


def kinds(commands: list[Command]) -> list[str]:
    return [command.type for command in commands]


def visited(commands: list[Command]) -> list[str | None]:
    return [c.to_node for c in commands if isinstance(c, RecordTransition)]


def started(engine: Engine, at: datetime = T0) -> tuple[EngineState, list[Command]]:
    return engine.advance(new_state("t:j:c"), Start(), at)


LINEAR = journey(
    [
        EntryNode(id="entry"),
        ActionNode(id="hello", channel="sandbox", action="send_message", params={"text": "hi"}),
        WaitNode(id="wait", duration=timedelta(days=1)),
        UpdateProfileNode(id="tag", add_tags=["lead"]),
        ExitNode(id="done", reason="finished"),
    ],
    [
        ("entry", "next", "hello"),
        ("hello", "next", "wait"),
        ("wait", "next", "tag"),
        ("tag", "next", "done"),
    ],
)


def test_start_runs_through_the_entry_and_stops_at_the_first_action() -> None:
    state, commands = started(LINEAR)
    assert visited(commands) == ["entry", "hello"]
    action = commands[-1]
    assert isinstance(action, RunAction)
    assert action.idempotency_key == "t:j:c:hello:1"
    assert action.params == {"text": "hi"}
    assert state.waiting is not None and state.waiting.kind == "action"


def test_a_runs_actions_carry_the_run_in_their_idempotency_key() -> None:
    run = run_key(T0)
    _, commands = LINEAR.advance(new_state("t:j:c", run=run), Start(), T0)
    action = commands[-1]
    assert isinstance(action, RunAction)
    assert action.idempotency_key == f"t:j:c:{run}:hello:1"
    assert run_key(T0 + timedelta(milliseconds=1)) != run


def test_action_result_moves_on_to_a_durable_wait() -> None:
    state, _ = started(LINEAR)
    state, commands = LINEAR.advance(state, ActionFinished(node_id="hello", succeeded=True), T0)
    assert commands[-1] == WaitUntil(node_id="wait", until=T0 + timedelta(days=1))
    assert state.current == "wait"


def test_timer_before_its_deadline_is_ignored() -> None:
    state, _ = started(LINEAR)
    state, _ = LINEAR.advance(state, ActionFinished(node_id="hello", succeeded=True), T0)
    later, commands = LINEAR.advance(state, TimerFired(node_id="wait"), T0 + timedelta(hours=1))
    assert commands == [] and later == state


def test_wait_ends_and_the_profile_update_runs_before_the_exit() -> None:
    state, _ = started(LINEAR)
    state, _ = LINEAR.advance(state, ActionFinished(node_id="hello", succeeded=True), T0)
    state, commands = LINEAR.advance(state, TimerFired(node_id="wait"), T0 + timedelta(days=1))
    assert kinds(commands) == [
        "record_transition",
        "update_profile",
        "record_transition",
        "record_transition",
        "complete",
    ]
    assert isinstance(commands[1], UpdateProfile) and commands[1].add_tags == ["lead"]
    assert commands[-1] == Complete(status="exited", reason="finished")
    assert state.status == "exited" and state.exit_reason == "finished"


def test_transitions_are_numbered_without_gaps() -> None:
    state, first = started(LINEAR)
    state, second = LINEAR.advance(state, ActionFinished(node_id="hello", succeeded=True), T0)
    _, third = LINEAR.advance(state, TimerFired(node_id="wait"), T0 + timedelta(days=2))
    seqs = [c.seq for c in [*first, *second, *third] if isinstance(c, RecordTransition)]
    assert seqs == list(range(1, len(seqs) + 1))


def test_nothing_happens_after_the_end() -> None:
    state, _ = started(LINEAR)
    state, _ = LINEAR.advance(state, Cancel(reason="operator"), T0)
    assert state.status == "cancelled"
    after, commands = LINEAR.advance(state, TimerFired(node_id="wait"), T0 + timedelta(days=9))
    assert commands == [] and after == state


def test_start_is_idempotent() -> None:
    state, _ = started(LINEAR)
    again, commands = LINEAR.advance(state, Start(), T0)
    assert commands == [] and again == state


WAIT_FOR_JOIN = journey(
    [
        EntryNode(id="entry"),
        WaitForEventNode(
            id="join",
            event_type="wecom.group_joined",
            where=[PropertyCondition(path="state", value="spring")],
            timeout=timedelta(days=2),
        ),
        ExitNode(id="joined", reason="joined"),
        ExitNode(id="late", reason="not_onboarded"),
        GoalNode(id="paid", event_type="order.paid"),
    ],
    [
        ("entry", "next", "join"),
        ("join", "matched", "joined"),
        ("join", "timed_out", "late"),
    ],
    exit_triggers=[ExitTrigger(event_type="wecom.contact_deleted_by_customer", reason="deleted")],
)


def test_wait_for_event_asks_for_the_event_with_a_deadline() -> None:
    state, commands = started(WAIT_FOR_JOIN)
    assert commands[-1] == WaitForEvent(
        node_id="join", event_type="wecom.group_joined", until=T0 + timedelta(days=2)
    )
    assert state.waiting is not None and state.waiting.event_type == "wecom.group_joined"


def test_wait_for_event_takes_matched_branch_on_a_matching_event() -> None:
    state, _ = started(WAIT_FOR_JOIN)
    state, _ = WAIT_FOR_JOIN.advance(
        state, EventReceived(event=event("wecom.group_joined", state="spring")), T0
    )
    assert state.exit_reason == "joined"
    assert state.last_event_id == "e1"


def test_wait_for_event_ignores_events_whose_properties_do_not_match() -> None:
    state, _ = started(WAIT_FOR_JOIN)
    after, commands = WAIT_FOR_JOIN.advance(
        state, EventReceived(event=event("wecom.group_joined", state="autumn")), T0
    )
    assert commands == [] and after == state


def test_wait_for_event_takes_timeout_branch_after_deadline() -> None:
    state, _ = started(WAIT_FOR_JOIN)
    state, _ = WAIT_FOR_JOIN.advance(state, TimerFired(node_id="join"), T0 + timedelta(days=2))
    assert state.exit_reason == "not_onboarded"


def test_exit_trigger_ends_the_enrollment_wherever_it_is() -> None:
    state, _ = started(WAIT_FOR_JOIN)
    state, commands = WAIT_FOR_JOIN.advance(
        state, EventReceived(event=event("wecom.contact_deleted_by_customer")), T0
    )
    assert state.status == "exited" and state.exit_reason == "deleted"
    assert commands[-1] == Complete(status="exited", reason="deleted")


def test_goal_without_outgoing_edge_ends_converted_once() -> None:
    state, _ = started(WAIT_FOR_JOIN)
    state, commands = WAIT_FOR_JOIN.advance(
        state, EventReceived(event=event("order.paid", "o1")), T0 + timedelta(hours=3)
    )
    assert MarkConverted(goal_id="paid", event_id="o1", at=T0 + timedelta(hours=3)) in commands
    assert state.status == "converted" and state.converted_at == T0 + timedelta(hours=3)
    assert visited(commands) == ["paid", None]


REPURCHASE = journey(
    [
        EntryNode(id="entry"),
        WaitNode(id="nurture", duration=timedelta(days=30)),
        ExitNode(id="gave_up", reason="not_converted"),
        GoalNode(id="paid", event_type="order.paid"),
        UpdateProfileNode(id="customer", add_tags=["stage:customer"]),
        WaitNode(id="wait_21d", duration=timedelta(days=21)),
        ActionNode(id="replenish", channel="sandbox", action="send_message", params={"text": "x"}),
        WaitForEventNode(id="rebuy", event_type="order.paid", timeout=timedelta(days=14)),
        UpdateProfileNode(id="repeat", add_tags=["stage:repeat"]),
        ExitNode(id="lapsed", reason="lapsed"),
    ],
    [
        ("entry", "next", "nurture"),
        ("nurture", "next", "gave_up"),
        ("paid", "next", "customer"),
        ("customer", "next", "wait_21d"),
        ("wait_21d", "next", "replenish"),
        ("replenish", "next", "rebuy"),
        ("rebuy", "matched", "repeat"),
        ("rebuy", "timed_out", "lapsed"),
        ("repeat", "next", "wait_21d"),
    ],
)


def test_goal_with_outgoing_edge_converts_and_continues_into_the_loop() -> None:
    state, _ = started(REPURCHASE)
    state, commands = REPURCHASE.advance(state, EventReceived(event=event("order.paid")), T0)
    assert visited(commands) == ["paid", "customer", "wait_21d"]
    assert state.status == "active" and state.converted_at == T0
    assert state.waiting is not None and state.waiting.node_id == "wait_21d"


def test_after_conversion_the_goal_event_feeds_the_repurchase_wait_instead() -> None:
    state, _ = started(REPURCHASE)
    state, _ = REPURCHASE.advance(state, EventReceived(event=event("order.paid", "o1")), T0)
    day21 = T0 + timedelta(days=21)
    state, _ = REPURCHASE.advance(state, TimerFired(node_id="wait_21d"), day21)
    state, _ = REPURCHASE.advance(state, ActionFinished(node_id="replenish", succeeded=True), day21)
    state, commands = REPURCHASE.advance(
        state, EventReceived(event=event("order.paid", "o2")), day21 + timedelta(days=3)
    )
    assert not any(isinstance(c, MarkConverted) for c in commands)
    assert visited(commands) == ["repeat", "wait_21d"]
    assert state.visits["wait_21d"] == 2 and state.converted_at == T0


def test_each_visit_of_an_action_gets_its_own_idempotency_key() -> None:
    state, _ = started(REPURCHASE)
    keys = []
    now = T0
    state, _ = REPURCHASE.advance(state, EventReceived(event=event("order.paid", "o0")), now)
    for visit in range(3):
        now += timedelta(days=21)
        state, commands = REPURCHASE.advance(state, TimerFired(node_id="wait_21d"), now)
        keys += [c.idempotency_key for c in commands if isinstance(c, RunAction)]
        state, _ = REPURCHASE.advance(
            state, ActionFinished(node_id="replenish", succeeded=True), now
        )
        state, _ = REPURCHASE.advance(
            state, EventReceived(event=event("order.paid", f"o{visit + 1}")), now
        )
    assert keys == [f"t:j:c:replenish:{n}" for n in (1, 2, 3)]


BRANCHING = journey(
    [
        EntryNode(id="entry"),
        BranchNode(
            id="is_vip",
            rules=[BranchRule(id="vip", conditions=[TagCondition(tag="vip")])],
        ),
        ExitNode(id="vip_exit", reason="vip"),
        ExitNode(id="other_exit", reason="other"),
    ],
    [("entry", "next", "is_vip"), ("is_vip", "vip", "vip_exit"), ("is_vip", "else", "other_exit")],
)


def test_branch_loads_facts_then_takes_the_first_matching_rule() -> None:
    state, commands = started(BRANCHING)
    assert commands[-1] == LoadFacts(node_id="is_vip")
    facts = CustomerFacts(tags=frozenset({"vip"}))
    state, _ = BRANCHING.advance(state, FactsLoaded(node_id="is_vip", facts=facts), T0)
    assert state.exit_reason == "vip"


def test_branch_takes_else_when_no_rule_matches() -> None:
    state, _ = started(BRANCHING)
    state, _ = BRANCHING.advance(state, FactsLoaded(node_id="is_vip", facts=CustomerFacts()), T0)
    assert state.exit_reason == "other"


FAILING = journey(
    [
        EntryNode(id="entry"),
        ActionNode(id="send", channel="webhook", action="post", params={}),
        ExitNode(id="ok", reason="sent"),
        ExitNode(id="ko", reason="send_failed"),
    ],
    [("entry", "next", "send"), ("send", "next", "ok"), ("send", "failed", "ko")],
)


def test_a_failed_action_follows_its_failed_edge() -> None:
    state, _ = started(FAILING)
    state, _ = FAILING.advance(state, ActionFinished(node_id="send", succeeded=False), T0)
    assert state.exit_reason == "send_failed"


def test_a_failed_action_without_failed_edge_carries_on() -> None:
    state, _ = started(LINEAR)
    state, _ = LINEAR.advance(state, ActionFinished(node_id="hello", succeeded=False), T0)
    assert state.current == "wait"


def test_a_late_action_result_for_another_node_is_ignored() -> None:
    state, _ = started(FAILING)
    after, commands = FAILING.advance(state, ActionFinished(node_id="ok", succeeded=True), T0)
    assert commands == [] and after == state


def test_wait_until_local_time_lands_on_ten_oclock_in_the_tenant_zone() -> None:
    engine = journey(
        [
            EntryNode(id="entry"),
            WaitNode(id="d1", duration=timedelta(days=1), until=LocalTime(hour=10)),
            ExitNode(id="end"),
        ],
        [("entry", "next", "d1"), ("d1", "next", "end")],
    )
    start = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)  # 22:30 Shanghai, Monday
    _, commands = engine.advance(new_state("x"), Start(), start)
    # one day later is Tuesday 22:30 local; the next 10:00 local is Wednesday 02:00 UTC
    assert commands[-1] == WaitUntil(node_id="d1", until=datetime(2026, 3, 4, 2, 0, tzinfo=UTC))


def test_weekday_restricted_wait_skips_to_the_named_weekday() -> None:
    engine = journey(
        [
            EntryNode(id="entry"),
            WaitNode(id="member_day", until=LocalTime(hour=10, weekdays=[3])),
            ExitNode(id="end"),
        ],
        [("entry", "next", "member_day"), ("member_day", "next", "end")],
    )
    _, commands = engine.advance(new_state("x"), Start(), T0 + timedelta(minutes=1))
    assert commands[-1] == WaitUntil(
        node_id="member_day", until=datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    )


def test_an_action_due_in_quiet_hours_waits_for_the_morning() -> None:
    engine = journey(
        [
            EntryNode(id="entry"),
            ActionNode(id="send", channel="sandbox", action="send_message", params={"text": "x"}),
            ExitNode(id="end"),
        ],
        [("entry", "next", "send"), ("send", "next", "end")],
        quiet_hours=QuietHours(start=21, end=9),
    )
    night = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 23:00 Shanghai
    morning = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    state, commands = engine.advance(new_state("x"), Start(), night)
    assert commands[-1] == WaitUntil(node_id="send", until=morning)
    state, commands = engine.advance(state, TimerFired(node_id="send"), morning)
    assert isinstance(commands[-1], RunAction)


def test_a_cycle_without_wait_fails_the_enrollment_instead_of_spinning() -> None:
    engine = journey(
        [
            EntryNode(id="entry"),
            UpdateProfileNode(id="a", add_tags=["x"]),
            UpdateProfileNode(id="b", add_tags=["y"]),
        ],
        [("entry", "next", "a"), ("a", "next", "b"), ("b", "next", "a")],
    )
    state, commands = engine.advance(new_state("x"), Start(), T0)
    assert state.status == "failed" and state.exit_reason == "loop_without_wait"
    assert len([c for c in commands if isinstance(c, RecordTransition)]) <= MAX_STEPS + 1


def test_a_missing_edge_ends_the_enrollment_as_completed() -> None:
    engine = journey([EntryNode(id="entry")], [])
    state, commands = engine.advance(new_state("x"), Start(), T0)
    assert state.status == "exited" and state.exit_reason == "completed"
    assert commands[-1] == Complete(status="exited", reason="completed")


def test_an_urgent_action_runs_even_in_quiet_hours() -> None:
    engine = journey(
        [
            EntryNode(id="entry"),
            ActionNode(
                id="welcome",
                channel="sandbox",
                action="send_message",
                params={"text": "x"},
                respect_quiet_hours=False,
            ),
            ExitNode(id="end"),
        ],
        [("entry", "next", "welcome"), ("welcome", "next", "end")],
        quiet_hours=QuietHours(start=21, end=9),
    )
    _, commands = engine.advance(new_state("x"), Start(), datetime(2026, 3, 2, 15, tzinfo=UTC))
    assert isinstance(commands[-1], RunAction)
