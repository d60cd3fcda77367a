"""Canvas metadata (`NodeUi`) is stored and versioned with a definition but changes nothing the
journey does: the engine's commands, validation, the diagram and the structural diff ignore it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.conditions import CustomerFacts
from domain.diagram import mermaid
from domain.diff import diff
from domain.engine import (
    ActionFinished,
    Command,
    Engine,
    FactsLoaded,
    LoadFacts,
    RunAction,
    Start,
    Stimulus,
    TimerFired,
    WaitForEvent,
    WaitUntil,
    new_state,
)
from domain.journey import JourneyDefinition, NodeUi
from domain.templates import canonical_journey
from domain.validation import parse_and_validate, validate_journey
from tests.unit.test_validation import CATALOG

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def with_ui(definition: JourneyDefinition) -> JourneyDefinition:
    """The same definition, every node placed, coloured and annotated."""
    nodes = [
        node.model_copy(
            update={
                "ui": NodeUi(
                    x=index * 120.5,
                    y=-40,
                    color="#1677ff",
                    notes=f"note {index}",
                    data={"width": 180, "icon": "msg"},
                )
            }
        )
        for index, node in enumerate(definition.nodes)
    ]
    return definition.model_copy(update={"nodes": nodes})


def walk(definition: JourneyDefinition, steps: int = 60) -> list[Command]:
    """Drive the engine: every timer fires when due, every action succeeds, branches see no
    facts, event waits time out; all commands, in order."""
    engine = Engine(definition)
    state, commands = engine.advance(new_state("t:j:c"), Start(), T0)
    out = list(commands)
    now = T0
    for _ in range(steps):
        pending: Stimulus | None = None
        for command in commands:
            if isinstance(command, RunAction):
                pending = ActionFinished(node_id=command.node_id, succeeded=True)
            elif isinstance(command, LoadFacts):
                facts = CustomerFacts()
                pending = FactsLoaded(node_id=command.node_id, facts=facts)
            elif isinstance(command, WaitUntil | WaitForEvent):
                now = max(now, command.until) + timedelta(seconds=1)
                pending = TimerFired(node_id=command.node_id)
        if pending is None or state.ended:
            break
        state, commands = engine.advance(state, pending, now)
        out += commands
    return out


def test_the_engine_does_the_same_with_or_without_canvas_metadata() -> None:
    plain = canonical_journey("real")

    commands = walk(plain)

    assert {c.type for c in commands} >= {"run_action", "update_profile", "wait_until"}
    assert commands[-1].type == "complete"
    assert walk(with_ui(plain)) == commands


def test_validation_and_the_diagram_ignore_canvas_metadata() -> None:
    plain = canonical_journey("real")
    catalog: Any = {**CATALOG, "wecom": {}}

    assert validate_journey(with_ui(plain), catalog) == validate_journey(plain, catalog)
    assert mermaid(with_ui(plain)) == mermaid(plain)


def test_canvas_metadata_of_the_wrong_shape_is_named_per_node() -> None:
    raw = {
        "nodes": [
            {"kind": "entry", "id": "start", "ui": {"x": 1, "notes": "n" * 4001}},
            {"kind": "exit", "id": "done", "ui": {"colour": "red"}},
        ],
        "edges": [{"source": "start", "target": "done"}],
    }

    definition, problems = parse_and_validate(raw, CATALOG)

    assert definition is None
    assert [(p.code, p.node_id, p.path) for p in problems] == [
        ("invalid_field", "start", "ui.notes"),
        ("invalid_field", "done", "ui.colour"),
    ]


def test_a_move_on_the_canvas_is_layout_not_structure() -> None:
    plain = canonical_journey("real")
    placed = with_ui(plain)
    nudged = placed.model_copy(
        update={
            "nodes": [
                placed.nodes[0].model_copy(update={"ui": NodeUi(x=999)}),
                *placed.nodes[1:],
            ]
        }
    )

    first = diff(plain, placed)
    second = diff(placed, nudged)

    assert first.empty and first.nodes_changed == []
    assert first.layout_changed == [node.id for node in plain.nodes]
    assert second.empty and second.layout_changed == [plain.nodes[0].id]
    assert diff(placed, placed).layout_changed == []


def test_definitions_without_canvas_metadata_keep_their_json_form() -> None:
    plain = canonical_journey("real")

    assert all("ui" not in node for node in plain.model_dump(mode="json")["nodes"])
    dumped = with_ui(plain).model_dump(mode="json")["nodes"][0]["ui"]
    assert dumped == {
        "x": 0.0,
        "y": -40.0,
        "color": "#1677ff",
        "notes": "note 0",
        "data": {"width": 180, "icon": "msg"},
    }
