"""Waiting until a customer's date, and leaving when `exit_unless` stops holding: the date
arithmetic and the engine's commands, exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.clock import customer_date_target
from domain.conditions import AttributeCondition, CustomerFacts, PropertyCondition
from domain.engine import (
    ActionFinished,
    Complete,
    Engine,
    FactsLoaded,
    LoadFacts,
    RecordTransition,
    RunAction,
    Start,
    TimerFired,
    WaitUntil,
    new_state,
)
from domain.journey import (
    ActionNode,
    Edge,
    EntryNode,
    ExitNode,
    JourneyDefinition,
    JourneySettings,
    LocalTime,
    WaitUntilDateNode,
)

SHANGHAI = "Asia/Shanghai"
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        # a bare date: the start of its day, local
        ("2026-03-05", {}, datetime(2026, 3, 4, 16, 0, tzinfo=UTC)),
        # at a local time, three days before
        (
            "2026-03-10",
            {"at": LocalTime(hour=10, minute=30), "offset": timedelta(days=-3)},
            datetime(2026, 3, 7, 2, 30, tzinfo=UTC),
        ),
        # a date-time with its own offset keeps its moment
        ("2026-04-01T12:00:00+00:00", {}, datetime(2026, 4, 1, 12, 0, tzinfo=UTC)),
        (
            "2026-04-01T12:00:00Z",
            {"offset": timedelta(hours=1)},
            datetime(2026, 4, 1, 13, tzinfo=UTC),
        ),
        # a date-time without one is local to the journey
        ("2026-04-01T12:00:00", {}, datetime(2026, 4, 1, 4, 0, tzinfo=UTC)),
        # in the past, not yearly: the moment itself (the engine then takes `passed`)
        ("2025-01-01", {}, datetime(2024, 12, 31, 16, 0, tzinfo=UTC)),
        # yearly: a birthday already past this year is next year's
        (
            "1990-01-15",
            {"yearly": True, "at": LocalTime(hour=10)},
            datetime(2027, 1, 15, 2, tzinfo=UTC),
        ),
        # yearly: still to come this year
        ("1990-05-12", {"yearly": True}, datetime(2026, 5, 11, 16, 0, tzinfo=UTC)),
        # yearly: today at 10:00 is now, so it is this one
        ("1988-03-02", {"yearly": True, "at": LocalTime(hour=10)}, NOW),
        # 29 February in a year without one
        (
            "2000-02-29",
            {"yearly": True, "offset": timedelta(days=1)},
            datetime(2027, 2, 28, 16, tzinfo=UTC),
        ),
    ],
)
def test_a_customer_date_becomes_a_moment(
    value: str, options: dict[str, object], expected: datetime
) -> None:
    assert customer_date_target(value, now=NOW, timezone=SHANGHAI, **options) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, 42, "", "soon", "2026-13-01", "12/05/1990", "x" * 50])
def test_what_is_no_date_is_none(value: object) -> None:
    assert customer_date_target(value, now=NOW, timezone=SHANGHAI) is None


def birthday_journey(*, passed_edge: bool = False, **node: object) -> Engine:
    edges = [
        Edge(source="in", target="bday"),
        Edge(source="bday", target="greet", label="next"),
        Edge(source="bday", target="no_date", label="missing"),
        Edge(source="greet", target="out"),
    ]
    nodes = [
        EntryNode(id="in"),
        WaitUntilDateNode(id="bday", attribute="profile.birthday", **node),  # type: ignore[arg-type]
        ActionNode(id="greet", channel="sandbox", action="send_message", params={"text": "hb"}),
        ExitNode(id="out"),
        ExitNode(id="no_date", reason="no_date"),
    ]
    if passed_edge:
        nodes.append(ExitNode(id="too_late", reason="too_late"))
        edges.append(Edge(source="bday", target="too_late", label="passed"))
    return Engine(JourneyDefinition(nodes=nodes, edges=edges))


def facts(**attributes: object) -> CustomerFacts:
    return CustomerFacts(attributes=dict(attributes))


def test_a_date_wait_loads_the_customer_then_waits_for_the_moment() -> None:
    engine = birthday_journey(yearly=True, at=LocalTime(hour=10))
    state, commands = engine.advance(new_state("e"), Start(), NOW)
    assert commands[-1] == LoadFacts(node_id="bday")

    state, commands = engine.advance(
        state, FactsLoaded(node_id="bday", facts=facts(profile={"birthday": "1990-05-12"})), NOW
    )
    until = datetime(2026, 5, 12, 2, 0, tzinfo=UTC)
    assert commands == [WaitUntil(node_id="bday", until=until)]

    state, commands = engine.advance(state, TimerFired(node_id="bday"), until - timedelta(1))
    assert commands == []  # early: ignored
    state, commands = engine.advance(state, TimerFired(node_id="bday"), until)
    assert [c.to_node for c in commands if isinstance(c, RecordTransition)] == ["greet"]
    assert isinstance(commands[-1], RunAction)


def test_a_customer_without_the_date_takes_missing() -> None:
    engine = birthday_journey()
    state, _ = engine.advance(new_state("e"), Start(), NOW)

    state, commands = engine.advance(
        state, FactsLoaded(node_id="bday", facts=facts(profile={"birthday": "n/a"})), NOW
    )

    assert state.exit_reason == "no_date"
    moves = [(c.from_node, c.label) for c in commands if isinstance(c, RecordTransition)]
    assert moves[0] == ("bday", "missing")


@pytest.mark.parametrize(("passed_edge", "reason"), [(True, "too_late"), (False, None)])
def test_a_date_already_past_takes_passed_or_next(passed_edge: bool, reason: str | None) -> None:
    engine = birthday_journey(passed_edge=passed_edge)
    state, _ = engine.advance(new_state("e"), Start(), NOW)

    state, commands = engine.advance(
        state, FactsLoaded(node_id="bday", facts=facts(profile={"birthday": "2026-01-01"})), NOW
    )

    if passed_edge:
        assert state.exit_reason == reason
    else:
        assert state.current == "greet" and isinstance(commands[-1], RunAction)


def eligible_journey() -> Engine:
    still_vip = AttributeCondition(where=PropertyCondition(path="tier", op="eq", value="vip"))
    return Engine(
        JourneyDefinition(
            nodes=[
                EntryNode(id="in"),
                ActionNode(id="offer", channel="sandbox", action="send_message", params={}),
                ExitNode(id="out"),
            ],
            edges=[Edge(source="in", target="offer"), Edge(source="offer", target="out")],
            settings=JourneySettings(exit_unless=[still_vip], exit_unless_reason="downgraded"),
        )
    )


def test_exit_unless_is_checked_before_an_action() -> None:
    engine = eligible_journey()
    state, commands = engine.advance(new_state("e"), Start(), NOW)
    assert commands[-1] == LoadFacts(node_id="offer")

    kept, sent = engine.advance(state, FactsLoaded(node_id="offer", facts=facts(tier="vip")), NOW)
    left, ended = engine.advance(state, FactsLoaded(node_id="offer", facts=facts(tier="gold")), NOW)

    assert isinstance(sent[-1], RunAction)
    kept, _ = engine.advance(kept, ActionFinished(node_id="offer", succeeded=True), NOW)
    assert kept.status == "exited" and kept.exit_reason == "completed"
    assert (left.status, left.exit_reason) == ("exited", "downgraded")
    assert ended[-1] == Complete(status="exited", reason="downgraded")
    assert not any(isinstance(c, RunAction) for c in ended)


def test_without_exit_unless_an_action_runs_at_once() -> None:
    definition = JourneyDefinition(
        nodes=[EntryNode(id="in"), ActionNode(id="a", channel="s", action="x"), ExitNode(id="o")],
        edges=[Edge(source="in", target="a"), Edge(source="a", target="o")],
    )

    _, commands = Engine(definition).advance(new_state("e"), Start(), NOW)

    assert isinstance(commands[-1], RunAction)
    assert not any(isinstance(c, LoadFacts) for c in commands)
