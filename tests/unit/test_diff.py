"""Structural diffs between journey definitions."""

from __future__ import annotations

from domain.conditions import PropertyCondition
from domain.diff import FieldChange, diff
from domain.journey import (
    ActionNode,
    Edge,
    EntryNode,
    EventTrigger,
    ExitNode,
    ExitTrigger,
    JourneyDefinition,
    JourneySettings,
    QuietHours,
    WaitNode,
)
from domain.templates import canonical_journey


def _journey(
    text: str = "Welcome!",
    plan: str = "pro",
    extra: bool = False,
    settings: JourneySettings | None = None,
) -> JourneyDefinition:
    nodes = [
        EntryNode(
            id="start",
            trigger=EventTrigger(
                event_type="signup.completed", where=[PropertyCondition(path="plan", value=plan)]
            ),
        ),
        ActionNode(id="welcome", channel="sandbox", action="send_message", params={"text": text}),
        ExitNode(id="done"),
    ]
    edges = [Edge(source="start", target="welcome"), Edge(source="welcome", target="done")]
    if extra:
        nodes.insert(2, WaitNode(id="pause", duration="PT1H"))
        edges[1] = Edge(source="welcome", target="pause")
        edges.append(Edge(source="pause", target="done"))
    return JourneyDefinition(nodes=nodes, edges=edges, settings=settings or JourneySettings())


def test_identical_definitions_have_an_empty_diff() -> None:
    assert diff(_journey(), _journey()).empty
    canonical = canonical_journey("real")
    result = diff(canonical, canonical_journey("real"))
    assert result.empty
    assert result.model_dump() == {
        "nodes_added": [],
        "nodes_removed": [],
        "nodes_changed": [],
        "edges_added": [],
        "edges_removed": [],
        "settings_changed": [],
    }


def test_an_added_node_and_its_re_pointed_edge_are_listed() -> None:
    result = diff(_journey(), _journey(extra=True))
    assert result.nodes_added == ["pause"]
    assert result.nodes_removed == []
    assert result.nodes_changed == []
    assert result.edges_added == [
        Edge(source="welcome", target="pause"),
        Edge(source="pause", target="done"),
    ]
    assert result.edges_removed == [Edge(source="welcome", target="done")]
    assert not result.empty


def test_a_removed_node_is_the_mirror_of_an_added_one() -> None:
    result = diff(_journey(extra=True), _journey())
    assert result.nodes_removed == ["pause"]
    assert result.nodes_added == []
    assert result.edges_removed == [
        Edge(source="welcome", target="pause"),
        Edge(source="pause", target="done"),
    ]
    assert result.edges_added == [Edge(source="welcome", target="done")]


def test_changed_nodes_list_each_changed_field_by_path() -> None:
    result = diff(_journey(), _journey(text="Hello!", plan="max"))
    changes = {c.node_id: c for c in result.nodes_changed}
    assert set(changes) == {"start", "welcome"}
    assert changes["welcome"].fields == [
        FieldChange(path="params.text", before="Welcome!", after="Hello!")
    ]
    assert changes["start"].fields == [
        FieldChange(path="trigger.where[0].value", before="pro", after="max")
    ]
    assert changes["welcome"].kind_before == changes["welcome"].kind_after == "action"
    assert result.edges_added == result.edges_removed == []


def test_a_node_replaced_by_another_kind_shows_both_kinds_and_their_fields() -> None:
    before = _journey()
    after = before.model_copy(
        update={"nodes": [before.nodes[0], WaitNode(id="welcome"), before.nodes[2]]}
    )
    (change,) = diff(before, after).nodes_changed
    assert (change.kind_before, change.kind_after) == ("action", "wait")
    paths = {f.path for f in change.fields}
    assert paths.issuperset({"channel", "action", "params", "duration"})
    assert "kind" not in paths and "id" not in paths


def test_a_list_that_grew_is_reported_whole() -> None:
    before = _journey()
    entry = before.nodes[0]
    assert isinstance(entry, EntryNode) and isinstance(entry.trigger, EventTrigger)
    longer = [*entry.trigger.where, PropertyCondition(path="region", value="cn")]
    grown = entry.model_copy(update={"trigger": entry.trigger.model_copy(update={"where": longer})})
    after = before.model_copy(update={"nodes": [grown, *before.nodes[1:]]})
    (change,) = diff(before, after).nodes_changed
    (field,) = change.fields
    assert field.path == "trigger.where"
    assert len(field.before) == 1 and len(field.after) == 2


def test_changed_settings_are_listed_by_path() -> None:
    quiet = JourneySettings(
        quiet_hours=QuietHours(start=22, end=8),
        exit_triggers=[ExitTrigger(event_type="contact.deleted", reason="deleted")],
    )
    result = diff(_journey(), _journey(settings=quiet))
    by_path = {c.path: c for c in result.settings_changed}
    assert set(by_path) == {"quiet_hours", "exit_triggers"}
    assert by_path["quiet_hours"].before is None
    assert by_path["quiet_hours"].after == {"start": 22, "end": 8}
    later = JourneySettings(quiet_hours=QuietHours(start=23, end=8))
    again = diff(_journey(settings=quiet), _journey(settings=later)).settings_changed
    assert FieldChange(path="quiet_hours.start", before=22, after=23) in again
    assert result.nodes_changed == [] and result.edges_added == []


def test_a_relabelled_edge_is_one_removed_and_one_added() -> None:
    before = JourneyDefinition(
        nodes=[EntryNode(id="start"), ExitNode(id="done")],
        edges=[Edge(source="start", target="done", label="next")],
    )
    after = before.model_copy(
        update={"edges": [Edge(source="start", target="done", label="failed")]}
    )
    result = diff(before, after)
    assert result.edges_removed == [Edge(source="start", target="done", label="next")]
    assert result.edges_added == [Edge(source="start", target="done", label="failed")]
