"""Property tests: on random journeys whose cycles all pass a wait, the engine never crashes,
never spins, and after every stimulus is either finished or waiting on something."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.conditions import CustomerFacts, TagCondition
from domain.engine import (
    ActionFinished,
    Cancel,
    Engine,
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
    ActionNode,
    BranchNode,
    BranchRule,
    Edge,
    EntryNode,
    ExitNode,
    GoalNode,
    JourneyDefinition,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
)

EVENT_TYPES = ["a.x", "b.y", "order.paid"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def journeys(draw: st.DrawFn) -> JourneyDefinition:
    """A random journey. Forward edges go anywhere later; back edges only to waiting nodes, so
    every cycle passes a wait (the property validation guarantees for published journeys)."""
    count = draw(st.integers(min_value=1, max_value=12))
    kinds = draw(
        st.lists(
            st.sampled_from(["wait", "wait_for_event", "branch", "action", "update_profile"]),
            min_size=count,
            max_size=count,
        )
    )
    nodes: list[Any] = [EntryNode(id="n0")]
    for index, kind in enumerate(kinds, start=1):
        node_id = f"n{index}"
        if kind == "wait":
            seconds = draw(st.integers(min_value=1, max_value=10**6))
            nodes.append(WaitNode(id=node_id, duration=timedelta(seconds=seconds)))
        elif kind == "wait_for_event":
            nodes.append(
                WaitForEventNode(
                    id=node_id,
                    event_type=draw(st.sampled_from(EVENT_TYPES)),
                    timeout=timedelta(hours=draw(st.integers(min_value=1, max_value=100))),
                )
            )
        elif kind == "branch":
            nodes.append(
                BranchNode(
                    id=node_id, rules=[BranchRule(id="r", conditions=[TagCondition(tag="t")])]
                )
            )
        elif kind == "action":
            nodes.append(ActionNode(id=node_id, channel="sandbox", action="noop"))
        else:
            nodes.append(UpdateProfileNode(id=node_id, add_tags=["t"]))
    exit_id = f"n{count + 1}"
    nodes.append(ExitNode(id=exit_id, reason="end"))
    waiting_ids = [n.id for n in nodes if isinstance(n, WaitNode | WaitForEventNode)]

    def target(source_index: int) -> str:
        forward = [n.id for n in nodes[source_index + 1 :]]
        choices = forward + [w for w in waiting_ids if int(w[1:]) <= source_index]
        return draw(st.sampled_from(choices))

    labels = {
        "entry": ["next"],
        "wait": ["next"],
        "wait_for_event": ["matched", "timed_out"],
        "branch": ["r", "else"],
        "action": ["next", "failed"],
        "update_profile": ["next"],
    }
    edges = [
        Edge(source=node.id, target=target(index), label=label)
        for index, node in enumerate(nodes[:-1])
        for label in labels[node.kind]
    ]
    if draw(st.booleans()):
        nodes.append(GoalNode(id="goal", event_type="order.paid"))
        if draw(st.booleans()):
            edges.append(
                Edge(source="goal", target=draw(st.sampled_from(waiting_ids or [exit_id])))
            )
    return JourneyDefinition(nodes=nodes, edges=edges)


def stimuli(definition: JourneyDefinition) -> st.SearchStrategy[list[Stimulus]]:
    node_ids = [node.id for node in definition.nodes]
    one: st.SearchStrategy[Stimulus] = st.one_of(
        st.builds(TimerFired, node_id=st.sampled_from(node_ids)),
        st.builds(
            EventReceived,
            event=st.builds(
                EventRef,
                id=st.text("abc", min_size=1, max_size=3),
                type=st.sampled_from(EVENT_TYPES),
                occurred_at=st.just(T0),
            ),
        ),
        st.builds(ActionFinished, node_id=st.sampled_from(node_ids), succeeded=st.booleans()),
        st.builds(
            FactsLoaded,
            node_id=st.sampled_from(node_ids),
            facts=st.sampled_from([CustomerFacts(), CustomerFacts(tags=frozenset({"t"}))]),
        ),
        st.just(Start()),
    )
    return st.lists(one, max_size=40)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_random_journeys_always_end_or_wait_and_never_spin(data: st.DataObject) -> None:
    definition = data.draw(journeys())
    engine = Engine(definition)
    now = T0
    state, commands = engine.advance(new_state("e"), Start(), now)
    seqs = [c.seq for c in commands if isinstance(c, RecordTransition)]
    for stimulus in data.draw(stimuli(definition)):
        # deliver timers at their deadline, as the workflow does
        if isinstance(stimulus, TimerFired) and state.waiting and state.waiting.until:
            now = max(now, state.waiting.until)
        state, commands = engine.advance(state, stimulus, now)
        seqs += [c.seq for c in commands if isinstance(c, RecordTransition)]
        assert state.status != "failed", "a journey whose cycles all wait must never spin"
        assert state.ended or state.waiting is not None
    assert seqs == list(range(1, len(seqs) + 1))
    state, _ = engine.advance(state, Cancel(), now)
    assert state.ended
