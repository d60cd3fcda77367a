"""The node kind registry: every kind is handled everywhere a kind needs handling.

Adding a kind to the `Node` union without its registry entry, an example here, its GraphQL
input, its row in docs/architecture.md, or its case in the engine or validation fails a test
below (the last two also fail mypy, through `assert_never`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from api.graphql.journeys.inputs import (
    ActionNodeInput,
    BranchNodeInput,
    BranchRuleInput,
    EntryNodeInput,
    ExitNodeInput,
    FactConditionInput,
    GoalNodeInput,
    LocalTimeInput,
    NodeInput,
    SplitNodeInput,
    SplitVariantInput,
    TagConditionInput,
    UpdateProfileNodeInput,
    WaitForEventNodeInput,
    WaitNodeInput,
    WaitUntilDateNodeInput,
)
from domain.conditions import CustomerFacts, TagCondition
from domain.diagram import SHAPES, mermaid
from domain.engine import (
    ActionFinished,
    Engine,
    EngineState,
    EventReceived,
    EventRef,
    FactsLoaded,
    RecordTransition,
    Start,
    Stimulus,
    TimerFired,
    new_state,
)
from domain.journey import (
    NODE_KINDS,
    NODE_MODELS,
    ActionNode,
    BranchNode,
    BranchRule,
    Edge,
    EntryNode,
    ExitNode,
    GoalNode,
    JourneyDefinition,
    LocalTime,
    Node,
    SplitNode,
    SplitVariant,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
    WaitUntilDateNode,
)
from domain.node_kinds import REGISTRY, kind_of, markdown_table
from domain.validation import validate_journey

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


class _Text(BaseModel):
    text: str


CATALOG = {"sandbox": {"send_message": _Text}}

EXAMPLES: dict[str, Node] = {
    "entry": EntryNode(id="start", name="Start"),
    "wait": WaitNode(id="pause", duration=timedelta(hours=1)),
    "wait_for_event": WaitForEventNode(
        id="await_order", event_type="order.paid", timeout=timedelta(days=2)
    ),
    "wait_until_date": WaitUntilDateNode(
        id="birthday", attribute="birthday", yearly=True, at=LocalTime(hour=10)
    ),
    "branch": BranchNode(
        id="vip_or_not", rules=[BranchRule(id="vip", conditions=[TagCondition(tag="vip")])]
    ),
    "split": SplitNode(
        id="ab", variants=[SplitVariant(id="a", weight=50), SplitVariant(id="b", weight=50)]
    ),
    "action": ActionNode(
        id="welcome", channel="sandbox", action="send_message", params={"text": "hi"}
    ),
    "update_profile": UpdateProfileNode(id="tag", add_tags=["lead"]),
    "goal": GoalNode(id="bought", event_type="order.paid"),
    "exit": ExitNode(id="done", reason="lapsed"),
}
"""One valid node of every kind (the same nodes as `TYPED_EXAMPLES`)."""

TYPED_EXAMPLES: dict[str, NodeInput] = {
    "entry": NodeInput(entry=EntryNodeInput(id="start", name="Start")),
    "wait": NodeInput(wait=WaitNodeInput(id="pause", duration="PT1H")),
    "wait_for_event": NodeInput(
        wait_for_event=WaitForEventNodeInput(
            id="await_order", event_type="order.paid", timeout="P2D"
        )
    ),
    "wait_until_date": NodeInput(
        wait_until_date=WaitUntilDateNodeInput(
            id="birthday", attribute="birthday", yearly=True, at=LocalTimeInput(hour=10)
        )
    ),
    "branch": NodeInput(
        branch=BranchNodeInput(
            id="vip_or_not",
            rules=[
                BranchRuleInput(
                    id="vip", conditions=[FactConditionInput(tag=TagConditionInput(tag="vip"))]
                )
            ],
        )
    ),
    "split": NodeInput(
        split=SplitNodeInput(
            id="ab",
            variants=[SplitVariantInput(id="a", weight=50), SplitVariantInput(id="b", weight=50)],
        )
    ),
    "action": NodeInput(
        action=ActionNodeInput(
            id="welcome", channel="sandbox", action="send_message", params={"text": "hi"}
        )
    ),
    "update_profile": NodeInput(update_profile=UpdateProfileNodeInput(id="tag", add_tags=["lead"])),
    "goal": NodeInput(goal=GoalNodeInput(id="bought", event_type="order.paid")),
    "exit": NodeInput(exit=ExitNodeInput(id="done", reason="lapsed")),
}


def test_the_registry_has_one_entry_per_node_model_in_the_unions_order() -> None:
    assert tuple(REGISTRY) == NODE_KINDS
    assert tuple(entry.model for entry in REGISTRY.values()) == NODE_MODELS


def test_every_kind_has_an_example_whose_kind_it_is() -> None:
    assert tuple(EXAMPLES) == NODE_KINDS
    for kind, node in EXAMPLES.items():
        assert kind_of(node) is REGISTRY[kind]


def test_every_kind_says_what_it_does_and_has_its_own_shape() -> None:
    for entry in REGISTRY.values():
        assert entry.summary, entry.kind
    assert len({entry.shape for entry in REGISTRY.values()}) == len(REGISTRY)
    assert {kind: entry.shape for kind, entry in REGISTRY.items()} == SHAPES


def _through(node: Node) -> JourneyDefinition:
    """A valid journey that passes `node` on the way from the entry to an exit."""
    start = EntryNode(id="in")
    end = ExitNode(id="out")
    _, allowed = kind_of(node).labels(node)
    onward = [Edge(source=node.id, target=end.id, label=label) for label in sorted(allowed)]
    if isinstance(node, EntryNode):
        return JourneyDefinition(nodes=[node, end], edges=onward)
    if isinstance(node, GoalNode):
        hold = WaitNode(id="hold", duration=timedelta(days=1))
        edges = [Edge(source=start.id, target=hold.id), Edge(source=hold.id, target=end.id)]
        return JourneyDefinition(nodes=[start, hold, node, end], edges=[*edges, *onward])
    nodes: list[Node] = [start, node] if isinstance(node, ExitNode) else [start, node, end]
    return JourneyDefinition(nodes=nodes, edges=[Edge(source=start.id, target=node.id), *onward])


def _next_stimulus(state: EngineState, node: Node) -> Stimulus:
    """What the world answers to what the enrollment waits for (the goal's event when it can)."""
    waiting = state.waiting
    assert waiting is not None, f"{node.kind}: neither ended nor waiting for anything"
    if isinstance(node, GoalNode) and state.converted_at is None:
        event = EventRef(id="e1", type=node.event_type, occurred_at=T0)
        return EventReceived(event=event)
    if waiting.kind == "action":
        return ActionFinished(node_id=waiting.node_id, succeeded=True)
    if waiting.kind == "facts":
        return FactsLoaded(node_id=waiting.node_id, facts=CustomerFacts(tags=frozenset({"vip"})))
    return TimerFired(node_id=waiting.node_id)


@pytest.mark.parametrize("kind", NODE_KINDS)
def test_the_engine_takes_every_kind_to_the_end_by_edges_the_registry_allows(kind: str) -> None:
    node = EXAMPLES[kind]
    definition = _through(node)
    assert validate_journey(definition, CATALOG) == []
    engine = Engine(definition)
    state, commands = engine.advance(new_state("enr"), Start(), T0)
    transitions = [c for c in commands if isinstance(c, RecordTransition)]
    for _ in range(10):
        if state.ended:
            break
        now = state.waiting.until if state.waiting and state.waiting.until else T0
        state, commands = engine.advance(state, _next_stimulus(state, node), now)
        transitions += [c for c in commands if isinstance(c, RecordTransition)]
    assert state.ended and state.status in ("exited", "converted"), state
    assert node.id in state.path
    _, allowed = kind_of(node).labels(node)
    for transition in transitions:
        if transition.from_node == node.id and transition.to_node is not None:
            assert transition.label in allowed, transition


class _Teleport(BaseModel):
    """A node kind no part of the project knows."""

    kind: Literal["teleport"] = "teleport"
    id: str
    name: str | None = None


def test_a_node_kind_the_engine_does_not_handle_fails_loudly_instead_of_stalling() -> None:
    # model_construct skips validation, as a definition written by a newer version would.
    definition = JourneyDefinition.model_construct(
        nodes=[EntryNode(id="in"), _Teleport(id="beam")],
        edges=[Edge(source="in", target="beam")],
    )
    with pytest.raises(AssertionError):
        Engine(definition).advance(new_state("enr"), Start(), T0)


def test_validation_checks_every_kind_and_names_the_labels_the_registry_allows() -> None:
    for kind, node in EXAMPLES.items():
        definition = _through(node)
        bad = [*definition.edges, Edge(source=node.id, target="out", label="sideways")]
        problems = validate_journey(definition.model_copy(update={"edges": bad}), CATALOG)
        codes = {problem.code for problem in problems if problem.node_id == node.id}
        expected = "exit_has_outgoing_edge" if kind == "exit" else "invalid_edge_label"
        assert expected in codes, (kind, problems)


def test_the_diagram_draws_every_kind_in_its_registry_shape() -> None:
    for node in EXAMPLES.values():
        opening, closing = kind_of(node).shape
        chart = mermaid(_through(node))
        [line] = [line for line in chart.splitlines() if f'"{node.id} · {node.kind}' in line]
        assert f'{opening}"{node.id}' in line and line.endswith(f'"{closing}'), line


def test_the_graphql_node_input_has_one_field_per_kind_giving_the_same_node() -> None:
    fields = set(NodeInput.__annotations__)
    assert fields == set(REGISTRY)
    assert tuple(TYPED_EXAMPLES) == NODE_KINDS
    for kind, typed in TYPED_EXAMPLES.items():
        raw: dict[str, Any] = typed.to_raw()
        parsed = JourneyDefinition.model_validate({"nodes": [raw]}).nodes[0]
        assert parsed == EXAMPLES[kind], kind


def test_the_graphql_node_input_describes_each_kind_from_the_registry() -> None:
    definition = NodeInput.__strawberry_definition__
    for field in definition.fields:
        entry = REGISTRY[field.python_name]
        assert field.description is not None
        assert entry.outgoing() in field.description


def test_the_architecture_doc_shows_the_registry_table() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert markdown_table() in doc, "regenerate the table with domain.node_kinds.markdown_table()"
