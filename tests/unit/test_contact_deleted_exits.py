"""Deleting the WeCom contact ends enrollments by default, unless the journey says otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.engine import Complete, Engine, EngineState, EventReceived, EventRef, Start, new_state
from domain.journey import (
    Edge,
    EntryNode,
    ExitNode,
    ExitTrigger,
    GoalNode,
    JourneyDefinition,
    JourneySettings,
    WaitForEventNode,
    WaitNode,
)

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
BY_CUSTOMER = "wecom.contact_deleted_by_customer"
BY_STAFF = "wecom.contact_deleted_by_staff"


def definition(*extra: Any, **settings: Any) -> JourneyDefinition:
    nodes = [
        EntryNode(id="entry"),
        WaitNode(id="wait", duration=timedelta(days=3)),
        ExitNode(id="done", reason="finished"),
        *extra,
    ]
    edges = [
        Edge(source="entry", target="wait", label="next"),
        Edge(source="wait", target="done", label="next"),
    ]
    return JourneyDefinition(nodes=nodes, edges=edges, settings=JourneySettings(**settings))


def waiting(journey: JourneyDefinition) -> tuple[Engine, EngineState]:
    engine = Engine(journey)
    state, _ = engine.advance(new_state("t:j:c"), Start(), T0)
    return engine, state


def receive(engine: Engine, state: EngineState, event_type: str) -> EngineState:
    ref = EventRef(id="e1", type=event_type, properties={}, occurred_at=T0)
    state, _ = engine.advance(state, EventReceived(event=ref), T0 + timedelta(hours=1))
    return state


def test_a_customer_deleting_the_staff_member_exits_a_journey_with_default_settings() -> None:
    engine = Engine(definition())
    state, _ = engine.advance(new_state("t:j:c"), Start(), T0)
    ref = EventRef(id="e1", type=BY_CUSTOMER, properties={}, occurred_at=T0)

    state, commands = engine.advance(state, EventReceived(event=ref), T0 + timedelta(hours=1))

    assert state.status == "exited" and state.exit_reason == "deleted_by_customer"
    assert commands[-1] == Complete(status="exited", reason="deleted_by_customer")


def test_a_staff_member_deleting_the_customer_exits_with_its_own_reason() -> None:
    engine, state = waiting(definition())

    state = receive(engine, state, BY_STAFF)

    assert state.status == "exited" and state.exit_reason == "deleted_by_staff"


def test_a_journey_that_turns_the_default_off_keeps_running_after_a_deletion() -> None:
    engine, state = waiting(definition(exit_on_contact_deleted=False))

    after = receive(engine, state, BY_CUSTOMER)

    assert after == state and after.status == "active"


def test_the_journeys_own_exit_trigger_for_a_deletion_keeps_its_reason() -> None:
    journey = definition(exit_triggers=[ExitTrigger(event_type=BY_CUSTOMER, reason="deleted")])
    engine, state = waiting(journey)

    state = receive(engine, state, BY_CUSTOMER)

    assert state.exit_reason == "deleted"
    assert [(t.event_type, t.reason) for t in journey.exit_triggers] == [
        (BY_CUSTOMER, "deleted"),
        (BY_STAFF, "deleted_by_staff"),
    ]


def test_a_journey_waiting_for_a_deletion_follows_its_own_branch() -> None:
    journey = JourneyDefinition(
        nodes=[
            EntryNode(id="entry"),
            WaitForEventNode(id="gone", event_type=BY_STAFF, timeout=timedelta(days=7)),
            ExitNode(id="win_back", reason="win_back"),
            ExitNode(id="stayed", reason="stayed"),
        ],
        edges=[
            Edge(source="entry", target="gone", label="next"),
            Edge(source="gone", target="win_back", label="matched"),
            Edge(source="gone", target="stayed", label="timed_out"),
        ],
    )
    engine, state = waiting(journey)

    state = receive(engine, state, BY_STAFF)

    assert state.exit_reason == "win_back"
    assert [t.event_type for t in journey.exit_triggers] == [BY_CUSTOMER]


def test_a_goal_on_a_deletion_is_not_turned_into_an_exit() -> None:
    journey = definition(GoalNode(id="churned", event_type=BY_CUSTOMER))

    assert [t.event_type for t in journey.exit_triggers] == [BY_STAFF]


def test_the_default_exits_are_listened_for_and_only_while_on() -> None:
    assert {BY_CUSTOMER, BY_STAFF} <= definition().listened_event_types()
    assert definition(exit_on_contact_deleted=False).listened_event_types() == set()


def test_a_definition_stored_before_the_setting_existed_gets_the_default() -> None:
    stored = definition().model_dump(mode="json")
    del stored["settings"]["exit_on_contact_deleted"]

    loaded = JourneyDefinition.model_validate(stored)

    assert loaded.settings.exit_on_contact_deleted is True
