"""The engine's side of a migration: the new version's engine enters the mapped node; moving to
the node it is at keeps that node's visit count (so an action keeps its delivery key)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.engine import Engine, Migrated, RecordTransition, RunAction, Start, WaitUntil, new_state
from domain.journey import ActionNode, Edge, EntryNode, ExitNode, JourneyDefinition, WaitNode

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def journey(wait_id: str) -> JourneyDefinition:
    return JourneyDefinition(
        nodes=[
            EntryNode(id="entry"),
            ActionNode(id="hello", channel="sandbox", action="send_message", params={"text": "x"}),
            WaitNode(id=wait_id, duration=timedelta(days=1)),
            ExitNode(id="done"),
        ],
        edges=[
            Edge(source="entry", target="hello"),
            Edge(source="hello", target=wait_id),
            Edge(source=wait_id, target="done"),
        ],
    )


def at_hello() -> tuple[Engine, object]:
    engine = Engine(journey("wait"))
    state, commands = engine.advance(new_state("t:j:c", "r1"), Start(), T0)
    assert isinstance(commands[-1], RunAction)
    return engine, state


def test_the_new_version_enters_the_mapped_node() -> None:
    _, state = at_hello()
    v2 = Engine(journey("wait_longer"))

    moved, commands = v2.advance(state, Migrated(node_id="wait_longer", from_version=1), T0)  # type: ignore[arg-type]

    assert moved.current == "wait_longer"
    assert [c.label for c in commands if isinstance(c, RecordTransition)] == ["migrated:v1"]
    assert isinstance(commands[-1], WaitUntil)


def test_moving_to_the_node_it_is_at_keeps_the_delivery_key() -> None:
    engine, state = at_hello()
    [first] = [
        c
        for c in engine.advance(new_state("t:j:c", "r1"), Start(), T0)[1]
        if isinstance(c, RunAction)
    ]

    _, commands = Engine(journey("wait")).advance(
        state, Migrated(node_id="hello", from_version=1), T0
    )  # type: ignore[arg-type]

    [again] = [c for c in commands if isinstance(c, RunAction)]
    assert again.idempotency_key == first.idempotency_key


def test_a_node_the_new_version_lacks_is_ignored() -> None:
    _, state = at_hello()

    moved, commands = Engine(journey("wait")).advance(
        state, Migrated(node_id="nowhere", from_version=1), T0
    )  # type: ignore[arg-type]

    assert commands == [] and moved == state
